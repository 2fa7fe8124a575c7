//! `agit log [SESSION]`: a session's steps.

use std::io::{self, Write};

use serde::Serialize;

use agit_core::Store;
use agit_core::index::Index;

use super::filters::{RedactionArgs, shown};
use super::step_line::short;
use crate::Context;
use crate::output::{CliError, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// `origin/session-id` or a unique bare session id (default: the most recent session).
    pub session: Option<String>,
    /// Show only the newest N steps.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    #[command(flatten)]
    pub redaction: RedactionArgs,
}

#[derive(Serialize)]
pub struct LogReport {
    origin: String,
    session_id: String,
    /// Oldest first.
    steps: Vec<LogStep>,
}

#[derive(Serialize)]
struct LogStep {
    hash: String,
    turn_id: String,
    parent_hash: Option<String>,
    tree_hash: String,
    timestamp: i64,
    model: Option<String>,
    git_commit: Option<String>,
    git_branch: Option<String>,
    git_dirty: Option<bool>,
    outcome: Option<String>,
    preview: Option<String>,
}

pub fn run(args: &LogArgs, ctx: &Context) -> Result<LogReport, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let index = Index::open(&store)?;
    let session = index.resolve_session(args.session.as_deref())?;
    let detector = args.redaction.detector(&store)?;
    let steps = index
        .session_steps(&session, args.limit.map(|n| n as usize))?
        .into_iter()
        .map(|r| LogStep {
            preview: r.preview.map(|p| shown(&p, detector.as_ref())),
            hash: r.hash,
            turn_id: r.turn_id,
            parent_hash: r.parent_hash,
            tree_hash: r.tree_hash,
            timestamp: r.timestamp,
            model: r.model,
            git_commit: r.git_commit,
            git_branch: r.git_branch,
            git_dirty: r.git_dirty,
            outcome: r.outcome,
        })
        .collect();
    Ok(LogReport { origin: session.origin, session_id: session.session_id, steps })
}

impl Report for LogReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(out, "session {}\n", style.bold(&format!("{}/{}", self.origin, self.session_id)))?;
        if self.steps.is_empty() {
            return writeln!(out, "No steps recorded for {}/{}", self.origin, self.session_id);
        }
        for step in self.steps.iter().rev() {
            writeln!(
                out,
                "step {}  turn {}  {}  {}",
                style.hash(short(&step.hash, 16)),
                step.turn_id,
                style.time(step.timestamp),
                style.outcome(step.outcome.as_deref().unwrap_or("unknown"))
            )?;
            if let Some(model) = &step.model {
                writeln!(out, "  model {}", style.meta(model))?;
            }
            if let Some(commit) = &step.git_commit {
                let dirty = if step.git_dirty == Some(true) { "*" } else { "" };
                writeln!(
                    out,
                    "  git {}@{}{dirty}",
                    step.git_branch.as_deref().unwrap_or("(detached)"),
                    short(commit, 12)
                )?;
            }
            if let Some(preview) = &step.preview {
                writeln!(out, "  {preview}")?;
            }
        }
        Ok(())
    }
}
