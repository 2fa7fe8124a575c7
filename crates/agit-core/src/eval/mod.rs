//! Rule-based evaluation of recorded steps (eval-v1, reference `views.md` §2.12 and
//! `formats.md` §9).
//!
//! The scoring is pure: [`collect_signals`] turns ordered steps into counts,
//! [`assess`] turns counts into six rated dimensions, a classification and a confidence;
//! [`follow_up`] and [`patterns`] look past the scope. [`evaluate`] runs all of it over
//! index rows, and [`save`] persists the result as an `eval` object plus its
//! `evaluations` index row.
//!
//! Verification commands: the reference's terms are kept as plain substrings
//! ([`REFERENCE_VERIFICATION_TERMS`]: `zig build`, `build test`, `check-fmt`, `npm test`,
//! `go test`, `cargo test`, `pytest`, `make test`); on top of them we recognise the
//! test commands of other ecosystems on word boundaries ([`EXTRA_VERIFICATION_TERMS`]:
//! `cargo nextest`; `python -m pytest`, `python -m unittest`, `tox`, `nox`; `pnpm`/`yarn`/
//! `bun test`, `npm`/`pnpm`/`yarn`/`bun run test`, `vitest`, `jest`; `make check`;
//! `gradle`/`gradlew test|check`, `mvn`/`mvnw test|verify`; `dotnet test`;
//! `zig build test`).
//!
//! One deliberate difference: the first prompt is the first *non-empty* user message.

mod followup;
mod rules;
mod signals;
#[cfg(test)]
mod tests;

pub use followup::{
    CurrentAssessment, DEFAULT_LOOKAHEAD_MS, FAILURE_REPORT_PHRASES, FollowUp, FollowUpSignal, MAX_FOLLOW_UP_STEPS,
    Pattern, current_assessment, failure_report_phrase, follow_up, parse_lookahead, patterns,
};
pub use rules::{
    assess, assessment_confidence, churn_risk, classify, completion_signal, dimension_list, dimensions,
    execution_focus, failure_recovery, goal_clarity, verification,
};
pub use signals::{
    COMPLETION_TERMS, CONCRETE_TERMS, EXTRA_VERIFICATION_TERMS, FAILURE_TERMS, REFERENCE_VERIFICATION_TERMS, STOPWORDS,
    SUCCESS_TERMS, collect_signals, count_terms, is_error_result, is_verification_command, prompt_tokens,
};

use std::collections::BTreeSet;

use rusqlite::{Transaction, TransactionBehavior};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::hash::ObjectId;
use crate::index::{Index, ObjectRecord, StepFilter, StepRow};
use crate::object::{Assessment, EvalObject, EvalSignals, ObjectKind, Step};
use crate::store::Store;

/// At most this many steps are evaluated (the newest), and the pattern baseline is the
/// store's newest this many steps.
pub const MAX_EVAL_STEPS: usize = 1000;

/// Lowercase hex BLAKE3 over the 64-hex step ids sorted ascending and concatenated with
/// no separator (the empty set hashes the empty string).
pub fn captured_evidence_hash<S: AsRef<str>>(step_hashes: &[S]) -> String {
    let mut sorted: Vec<&str> = step_hashes.iter().map(AsRef::as_ref).collect();
    sorted.sort_unstable();
    ObjectId::of(sorted.concat().as_bytes()).to_hex()
}

/// Options of one evaluation run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalOptions {
    /// Follow-up window after the last in-scope step, in ms (0 = none).
    pub lookahead_ms: i64,
    /// Compute per-step signals.
    pub include_steps: bool,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions { lookahead_ms: DEFAULT_LOOKAHEAD_MS, include_steps: false }
    }
}

/// Signals of one step taken alone (`--include-steps`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepAssessment {
    pub hash: String,
    pub turn_id: String,
    pub timestamp: i64,
    pub signals: EvalSignals,
}

/// Everything an evaluation computes (before it is saved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub signals: EvalSignals,
    pub in_scope: Assessment,
    pub captured_evidence_hash: String,
    pub follow_up: FollowUp,
    pub current: CurrentAssessment,
    pub patterns: Vec<Pattern>,
    pub step_assessments: Vec<StepAssessment>,
    pub step_count: usize,
    pub session_count: usize,
}

/// Keep the newest [`MAX_EVAL_STEPS`] rows, ordered by (timestamp, hash) ascending.
pub fn order_scope(mut rows: Vec<StepRow>) -> Vec<StepRow> {
    rows.sort_by(|a, b| (a.timestamp, &a.hash).cmp(&(b.timestamp, &b.hash)));
    rows.dedup_by(|a, b| a.hash == b.hash);
    let excess = rows.len().saturating_sub(MAX_EVAL_STEPS);
    rows.drain(..excess);
    rows
}

fn read_step(store: &Store, hash: &str) -> Result<Step> {
    let id = ObjectId::parse(hash).ok_or_else(|| Error::ObjectNotFound { prefix: hash.to_owned() })?;
    store.read_step(&id)
}

