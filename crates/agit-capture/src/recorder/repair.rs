//! Finishing stranded turns (`agit doctor --repair`): staging files whose stop event was
//! staged but never committed (a crash, or a session that never sent another event).

use serde::Serialize;

use agit_core::Result;
use agit_core::store::lock::{self, LockMode};

use super::Recorder;
use super::staging::StagingFile;
use super::turn_state::TurnStateFile;

/// What a repair pass found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RepairReport {
    /// Staged turns with a stop that are now committed steps.
    pub finalized: usize,
    /// Staged turns still waiting for their stop event (in progress; left alone).
    pub in_progress: usize,
    /// Staging files without a readable header (written by another tool or a very old
    /// agit); left for inspection.
    pub unidentified: usize,
    /// Turns that could not be finalized, with the reason.
    pub failed: Vec<String>,
}

impl Recorder {
    /// Finalize every staged turn whose stop was staged, under its session's lock.
    pub fn repair_staged(&self) -> Result<RepairReport> {
        let mut report = RepairReport::default();
        let Ok(entries) = std::fs::read_dir(self.store().tmp_dir()) else { return Ok(report) };
        let mut files: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json") && p.is_file())
            .collect();
        files.sort();
        for path in files {
            let staging = StagingFile::at(path);
            let staged = staging.read()?;
            let Some((origin, session_id, turn)) = staged.header.clone() else {
                report.unidentified += 1;
                continue;
            };
            if staged.stop.is_none() {
                report.in_progress += 1;
                continue;
            }
            let state_file = TurnStateFile::new(&self.store().tmp_dir(), &origin, &session_id);
            let _session = lock::acquire(&state_file.lock_path, LockMode::Exclusive, lock::lock_timeout())?;
            // Re-check under the lock: a hook may have finished it meanwhile.
            if !staging.exists() {
                continue;
            }
            match self.finalize(&origin, &session_id, &turn, &staging) {
                Ok(_) => {
                    report.finalized += 1;
                    let mut state = state_file.load()?;
                    state.pending_stops.retain(|t| t != &turn);
                    if state.active_turn_id.as_deref() == Some(turn.as_str()) {
                        state.active_turn_id = None;
                    }
                    state_file.save(&state)?;
                }
                Err(e) => report.failed.push(format!("{origin}/{session_id} {turn}: {e}")),
            }
        }
        Ok(report)
    }
}
