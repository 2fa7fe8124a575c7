//! Step objects: one recorded agent turn.

use serde::{Deserialize, Serialize};

use super::{DecodeError, ObjectKind, check_tag, to_canonical_bytes};
use crate::hash::ObjectId;
use crate::json;

/// A chat message of the turn (`role` is `user` or `assistant`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    #[serde(deserialize_with = "json::string")]
    pub role: String,
    #[serde(deserialize_with = "json::string")]
    pub content: String,
}

/// A tool invocation with its arguments and (optional) result, as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    #[serde(deserialize_with = "json::string")]
    pub tool_name: String,
    #[serde(deserialize_with = "json::string")]
    pub args: String,
    #[serde(default, deserialize_with = "json::opt_string")]
    pub result: Option<String>,
}

/// Why a step happened (hooks always record an empty list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    #[serde(deserialize_with = "json::string")]
    pub kind: String,
    #[serde(rename = "ref", deserialize_with = "json::string")]
    pub reference: String,
}

/// One recorded turn of one session. Field order is the wire order; all 15 keys are
/// always written, with `null` for absent optionals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub parent: Option<ObjectId>,
    pub tree: ObjectId,
    pub session_id: String,
    pub origin: String,
    pub model: Option<String>,
    pub turn_id: String,
    pub causes: Vec<Cause>,
    /// Unix epoch milliseconds, strictly increasing store-wide.
    pub timestamp: i64,
    pub messages: Vec<Message>,
    pub tool_calls: Vec<ToolCall>,
    pub outcome: Option<String>,
    pub git_commit: Option<String>,
    pub git_branch: Option<String>,
    pub git_dirty: Option<bool>,
}

impl Step {
    /// A root step of `origin`/`session_id` for `turn_id` over `tree`: no parent, no
    /// messages, tool calls, model, outcome or git state, timestamp 0. Set the rest with
    /// struct update syntax (`Step { parent, timestamp, ..Step::new(...) }`).
    pub fn new(
        origin: impl Into<String>,
        session_id: impl Into<String>,
        turn_id: impl Into<String>,
        tree: ObjectId,
    ) -> Step {
        Step {
            parent: None,
            tree,
            session_id: session_id.into(),
            origin: origin.into(),
            model: None,
            turn_id: turn_id.into(),
            causes: vec![],
            timestamp: 0,
            messages: vec![],
            tool_calls: vec![],
            outcome: None,
            git_commit: None,
            git_branch: None,
            git_dirty: None,
        }
    }
}

#[derive(Serialize)]
struct StepOut<'a> {
    #[serde(rename = "type")]
    tag: &'static str,
    #[serde(serialize_with = "json::ser_opt_object_id")]
    parent: &'a Option<ObjectId>,
    #[serde(serialize_with = "json::ser_object_id")]
    tree: &'a ObjectId,
    session_id: &'a str,
    origin: &'a str,
    model: &'a Option<String>,
    turn_id: &'a str,
    causes: &'a [Cause],
    timestamp: i64,
    messages: &'a [Message],
    tool_calls: &'a [ToolCall],
    outcome: &'a Option<String>,
    git_commit: &'a Option<String>,
    git_branch: &'a Option<String>,
    git_dirty: &'a Option<bool>,
}

#[derive(Deserialize)]
struct StepIn {
    #[serde(rename = "type", default, deserialize_with = "json::opt_string")]
    tag: Option<String>,
    #[serde(deserialize_with = "json::opt_object_id")]
    parent: Option<ObjectId>,
    #[serde(deserialize_with = "json::object_id")]
    tree: ObjectId,
    #[serde(deserialize_with = "json::string")]
    session_id: String,
    #[serde(deserialize_with = "json::string")]
    origin: String,
    #[serde(default, deserialize_with = "json::opt_string")]
    model: Option<String>,
    #[serde(deserialize_with = "json::string")]
    turn_id: String,
    #[serde(default)]
    causes: Vec<Cause>,
    timestamp: i64,
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
    #[serde(default, deserialize_with = "json::opt_string")]
    outcome: Option<String>,
    #[serde(default, deserialize_with = "json::opt_string")]
    git_commit: Option<String>,
    #[serde(default, deserialize_with = "json::opt_string")]
    git_branch: Option<String>,
    #[serde(default)]
    git_dirty: Option<bool>,
}

