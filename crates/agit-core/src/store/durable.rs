//! Durable write primitives (reference ADR 008, with the gaps closed): temp file in the
//! target directory, fsync, then link-without-replace or rename-replace, then fsync the
//! directory. `AGIT_FSYNC=0` (or false/off/no) turns every fsync off, for tests and
//! benchmarks only.
//!
//! Batched durability: objects and housekeeping files use the `*_deferred` writers
//! (atomic, but not yet flushed), and every ref update first calls [`sync_filesystem`]
//! (one `syncfs`). So everything a ref can reach is on disk before the ref points to it,
//! at the cost of one flush per commit instead of two fsyncs per object.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// Permission bits of files agit writes (before umask).
pub const FILE_MODE: u32 = 0o644;
/// Permission bits of objects: content-addressed files are never modified in place.
pub const OBJECT_MODE: u32 = 0o444;

/// Whether fsyncs are on (read once per process from `AGIT_FSYNC`).
pub fn fsync_enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| match std::env::var("AGIT_FSYNC") {
        Ok(v) => !matches!(v.trim().to_ascii_lowercase().as_str(), "0" | "false" | "off" | "no"),
        Err(_) => true,
    })
}

/// fsync a file if fsyncs are on.
pub fn sync_file(file: &File, path: &Path) -> Result<()> {
    if fsync_enabled() {
        file.sync_all().map_err(|e| Error::io("fsync", path, e))?;
    }
    Ok(())
}

/// fsync a directory so a create, rename or unlink in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    if !fsync_enabled() {
        return Ok(());
    }
    let handle = File::open(dir).map_err(|e| Error::io("open directory", dir, e))?;
    match handle.sync_all() {
        Ok(()) => Ok(()),
        // Some filesystems cannot fsync directories; that is not a failure of ours.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::EROFS) | Some(libc::EBADF)) => Ok(()),
        Err(e) => Err(Error::io("fsync directory", dir, e)),
    }
}

/// Create `dir` (and parents) and make each new directory entry durable.
pub fn create_dir_durable(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dir_durable(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {
            if let Some(parent) = dir.parent() {
                sync_dir(parent)?;
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(Error::io("create directory", dir, e)),
    }
}

fn write_temp(dir: &Path, bytes: &[u8], mode: u32) -> Result<tempfile::NamedTempFile> {
    let tmp = write_temp_unsynced(dir, bytes, mode)?;
    sync_file(tmp.as_file(), tmp.path())?;
    Ok(tmp)
}

fn write_temp_unsynced(dir: &Path, bytes: &[u8], mode: u32) -> Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(|e| Error::io("create temp file in", dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io("write", tmp.path(), e))?;
    Ok(tmp)
}

/// Write `bytes` to `target` only if it does not exist yet. Returns whether this call
/// created it. Readers never see a partial file: the name appears only when complete.
pub fn write_new(target: &Path, bytes: &[u8]) -> Result<bool> {
    write_new_with_mode(target, bytes, FILE_MODE)
}

/// [`write_new`] with explicit permission bits (objects are read-only).
pub fn write_new_with_mode(target: &Path, bytes: &[u8], mode: u32) -> Result<bool> {
    let dir = parent_of(target)?;
    let tmp = write_temp(dir, bytes, mode)?;
    match fs::hard_link(tmp.path(), target) {
        Ok(()) => {
            sync_dir(dir)?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io("link", target, e)),
    }
    // `tmp` is removed on drop either way.
}

/// [`write_new_with_mode`] without flushing: the file appears complete or not at all, and
/// becomes durable at the next [`sync_filesystem`] (every ref update does one).
pub fn write_new_deferred(target: &Path, bytes: &[u8], mode: u32) -> Result<bool> {
    let dir = parent_of(target)?;
    let tmp = write_temp_unsynced(dir, bytes, mode)?;
    match fs::hard_link(tmp.path(), target) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io("link", target, e)),
    }
}

/// Atomically replace `target` without flushing (for state that is safe to lose on a
/// crash: the old or the new content survives).
pub fn replace_deferred(target: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_of(target)?;
    let tmp = write_temp_unsynced(dir, bytes, FILE_MODE)?;
    tmp.persist(target).map_err(|e| Error::io("rename into", target, e.error))?;
    Ok(())
}

/// Flush every pending write of the filesystem holding `path` (one `syncfs`).
pub fn sync_filesystem(path: &Path) -> Result<()> {
    if !fsync_enabled() {
        return Ok(());
    }
    let handle = File::open(path).map_err(|e| Error::io("open", path, e))?;
    // SAFETY: syncfs takes a valid open descriptor and touches no memory of ours.
    let rc = unsafe { libc::syncfs(std::os::fd::AsRawFd::as_raw_fd(&handle)) };
    if rc != 0 {
        return Err(Error::io("syncfs", path, io::Error::last_os_error()));
    }
    Ok(())
}

/// Atomically replace (or create) `target` with `bytes`.
pub fn replace(target: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_of(target)?;
    let tmp = write_temp(dir, bytes, FILE_MODE)?;
    tmp.persist(target).map_err(|e| Error::io("rename into", target, e.error))?;
    sync_dir(dir)
}

/// Rename `from` to `to` (replacing) and make both directory entries durable.
pub fn rename(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(|e| Error::io("rename to", to, e))?;
    let to_dir = parent_of(to)?;
    sync_dir(to_dir)?;
    let from_dir = parent_of(from)?;
    if from_dir != to_dir {
        sync_dir(from_dir)?;
    }
    Ok(())
}

fn parent_of(path: &Path) -> Result<&Path> {
    path.parent()
        .ok_or_else(|| Error::io("find parent of", path, io::Error::new(io::ErrorKind::InvalidInput, "no parent")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_new_never_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("obj");
        assert!(write_new(&target, b"one").unwrap());
        assert!(!write_new(&target, b"two").unwrap());
        assert_eq!(fs::read(&target).unwrap(), b"one");
        replace(&target, b"three").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"three");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("obj")]);
    }
}
