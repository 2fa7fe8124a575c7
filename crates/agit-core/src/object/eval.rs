//! Eval objects (eval-v1): a rule-based assessment of the steps in a scope.

use serde::{Deserialize, Serialize};

use super::{DecodeError, ObjectKind, check_tag, to_canonical_bytes};

/// Evidence counts collected over the scope; every dimension carries the full set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvalSignals {
    pub concrete_terms: u64,
    pub success_criteria_phrases: u64,
    pub tool_calls: u64,
    pub related_tool_calls: u64,
    pub error_results: u64,
    pub recovered_errors: u64,
    pub repeated_failures: u64,
    pub verification_commands: u64,
    pub final_summary_terms: u64,
    pub repeated_commands: u64,
    pub steps: u64,
}

/// One rated dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimension {
    /// `good`, `mixed`, `bad` or `unknown`.
    pub rating: String,
    /// 0–100.
    pub score: i64,
    /// `low`, `medium` or `high`.
    pub confidence: String,
    pub reasons: Vec<String>,
    pub signals: EvalSignals,
}

/// The six eval-v1 dimensions, in wire order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimensions {
    pub goal_clarity: Dimension,
    pub execution_focus: Dimension,
    pub failure_recovery: Dimension,
    pub verification: Dimension,
    pub completion_signal: Dimension,
    pub churn_risk: Dimension,
}

/// Overall classification plus the dimensions behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub classification: String,
    pub confidence: String,
    pub dimensions: Dimensions,
}

/// What was evaluated. All seven keys are always written (null when unused).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalScope {
    /// `session`, `commit`, `range` or `window`.
    pub kind: String,
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub rev: Option<String>,
    #[serde(default)]
    pub range: Option<String>,
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
}

/// A persisted evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalObject {
    pub assessment: Assessment,
    pub evaluation_scope: EvalScope,
    /// Wall-clock milliseconds of the run.
    pub evaluated_at: i64,
    pub agit_version: String,
    /// BLAKE3 over the sorted, concatenated hex ids of the in-scope steps.
    pub captured_evidence_hash: String,
}

#[derive(Serialize)]
struct EvalOut<'a> {
    #[serde(rename = "type")]
    tag: &'static str,
    assessment: &'a Assessment,
    evaluation_scope: &'a EvalScope,
    evaluated_at: i64,
    agit_version: &'a str,
    captured_evidence_hash: &'a str,
}

#[derive(Deserialize)]
struct EvalIn {
    #[serde(rename = "type", default)]
    tag: Option<String>,
    assessment: Assessment,
    evaluation_scope: EvalScope,
    evaluated_at: i64,
    agit_version: String,
    captured_evidence_hash: String,
}

impl EvalObject {
    /// Canonical bytes (what is hashed and stored).
    pub fn encode(&self) -> Vec<u8> {
        to_canonical_bytes(&EvalOut {
            tag: "eval",
            assessment: &self.assessment,
            evaluation_scope: &self.evaluation_scope,
            evaluated_at: self.evaluated_at,
            agit_version: &self.agit_version,
            captured_evidence_hash: &self.captured_evidence_hash,
        })
    }

    /// Read an eval object.
    pub fn decode(bytes: &[u8]) -> Result<EvalObject, DecodeError> {
        let raw: EvalIn =
            serde_json::from_slice(bytes).map_err(|source| DecodeError::Schema { kind: ObjectKind::Eval, source })?;
        check_tag(ObjectKind::Eval, raw.tag)?;
        Ok(EvalObject {
            assessment: raw.assessment,
            evaluation_scope: raw.evaluation_scope,
            evaluated_at: raw.evaluated_at,
            agit_version: raw.agit_version,
            captured_evidence_hash: raw.captured_evidence_hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dim(rating: &str, score: i64) -> Dimension {
        Dimension {
            rating: rating.into(),
            score,
            confidence: "medium".into(),
            reasons: vec!["r".into()],
            signals: EvalSignals { steps: 1, tool_calls: 2, ..Default::default() },
        }
    }

    #[test]
    fn eval_bytes_follow_the_reference_key_order() {
        let eval = EvalObject {
            assessment: Assessment {
                classification: "good".into(),
                confidence: "high".into(),
                dimensions: Dimensions {
                    goal_clarity: dim("good", 90),
                    execution_focus: dim("good", 50),
                    failure_recovery: dim("unknown", 0),
                    verification: dim("good", 85),
                    completion_signal: dim("mixed", 40),
                    churn_risk: dim("good", 80),
                },
            },
            evaluation_scope: EvalScope {
                kind: "session".into(),
                origin: Some("codex".into()),
                session_id: Some("s1".into()),
                ..Default::default()
            },
            evaluated_at: 7,
            agit_version: "0.1.0".into(),
            captured_evidence_hash: "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262".into(),
        };
        let text = String::from_utf8(eval.encode()).unwrap();
        assert!(text.starts_with(r#"{"type":"eval","assessment":{"classification":"good","confidence":"high","dimensions":{"goal_clarity":{"rating":"good","score":90,"confidence":"medium","reasons":["r"],"signals":{"concrete_terms":0,"success_criteria_phrases":0,"tool_calls":2,"#));
        assert!(text.contains(r#""evaluation_scope":{"kind":"session","origin":"codex","session_id":"s1","rev":null,"range":null,"since":null,"until":null},"evaluated_at":7,"agit_version":"0.1.0","captured_evidence_hash":"af13"#));
        assert_eq!(EvalObject::decode(text.as_bytes()).unwrap(), eval);
        assert_eq!(super::super::sniff_kind(text.as_bytes()), ObjectKind::Eval);
    }
}
