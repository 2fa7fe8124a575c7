//! `agit eval`: a rule-based assessment of a session, a commit, a range or a date
//! window, saved as an `eval` object (eval-v1) unless `--no-save`.

use std::io::{self, Write};

use serde::Serialize;

use agit_core::eval::{
    self, CurrentAssessment, DEFAULT_LOOKAHEAD_MS, EvalOptions, EvalRow, FollowUp, MAX_EVAL_STEPS, Pattern,
    StepAssessment, dimension_list,
};
use agit_core::index::{Index, StepFilter, StepRow};
use agit_core::object::{Assessment, EvalObject, EvalScope};
use agit_core::store::lock::now_ms;
use agit_core::{SessionRef, Store, VERSION};

use super::filters::FilterArgs;
use super::git::{resolve_commit, rev_list, revision_error};
use super::step_line::short;
use crate::Context;
use crate::output::{CliError, Diagnostic, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Evaluate this session: `origin/session-id`, or a bare session id.
    #[arg(long, value_name = "SESSION", conflicts_with_all = ["commit", "range"])]
    pub session: Option<String>,
    /// Evaluate the steps recorded while HEAD was REV or its first parent.
    #[arg(long, value_name = "REV", conflicts_with = "range")]
    pub commit: Option<String>,
    /// Evaluate the steps recorded on A or on a commit of A..B.
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,
    /// Only steps of this agent (claude, codex, gemini, copilot, pi, jsonl).
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,
    /// Only steps on or after this day (UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub since: Option<String>,
    /// Only steps on or before this day (UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub until: Option<String>,
    /// How long after the scope to look for failure reports: 0, <N>h or <N>d (default 24h).
    #[arg(long, value_name = "DURATION", conflicts_with = "no_lookahead")]
    pub lookahead: Option<String>,
    /// Do not look for follow-up failure reports (same as --lookahead 0).
    #[arg(long)]
    pub no_lookahead: bool,
    /// Include the signals of each step taken alone.
    #[arg(long)]
    pub include_steps: bool,
    /// Compute only: write no eval object and no index row.
    #[arg(long)]
    pub no_save: bool,
    /// List recorded evaluations, newest first (needs --json).
    #[arg(
        long,
        conflicts_with_all = ["session", "commit", "range", "since", "until", "lookahead", "no_lookahead", "include_steps", "no_save"]
    )]
    pub list: bool,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum EvalReport {
    Run(Box<EvalRun>),
    List(EvalList),
}

#[derive(Serialize)]
pub struct EvalList {
    evals: Vec<EvalRow>,
}

#[derive(Serialize)]
pub struct EvalRun {
    scope: ScopeJson,
    /// Null with --no-save.
    eval_hash: Option<String>,
    association_confidence: &'static str,
    in_scope_assessment: Assessment,
    follow_up_assessment: FollowUp,
    current_assessment: CurrentAssessment,
    patterns: Vec<Pattern>,
    step_assessments: Vec<StepAssessment>,
}

#[derive(Serialize)]
struct ScopeJson {
    #[serde(flatten)]
    scope: EvalScope,
    session_count: usize,
    step_count: usize,
}

pub fn run(args: &EvalArgs, ctx: &Context) -> Result<EvalReport, CliError> {
    if args.list {
        if !ctx.json {
            return Err(CliError::usage("format_required", "`agit eval --list` requires --json.")
                .with_hint("Run `agit eval --list --json`."));
        }
        return list(args, ctx);
    }
    let lookahead_ms = match (&args.lookahead, args.no_lookahead) {
        (_, true) => 0,
        (None, false) => DEFAULT_LOOKAHEAD_MS,
        (Some(text), false) => eval::parse_lookahead(text).ok_or_else(|| {
            CliError::usage("invalid_argument", format!("Invalid --lookahead `{text}`; use 0, <N>h or <N>d."))
        })?,
    };
    // Dates are validated (and --since ≤ --until checked) like every other view.
    let dates =
        FilterArgs { origin: None, session: None, since: args.since.clone(), until: args.until.clone() }.to_filter()?;
    let store = Store::discover(&ctx.cwd)?;
    let index = Index::open(&store)?;
    let (scope, rows, association_confidence) = resolve_scope(args, &store, &index, &dates)?;
    if rows.is_empty() {
        return Err(CliError::new(
            Diagnostic::new("session_not_found", "No steps recorded for the selected evaluation scope.")
                .hint("Check the scope with `agit timeline` or `agit sessions`."),
        ));
    }
    let options = EvalOptions { lookahead_ms, include_steps: args.include_steps };
    let evaluation = eval::evaluate(&store, &index, rows, options)?;
    let eval_hash = if args.no_save {
        None
    } else {
        let object = EvalObject {
            assessment: evaluation.in_scope.clone(),
            evaluation_scope: scope.clone(),
            evaluated_at: now_ms(),
            agit_version: VERSION.to_owned(),
            captured_evidence_hash: evaluation.captured_evidence_hash.clone(),
        };
        Some(eval::save(&store, &index, &object)?.to_hex())
    };
    Ok(EvalReport::Run(Box::new(EvalRun {
        scope: ScopeJson { scope, session_count: evaluation.session_count, step_count: evaluation.step_count },
        eval_hash,
        association_confidence,
        in_scope_assessment: evaluation.in_scope,
        follow_up_assessment: evaluation.follow_up,
        current_assessment: evaluation.current,
        patterns: evaluation.patterns,
        step_assessments: evaluation.step_assessments,
    })))
}

