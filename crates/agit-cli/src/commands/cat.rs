//! `agit cat <hash>`: raw object bytes (plumbing).

use std::io::{self, Write};

use serde::Serialize;

use agit_core::index::resolve_prefix;
use agit_core::object::sniff_kind;
use agit_core::{ObjectKind, Store};

use crate::Context;
use crate::cli::CatArgs;
use crate::output::{CliError, Diagnostic, Report};
use crate::render::Style;

#[derive(Serialize)]
pub struct CatReport {
    hash: String,
    kind: &'static str,
    size: usize,
    /// The bytes as text when they are valid UTF-8, else null.
    text: Option<String>,
    #[serde(skip)]
    bytes: Vec<u8>,
    #[serde(skip)]
    warnings: Vec<Diagnostic>,
}

pub fn run(args: &CatArgs, ctx: &Context) -> Result<CatReport, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let mut warnings = Vec::new();
    // cat is plumbing: it still works from the objects on disk when the index is broken.
    let index = super::index_for_lookup(&store, &mut warnings)?;
    let id = resolve_prefix(&store, index.as_ref(), &args.hash)?;
    let bytes = store.read_object(&id)?;
    let kind = index
        .as_ref()
        .and_then(|i| {
            i.conn().query_row("select kind from objects where hash=?1", [id.to_hex()], |r| r.get::<_, String>(0)).ok()
        })
        .and_then(|k| ObjectKind::parse(&k))
        .unwrap_or_else(|| sniff_kind(&bytes));
    Ok(CatReport {
        hash: id.to_hex(),
        kind: kind.as_str(),
        size: bytes.len(),
        text: String::from_utf8(bytes.clone()).ok(),
        bytes,
        warnings,
    })
}

impl Report for CatReport {
    fn human(&self, out: &mut dyn Write, _: &Style) -> io::Result<()> {
        out.write_all(&self.bytes)?;
        out.flush()
    }

    fn pageable(&self) -> bool {
        false
    }

    fn warnings(&self) -> Vec<Diagnostic> {
        self.warnings.clone()
    }
}
