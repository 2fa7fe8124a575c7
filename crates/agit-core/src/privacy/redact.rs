//! Replacing secret spans, and display-time redaction of steps.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::rules::compile;
use super::{Detector, Match};
use crate::object::Step;

/// What replaces every secret span (reference: `redactAlloc`).
pub const REDACTED: &str = "[REDACTED]";

static MARKER: LazyLock<Regex> = LazyLock::new(|| compile(r"(?-u)\[REDACTED\]"));

/// Replace each span with [`REDACTED`]. Spans are sorted and merged when they overlap or
/// touch (`next.start <= last.end`), so adjacent secrets become one marker.
pub(super) fn replace_spans(text: &[u8], matches: &[Match]) -> Vec<u8> {
    let mut spans: Vec<(usize, usize)> =
        matches.iter().filter(|m| m.start < m.end && m.end <= text.len()).map(|m| (m.start, m.end)).collect();
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in merged {
        out.extend_from_slice(&text[at..start]);
        out.extend_from_slice(REDACTED.as_bytes());
        at = end;
    }
    out.extend_from_slice(&text[at..]);
    out
}

/// Drop matches that lie entirely inside a `[REDACTED]` marker (a custom literal such as
/// `RED` would otherwise flag every marker), so redaction is idempotent and redacted text
/// scans clean.
pub(super) fn drop_inside_markers(text: &[u8], matches: &mut Vec<Match>) {
    if matches.is_empty() {
        return;
    }
    let markers: Vec<(usize, usize)> = MARKER.find_iter(text).map(|m| (m.start(), m.end())).collect();
    if markers.is_empty() {
        return;
    }
    matches.retain(|m| {
        // The last marker starting at or before the match is the only one that can hold it.
        let idx = markers.partition_point(|&(s, _)| s <= m.start);
        idx == 0 || m.end > markers[idx - 1].1
    });
}

/// A copy of `step` for display with `--redacted`: message contents, tool arguments and tool
/// results redacted. Unlike the reference, which nulled `model`, `outcome` and the git
/// fields of the redacted copy, they are kept: they are not captured text and hold no
/// secrets the detectors could find (DECISIONS §2 keeps them wherever steps are rewritten).
pub fn redact_step(step: &Step, detector: &Detector) -> Step {
    let mut out = step.clone();
    for message in &mut out.messages {
        message.content = detector.redact_str(&message.content);
    }
    for call in &mut out.tool_calls {
        call.args = detector.redact_str(&call.args);
        if let Some(result) = &call.result {
            call.result = Some(detector.redact_str(result));
        }
    }
    out
}