fn list(args: &EvalArgs, ctx: &Context) -> Result<EvalReport, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let index = Index::open(&store)?;
    let mut evals = eval::list(&index, if args.origin.is_some() { usize::MAX >> 1 } else { MAX_EVAL_STEPS })?;
    if let Some(origin) = &args.origin {
        // Session keys carry the origin; other scopes record it in the object.
        evals.retain(|row| match row.scope_type.as_str() {
            "session" => row.scope_key.split_once('/').is_some_and(|(o, _)| o == origin),
            _ => agit_core::ObjectId::parse(&row.eval_hash)
                .and_then(|id| store.read_object(&id).ok())
                .and_then(|bytes| EvalObject::decode(&bytes).ok())
                .is_some_and(|e| e.evaluation_scope.origin.as_deref() == Some(origin.as_str())),
        });
        evals.truncate(MAX_EVAL_STEPS);
    }
    Ok(EvalReport::List(EvalList { evals }))
}

type Scope = (EvalScope, Vec<StepRow>, &'static str);

fn resolve_scope(args: &EvalArgs, store: &Store, index: &Index, dates: &StepFilter) -> Result<Scope, CliError> {
    let window = |origin: Option<String>, session_id: Option<String>| StepFilter {
        origin,
        session_id,
        since_ms: dates.since_ms,
        until_ms: dates.until_ms,
        after_rowid: None,
    };
    let base = EvalScope {
        origin: args.origin.clone(),
        since: args.since.clone(),
        until: args.until.clone(),
        ..EvalScope::default()
    };
    if let Some(rev) = &args.commit {
        let root = store.workspace();
        let commit = resolve_commit(root, rev).ok_or_else(|| revision_error("git_revision_not_found", rev))?;
        let mut commits = vec![commit];
        commits.extend(resolve_commit(root, &format!("{rev}^")));
        let rows = in_window(index.steps_with_commits(&commits)?, &window(args.origin.clone(), None));
        return Ok((EvalScope { kind: "commit".into(), rev: Some(rev.clone()), ..base }, rows, "medium"));
    }
    if let Some(range) = &args.range {
        let (from, to) = range
            .split_once("..")
            .filter(|(a, b)| !a.is_empty() && !b.is_empty())
            .ok_or_else(|| CliError::usage("invalid_argument", format!("Invalid --range `{range}`; use A..B.")))?;
        let root = store.workspace();
        let from_commit = resolve_commit(root, from).ok_or_else(|| revision_error("git_revision_not_found", from))?;
        let to_commit = resolve_commit(root, to).ok_or_else(|| revision_error("git_revision_not_found", to))?;
        let mut commits = vec![from_commit.clone()];
        commits.extend(rev_list(root, &from_commit, &to_commit).ok_or_else(|| {
            CliError::new(
                Diagnostic::new("range_lookup_failed", format!("Git could not list the commits of `{range}`."))
                    .hint("Ensure this is a Git repository and both revisions exist.")
                    .path(range.as_str()),
            )
        })?);
        let rows = in_window(index.steps_with_commits(&commits)?, &window(args.origin.clone(), None));
        return Ok((EvalScope { kind: "range".into(), range: Some(range.clone()), ..base }, rows, "medium"));
    }
    if let Some(arg) = &args.session {
        let session = match (arg.split_once('/'), &args.origin) {
            (Some((o, _)), Some(given)) if o != given => {
                return Err(CliError::usage(
                    "invalid_argument",
                    format!("--origin {given} does not match the session's origin `{o}`."),
                ));
            }
            // A bare id with --origin is combined as given (no existence check).
            (None, Some(origin)) => SessionRef::new(origin.clone(), arg.clone()),
            _ => index.resolve_session(Some(arg))?,
        };
        let rows = recent(index, &window(Some(session.origin.clone()), Some(session.session_id.clone())))?;
        let scope = EvalScope {
            kind: "session".into(),
            origin: Some(session.origin),
            session_id: Some(session.session_id),
            ..base
        };
        return Ok((scope, rows, "high"));
    }
    if args.since.is_some() || args.until.is_some() {
        let rows = recent(index, &window(args.origin.clone(), None))?;
        return Ok((EvalScope { kind: "window".into(), ..base }, rows, "high"));
    }
    // Default: the most recent session (of --origin, when given; the reference ignores it).
    let session = match &args.origin {
        None => index.resolve_session(None)?,
        Some(origin) => index
            .sessions(None)?
            .into_iter()
            .find(|s| &s.origin == origin && s.head_hash.is_some())
            .map(|s| SessionRef::new(s.origin, s.session_id))
            .ok_or(agit_core::Error::SessionNotFound { query: Some(format!("{origin}/")) })?,
    };
    let rows = recent(index, &window(Some(session.origin.clone()), Some(session.session_id.clone())))?;
    let scope = EvalScope {
        kind: "session".into(),
        origin: Some(session.origin),
        session_id: Some(session.session_id),
        ..EvalScope::default()
    };
    Ok((scope, rows, "high"))
}

/// The newest [`MAX_EVAL_STEPS`] steps matching `filter`.
fn recent(index: &Index, filter: &StepFilter) -> Result<Vec<StepRow>, CliError> {
    Ok(index.timeline(filter, MAX_EVAL_STEPS)?)
}

/// Apply the origin and date filters to rows found by commit.
fn in_window(rows: Vec<StepRow>, filter: &StepFilter) -> Vec<StepRow> {
    rows.into_iter()
        .filter(|r| filter.origin.as_ref().is_none_or(|o| &r.origin == o))
        .filter(|r| filter.since_ms.is_none_or(|s| r.timestamp >= s))
        .filter(|r| filter.until_ms.is_none_or(|u| r.timestamp < u))
        .collect()
}

const LABELS: [&str; 6] =
    ["goal clarity", "execution focus", "failure recovery", "verification", "completion signal", "churn risk"];

impl Report for EvalReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        match self {
            EvalReport::List(list) => {
                if list.evals.is_empty() {
                    writeln!(out, "No evaluations recorded.")?;
                }
                for row in &list.evals {
                    writeln!(
                        out,
                        "{}  {}  {} {}  {}",
                        style.hash(short(&row.eval_hash, 12)),
                        style.time(row.evaluated_at),
                        row.scope_type,
                        row.scope_key,
                        row.classification
                    )?;
                }
                Ok(())
            }
            EvalReport::Run(run) => run.human(out, style),
        }
    }

    fn pageable(&self) -> bool {
        false
    }
}

