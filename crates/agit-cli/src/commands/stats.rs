//! `agit stats`: a summary of recorded activity.

use std::io::{self, Write};

use serde::Serialize;

use agit_core::Store;
use agit_core::index::{FileTally, Index, ModelCount, OutcomeCount, PathCount, SessionStats, StatsSummary, ToolCount};

use super::filters::FilterArgs;
use crate::Context;
use crate::output::{CliError, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Tally most-changed paths over the newest N steps.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    pub steps: u32,
}

#[derive(Serialize)]
struct Scope {
    origin: String,
    session_id: String,
}

#[derive(Serialize)]
pub struct StatsReport {
    /// The session with `--session`, else `null` (the repository).
    scope: Option<Scope>,
    origin: Option<String>,
    since: Option<String>,
    until: Option<String>,
    summary: StatsSummary,
    tool_calls: Vec<ToolCount>,
    sessions: Vec<SessionStats>,
    most_changed_paths: Vec<PathCount>,
    file_tally: FileTally,
    models: Vec<ModelCount>,
    outcomes: Vec<OutcomeCount>,
}

pub fn run(args: &StatsArgs, ctx: &Context) -> Result<StatsReport, CliError> {
    // Validates dates and an origin that contradicts `origin/session`.
    let mut filter = args.filter.to_filter()?;
    let store = Store::discover(&ctx.cwd)?;
    let index = Index::open(&store)?;
    let scope = match &args.filter.session {
        Some(session) => {
            let arg = match (&args.filter.origin, session.contains('/')) {
                (Some(origin), false) => format!("{origin}/{session}"),
                _ => session.clone(),
            };
            let found = index.resolve_session(Some(&arg))?;
            filter.origin = Some(found.origin.clone());
            filter.session_id = Some(found.session_id.clone());
            Some(Scope { origin: found.origin, session_id: found.session_id })
        }
        None => None,
    };
    let stats = index.stats(&store, &filter, args.steps as usize)?;
    Ok(StatsReport {
        scope,
        origin: args.filter.origin.clone(),
        since: args.filter.since.clone(),
        until: args.filter.until.clone(),
        summary: stats.summary,
        tool_calls: stats.tool_calls,
        sessions: stats.sessions,
        most_changed_paths: stats.most_changed_paths,
        file_tally: stats.file_tally,
        models: stats.models,
        outcomes: stats.outcomes,
    })
}

fn span(style: &Style, first: Option<i64>, last: Option<i64>) -> String {
    match (first, last) {
        (Some(a), Some(b)) => format!("{} -> {}", style.time(a), style.time(b)),
        _ => "(none)".to_owned(),
    }
}

impl Report for StatsReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        match &self.scope {
            Some(s) => writeln!(out, "Scope: {}/{}", s.origin, s.session_id)?,
            None => match &self.origin {
                Some(origin) => writeln!(out, "Scope: origin {origin}")?,
                None => writeln!(out, "Scope: repository")?,
            },
        }
        if self.since.is_some() || self.until.is_some() {
            writeln!(
                out,
                "Window: {} .. {}",
                self.since.as_deref().unwrap_or("(start)"),
                self.until.as_deref().unwrap_or("(now)")
            )?;
        }
        let s = &self.summary;
        writeln!(out, "Sessions: {}", s.session_count)?;
        writeln!(out, "Steps: {}", s.step_count)?;
        writeln!(out, "Turns: {}", s.turn_count)?;
        writeln!(out, "Capture span: {}", span(style, s.first_timestamp, s.last_timestamp))?;

        writeln!(out, "\nTool calls:")?;
        if self.tool_calls.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for t in &self.tool_calls {
            writeln!(out, "  {}: {}", t.tool_name, t.count)?;
        }

        writeln!(out, "\nModels:")?;
        if self.models.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for m in &self.models {
            writeln!(out, "  {}: {} steps", m.model.as_deref().unwrap_or("(unknown)"), m.step_count)?;
        }

        writeln!(out, "\nOutcomes:")?;
        if self.outcomes.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for o in &self.outcomes {
            writeln!(out, "  {}: {} steps", style.outcome(&o.outcome), o.step_count)?;
        }

        writeln!(out, "\nSessions:")?;
        if self.sessions.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for x in &self.sessions {
            writeln!(
                out,
                "  {}: {} steps, {} turns, {}",
                style.bold(&format!("{}/{}", x.origin, x.session_id)),
                x.step_count,
                x.turn_count,
                span(style, x.first_timestamp, x.last_timestamp)
            )?;
        }

        let f = &self.file_tally;
        let capped = if f.truncated { format!(", capped at {}", f.step_cap) } else { String::new() };
        writeln!(out, "\nMost changed paths (top 10, {} steps considered{capped}):", f.steps_considered)?;
        if self.most_changed_paths.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for p in &self.most_changed_paths {
            writeln!(out, "  {}: {}", p.path, p.count)?;
        }
        Ok(())
    }
}
