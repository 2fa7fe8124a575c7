//! A turn's staging file `tmp/<key>.json`: JSON Lines appended by prompt and tool hooks
//! and consumed by the stop hook.
//!
//! Lines (reference ops, nulls omitted): `message`, `tool_call`, `model`, `cause`. We add
//! two ops the reference ignores as unknown: a `turn` header naming the turn (so a
//! staging file can be finalized without knowing its key's preimage, e.g. by
//! `doctor --repair`) and `stop`, written before finalize starts, so a crash mid-finalize
//! leaves a turn that the next event completes instead of losing it.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use agit_core::object::{Cause, Message, ToolCall};
use agit_core::store::durable;
use agit_core::store::staging::staging_key;
use agit_core::{Error, Result};

/// One staged line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum StagedOp {
    Turn {
        origin: String,
        session_id: String,
        turn_id: String,
    },
    Message {
        role: String,
        content: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        src: Option<String>,
    },
    ToolCall {
        tool_name: String,
        args: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        src: Option<String>,
    },
    Model {
        model: String,
    },
    Cause {
        cause: Cause,
    },
    Stop {
        content: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        src: Option<String>,
    },
}

impl StagedOp {
    /// The source event that produced this line (observer `<instance>:<watermark>`); a
    /// line whose source was already applied is a replay after a crash and is skipped.
    fn src(&self) -> Option<&str> {
        match self {
            StagedOp::Message { src, .. } | StagedOp::ToolCall { src, .. } | StagedOp::Stop { src, .. } => {
                src.as_deref()
            }
            _ => None,
        }
    }
}

/// The reference's legacy single-document staging format.
#[derive(Debug, Deserialize)]
struct LegacyStaging {
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
    #[serde(default)]
    causes: Vec<Cause>,
    #[serde(default)]
    model: Option<String>,
}

/// What a staging file holds, in arrival order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StagedTurn {
    pub header: Option<(String, String, String)>,
    pub messages: Vec<Message>,
    pub tool_calls: Vec<ToolCall>,
    pub causes: Vec<Cause>,
    pub model: Option<String>,
    /// The assistant text, once the stop event was staged.
    pub stop: Option<String>,
    /// Lines that could not be parsed (kept in a quarantine copy, skipped here).
    pub corrupt_lines: usize,
}

/// The staging file of one turn.
#[derive(Debug, Clone)]
pub struct StagingFile {
    path: PathBuf,
    key: String,
}

impl StagingFile {
    /// The staging file of (origin, session, turn) in `tmp_dir`.
    pub fn new(tmp_dir: &Path, origin: &str, session_id: &str, turn_id: &str) -> StagingFile {
        let key = staging_key(origin, session_id, turn_id);
        StagingFile { path: tmp_dir.join(format!("{key}.json")), key }
    }

