//! `agit observe jsonl`: record a JSON Lines transcript (reference `capture.md` §13).
//!
//! One event per line: `{"session_id","cwd","role":"user","content"}`,
//! `{"session_id","cwd","role":"tool","tool_name","args","result"}`,
//! `{"session_id","cwd","role":"assistant","content"}` (optional `event_name`). Each
//! event is recorded with its line number as the source watermark: the recorder stores
//! the watermark in the session's turn state in the same atomic write as the event's
//! effect, so a crash between recording and the checkpoint never records a line twice.
//! The checkpoint file (`observers/jsonl/<instance>.json`) only lets a rerun skip ahead.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use agit_core::store::durable;
use agit_core::{Error, Store};

use crate::event::{EventKind, ToolCall};
use crate::recorder::{EventSource, RecordOutcome, Recorder, TurnEvent};

/// The largest transcript read in one pass.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;
/// The origin of observed events.
pub const JSONL_ORIGIN: &str = "jsonl";
const CHECKPOINT_VERSION: u32 = 1;

/// Why an observe pass failed.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    #[error("unknown observer source `{0}` (available: jsonl)")]
    UnknownSource(String),
    #[error("input {} is {size} bytes; the limit is {MAX_INPUT_BYTES}", path.display())]
    InputTooLarge { path: PathBuf, size: u64 },
    #[error("checkpoint {} is invalid: {reason}", path.display())]
    InvalidCheckpoint { path: PathBuf, reason: String },
    #[error(transparent)]
    Store(#[from] Error),
}

impl ObserveError {
    /// Stable diagnostic code.
    pub fn code(&self) -> &'static str {
        match self {
            ObserveError::UnknownSource(_) => "unknown_source",
            ObserveError::InputTooLarge { .. } => "input_too_large",
            ObserveError::InvalidCheckpoint { .. } => "invalid_checkpoint",
            ObserveError::Store(e) => e.code(),
        }
    }
}

/// A line that could not be recorded (it is skipped; later lines still are).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidLine {
    pub line: u64,
    pub reason: String,
}

/// What one pass did (reference summary counters, plus ours).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ObserveReport {
    pub source: String,
    pub processed_events: u64,
    pub prompts: u64,
    pub tool_calls: u64,
    pub finalized_turns: u64,
    pub skipped_disabled_events: u64,
    /// Events the store had already recorded (a rerun after a crash).
    pub already_recorded: u64,
    pub invalid_lines: Vec<InvalidLine>,
    pub instance_id: String,
    pub watermark: u64,
    pub checkpoint: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    version: u32,
    instance_id: String,
    watermark: String,
}

#[derive(Debug, Deserialize)]
struct Line {
    session_id: String,
    cwd: String,
    role: String,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_name: Option<String>,
    #[serde(default)]
    args: Option<String>,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    event_name: Option<String>,
}

