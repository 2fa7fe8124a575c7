//! `agit between <from> [to]`: steps recorded while git HEAD was a commit of the range.

use std::io::{self, Write};

use serde::Serialize;

use agit_core::Store;
use agit_core::index::{Index, StepRow};

use super::filters::{RedactionArgs, shown};
use super::git::{resolve_commit, rev_list, revision_error};
use super::step_line::short;
use crate::Context;
use crate::output::{CliError, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct BetweenArgs {
    /// The older revision (its own steps are included).
    pub from: String,
    /// The newer revision.
    #[arg(default_value = "HEAD")]
    pub to: String,
    #[command(flatten)]
    pub redaction: RedactionArgs,
}

#[derive(Serialize)]
pub struct BetweenReport {
    from: String,
    to: String,
    from_commit: String,
    to_commit: String,
    range_commits: Vec<String>,
    steps: Vec<StepRow>,
    /// Store-wide count of steps recorded outside a git repository.
    steps_without_git_commit: i64,
}

pub fn run(args: &BetweenArgs, ctx: &Context) -> Result<BetweenReport, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let root = store.workspace().to_path_buf();
    let from_commit =
        resolve_commit(&root, &args.from).ok_or_else(|| revision_error("from_revision_not_found", &args.from))?;
    let to_commit = resolve_commit(&root, &args.to).ok_or_else(|| revision_error("to_revision_not_found", &args.to))?;
    let range_commits = rev_list(&root, &from_commit, &to_commit)
        .ok_or_else(|| revision_error("range_lookup_failed", &format!("{}..{}", args.from, args.to)))?;
    let mut commits = vec![from_commit.clone()];
    commits.extend(range_commits.iter().cloned());
    let index = Index::open(&store)?;
    let detector = args.redaction.detector(&store)?;
    let mut steps = index.steps_with_commits(&commits)?;
    for row in &mut steps {
        row.preview = row.preview.as_deref().map(|p| shown(p, detector.as_ref()));
    }
    let steps_without_git_commit = index.count("select count(*) from steps where git_commit is null")?;
    Ok(BetweenReport {
        from: args.from.clone(),
        to: args.to.clone(),
        from_commit,
        to_commit,
        range_commits,
        steps,
        steps_without_git_commit,
    })
}

impl Report for BetweenReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(
            out,
            "range {}..{}  {}..{}  {} commit(s)",
            self.from,
            self.to,
            style.hash(short(&self.from_commit, 12)),
            style.hash(short(&self.to_commit, 12)),
            self.range_commits.len() + 1
        )?;
        if self.steps.is_empty() {
            writeln!(out, "\nNo recorded steps match commits in this range.")?;
        }
        let mut current: Option<(&str, &str)> = None;
        for step in &self.steps {
            if current != Some((&step.origin, &step.session_id)) {
                writeln!(out, "\n{}", style.bold(&format!("{}/{}", step.origin, step.session_id)))?;
                current = Some((&step.origin, &step.session_id));
            }
            let dirty = if step.git_dirty == Some(true) { "*" } else { "" };
            writeln!(
                out,
                "  {}  turn {}  step {}  git {}{dirty}  {}",
                style.time(step.timestamp),
                step.turn_id,
                style.hash(short(&step.hash, 12)),
                short(step.git_commit.as_deref().unwrap_or(""), 12),
                style.outcome(step.outcome.as_deref().unwrap_or("unknown")),
            )?;
            writeln!(out, "    {}", step.preview.as_deref().unwrap_or("(no preview)"))?;
        }
        if self.steps_without_git_commit > 0 {
            writeln!(
                out,
                "\n{} recorded step(s) have no git commit context and were not considered.",
                self.steps_without_git_commit
            )?;
        }
        Ok(())
    }
}
