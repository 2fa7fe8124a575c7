//! `agit recall [query] [--path P]`: earlier attempts at the same problem or file,
//! failures first.

use std::collections::HashSet;
use std::io::{self, Write};

use serde::Serialize;

use agit_core::Store;
use agit_core::index::{Index, PathChange, PathProbe, SearchFilter, SearchOrder};

use super::filters::{FilterArgs, RedactionArgs, shown};
use super::grep::redact_snippet;
use super::step_line::short;
use crate::Context;
use crate::output::{CliError, Report};
use crate::render::Style;

/// Candidates considered per requested match (reference `search_candidate_multiplier`).
const CANDIDATE_MULTIPLIER: usize = 8;
/// Snippet tokens of the evidence (reference `search_context_tokens`).
const EVIDENCE_TOKENS: usize = 12;
/// The most steps a `--path` walk compares before it stops.
const PATH_SCAN_CAP: usize = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutcomeArg {
    Success,
    Failure,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum JudgedArg {
    Good,
    Bad,
    Mixed,
}

#[derive(Debug, clap::Args)]
pub struct RecallArgs {
    /// Words that must appear in the step's messages or tool calls.
    pub query: Option<String>,
    /// Only steps that changed this workspace-relative file (added, modified or deleted).
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Only steps with this outcome (`unknown` includes steps recorded without one).
    #[arg(long, value_enum)]
    pub outcome: Option<OutcomeArg>,
    /// Only sessions whose latest evaluation is this classification.
    #[arg(long, value_enum)]
    pub judged: Option<JudgedArg>,
    /// How many matches to show.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    #[command(flatten)]
    pub redaction: RedactionArgs,
}

#[derive(Serialize)]
pub struct RecallReport {
    query: Option<String>,
    path: Option<String>,
    origin: Option<String>,
    session: Option<String>,
    outcome: Option<&'static str>,
    judged: Option<&'static str>,
    limit: u32,
    redacted: bool,
    /// Failures first, then unknown, then successes; newest first within each.
    matches: Vec<RecallMatch>,
}

#[derive(Serialize)]
struct RecallMatch {
    hash: String,
    origin: String,
    session_id: String,
    turn_id: String,
    timestamp: i64,
    outcome: String,
    git_commit: Option<String>,
    git_branch: Option<String>,
    git_dirty: Option<bool>,
    preview: Option<String>,
    /// The query hit's snippet (query searches only).
    evidence: Option<String>,
    /// How the step changed `--path` (`added`, `modified`, `deleted`), with `--path`.
    change: Option<PathChange>,
}

fn outcome_label(o: OutcomeArg) -> &'static str {
    match o {
        OutcomeArg::Success => "success",
        OutcomeArg::Failure => "failure",
        OutcomeArg::Unknown => "unknown",
    }
}

fn judged_label(j: JudgedArg) -> &'static str {
    match j {
        JudgedArg::Good => "good",
        JudgedArg::Bad => "bad",
        JudgedArg::Mixed => "mixed",
    }
}

fn outcome_rank(outcome: &str) -> u8 {
    match outcome {
        "failure" => 0,
        "success" => 2,
        _ => 1,
    }
}

