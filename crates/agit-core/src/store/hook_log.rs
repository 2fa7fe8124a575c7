//! `log/hook-error.log` size cap: one rotated generation, `hook-error.log.1`.
//!
//! The hook runner (agit-capture) appends the lines; rotation lives here so that `gc`,
//! which sits in this crate, can rotate a log that no hook has grown past the cap lately
//! without a dependency pointing up. Both hold `log/hook-error.log.lock` while rotating.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Store;
use super::durable;
use super::lock::{self, LockMode};
use crate::error::{Error, Result};

/// File name of the hook error log under `log/`.
pub const HOOK_LOG_NAME: &str = "hook-error.log";

/// Rotate to `hook-error.log.1` once the log grows past this (reference: 10 MiB).
pub const ROTATE_BYTES: u64 = 10 * 1024 * 1024;

/// `.agit/log/hook-error.log`.
pub fn hook_log_path(store: &Store) -> PathBuf {
    store.log_dir().join(HOOK_LOG_NAME)
}

/// The lock serializing appends and rotation: `.agit/log/hook-error.log.lock`.
pub fn hook_log_lock_path(store: &Store) -> PathBuf {
    store.log_dir().join(format!("{HOOK_LOG_NAME}.lock"))
}

/// Rename `path` to `<path>.1` (replacing an older generation) when it is larger than
/// [`ROTATE_BYTES`]. The caller holds the log lock. Returns whether it rotated.
pub fn rotate_if_large(path: &Path) -> Result<bool> {
    let Ok(meta) = fs::metadata(path) else { return Ok(false) };
    if meta.len() <= ROTATE_BYTES {
        return Ok(false);
    }
    let mut rotated = path.as_os_str().to_owned();
    rotated.push(".1");
    durable::rename(path, Path::new(&rotated))?;
    Ok(true)
}

/// Rotate the store's hook log if it is over the cap, waiting at most `timeout` for the
/// log lock: a log busy with appends is left for the next rotation (gc passes 50 ms, as
/// the reference does). Returns whether it rotated.
pub fn rotate_hook_log(store: &Store, timeout: Duration) -> Result<bool> {
    let path = hook_log_path(store);
    if !path.is_file() {
        return Ok(false);
    }
    let _guard = match lock::acquire(&hook_log_lock_path(store), LockMode::Exclusive, timeout) {
        Ok(guard) => guard,
        Err(Error::LockTimeout { .. }) => return Ok(false),
        Err(e) => return Err(e),
    };
    rotate_if_large(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_only_past_the_cap_and_keeps_one_generation() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::init(dir.path()).unwrap();
        let path = hook_log_path(&store);
        assert!(!rotate_hook_log(&store, Duration::from_millis(50)).unwrap(), "no log");
        fs::write(&path, vec![b'x'; ROTATE_BYTES as usize]).unwrap();
        assert!(!rotate_hook_log(&store, Duration::from_millis(50)).unwrap(), "at the cap");
        fs::write(&path, vec![b'y'; ROTATE_BYTES as usize + 1]).unwrap();
        fs::write(store.log_dir().join("hook-error.log.1"), b"older").unwrap();
        assert!(rotate_hook_log(&store, Duration::from_millis(50)).unwrap());
        assert!(!path.exists());
        assert_eq!(fs::metadata(store.log_dir().join("hook-error.log.1")).unwrap().len(), ROTATE_BYTES + 1);
    }

    #[test]
    fn a_busy_log_is_left_for_later() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::init(dir.path()).unwrap();
        fs::write(hook_log_path(&store), vec![b'y'; ROTATE_BYTES as usize + 1]).unwrap();
        let held = lock::acquire(&hook_log_lock_path(&store), LockMode::Exclusive, Duration::from_millis(10)).unwrap();
        assert!(!rotate_hook_log(&store, Duration::from_millis(20)).unwrap());
        drop(held);
        assert!(rotate_hook_log(&store, Duration::from_millis(20)).unwrap());
    }
}