impl Step {
    /// Canonical bytes (what is hashed and stored).
    pub fn encode(&self) -> Vec<u8> {
        to_canonical_bytes(&StepOut {
            tag: "step",
            parent: &self.parent,
            tree: &self.tree,
            session_id: &self.session_id,
            origin: &self.origin,
            model: &self.model,
            turn_id: &self.turn_id,
            causes: &self.causes,
            timestamp: self.timestamp,
            messages: &self.messages,
            tool_calls: &self.tool_calls,
            outcome: &self.outcome,
            git_commit: &self.git_commit,
            git_branch: &self.git_branch,
            git_dirty: &self.git_dirty,
        })
    }

    /// Read a step of any version; fields older writers omitted take their defaults.
    pub fn decode(bytes: &[u8]) -> Result<Step, DecodeError> {
        let raw: StepIn =
            serde_json::from_slice(bytes).map_err(|source| DecodeError::Schema { kind: ObjectKind::Step, source })?;
        check_tag(ObjectKind::Step, raw.tag)?;
        Ok(Step {
            parent: raw.parent,
            tree: raw.tree,
            session_id: raw.session_id,
            origin: raw.origin,
            model: raw.model,
            turn_id: raw.turn_id,
            causes: raw.causes,
            timestamp: raw.timestamp,
            messages: raw.messages,
            tool_calls: raw.tool_calls,
            outcome: raw.outcome,
            git_commit: raw.git_commit,
            git_branch: raw.git_branch,
            git_dirty: raw.git_dirty,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Step {
        Step {
            parent: None,
            tree: ObjectId::parse("165cd4f8501b5b7623803270744ff4aa6922923b500aa411096eecd3bbfb7569").unwrap(),
            session_id: "s1".into(),
            origin: "codex".into(),
            model: None,
            turn_id: "t1".into(),
            causes: vec![],
            timestamp: 1_700_000_000_000,
            messages: vec![
                Message { role: "user".into(), content: "hi".into() },
                Message { role: "assistant".into(), content: "done".into() },
            ],
            tool_calls: vec![],
            outcome: Some("unknown".into()),
            git_commit: None,
            git_branch: None,
            git_dirty: None,
        }
    }

    #[test]
    fn formats_md_step_vector() {
        let bytes = sample().encode();
        assert_eq!(ObjectId::of(&bytes).to_hex(), "eef74ba958b714d4b020ff92e48aae2fb543df2c8ee26aeedeeb5e5d8a5f6afd");
        assert_eq!(Step::decode(&bytes).unwrap(), sample());
    }

    #[test]
    fn older_steps_with_fewer_keys_decode_with_defaults() {
        let tree = "165cd4f8501b5b7623803270744ff4aa6922923b500aa411096eecd3bbfb7569";
        let old = format!(
            r#"{{"type":"step","parent":null,"tree":"{tree}","session_id":"s","origin":"claude","turn_id":"t","causes":[],"timestamp":5,"messages":[],"tool_calls":[]}}"#
        );
        let step = Step::decode(old.as_bytes()).unwrap();
        assert_eq!(step.model, None);
        assert_eq!(step.git_dirty, None);
        let step = Step::decode(
            format!(r#"{{"type":"step","parent":null,"tree":"{tree}","session_id":"s","origin":"o","turn_id":"t","timestamp":1,"new_field":{{"x":1}}}}"#).as_bytes(),
        )
        .unwrap();
        assert!(step.messages.is_empty());
    }

    #[test]
    fn malformed_steps_are_errors_not_panics() {
        for bad in [&b""[..], b"{", b"[]", br#"{"type":"step"}"#, br#"{"type":"tree","entries":[]}"#] {
            assert!(Step::decode(bad).is_err());
        }
    }
}
