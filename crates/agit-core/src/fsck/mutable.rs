//! The mutable area: staging files (`tmp/*.json`, JSON Lines), quarantined staging
//! (`log/corrupt-staging/`, legacy `tmp/*.corrupt`), and OS locks held right now.

use std::fs::{self, File, TryLockError};
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{Category, Check, Scan, Status};
use crate::store::lock::{LockRecord, now_ms};

/// A staging file is JSON Lines (one op per line); the reference's legacy format is one
/// JSON document. Corrupt when neither reading works.
fn staging_is_valid(bytes: &[u8]) -> bool {
    let lines_ok = bytes
        .split(|b| *b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .all(|line| serde_json::from_slice::<serde_json::Value>(line).is_ok());
    lines_ok || serde_json::from_slice::<serde_json::Value>(bytes).is_ok()
}

/// Whether some process holds the lock now, probed through a read-only descriptor so
/// the file is never written (the store's own probe takes the lock, which may write the
/// holder record). Detects shared and exclusive holders alike.
enum Probe {
    Free,
    Held,
    Unreadable(String),
}

fn probe(path: &Path) -> Probe {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return Probe::Unreadable(e.to_string()),
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            Probe::Free
        }
        Err(TryLockError::WouldBlock) => Probe::Held,
        Err(TryLockError::Error(e)) => Probe::Unreadable(e.to_string()),
    }
}

fn lock_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            lock_files(&path, out);
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "lock") {
            out.push(path);
        }
    }
}

impl Scan<'_> {
    pub(super) fn scan_mutable(&mut self) {
        let tmp = self.store.tmp_dir();
        let (mut pending, mut corrupt, mut unreadable, mut quarantined) = (0u64, 0u64, 0u64, 0u64);
        if let Ok(entries) = fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                if name.ends_with(".corrupt") {
                    quarantined += 1;
                } else if name.ends_with(".json") {
                    match fs::read(entry.path()) {
                        Ok(bytes) if staging_is_valid(&bytes) => pending += 1,
                        Ok(_) => corrupt += 1,
                        Err(_) => unreadable += 1,
                    }
                }
            }
        }
        let quarantine_dir = self.store.log_dir().join("corrupt-staging");
        if let Ok(entries) = fs::read_dir(&quarantine_dir) {
            quarantined += entries.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_file())).count() as u64;
        }
        let tmp_display = Some(self.display(&tmp));
        if corrupt + unreadable > 0 {
            self.push(
                Category::Mutable,
                Check::new(
                    "staging_corrupt",
                    Status::Warn,
                    format!(
                        "Mutable staging area contains {corrupt} corrupt JSON file(s) and {unreadable} unreadable file(s)."
                    ),
                )
                .hint("Inspect .agit/tmp and .agit/log/hook-error.log.")
                .path(tmp_display.clone()),
            );
        }
        if quarantined > 0 {
            let path = Some(self.display(&quarantine_dir));
            self.push(
                Category::Mutable,
                Check::new(
                    "staging_quarantined",
                    Status::Warn,
                    format!("Mutable staging area has {quarantined} quarantined file(s)."),
                )
                .hint("Inspect .agit/log/corrupt-staging and .agit/log/hook-error.log; remove the files once reviewed.")
                .path(path),
            );
        }
        if pending > 0 {
            self.push(
                Category::Mutable,
                Check::new(
                    "staging_pending",
                    Status::Info,
                    format!("Mutable staging area contains {pending} pending capture file(s)."),
                )
                .hint("Turns in progress; the agent's next stop event records them.")
                .path(tmp_display),
            );
        }
        self.scan_locks();
    }

    /// Lock files are never deleted and a released one is normal: only locks some
    /// process holds right now are reported. OS locks die with their process, so there
    /// are no stale locks (`lock_stale` is never raised).
    fn scan_locks(&mut self) {
        let mut locks = Vec::new();
        let root = self.store.root().to_path_buf();
        if let Ok(entries) = fs::read_dir(&root) {
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(kind) = entry.file_type() else { continue };
                if kind.is_dir() {
                    if entry.file_name() != "objects" {
                        lock_files(&path, &mut locks);
                    }
                } else if kind.is_file() && path.extension().is_some_and(|e| e == "lock") {
                    locks.push(path);
                }
            }
        }
        locks.sort();
        for path in locks {
            let display = Some(self.display(&path));
            match probe(&path) {
                Probe::Free => {}
                Probe::Unreadable(reason) => self.push(
                    Category::Mutable,
                    Check::new("lock_unreadable", Status::Warn, "Lock file could not be inspected.")
                        .hint(reason)
                        .path(display),
                ),
                Probe::Held => {
                    let mut text = String::new();
                    let read = File::open(&path).and_then(|mut f| f.read_to_string(&mut text));
                    let trimmed = text.trim();
                    let check = if read.is_err() {
                        Check::new("lock_unreadable", Status::Warn, "Lock file could not be inspected.")
                    } else if trimmed.is_empty() {
                        // Shared holders write no record.
                        Check::new("lock_present", Status::Info, "Active lock file present (shared holders).")
                    } else {
                        match serde_json::from_str::<LockRecord>(trimmed) {
                            Ok(record) => {
                                let age = now_ms().saturating_sub(record.started_at).max(0);
                                Check::new(
                                    "lock_present",
                                    Status::Info,
                                    format!("Active lock file present (age_ms={age}, pid={}).", record.pid),
                                )
                            }
                            Err(_) => {
                                Check::new("lock_malformed", Status::Warn, "Lock file contents are malformed JSON.")
                            }
                        }
                    };
                    self.push(
                        Category::Mutable,
                        check
                            .hint("Another agit process holds this lock; it is released when that process exits.")
                            .path(display),
                    );
                }
            }
        }
    }
}
