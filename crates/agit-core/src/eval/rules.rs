//! The six dimension rules, classification and confidence (reference
//! `src/store/eval.zig`; thresholds and reason strings are part of the eval bytes).

use crate::object::{Assessment, Dimension, Dimensions, EvalSignals};

fn dim(rating: &str, score: i64, confidence: &str, reason: &str, signals: &EvalSignals) -> Dimension {
    Dimension {
        rating: rating.into(),
        score,
        confidence: confidence.into(),
        reasons: vec![reason.into()],
        signals: *signals,
    }
}

fn clamp_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Goal clarity: concrete task terms and success criteria in the first prompt.
pub fn goal_clarity(s: &EvalSignals) -> Dimension {
    let score =
        clamp_i64(s.concrete_terms.saturating_mul(15).saturating_add(s.success_criteria_phrases.saturating_mul(20)))
            .min(100);
    if score >= 55 {
        dim("good", score, "medium", "Initial prompt includes concrete task terms or success criteria.", s)
    } else if score >= 25 {
        dim("mixed", score, "low", "Initial prompt has some concrete language but limited success criteria.", s)
    } else {
        dim("bad", score, "medium", "Initial prompt is too vague to infer a clear goal from captured evidence.", s)
    }
}

/// Execution focus: the share of tool calls that overlap with the first prompt.
pub fn execution_focus(s: &EvalSignals) -> Dimension {
    if s.tool_calls == 0 {
        return dim("unknown", 0, "low", "No tool calls were captured for focus analysis.", s);
    }
    let score = clamp_i64(s.related_tool_calls.saturating_mul(100) / s.tool_calls);
    if score >= 50 {
        dim("good", score, "medium", "Tool activity overlaps with terms from the initial prompt.", s)
    } else {
        dim("mixed", score, "low", "Tool activity has limited textual overlap with the initial prompt.", s)
    }
}

/// Failure recovery: errors in tool results and whether they were followed by success.
pub fn failure_recovery(s: &EvalSignals) -> Dimension {
    if s.error_results == 0 {
        dim("good", 90, "medium", "No obvious tool failure output was captured.", s)
    } else if s.recovered_errors > 0 {
        dim("mixed", 55, "medium", "Captured errors were followed by at least one non-error result.", s)
    } else if s.repeated_failures > 0 {
        dim("bad", 15, "high", "The session repeated failure output without captured recovery.", s)
    } else {
        dim("mixed", 40, "medium", "Tool failures were captured without enough evidence of recovery.", s)
    }
}

/// Verification: at least one test, build or check command.
pub fn verification(s: &EvalSignals) -> Dimension {
    if s.verification_commands > 0 {
        dim("good", 85, "high", "Captured tool calls include a test, build, or check command.", s)
    } else {
        dim("bad", 10, "medium", "No test, build, or check command was captured.", s)
    }
}

/// Completion signal: change or verification terms in the final assistant message.
pub fn completion_signal(s: &EvalSignals) -> Dimension {
    match s.final_summary_terms {
        0 => dim("bad", 10, "medium", "Final assistant message does not clearly summarize changes or verification.", s),
        1 => dim("mixed", 50, "low", "Final assistant message has a limited completion signal.", s),
        _ => dim("good", 80, "medium", "Final assistant message mentions change or verification signals.", s),
    }
}

/// Churn risk: repeated commands, repeated failures and steps beyond the third.
pub fn churn_risk(s: &EvalSignals) -> Dimension {
    let risk = s.repeated_commands.saturating_add(s.repeated_failures).saturating_add(s.steps.saturating_sub(3));
    match risk {
        0 => dim("good", 90, "medium", "No repeated command or repeated failure churn was detected.", s),
        1 => dim("mixed", 55, "medium", "Some repeated activity suggests mild churn risk.", s),
        _ => dim("bad", 20, "high", "Repeated commands or failures suggest high churn risk.", s),
    }
}

/// All six dimensions, in wire order.
pub fn dimensions(s: &EvalSignals) -> Dimensions {
    Dimensions {
        goal_clarity: goal_clarity(s),
        execution_focus: execution_focus(s),
        failure_recovery: failure_recovery(s),
        verification: verification(s),
        completion_signal: completion_signal(s),
        churn_risk: churn_risk(s),
    }
}

/// The dimensions as `(wire name, dimension)` pairs, in order.
pub fn dimension_list(d: &Dimensions) -> [(&'static str, &Dimension); 6] {
    [
        ("goal_clarity", &d.goal_clarity),
        ("execution_focus", &d.execution_focus),
        ("failure_recovery", &d.failure_recovery),
        ("verification", &d.verification),
        ("completion_signal", &d.completion_signal),
        ("churn_risk", &d.churn_risk),
    ]
}

/// bad ≥ 3 → bad; good ≥ 4 with no bad → good; no good and no bad → unknown; else mixed.
pub fn classify(d: &Dimensions) -> &'static str {
    let list = dimension_list(d);
    let good = list.iter().filter(|(_, x)| x.rating == "good").count();
    let bad = list.iter().filter(|(_, x)| x.rating == "bad").count();
    if bad >= 3 {
        "bad"
    } else if good >= 4 && bad == 0 {
        "good"
    } else if good == 0 && bad == 0 {
        "unknown"
    } else {
        "mixed"
    }
}

/// steps ≥ 2 and tool calls ≥ 2 → high; ≥ 1 and ≥ 1 → medium; else low.
pub fn assessment_confidence(s: &EvalSignals) -> &'static str {
    if s.steps >= 2 && s.tool_calls >= 2 {
        "high"
    } else if s.steps >= 1 && s.tool_calls >= 1 {
        "medium"
    } else {
        "low"
    }
}

/// The full assessment of a set of signals.
pub fn assess(s: &EvalSignals) -> Assessment {
    let dimensions = dimensions(s);
    Assessment { classification: classify(&dimensions).into(), confidence: assessment_confidence(s).into(), dimensions }
}
