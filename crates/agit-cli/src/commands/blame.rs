//! `agit blame <file>`: which recorded step last changed each line (an index lookup).

use std::io::{self, Write};
use std::path::{Component, Path};

use serde::Serialize;

use agit_core::blame::blame_lookup;
use agit_core::index::{Index, resolve_prefix};
use agit_core::snapshot::rules::max_file_bytes_from_env;
use agit_core::{Error, Store};

use super::step_line::short;
use crate::Context;
use crate::output::{CliError, Diagnostic, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct BlameArgs {
    /// The file: relative to the current directory, absolute inside the repository, or `./x`.
    pub file: String,
    /// Show the file as of this step (hash prefix).
    #[arg(long, value_name = "HASH")]
    pub step: Option<String>,
    /// Only lines START through END (1-based, inclusive), e.g. `-L 10,20`.
    #[arg(short = 'L', value_name = "START,END")]
    pub lines: Option<String>,
    /// Machine-readable text output: a header line per line, then the tab-prefixed text.
    #[arg(long)]
    pub porcelain: bool,
    /// Show files larger than AGIT_MAX_FILE_BYTES too.
    #[arg(long)]
    pub no_limits: bool,
}

#[derive(Serialize)]
pub struct BlameReport {
    path: String,
    /// The step whose version of the file is shown.
    version_step: String,
    lines: Vec<BlameLineOut>,
    #[serde(skip)]
    porcelain: bool,
}

#[derive(Serialize)]
struct BlameLineOut {
    step: String,
    origin: String,
    model: Option<String>,
    timestamp: i64,
    text: String,
    line: usize,
}

pub fn run(args: &BlameArgs, ctx: &Context) -> Result<BlameReport, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let path = workspace_path(&store, &ctx.cwd, &args.file)?;
    let range = args.lines.as_deref().map(parse_range).transpose()?;
    let index = Index::open(&store)?;
    let at_step = match &args.step {
        Some(prefix) => {
            let id = resolve_prefix(&store, Some(&index), prefix)?;
            let step = store.read_step(&id).map_err(|_| {
                CliError::new(
                    Diagnostic::new("step_not_found", format!("`{prefix}` is not a recorded step."))
                        .hash(prefix.clone()),
                )
            })?;
            Some((step.timestamp, id))
        }
        None => None,
    };
    let max = (!args.no_limits).then(max_file_bytes_from_env);
    let view =
        blame_lookup(&index, &store, &path, at_step, max)?.ok_or_else(|| Error::NoBlame { path: path.clone() })?;
    let lines = view
        .lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| BlameLineOut {
            step: l.step.to_hex(),
            origin: l.origin,
            model: l.model,
            timestamp: l.timestamp,
            text: l.text,
            line: i + 1,
        })
        .filter(|l| range.is_none_or(|(start, end)| (start..=end).contains(&l.line)))
        .collect();
    Ok(BlameReport { path, version_step: view.step.to_hex(), lines, porcelain: args.porcelain })
}

/// Turn the user's path into the workspace-relative `/` path trees store.
fn workspace_path(store: &Store, cwd: &Path, file: &str) -> Result<String, CliError> {
    let joined = cwd.join(file);
    let mut parts: Vec<String> = Vec::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    let absolute = Path::new("/").join(parts.join("/"));
    let rel = absolute.strip_prefix(store.workspace()).map_err(|_| {
        CliError::usage("invalid_argument", format!("{file} is outside the repository {}", store.workspace().display()))
    })?;
    let text = rel.to_string_lossy().into_owned();
    if text.is_empty() {
        return Err(CliError::usage("invalid_argument", "blame needs a file, not the repository root"));
    }
    Ok(text)
}

fn parse_range(text: &str) -> Result<(usize, usize), CliError> {
    let bad =
        || CliError::usage("invalid_argument", format!("-L expects START,END with 1 <= START <= END, got `{text}`"));
    let (a, b) = text.split_once(',').ok_or_else(bad)?;
    let start: usize = a.trim().parse().map_err(|_| bad())?;
    let end: usize = b.trim().parse().map_err(|_| bad())?;
    if start == 0 || end < start {
        return Err(bad());
    }
    Ok((start, end))
}

impl Report for BlameReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if self.porcelain {
            for l in &self.lines {
                writeln!(out, "{} {}", l.step, l.line)?;
                writeln!(out, "origin {}", l.origin)?;
                writeln!(out, "model {}", l.model.as_deref().unwrap_or("-"))?;
                writeln!(out, "timestamp {}", l.timestamp)?;
                writeln!(out, "\t{}", l.text)?;
            }
            return Ok(());
        }
        writeln!(out, "blame {}\n", style.bold(&self.path))?;
        for l in &self.lines {
            let actor = l.model.as_deref().unwrap_or(&l.origin);
            writeln!(
                out,
                "{}  {:<16}  {}  {:>5}  {}",
                style.hash(short(&l.step, 12)),
                truncate(actor, 16),
                style.time(l.timestamp),
                l.line,
                l.text
            )?;
        }
        Ok(())
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}