impl EvalRun {
    fn title(&self) -> String {
        let s = &self.scope.scope;
        let mut title = format!("eval {}", s.kind);
        match s.kind.as_str() {
            "session" => {
                title.push_str(&format!(
                    " {}/{}",
                    s.origin.as_deref().unwrap_or(""),
                    s.session_id.as_deref().unwrap_or("")
                ));
            }
            kind => {
                if let Some(origin) = &s.origin {
                    title.push_str(&format!(" {origin}"));
                }
                match kind {
                    "commit" => title.push_str(&format!(" {}", s.rev.as_deref().unwrap_or(""))),
                    "range" => title.push_str(&format!(" {}", s.range.as_deref().unwrap_or(""))),
                    _ => {}
                }
            }
        }
        if s.since.is_some() || s.until.is_some() {
            title.push_str(&format!(" {}..{}", s.since.as_deref().unwrap_or(""), s.until.as_deref().unwrap_or("")));
        }
        title
    }

    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(out, "{}", style.bold(&self.title()))?;
        writeln!(out, "{} step(s) in {} session(s)\n", self.scope.step_count, self.scope.session_count)?;
        let (cur, ins) = (&self.current_assessment, &self.in_scope_assessment);
        writeln!(out, "classification: {} ({} confidence)", cur.classification, cur.confidence)?;
        writeln!(out, "in scope:      {} ({} confidence)", ins.classification, ins.confidence)?;
        let follow = &self.follow_up_assessment;
        writeln!(out, "follow-up:     {} ({} signal(s))", follow.classification_delta, follow.signals.len())?;
        for signal in &follow.signals {
            writeln!(
                out,
                "  - {} in {} ({})",
                signal.phrase,
                style.hash(short(&signal.step_hash, 12)),
                signal.session_id
            )?;
        }
        writeln!(out)?;
        for ((_, d), label) in dimension_list(&ins.dimensions).into_iter().zip(LABELS) {
            writeln!(out, "{label}: {} score={} confidence={}", d.rating, d.score, d.confidence)?;
            for reason in &d.reasons {
                writeln!(out, "  - {reason}")?;
            }
        }
        if !self.patterns.is_empty() {
            writeln!(out, "\npatterns:")?;
            for p in &self.patterns {
                writeln!(
                    out,
                    "  {}: {} ({} support, {} confidence)",
                    p.phrase, p.association, p.support, p.confidence
                )?;
            }
        }
        if !self.step_assessments.is_empty() {
            writeln!(out, "\nsteps:")?;
            for s in &self.step_assessments {
                let g = &s.signals;
                writeln!(
                    out,
                    "  {}  turn {}  tools={} errors={} verification={}",
                    style.hash(short(&s.hash, 12)),
                    s.turn_id,
                    g.tool_calls,
                    g.error_results,
                    g.verification_commands
                )?;
            }
        }
        match &self.eval_hash {
            Some(hash) => writeln!(out, "\nsaved eval {}", style.hash(short(hash, 12))),
            None => writeln!(out, "\nnot saved (--no-save)"),
        }
    }
}