    /// An existing staging file by path (for repair scans).
    pub fn at(path: PathBuf) -> StagingFile {
        let key = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        StagingFile { path, key }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn exists(&self) -> bool {
        self.path.is_file()
    }

    /// Append lines durably (write, fsync; dir fsync when the file is new). A new file
    /// starts with the `turn` header.
    pub fn append(&self, header: &StagedOp, ops: &[StagedOp]) -> Result<()> {
        let created = !self.path.exists();
        let mut text = Vec::new();
        if created {
            push_line(&mut text, header)?;
        }
        for op in ops {
            push_line(&mut text, op)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| Error::io("open staging file", &self.path, e))?;
        file.write_all(&text).map_err(|e| Error::io("append to", &self.path, e))?;
        durable::sync_file(&file, &self.path)?;
        if created && let Some(dir) = self.path.parent() {
            durable::sync_dir(dir)?;
        }
        Ok(())
    }

    /// Read the staged turn; a missing file is an empty turn.
    pub fn read(&self) -> Result<StagedTurn> {
        match fs::read(&self.path) {
            Ok(bytes) => Ok(parse(&bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(StagedTurn::default()),
            Err(e) => Err(Error::io("read staging file", &self.path, e)),
        }
    }

    /// Delete after the step is committed (never before). Not flushed: if a crash
    /// brings the file back, finalizing it again finds the committed step (same content)
    /// and just deletes it.
    pub fn remove(&self) -> Result<()> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove staging file", &self.path, e)),
        }
    }
}

fn push_line(out: &mut Vec<u8>, op: &StagedOp) -> Result<()> {
    let line = serde_json::to_vec(op).map_err(|e| Error::io("encode staging line", "", io::Error::other(e)))?;
    out.extend_from_slice(&line);
    out.push(b'\n');
    Ok(())
}

/// Parse staging bytes: every parseable line counts (a torn or garbled line is skipped
/// and counted, not fatal); a file with no parseable line may be the legacy document.
pub fn parse(bytes: &[u8]) -> StagedTurn {
    let mut turn = StagedTurn::default();
    let mut parsed_any = false;
    let mut sources = std::collections::HashSet::new();
    for line in bytes.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<StagedOp>(line) {
            Ok(op) => {
                parsed_any = true;
                if op.src().is_none_or(|src| sources.insert(src.to_owned())) {
                    apply(&mut turn, op);
                }
            }
            Err(_) => match serde_json::from_slice::<serde_json::Value>(line) {
                // A well-formed line with an op we do not know: forward compatible.
                Ok(serde_json::Value::Object(map)) if map.contains_key("op") => parsed_any = true,
                _ => turn.corrupt_lines += 1,
            },
        }
    }
    if !parsed_any && let Ok(legacy) = serde_json::from_slice::<LegacyStaging>(bytes) {
        return StagedTurn {
            messages: legacy.messages,
            tool_calls: legacy.tool_calls,
            causes: legacy.causes,
            model: legacy.model,
            ..StagedTurn::default()
        };
    }
    turn
}

fn apply(turn: &mut StagedTurn, op: StagedOp) {
    match op {
        StagedOp::Turn { origin, session_id, turn_id } => turn.header = Some((origin, session_id, turn_id)),
        StagedOp::Message { role, content, .. } => turn.messages.push(Message { role, content }),
        StagedOp::ToolCall { tool_name, args, result, .. } => {
            turn.tool_calls.push(ToolCall { tool_name, args, result })
        }
        StagedOp::Model { model } => turn.model = Some(model),
        StagedOp::Cause { cause } => turn.causes.push(cause),
        StagedOp::Stop { content, .. } => turn.stop = Some(content),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_lines_legacy_document_and_torn_lines() {
        let text = br#"{"op":"message","role":"user","content":"hi"}
{"op":"tool_call","tool_name":"Bash","args":"{}","result":"ok"}
{"op":"model","model":"m1"}
{"op":"future","x":1}
{"op":"tool_call","tool_name":"Re"#;
        let turn = parse(text);
        assert_eq!(turn.messages.len(), 1);
        assert_eq!(turn.tool_calls[0].result.as_deref(), Some("ok"));
        assert_eq!(turn.model.as_deref(), Some("m1"));
        assert_eq!(turn.corrupt_lines, 1);

        let legacy = parse(br#"{"messages":[{"role":"user","content":"x"}],"tool_calls":[],"causes":[],"model":null}"#);
        assert_eq!(legacy.messages[0].content, "x");
        assert_eq!(parse(b"{not-json").corrupt_lines, 1);
    }

    #[test]
    fn append_writes_the_header_once_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let file = StagingFile::new(dir.path(), "codex", "s", "t1");
        let header = StagedOp::Turn { origin: "codex".into(), session_id: "s".into(), turn_id: "t1".into() };
        let msg = StagedOp::Message { role: "user".into(), content: "a\nb".into(), src: Some("obs:1".into()) };
        file.append(&header, std::slice::from_ref(&msg)).unwrap();
        // A replay of the same source event (crash before its checkpoint) is ignored.
        file.append(&header, &[msg]).unwrap();
        file.append(&header, &[StagedOp::Stop { content: "done".into(), src: None }]).unwrap();
        let turn = file.read().unwrap();
        assert_eq!(turn.header, Some(("codex".into(), "s".into(), "t1".into())));
        assert_eq!(turn.messages.len(), 1);
        assert_eq!(turn.messages[0].content, "a\nb");
        assert_eq!(turn.stop.as_deref(), Some("done"));
        file.remove().unwrap();
        assert_eq!(file.read().unwrap(), StagedTurn::default());
    }
}