pub fn run(args: &RecallArgs, ctx: &Context) -> Result<RecallReport, CliError> {
    let query = match args.query.as_deref().map(str::trim) {
        Some("") => return Err(CliError::usage("invalid_argument", "Query must not be empty.")),
        q => q,
    };
    let path = match args.path.as_deref() {
        Some(p) => {
            let p = p.trim_start_matches("./").trim_end_matches('/');
            if p.is_empty() {
                return Err(CliError::usage("invalid_argument", "--path must name a file."));
            }
            Some(p)
        }
        None => None,
    };
    if query.is_none() && path.is_none() {
        return Err(CliError::usage("invalid_argument", "Recall requires a query, a --path filter, or both."));
    }
    let outcome = args.outcome.map(outcome_label);
    let judged = args.judged.map(judged_label);
    let filter = SearchFilter {
        step: args.filter.to_filter()?,
        outcome: outcome.map(str::to_owned),
        judged: judged.map(str::to_owned),
    };
    let store = Store::discover(&ctx.cwd)?;
    let index = Index::open(&store)?;
    let detector = args.redaction.detector(&store)?;
    let pool = args.limit as usize * CANDIDATE_MULTIPLIER;

    // (step hash, evidence, path change), one per step.
    let mut candidates: Vec<(String, Option<String>, Option<PathChange>)> = Vec::new();
    match (query, path) {
        (Some(q), path) => {
            // With a path, search a wider pool: the path check narrows it afterwards.
            let wanted = if path.is_some() { pool * 4 } else { pool };
            let hits = index.search(q, &filter, SearchOrder::Rank, wanted, EVIDENCE_TOKENS)?;
            let mut seen = HashSet::new();
            let mut probe = path.map(|p| PathProbe::new(&store, p));
            for hit in hits {
                if !seen.insert(hit.step_hash.clone()) {
                    continue;
                }
                let change = match &mut probe {
                    Some(probe) => match index.step_path_change(probe, &hit.step_hash)? {
                        Some(change) => Some(change),
                        None => continue,
                    },
                    None => None,
                };
                candidates.push((hit.step_hash, Some(hit.snippet), change));
            }
        }
        (None, Some(p)) => {
            let (steps, _capped) = index.steps_changing_path(&store, p, &filter, pool, PATH_SCAN_CAP)?;
            candidates.extend(steps.into_iter().map(|(hash, change)| (hash, None, Some(change))));
        }
        (None, None) => unreachable!("checked above"),
    }

    let mut matches = Vec::with_capacity(candidates.len());
    for (hash, evidence, change) in candidates {
        let Some(row) = index.step_row(&hash)? else { continue };
        matches.push(RecallMatch {
            outcome: row.outcome.unwrap_or_else(|| "unknown".to_owned()),
            preview: row.preview.map(|p| shown(&p, detector.as_ref())),
            evidence: evidence.map(|e| match &detector {
                Some(d) => redact_snippet(&e, d),
                None => e,
            }),
            change,
            hash: row.hash,
            origin: row.origin,
            session_id: row.session_id,
            turn_id: row.turn_id,
            timestamp: row.timestamp,
            git_commit: row.git_commit,
            git_branch: row.git_branch,
            git_dirty: row.git_dirty,
        });
    }
    matches.sort_by(|a, b| {
        outcome_rank(&a.outcome)
            .cmp(&outcome_rank(&b.outcome))
            .then(b.timestamp.cmp(&a.timestamp))
            .then_with(|| a.hash.cmp(&b.hash))
    });
    matches.truncate(args.limit as usize);
    Ok(RecallReport {
        query: query.map(str::to_owned),
        path: path.map(str::to_owned),
        origin: args.filter.origin.clone(),
        session: args.filter.session.clone(),
        outcome,
        judged,
        limit: args.limit,
        redacted: detector.is_some(),
        matches,
    })
}

impl Report for RecallReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if self.matches.is_empty() {
            return writeln!(out, "No recall matches.");
        }
        for (i, m) in self.matches.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            writeln!(
                out,
                "{}  {}  turn {}  {}  step {}",
                style.time(m.timestamp),
                style.bold(&format!("{}/{}", m.origin, m.session_id)),
                m.turn_id,
                style.outcome(&m.outcome),
                style.hash(short(&m.hash, 12)),
            )?;
            if let Some(commit) = &m.git_commit {
                let dirty = if m.git_dirty == Some(true) { "*" } else { "" };
                writeln!(
                    out,
                    "  git {}@{}{dirty}",
                    m.git_branch.as_deref().unwrap_or("(detached)"),
                    short(commit, 12)
                )?;
            }
            writeln!(out, "  {}", m.preview.as_deref().unwrap_or("(no preview)"))?;
            if let (Some(change), Some(path)) = (m.change, &self.path) {
                writeln!(out, "  {} {path}", style.meta(change.as_str()))?;
            }
            if let Some(evidence) = &m.evidence {
                writeln!(out, "  evidence: {evidence}")?;
            }
        }
        Ok(())
    }
}
