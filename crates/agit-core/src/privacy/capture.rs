//! Capture levels, applied at record time (irreversible): what of a prompt, an assistant
//! message, tool arguments, a tool result or a snapshot file is stored.

use std::borrow::Cow;
use std::fmt;

use super::Detector;
use crate::config::{CaptureConfig, CaptureLevel};
use crate::object::Step;

/// The kind of captured text; its label appears in placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextLabel {
    /// A user prompt (`privacy.capture.prompts`).
    Prompt,
    /// The assistant's message (`privacy.capture.assistant`).
    AssistantMessage,
    /// Tool call arguments (`privacy.capture.tool_args`).
    ToolArguments,
    /// A tool result (`privacy.capture.tool_results`), only when a result exists.
    ToolResult,
}

impl TextLabel {
    /// The label text used in placeholders (`prompt`, `assistant message`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TextLabel::Prompt => "prompt",
            TextLabel::AssistantMessage => "assistant message",
            TextLabel::ToolArguments => "tool arguments",
            TextLabel::ToolResult => "tool result",
        }
    }

    /// The label of a message with `role`: `user` messages are prompts; every other role is
    /// governed by the assistant setting.
    pub fn for_role(role: &str) -> TextLabel {
        if role == "user" { TextLabel::Prompt } else { TextLabel::AssistantMessage }
    }

    /// This label's level in `capture`.
    pub fn level(self, capture: &CaptureConfig) -> CaptureLevel {
        match self {
            TextLabel::Prompt => capture.prompts,
            TextLabel::AssistantMessage => capture.assistant,
            TextLabel::ToolArguments => capture.tool_args,
            TextLabel::ToolResult => capture.tool_results,
        }
    }
}

impl fmt::Display for TextLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text to store for `text` at `level`:
/// - `full`: `text` unchanged;
/// - `redacted`: secrets replaced by `[REDACTED]`;
/// - `metadata_only`: exactly `[[agit <label> metadata-only: <N> bytes]]`, N the original
///   byte length;
/// - `disabled`: exactly `[[agit <label> capture disabled]]`.
pub fn capture_text(level: CaptureLevel, label: TextLabel, text: &str, detector: &Detector) -> String {
    match level {
        CaptureLevel::Full => text.to_owned(),
        CaptureLevel::Redacted => detector.redact_str(text),
        CaptureLevel::MetadataOnly => format!("[[agit {label} metadata-only: {} bytes]]", text.len()),
        CaptureLevel::Disabled => format!("[[agit {label} capture disabled]]"),
    }
}

/// The blob content to store for the snapshot file `rel_path` at `level`, or `None` at
/// `disabled` (the snapshot is an empty tree). The tree entry keeps the original size in
/// every case.
pub fn capture_snapshot<'a>(
    level: CaptureLevel,
    rel_path: &str,
    bytes: &'a [u8],
    detector: &Detector,
) -> Option<Cow<'a, [u8]>> {
    match level {
        CaptureLevel::Full => Some(Cow::Borrowed(bytes)),
        CaptureLevel::Redacted => Some(detector.redact_cow(bytes)),
        CaptureLevel::MetadataOnly => Some(Cow::Owned(snapshot_metadata_placeholder(rel_path, bytes.len() as u64))),
        CaptureLevel::Disabled => None,
    }
}

/// `[[agit snapshot metadata-only path=<rel path> bytes=<N>]]` plus a newline. Blame treats
/// blobs with this prefix as placeholders.
pub fn snapshot_metadata_placeholder(rel_path: &str, size: u64) -> Vec<u8> {
    format!("[[agit snapshot metadata-only path={rel_path} bytes={size}]]\n").into_bytes()
}

/// Apply the text capture levels to a step being recorded: message contents by role, tool
/// arguments, and tool results that exist.
pub fn apply_capture(step: &mut Step, capture: &CaptureConfig, detector: &Detector) {
    for message in &mut step.messages {
        let label = TextLabel::for_role(&message.role);
        message.content = capture_text(label.level(capture), label, &message.content, detector);
    }
    for call in &mut step.tool_calls {
        call.args = capture_text(capture.tool_args, TextLabel::ToolArguments, &call.args, detector);
        if let Some(result) = &call.result {
            call.result = Some(capture_text(capture.tool_results, TextLabel::ToolResult, result, detector));
        }
    }
}
