//! `.agit/log/hook-error.log`: one JSON line per hook failure or notable event.
//!
//! Hooks never fail the agent (they exit 0), so this log is where problems surface
//! (`agit doctor --last-hook-error`). Lines carry every reference key, absent ones as
//! null; informational events (recovery turn ids, cwd fallback) use level `info`.

use std::fs::OpenOptions;
use std::io::Write;

use serde::Serialize;

use agit_core::store::durable;
use agit_core::store::lock::{self, LockMode, now_ms};
use agit_core::{Result, Store};

/// Rotate to `hook-error.log.1` once the log grows past this (the rotation itself lives
/// in `agit_core::store::hook_log`, shared with `gc`).
pub const ROTATE_BYTES: u64 = agit_core::store::hook_log::ROTATE_BYTES;

/// One log line (reference key order; duplicates kept for compatibility).
#[derive(Debug, Clone, Default, Serialize)]
pub struct HookLogEntry {
    pub ts: i64,
    pub level: &'static str,
    pub agent: Option<String>,
    pub context: Option<String>,
    pub event: Option<String>,
    pub session_id: Option<String>,
    pub error_kind: Option<String>,
    pub error_msg: Option<String>,
    pub payload_size: Option<u64>,
    pub payload_snippet: Option<String>,
    pub parse_path: Option<String>,
    pub parse_offset: Option<u64>,
    pub parse_line: Option<u64>,
    pub parse_column: Option<u64>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub event_name: Option<String>,
    pub field: Option<String>,
    pub payload_bytes: Option<u64>,
    pub max_payload_bytes: Option<u64>,
    pub staging_key: Option<String>,
    pub quarantine_path: Option<String>,
}

impl HookLogEntry {
    /// An entry with code, message and level set.
    pub fn new(level: &'static str, code: &str, message: impl Into<String>) -> HookLogEntry {
        let message = message.into();
        HookLogEntry {
            ts: now_ms(),
            level,
            code: Some(code.to_owned()),
            error_msg: Some(message.clone()),
            message: Some(message),
            ..HookLogEntry::default()
        }
    }

    /// Fill agent, event and session (and their duplicates).
    pub fn about(mut self, agent: &str, event: Option<&str>, session_id: Option<&str>) -> HookLogEntry {
        self.agent = Some(agent.to_owned());
        self.event = event.map(str::to_owned);
        self.event_name = event.map(str::to_owned);
        self.session_id = session_id.map(str::to_owned);
        self
    }
}

/// Append one line under the log lock (durably), rotating a log over [`ROTATE_BYTES`].
pub fn append(store: &Store, entry: &HookLogEntry) -> Result<()> {
    let dir = store.log_dir();
    durable::create_dir_durable(&dir)?;
    let path = dir.join("hook-error.log");
    let _guard = lock::acquire(&dir.join("hook-error.log.lock"), LockMode::Exclusive, lock::lock_timeout())?;
    agit_core::store::hook_log::rotate_if_large(&path)?;
    let mut line = serde_json::to_vec(entry).unwrap_or_default();
    line.push(b'\n');
    let created = !path.exists();
    let mut file =
        OpenOptions::new().create(true).append(true).open(&path).map_err(|e| agit_core::Error::io("open", &path, e))?;
    file.write_all(&line).map_err(|e| agit_core::Error::io("append to", &path, e))?;
    durable::sync_file(&file, &path)?;
    if created {
        durable::sync_dir(&dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_every_key_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::init(dir.path()).unwrap();
        let entry = HookLogEntry::new("error", "corrupt_staging", "boom").about("codex-hook", Some("Stop"), Some("s"));
        append(&store, &entry).unwrap();
        append(&store, &entry).unwrap();
        let text = std::fs::read_to_string(store.log_dir().join("hook-error.log")).unwrap();
        let first = text.lines().next().unwrap();
        assert!(first.starts_with(r#"{"ts":"#));
        assert!(first.contains(r#","level":"error","agent":"codex-hook","context":null,"event":"Stop","session_id":"s","error_kind":null,"error_msg":"boom","#));
        assert!(first.ends_with(r#""staging_key":null,"quarantine_path":null}"#));
        assert_eq!(text.lines().count(), 2);
    }
}