/// Evaluate the scope `rows` (any order; the newest [`MAX_EVAL_STEPS`] are used).
pub fn evaluate(store: &Store, index: &Index, rows: Vec<StepRow>, options: EvalOptions) -> Result<Evaluation> {
    let rows = order_scope(rows);
    let steps: Vec<Step> = rows.iter().map(|r| read_step(store, &r.hash)).collect::<Result<_>>()?;
    let refs: Vec<&Step> = steps.iter().collect();
    let signals = collect_signals(&refs);
    let in_scope = assess(&signals);
    let hashes: Vec<&str> = rows.iter().map(|r| r.hash.as_str()).collect();
    let captured_evidence_hash = captured_evidence_hash(&hashes);

    let follow_steps = match rows.last() {
        Some(last) if options.lookahead_ms > 0 => {
            let filter = StepFilter {
                since_ms: Some(last.timestamp.saturating_add(1)),
                until_ms: Some(last.timestamp.saturating_add(options.lookahead_ms).saturating_add(1)),
                ..StepFilter::default()
            };
            let mut later = index.timeline(&filter, MAX_FOLLOW_UP_STEPS)?;
            later.reverse();
            later.into_iter().map(|r| Ok((r.hash.clone(), read_step(store, &r.hash)?))).collect::<Result<Vec<_>>>()?
        }
        _ => Vec::new(),
    };
    let follow_refs: Vec<(String, &Step)> = follow_steps.iter().map(|(h, s)| (h.clone(), s)).collect();
    let follow = follow_up(&follow_refs);
    let current = current_assessment(&in_scope, &follow);

    let wants_baseline = (signals.verification_commands > 0 && in_scope.dimensions.verification.rating == "good")
        || (signals.repeated_failures > 0 && in_scope.dimensions.failure_recovery.rating == "bad");
    let baseline = if wants_baseline { baseline(store, index)? } else { Vec::new() };
    let patterns = patterns(&signals, &in_scope, &baseline);

    let step_assessments = if options.include_steps {
        rows.iter()
            .zip(&steps)
            .map(|(row, step)| StepAssessment {
                hash: row.hash.clone(),
                turn_id: row.turn_id.clone(),
                timestamp: row.timestamp,
                signals: collect_signals(&[step]),
            })
            .collect()
    } else {
        Vec::new()
    };
    let session_count = rows.iter().map(|r| (&r.origin, &r.session_id)).collect::<BTreeSet<_>>().len();
    Ok(Evaluation {
        signals,
        in_scope,
        captured_evidence_hash,
        follow_up: follow,
        current,
        patterns,
        step_assessments,
        step_count: rows.len(),
        session_count,
    })
}

/// The store's newest [`MAX_EVAL_STEPS`] steps, grouped per session, each evaluated.
fn baseline(store: &Store, index: &Index) -> Result<Vec<(EvalSignals, Assessment)>> {
    let mut rows = index.timeline(&StepFilter::default(), MAX_EVAL_STEPS)?;
    rows.reverse();
    let mut sessions: Vec<((String, String), Vec<Step>)> = Vec::new();
    for row in rows {
        let step = read_step(store, &row.hash)?;
        let key = (row.origin, row.session_id);
        match sessions.iter_mut().find(|(k, _)| *k == key) {
            Some((_, steps)) => steps.push(step),
            None => sessions.push((key, vec![step])),
        }
    }
    Ok(sessions
        .iter()
        .map(|(_, steps)| {
            let refs: Vec<&Step> = steps.iter().collect();
            let s = collect_signals(&refs);
            (s, assess(&s))
        })
        .collect())
}

/// Write an eval object and record it (object row with its kind, plus the
/// `evaluations` row) in one transaction. Returns its id.
pub fn save(store: &Store, index: &Index, eval: &EvalObject) -> Result<ObjectId> {
    let bytes = eval.encode();
    let (id, _) = store.write_object(&bytes)?;
    let tx = Transaction::new_unchecked(index.conn(), TransactionBehavior::Immediate)
        .map_err(Error::index("begin eval transaction"))?;
    crate::index::rows::insert_object(&tx, &ObjectRecord { id, kind: ObjectKind::Eval, size: bytes.len() as u64 })?;
    crate::index::rows::insert_evaluation(&tx, &id, eval)?;
    tx.commit().map_err(Error::index("commit eval"))?;
    Ok(id)
}

/// One `evaluations` row (`eval --list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvalRow {
    pub eval_hash: String,
    pub scope_type: String,
    pub scope_key: String,
    pub classification: String,
    pub captured_evidence_hash: String,
    pub evaluated_at: i64,
}

/// Recorded evaluations, newest first.
pub fn list(index: &Index, limit: usize) -> Result<Vec<EvalRow>> {
    let sql = format!(
        "select hash, scope_type, scope_key, classification, captured_evidence_hash, evaluated_at \
         from evaluations order by evaluated_at desc, hash desc limit {limit}"
    );
    let mut stmt = index.conn().prepare(&sql).map_err(Error::index("list evaluations"))?;
    stmt.query_map([], |r| {
        Ok(EvalRow {
            eval_hash: r.get(0)?,
            scope_type: r.get(1)?,
            scope_key: r.get(2)?,
            classification: r.get(3)?,
            captured_evidence_hash: r.get(4)?,
            evaluated_at: r.get(5)?,
        })
    })
    .and_then(|rows| rows.collect())
    .map_err(Error::index("list evaluations"))
}
