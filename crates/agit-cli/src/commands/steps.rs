//! `agit steps --json [SESSION]`: a session's steps in one call (steps-v1), optionally
//! with each step object and its file changes against the parent.

use std::io::{self, Write};

use serde::Serialize;

use agit_core::diff::{ChangeCounts, ChangeKind, compare_trees};
use agit_core::index::Index;
use agit_core::object::Step;
use agit_core::privacy::{Detector, redact_step};
use agit_core::{ObjectId, Store};

use super::filters::RedactionArgs;
use super::show::StepJson;
use crate::Context;
use crate::output::{CliError, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct StepsArgs {
    /// `origin/session-id` or a unique bare session id (default: the most recent session).
    pub session: Option<String>,
    /// Include each full step object and its file changes against the parent.
    #[arg(long)]
    pub include_step_objects: bool,
    /// With --include-step-objects, leave the file changes out.
    #[arg(long)]
    pub no_diffs: bool,
    #[command(flatten)]
    pub redaction: RedactionArgs,
}

#[derive(Serialize)]
pub struct StepsReport {
    origin: String,
    session_id: String,
    /// Oldest first.
    steps: Vec<StepsEntry>,
}

#[derive(Serialize)]
struct StepsEntry {
    hash: String,
    turn_id: String,
    timestamp: i64,
    model: Option<String>,
    outcome: Option<String>,
    git_commit: Option<String>,
    git_branch: Option<String>,
    git_dirty: Option<bool>,
    /// The full step object with --include-step-objects, else null.
    step: Option<StepJson>,
    /// Changes against the parent tree with --include-step-objects (not --no-diffs).
    diff: Option<StepDiff>,
}

#[derive(Serialize)]
struct StepDiff {
    changes: Vec<ChangeRow>,
    counts: ChangeCounts,
}

#[derive(Serialize)]
struct ChangeRow {
    kind: ChangeKind,
    path: String,
    old_blob: Option<String>,
    new_blob: Option<String>,
    old_size: Option<u64>,
    new_size: Option<u64>,
}

pub fn run(args: &StepsArgs, ctx: &Context) -> Result<StepsReport, CliError> {
    if !ctx.json {
        return Err(CliError::usage("format_required", "The steps command requires --json.")
            .with_hint("Run `agit steps --json`, or `agit log` for a human-readable list."));
    }
    let store = Store::discover(&ctx.cwd)?;
    let index = Index::open(&store)?;
    let session = index.resolve_session(args.session.as_deref())?;
    let detector = if args.include_step_objects { args.redaction.detector(&store)? } else { None };
    let steps = index
        .session_steps(&session, None)?
        .into_iter()
        .map(|row| {
            let object = if args.include_step_objects {
                ObjectId::parse(&row.hash).and_then(|id| store.read_step(&id).ok())
            } else {
                None
            };
            let diff = match &object {
                Some(step) if !args.no_diffs => step_diff(&store, step),
                _ => None,
            };
            StepsEntry {
                hash: row.hash,
                turn_id: row.turn_id,
                timestamp: row.timestamp,
                model: row.model,
                outcome: row.outcome,
                git_commit: row.git_commit,
                git_branch: row.git_branch,
                git_dirty: row.git_dirty,
                step: object.map(|s| shown(s, detector.as_ref()).into()),
                diff,
            }
        })
        .collect();
    Ok(StepsReport { origin: session.origin, session_id: session.session_id, steps })
}

fn shown(step: Step, detector: Option<&Detector>) -> Step {
    match detector {
        Some(d) => redact_step(&step, d),
        None => step,
    }
}

/// Changes against the parent's tree. An unreadable parent or parent tree falls back to
/// the empty tree; an unreadable own tree gives no diff (steps-v1).
fn step_diff(store: &Store, step: &Step) -> Option<StepDiff> {
    let tree = store.read_tree(&step.tree).ok()?;
    let parent = step
        .parent
        .and_then(|p| store.read_step(&p).ok())
        .and_then(|p| store.read_tree(&p.tree).ok())
        .unwrap_or_default();
    let diff = compare_trees(&parent, &tree);
    let changes = diff
        .changes()
        .map(|c| ChangeRow {
            kind: c.kind,
            path: c.path.clone(),
            old_blob: c.old_blob().map(|b| b.to_hex()),
            new_blob: c.new_blob().map(|b| b.to_hex()),
            old_size: c.old_size(),
            new_size: c.new_size(),
        })
        .collect();
    Some(StepDiff { changes, counts: diff.counts() })
}

impl Report for StepsReport {
    fn human(&self, _: &mut dyn Write, _: &Style) -> io::Result<()> {
        // Unreachable: `run` requires --json.
        Ok(())
    }
}