/// Run one pass of `source` over `input`, recording into `store`.
pub fn observe(store: &Store, source: &str, input: &Path) -> Result<ObserveReport, ObserveError> {
    if source != JSONL_ORIGIN {
        return Err(ObserveError::UnknownSource(source.to_owned()));
    }
    let input = std::path::absolute(input).map_err(|e| Error::io("resolve", input, e))?;
    let size = std::fs::metadata(&input).map_err(|e| Error::io("read", &input, e))?.len();
    if size > MAX_INPUT_BYTES {
        return Err(ObserveError::InputTooLarge { path: input, size });
    }
    let bytes = std::fs::read(&input).map_err(|e| Error::io("read", &input, e))?;
    let instance_id = blake3::hash(input.as_os_str().as_encoded_bytes()).to_hex().to_string();
    let dir = store.root().join("observers").join(JSONL_ORIGIN);
    durable::create_dir_durable(&dir)?;
    let checkpoint_path = dir.join(format!("{instance_id}.json"));
    let start = read_checkpoint(&checkpoint_path, &instance_id)?;
    let recorder = Recorder::open(store.clone())?;
    let mut report = ObserveReport {
        source: source.to_owned(),
        instance_id: instance_id.clone(),
        watermark: start,
        checkpoint: store.display_path(&checkpoint_path),
        ..ObserveReport::default()
    };
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let number = index as u64 + 1;
        if number <= start || raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let (line, kind) = match parse_line(raw) {
            Ok(parsed) => parsed,
            Err(reason) => {
                report.invalid_lines.push(InvalidLine { line: number, reason });
                report.watermark = number;
                continue;
            }
        };
        let default_name = match &kind {
            EventKind::UserPrompt { .. } => "UserPromptSubmit",
            EventKind::ToolUse { .. } => "PostToolUse",
            _ => "Stop",
        };
        let event = TurnEvent {
            agent: JSONL_ORIGIN,
            origin: JSONL_ORIGIN,
            session_id: &line.session_id,
            event_name: line.event_name.as_deref().unwrap_or(default_name),
            preferred_turn_id: None,
            model: None,
            kind: &kind,
            source: Some(EventSource { instance: &instance_id, watermark: number }),
        };
        match recorder.record(&event)? {
            RecordOutcome::OriginDisabled => report.skipped_disabled_events += 1,
            RecordOutcome::AlreadyApplied => report.already_recorded += 1,
            RecordOutcome::Finalized(_) => {
                report.processed_events += 1;
                report.finalized_turns += 1;
            }
            RecordOutcome::Staged { .. } | RecordOutcome::ModelRecorded => {
                report.processed_events += 1;
                match kind {
                    EventKind::UserPrompt { .. } => report.prompts += 1,
                    EventKind::ToolUse { .. } => report.tool_calls += 1,
                    _ => {}
                }
            }
        }
        report.watermark = number;
        write_checkpoint(&checkpoint_path, &instance_id, number)?;
    }
    if report.watermark > start {
        write_checkpoint(&checkpoint_path, &instance_id, report.watermark)?;
    }
    Ok(report)
}

fn parse_line(raw: &[u8]) -> Result<(Line, EventKind), String> {
    let line: Line = serde_json::from_slice(raw).map_err(|e| format!("not a valid event: {e}"))?;
    if line.session_id.is_empty() || line.cwd.is_empty() {
        return Err("session_id and cwd must be non-empty".into());
    }
    let missing = |field: &str| format!("role `{}` requires `{field}`", line.role);
    let kind = match line.role.as_str() {
        "user" => EventKind::UserPrompt { prompt: line.content.clone().ok_or_else(|| missing("content"))? },
        "assistant" => EventKind::Stop { assistant_text: line.content.clone().ok_or_else(|| missing("content"))? },
        "tool" => EventKind::ToolUse {
            calls: vec![ToolCall {
                tool_name: line.tool_name.clone().ok_or_else(|| missing("tool_name"))?,
                args: line.args.clone().ok_or_else(|| missing("args"))?,
                result: line.result.clone().ok_or_else(|| missing("result"))?,
            }],
        },
        other => return Err(format!("unknown role `{other}` (expected user, tool or assistant)")),
    };
    Ok((line, kind))
}

fn read_checkpoint(path: &Path, instance_id: &str) -> Result<u64, ObserveError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(Error::io("read", path, e).into()),
    };
    let invalid = |reason: String| ObserveError::InvalidCheckpoint { path: path.to_path_buf(), reason };
    let checkpoint: Checkpoint = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    if checkpoint.version != CHECKPOINT_VERSION {
        return Err(invalid(format!("unsupported version {}", checkpoint.version)));
    }
    if checkpoint.instance_id != instance_id {
        return Err(invalid("it belongs to another input".into()));
    }
    checkpoint
        .watermark
        .parse()
        .map_err(|_| invalid(format!("watermark `{}` is not a line number", checkpoint.watermark)))
}

fn write_checkpoint(path: &Path, instance_id: &str, watermark: u64) -> Result<(), ObserveError> {
    let checkpoint = Checkpoint {
        version: CHECKPOINT_VERSION,
        instance_id: instance_id.to_owned(),
        watermark: watermark.to_string(),
    };
    let bytes = serde_json::to_vec(&checkpoint).unwrap_or_default();
    Ok(durable::replace(path, &bytes)?)
}
