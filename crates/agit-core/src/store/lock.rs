//! OS advisory locks (`flock` via `std::fs::File::lock`) on files under `.agit/`.
//!
//! A lock dies with its process, so there are no stale locks to steal (the reference's
//! `O_EXCL` lock files could be stolen while live). The JSON record an exclusive holder
//! writes into the file is diagnostics only: it names the holder in `lock_timeout` errors
//! and `doctor --locks`. Lock files are never deleted: deleting a lock file while others
//! wait on it would let two processes "hold" the same lock through different inodes.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Default lock wait (reference: 10 s), overridden by `AGIT_LOCK_TIMEOUT_MS`.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Who holds (or last held) an exclusive lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRecord {
    pub pid: i64,
    /// Unix milliseconds when the lock was taken.
    pub started_at: i64,
    pub exe_path: String,
    pub hostname: String,
}

impl LockRecord {
    fn for_this_process() -> LockRecord {
        LockRecord {
            pid: i64::from(std::process::id()),
            started_at: now_ms(),
            exe_path: std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "unknown".into()),
            hostname: hostname().unwrap_or_else(|| "unknown".into()),
        }
    }
}

/// Shared (many holders) or exclusive (one holder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    Shared,
    Exclusive,
}

/// A held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct LockGuard {
    file: File,
    path: PathBuf,
    mode: LockMode,
}

impl LockGuard {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if self.mode == LockMode::Exclusive {
            // Clear the record so a released lock does not name a past holder.
            let _ = self.file.set_len(0);
        }
        let _ = self.file.unlock();
    }
}

/// The lock timeout from `AGIT_LOCK_TIMEOUT_MS` (a positive integer), else 10 s.
pub fn lock_timeout() -> Duration {
    std::env::var("AGIT_LOCK_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map_or(DEFAULT_LOCK_TIMEOUT, Duration::from_millis)
}

fn open_lock_file(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| Error::io("open lock file", path, e))
}

fn try_on(file: &File, mode: LockMode) -> std::result::Result<bool, std::io::Error> {
    let attempt = match mode {
        LockMode::Shared => file.try_lock_shared(),
        LockMode::Exclusive => file.try_lock(),
    };
    match attempt {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => Ok(false),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

fn finish(file: File, path: &Path, mode: LockMode) -> LockGuard {
    let mut guard = LockGuard { file, path: path.to_path_buf(), mode };
    if mode == LockMode::Exclusive {
        // Diagnostics only; a failure to write the record must not fail the lock.
        let record = LockRecord::for_this_process();
        if let Ok(mut line) = serde_json::to_vec(&record) {
            line.push(b'\n');
            let _ = guard.file.set_len(0);
            let _ = guard.file.rewind();
            let _ = guard.file.write_all(&line);
        }
    }
    guard
}

/// Try once; `None` when another process holds a conflicting lock.
pub fn try_acquire(path: &Path, mode: LockMode) -> Result<Option<LockGuard>> {
    let file = open_lock_file(path)?;
    match try_on(&file, mode) {
        Ok(true) => Ok(Some(finish(file, path, mode))),
        Ok(false) => Ok(None),
        Err(e) => Err(Error::io("lock", path, e)),
    }
}

/// Wait up to `timeout` for the lock, with exponential backoff (1 ms … 50 ms).
pub fn acquire(path: &Path, mode: LockMode, timeout: Duration) -> Result<LockGuard> {
    let file = open_lock_file(path)?;
    let start = Instant::now();
    let mut backoff = Duration::from_millis(1);
    loop {
        match try_on(&file, mode) {
            Ok(true) => return Ok(finish(file, path, mode)),
            Ok(false) => {}
            Err(e) => return Err(Error::io("lock", path, e)),
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(Error::LockTimeout {
                path: path.to_path_buf(),
                waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
                holder: read_record(path),
            });
        }
        std::thread::sleep(backoff.min(timeout.saturating_sub(waited)));
        backoff = (backoff * 2).min(Duration::from_millis(50));
    }
}

/// The record in a lock file, if it holds a well-formed one.
pub fn read_record(path: &Path) -> Option<LockRecord> {
    let mut text = String::new();
    File::open(path).ok()?.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

/// Whether some process holds the lock right now (probes with a non-blocking shared try).
pub fn is_held(path: &Path) -> Result<bool> {
    if !path.exists() {
        return Ok(false);
    }
    Ok(try_acquire(path, LockMode::Shared)?.is_none())
}

/// Current Unix time in milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for `buf.len()` bytes; gethostname NUL-terminates on success.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    Some(String::from_utf8_lossy(&buf[..end]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_excludes_and_timeout_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = acquire(&path, LockMode::Exclusive, Duration::from_millis(10)).unwrap();
        assert!(is_held(&path).unwrap());
        let err = acquire(&path, LockMode::Exclusive, Duration::from_millis(30)).unwrap_err();
        match &err {
            Error::LockTimeout { holder: Some(h), .. } => assert_eq!(h.pid, i64::from(std::process::id())),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(err.code(), "lock_timeout");
        drop(held);
        assert!(!is_held(&path).unwrap());
        assert_eq!(read_record(&path), None, "record cleared on release");
        assert!(path.exists(), "lock files are never deleted");
    }

    #[test]
    fn shared_locks_coexist_but_block_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gc.lock");
        let a = acquire(&path, LockMode::Shared, Duration::from_millis(10)).unwrap();
        let b = acquire(&path, LockMode::Shared, Duration::from_millis(10)).unwrap();
        assert!(try_acquire(&path, LockMode::Exclusive).unwrap().is_none());
        drop((a, b));
        assert!(try_acquire(&path, LockMode::Exclusive).unwrap().is_some());
    }
}
