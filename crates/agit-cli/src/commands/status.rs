//! `agit status`: what the store holds.

use std::io::{self, Write};

use serde::Serialize;

use agit_core::index::Index;
use agit_core::{Error, Store};

use crate::Context;
use crate::output::{CliError, Report};

#[derive(Serialize)]
pub struct StatusReport {
    sessions: i64,
    steps: i64,
    /// The `.agit/` directory.
    store: String,
}

pub fn run(ctx: &Context) -> Result<StatusReport, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let index = Index::open(&store)?;
    let count = |sql: &str| -> Result<i64, CliError> {
        Ok(index.conn().query_row(sql, [], |r| r.get(0)).map_err(Error::index("count"))?)
    };
    Ok(StatusReport {
        sessions: count("select count(*) from sessions where head_hash is not null")?,
        steps: count("select count(*) from steps")?,
        store: store.root().display().to_string(),
    })
}

impl Report for StatusReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "Store: {}", self.store)?;
        writeln!(out, "Sessions: {}", self.sessions)?;
        writeln!(out, "Steps: {}", self.steps)
    }
}
