//! `agit sessions`: recorded sessions, most recently updated first.

use std::io::{self, Write};

use serde::Serialize;

use agit_core::Store;
use agit_core::index::Index;

use super::step_line::short;
use crate::Context;
use crate::output::{CliError, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct SessionsArgs {
    /// Show at most this many sessions.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

#[derive(Serialize)]
pub struct SessionsReport {
    sessions: Vec<SessionItem>,
}

#[derive(Serialize)]
struct SessionItem {
    origin: String,
    session_id: String,
    head_hash: Option<String>,
    /// Unix seconds (reference compatibility).
    updated_at: i64,
    steps: i64,
    /// Of the head step.
    model: Option<String>,
    outcome: Option<String>,
    last_timestamp: Option<i64>,
}

pub fn run(args: &SessionsArgs, ctx: &Context) -> Result<SessionsReport, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let index = Index::open(&store)?;
    let mut sessions = Vec::new();
    for row in index.sessions(args.limit.map(|n| n as usize))? {
        let head = match &row.head_hash {
            Some(h) => index.step_row(h)?,
            None => None,
        };
        let steps = index
            .conn()
            .query_row(
                "select count(*) from steps where session_origin = ?1 and session_id = ?2",
                [&row.origin, &row.session_id],
                |r| r.get(0),
            )
            .map_err(agit_core::Error::index("count session steps"))?;
        sessions.push(SessionItem {
            model: head.as_ref().and_then(|h| h.model.clone()),
            outcome: head.as_ref().and_then(|h| h.outcome.clone()),
            last_timestamp: head.as_ref().map(|h| h.timestamp),
            origin: row.origin,
            session_id: row.session_id,
            head_hash: row.head_hash,
            updated_at: row.updated_at,
            steps,
        });
    }
    Ok(SessionsReport { sessions })
}

impl Report for SessionsReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if self.sessions.is_empty() {
            return writeln!(out, "No sessions recorded yet. Run `agit init` and record some activity.");
        }
        writeln!(out, "{:<32} {:>5}  {:<12}  {:<8}  {:<19}  MODEL", "SESSION", "STEPS", "HEAD", "OUTCOME", "UPDATED")?;
        for s in &self.sessions {
            let name = format!("{}/{}", s.origin, s.session_id);
            let head = s.head_hash.as_deref().map_or("-".to_owned(), |h| short(h, 12).to_owned());
            let outcome = s.outcome.as_deref().unwrap_or("-");
            writeln!(
                out,
                "{:<32} {:>5}  {}  {}  {}  {}",
                truncate(&name, 32),
                s.steps,
                style.hash(&format!("{head:<12}")),
                style.outcome(&format!("{outcome:<8}")),
                style.time(s.last_timestamp.unwrap_or(s.updated_at * 1000)),
                s.model.as_deref().unwrap_or("-"),
            )?;
        }
        Ok(())
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}
