//! Per-session turn identity (reference `capture.md` §5): `tmp/turns/<session key>.json`
//! holds the next sequence number, the active turn and the turns whose stop event was
//! staged but not yet committed. The caller holds the session's lock while using it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use agit_core::store::durable;
use agit_core::{Error, Result};

/// The state file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnState {
    #[serde(default = "one")]
    pub next_seq: u64,
    #[serde(default)]
    pub active_turn_id: Option<String>,
    /// Turns whose stop was staged; finalized (again) by the next event of the session.
    #[serde(default)]
    pub pending_stops: Vec<String>,
    /// Per observer instance, the last source watermark applied to this session; saved
    /// with the rest of the state so a replayed event is recognised after a crash.
    #[serde(default)]
    pub observed: std::collections::BTreeMap<String, u64>,
}

fn one() -> u64 {
    1
}

impl Default for TurnState {
    fn default() -> Self {
        TurnState { next_seq: 1, active_turn_id: None, pending_stops: Vec::new(), observed: Default::default() }
    }
}

/// Key of a session: BLAKE3 of the length-prefixed origin and session id.
pub fn session_key(origin: &str, session_id: &str) -> String {
    let mut hasher = blake3::Hasher::new();
    for part in [origin, session_id] {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().to_hex().to_string()
}

/// Paths of a session's state and lock files.
pub struct TurnStateFile {
    pub path: PathBuf,
    pub lock_path: PathBuf,
}

impl TurnStateFile {
    pub fn new(tmp_dir: &Path, origin: &str, session_id: &str) -> TurnStateFile {
        let dir = tmp_dir.join("turns");
        let key = session_key(origin, session_id);
        TurnStateFile { path: dir.join(format!("{key}.json")), lock_path: dir.join(format!("{key}.lock")) }
    }

    /// Load the state; a missing or unparsable file is a fresh state (as the reference).
    pub fn load(&self) -> Result<TurnState> {
        match fs::read(&self.path) {
            Ok(bytes) => {
                let mut state: TurnState = serde_json::from_slice(&bytes).unwrap_or_default();
                state.next_seq = state.next_seq.max(1);
                Ok(state)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(TurnState::default()),
            Err(e) => Err(Error::io("read turn state", &self.path, e)),
        }
    }

    /// Save atomically.
    pub fn save(&self, state: &TurnState) -> Result<()> {
        let bytes =
            serde_json::to_vec(state).map_err(|e| Error::io("encode turn state", &self.path, io::Error::other(e)))?;
        durable::replace(&self.path, &bytes)
    }
}

impl TurnState {
    /// Allocate `<prefix>:<n>`.
    pub fn allocate(&mut self, prefix: &str) -> String {
        let id = format!("{prefix}:{}", self.next_seq);
        self.next_seq += 1;
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_tolerates_garbage() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("turns")).unwrap();
        let file = TurnStateFile::new(dir.path(), "claude", "s");
        let mut state = file.load().unwrap();
        assert_eq!(state.allocate("agturn"), "agturn:1");
        state.active_turn_id = Some("agturn:1".into());
        file.save(&state).unwrap();
        assert_eq!(file.load().unwrap(), state);
        std::fs::write(&file.path, b"{broken").unwrap();
        assert_eq!(file.load().unwrap(), TurnState::default());
        std::fs::write(&file.path, br#"{"next_seq":0}"#).unwrap();
        assert_eq!(file.load().unwrap().next_seq, 1);
    }
}
