//! `agit reindex`: rebuild index.db from objects and refs.

use std::io::{self, Write};

use serde::Serialize;

use agit_core::Store;
use agit_core::index::{RebuildProblem, rebuild};

use crate::Context;
use crate::output::{CliError, Diagnostic, EXIT_FAILURE, Report};
use crate::render::Style;

#[derive(Serialize)]
pub struct ReindexReport {
    sessions: usize,
    steps: usize,
    objects: usize,
    /// What could not be indexed (each a diagnostic); the rest was.
    problems: Vec<Diagnostic>,
}

pub fn run(ctx: &Context) -> Result<ReindexReport, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let stats = rebuild(&store)?;
    Ok(ReindexReport {
        sessions: stats.sessions,
        steps: stats.steps,
        objects: stats.objects,
        problems: stats.problems.iter().map(|p| problem_diagnostic(&store, p)).collect(),
    })
}

fn problem_diagnostic(store: &Store, problem: &RebuildProblem) -> Diagnostic {
    let mut d = Diagnostic::new(problem.code, problem.message.clone());
    if let Some(path) = &problem.path {
        d = d.path(store.display_path(path));
    }
    if let Some(id) = &problem.object {
        d = d.hash(id.to_hex());
    }
    d.hint("Run `agit reindex` again after repairing or removing the damaged file; the rest of the store was indexed.")
}

impl Report for ReindexReport {
    fn human(&self, out: &mut dyn Write, _: &Style) -> io::Result<()> {
        writeln!(out, "reindexed: {} session(s), {} step(s), {} object(s)", self.sessions, self.steps, self.objects)
    }

    fn exit_code(&self) -> u8 {
        if self.problems.is_empty() { 0 } else { EXIT_FAILURE }
    }

    fn warnings(&self) -> Vec<Diagnostic> {
        self.problems.clone()
    }
}
