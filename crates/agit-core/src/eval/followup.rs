//! After the scope: follow-up failure reports within a lookahead window, the current
//! assessment they lead to, and the (non-causal) patterns against a baseline.

use serde::Serialize;

use crate::object::{Assessment, EvalSignals, Step};

/// Default lookahead: 24 hours.
pub const DEFAULT_LOOKAHEAD_MS: i64 = 24 * 3_600_000;

/// At most this many follow-up steps are examined (the newest).
pub const MAX_FOLLOW_UP_STEPS: usize = 200;

/// Phrases in a later user message or tool result that report the work failed.
pub const FAILURE_REPORT_PHRASES: &[&str] = &[
    "workflow has failed",
    "workflow failed",
    "tests are still failing",
    "that did not work",
    "that didn't work",
    "deployment failed",
    "ci failed",
    "rollback",
    "regression",
];

/// Parse a `--lookahead` value into milliseconds: `0`, `<N>h` or `<N>d`.
pub fn parse_lookahead(text: &str) -> Option<i64> {
    if text == "0" {
        return Some(0);
    }
    let (digits, unit_ms) = if let Some(n) = text.strip_suffix('h') {
        (n, 3_600_000i64)
    } else if let Some(n) = text.strip_suffix('d') {
        (n, 86_400_000i64)
    } else {
        return None;
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok()?.checked_mul(unit_ms)
}

/// A later step that reports failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUpSignal {
    /// Always `failure_report`.
    pub kind: &'static str,
    pub session_id: String,
    pub step_hash: String,
    pub phrase: &'static str,
}

/// `follow_up_assessment` of the JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    /// `none` or `downgrade`.
    pub classification_delta: &'static str,
    pub signals: Vec<FollowUpSignal>,
}

/// `current_assessment` of the JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrentAssessment {
    pub classification: String,
    pub confidence: String,
}

/// The first failure-report phrase of a step: user messages first, then tool results.
pub fn failure_report_phrase(step: &Step) -> Option<&'static str> {
    let find = |text: &str| {
        let lower = text.to_lowercase();
        FAILURE_REPORT_PHRASES.iter().copied().find(|p| lower.contains(p))
    };
    step.messages
        .iter()
        .filter(|m| m.role.eq_ignore_ascii_case("user"))
        .find_map(|m| find(&m.content))
        .or_else(|| step.tool_calls.iter().filter_map(|c| c.result.as_deref()).find_map(find))
}

/// Failure reports among the follow-up steps (`(hash, step)` pairs, oldest first).
pub fn follow_up(steps: &[(String, &Step)]) -> FollowUp {
    let signals: Vec<FollowUpSignal> = steps
        .iter()
        .filter_map(|(hash, step)| {
            failure_report_phrase(step).map(|phrase| FollowUpSignal {
                kind: "failure_report",
                session_id: step.session_id.clone(),
                step_hash: hash.clone(),
                phrase,
            })
        })
        .collect();
    FollowUp { classification_delta: if signals.is_empty() { "none" } else { "downgrade" }, signals }
}

/// With follow-up failure reports a `good` result becomes `mixed`, and the confidence
/// becomes `high`; without any the in-scope result stands.
pub fn current_assessment(in_scope: &Assessment, follow: &FollowUp) -> CurrentAssessment {
    if follow.signals.is_empty() {
        return CurrentAssessment {
            classification: in_scope.classification.clone(),
            confidence: in_scope.confidence.clone(),
        };
    }
    let classification =
        if in_scope.classification == "good" { "mixed".into() } else { in_scope.classification.clone() };
    CurrentAssessment { classification, confidence: "high".into() }
}

/// A recurring association between a signal and session ratings (not a cause).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pattern {
    pub phrase: &'static str,
    pub source: &'static str,
    pub association: &'static str,
    pub dimension: &'static str,
    pub support: u64,
    pub confidence: &'static str,
}

fn support_confidence(support: u64) -> &'static str {
    if support >= 3 { "medium" } else { "low" }
}

/// Patterns of the scope against the baseline (one `(signals, assessment)` per session
/// of the store's newest steps).
pub fn patterns(
    signals: &EvalSignals,
    assessment: &Assessment,
    baseline: &[(EvalSignals, Assessment)],
) -> Vec<Pattern> {
    let mut out = Vec::new();
    if signals.verification_commands > 0 && assessment.dimensions.verification.rating == "good" {
        let support = baseline
            .iter()
            .filter(|(s, a)| s.verification_commands > 0 && a.dimensions.verification.rating == "good")
            .count() as u64;
        out.push(Pattern {
            phrase: "verification command",
            source: "tool_args",
            association: "higher_rated_sessions",
            dimension: "verification",
            support,
            confidence: support_confidence(support),
        });
    }
    if signals.repeated_failures > 0 && assessment.dimensions.failure_recovery.rating == "bad" {
        let support = baseline
            .iter()
            .filter(|(s, a)| s.repeated_failures > 0 && a.dimensions.failure_recovery.rating == "bad")
            .count() as u64;
        out.push(Pattern {
            phrase: "repeated failure output",
            source: "tool_result",
            association: "lower_rated_sessions",
            dimension: "failure_recovery",
            support,
            confidence: support_confidence(support),
        });
    }
    out
}
