//! Findings: what `agit privacy scan`, the push gate and `privacy-report.json` report.
//! A finding names the rule and where it was found, never the secret itself.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Detector, Rule, Severity};
use crate::hash::ObjectId;
use crate::json;
use crate::object::Step;

/// `source` of a tool call's arguments.
pub const SOURCE_TOOL_ARGS: &str = "tool_args";
/// `source` of a tool call's result.
pub const SOURCE_TOOL_RESULT: &str = "tool_result";
/// `source` of a snapshot file.
pub const SOURCE_SNAPSHOT_BLOB: &str = "snapshot_blob";

/// One finding (reference shape and key order:
/// `{severity, rule, source, origin, session_id, turn_id, path, hash}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule's severity.
    pub severity: Severity,
    /// The rule that matched.
    pub rule: Rule,
    /// The message role (`user`, `assistant`), `tool_args`, `tool_result` or `snapshot_blob`.
    pub source: String,
    /// The step's agent (`claude`, `codex`, …).
    pub origin: String,
    /// The step's session id.
    pub session_id: String,
    /// The step's turn id.
    pub turn_id: String,
    /// The tree entry path for `snapshot_blob`, otherwise `None` (`null`).
    pub path: Option<String>,
    /// The step id for messages and tool calls, the blob id for snapshot blobs.
    #[serde(serialize_with = "json::ser_object_id", deserialize_with = "json::object_id")]
    pub hash: ObjectId,
}

/// The human line of the reference, without the leading `  - `:
/// `[<severity>] <rule> in <source> (<origin>/<session_id> turn <turn_id>)[ path=<path>]`.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {} in {} ({}/{} turn {})",
            self.severity, self.rule, self.source, self.origin, self.session_id, self.turn_id
        )?;
        if let Some(path) = &self.path {
            write!(f, " path={path}")?;
        }
        Ok(())
    }
}

/// Scan counters (`stats` of the scan output and of `privacy-report.json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanStats {
    /// Sessions scanned (enabled origins with a head).
    pub sessions: u64,
    /// Steps scanned.
    pub steps: u64,
    /// Distinct trees scanned.
    pub trees: u64,
    /// Distinct blobs scanned.
    pub blobs: u64,
    /// Findings reported.
    pub findings: u64,
}

/// `privacy-report.json`: `{"stats":{…},"findings":[…]}`. It contains no secret values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacyReport {
    /// Counters.
    pub stats: ScanStats,
    /// Every finding, in scan order.
    pub findings: Vec<Finding>,
}

impl PrivacyReport {
    /// Compact JSON, as written into bundles.
    pub fn to_json(&self) -> Vec<u8> {
        // Plain strings, numbers and enums: serialization cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Findings of one step's captured text: each message content (source = its role), then
/// for each tool call its arguments (`tool_args`) and its result if any (`tool_result`).
/// Empty texts are skipped; each text yields at most one finding per rule. Tool names,
/// ids, model and git fields are not scanned.
pub fn scan_step(step: &Step, step_id: &ObjectId, detector: &Detector) -> Vec<Finding> {
    let mut out = Vec::new();
    for message in &step.messages {
        scan_text(step, &message.role, None, message.content.as_bytes(), step_id, detector, &mut out);
    }
    for call in &step.tool_calls {
        scan_text(step, SOURCE_TOOL_ARGS, None, call.args.as_bytes(), step_id, detector, &mut out);
        if let Some(result) = &call.result {
            scan_text(step, SOURCE_TOOL_RESULT, None, result.as_bytes(), step_id, detector, &mut out);
        }
    }
    out
}

/// Findings of one snapshot file (source `snapshot_blob`), attributed to `step`, the first
/// step that reached the tree; `hash` is the blob id and `path` the tree entry path.
pub fn scan_blob(step: &Step, path: &str, bytes: &[u8], blob_id: &ObjectId, detector: &Detector) -> Vec<Finding> {
    let mut out = Vec::new();
    scan_text(step, SOURCE_SNAPSHOT_BLOB, Some(path), bytes, blob_id, detector, &mut out);
    out
}

fn scan_text(
    step: &Step,
    source: &str,
    path: Option<&str>,
    text: &[u8],
    hash: &ObjectId,
    detector: &Detector,
    out: &mut Vec<Finding>,
) {
    if text.is_empty() {
        return;
    }
    out.extend(detector.first_per_rule(text).into_iter().map(|m| Finding {
        severity: m.severity,
        rule: m.rule,
        source: source.to_owned(),
        origin: step.origin.clone(),
        session_id: step.session_id.clone(),
        turn_id: step.turn_id.clone(),
        path: path.map(str::to_owned),
        hash: *hash,
    }));
}
