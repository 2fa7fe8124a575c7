//! Crash-safe file writes, backups and reads for agent configs.
//!
//! Writes go to a sibling temp file `.<name>.agit-tmp-<pid>-<nanos>-<attempt>` created
//! exclusively, which is written, fsynced, renamed over the target, and the directory
//! fsynced (`agit_core::store::durable` helpers; `AGIT_FSYNC=0` turns fsyncs off). A
//! crash leaves either the old file or the new one, plus at worst a stray temp file.
//! The new file keeps the old file's permission bits (a `settings.json` holding tokens
//! stays `0600`). A config that is a symlink (dotfile managers) is written through: the
//! link's target is replaced and the link stays.
//!
//! ## Backup rule
//! Before `init` changes an existing config it saves the exact previous bytes next to
//! the config path, never overwriting an earlier backup:
//! - `<config>.agit.bak` when there is none yet (the reference's name);
//! - nothing new when an existing backup already holds exactly these bytes;
//! - otherwise `<config>.agit.bak.<unix-ms>`, a new file.
//!
//! So the first backup is always the pre-agit original, and every later state that agit
//! replaced is kept too. Nothing ever deletes backups (`uninstall` neither).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use agit_core::store::durable;

use super::report::InstallError;

/// Permission bits for files we create.
const NEW_FILE_MODE: u32 = 0o644;

/// Reads a file; `Ok(None)` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, InstallError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(InstallError::io("read", path, e)),
    }
}

/// The file actually written for `path`: the target of a symlink, else `path`.
fn write_target(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()),
        _ => path.to_owned(),
    }
}

fn unix_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

fn core_err(op: &'static str, path: &Path, e: agit_core::Error) -> InstallError {
    InstallError::io(op, path, io::Error::other(e.to_string()))
}

/// Creates `dir` and missing parents, durably.
pub(crate) fn create_dirs(dir: &Path) -> Result<(), InstallError> {
    durable::create_dir_durable(dir).map_err(|e| core_err("create directory", dir, e))
}

/// Atomically replaces (or creates) `path` with `bytes`, creating parent directories.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), InstallError> {
    let target = write_target(path);
    let dir = target.parent().ok_or_else(|| {
        InstallError::io("find the directory of", &target, io::Error::new(io::ErrorKind::InvalidInput, "no parent"))
    })?;
    create_dirs(dir)?;
    let mode = match fs::metadata(&target) {
        Ok(meta) => meta.permissions().mode() & 0o7777,
        Err(_) => NEW_FILE_MODE,
    };
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (tmp_path, mut file) = create_temp(dir, &name, mode)?;
    let result = (|| {
        file.write_all(bytes).map_err(|e| InstallError::io("write", &tmp_path, e))?;
        // The umask may have narrowed the mode at create time; set it exactly.
        file.set_permissions(fs::Permissions::from_mode(mode)).map_err(|e| InstallError::io("chmod", &tmp_path, e))?;
        durable::sync_file(&file, &tmp_path).map_err(|e| core_err("fsync", &tmp_path, e))?;
        drop(file);
        fs::rename(&tmp_path, &target).map_err(|e| InstallError::io("rename into", &target, e))?;
        durable::sync_dir(dir).map_err(|e| core_err("fsync directory", dir, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp_path);
    }
    result
}

fn create_temp(dir: &Path, name: &str, mode: u32) -> Result<(PathBuf, File), InstallError> {
    let pid = std::process::id();
    let nanos = unix_nanos();
    let mut attempt = 0u32;
    loop {
        let tmp = dir.join(format!(".{name}.agit-tmp-{pid}-{nanos}-{attempt}"));
        match OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(InstallError::io("create temp file", &tmp, e)),
        }
    }
}

/// `<config>.agit.bak`.
pub(crate) fn primary_backup_path(config: &Path) -> PathBuf {
    let mut name = config.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".agit.bak");
    config.with_file_name(name)
}

fn stamped_backup_path(config: &Path, millis: u128) -> PathBuf {
    let mut name = primary_backup_path(config).into_os_string();
    name.push(format!(".{millis}"));
    PathBuf::from(name)
}

/// Where [`backup`] would save `bytes` (for plans), without writing anything.
pub(crate) fn planned_backup_path(config: &Path, bytes: &[u8]) -> PathBuf {
    let primary = primary_backup_path(config);
    match fs::read(&primary) {
        Err(_) => primary,
        Ok(existing) if existing == bytes => primary,
        Ok(_) => stamped_backup_path(config, unix_nanos() / 1_000_000),
    }
}

/// Saves `bytes` (the config's current content) per the backup rule in the module docs
/// and returns the backup holding them. The backup gets `mode`.
pub(crate) fn backup(config: &Path, bytes: &[u8], mode: u32) -> Result<PathBuf, InstallError> {
    let primary = primary_backup_path(config);
    match read_optional(&primary)? {
        Some(existing) if existing == bytes => return Ok(primary),
        Some(_) => {}
        None => {
            if durable::write_new_with_mode(&primary, bytes, mode).map_err(|e| core_err("write backup", &primary, e))? {
                return Ok(primary);
            }
        }
    }
    let mut millis = unix_nanos() / 1_000_000;
    loop {
        let stamped = stamped_backup_path(config, millis);
        if durable::write_new_with_mode(&stamped, bytes, mode).map_err(|e| core_err("write backup", &stamped, e))? {
            return Ok(stamped);
        }
        if read_optional(&stamped)?.is_some_and(|existing| existing == bytes) {
            return Ok(stamped);
        }
        millis += 1;
    }
}

/// The permission bits of an existing file (for its backup), or the default.
pub(crate) fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).map_or(NEW_FILE_MODE, |m| m.permissions().mode() & 0o777)
}

/// Deletes a file and fsyncs its directory.
pub(crate) fn remove_file(path: &Path) -> Result<(), InstallError> {
    fs::remove_file(path).map_err(|e| InstallError::io("delete", path, e))?;
    if let Some(dir) = path.parent() {
        durable::sync_dir(dir).map_err(|e| core_err("fsync directory", dir, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_keeps_mode_and_follows_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/settings.json");
        fs::create_dir_all(real.parent().unwrap()).unwrap();
        fs::write(&real, b"{}").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("home/.claude/settings.json");
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();

        write_atomic(&link, b"{\"a\": 1}\n").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"{\"a\": 1}\n");
        assert_eq!(fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o600);
        let names: Vec<_> = fs::read_dir(real.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("settings.json")]);
    }

    #[test]
    fn backups_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("settings.json");
        let first = backup(&config, b"one", 0o600).unwrap();
        assert_eq!(first, dir.path().join("settings.json.agit.bak"));
        assert_eq!(planned_backup_path(&config, b"one"), first);
        assert_eq!(backup(&config, b"one", 0o600).unwrap(), first);
        let second = backup(&config, b"two", 0o600).unwrap();
        assert_ne!(second, first);
        assert!(second.to_string_lossy().starts_with(&*first.to_string_lossy()));
        assert_eq!(fs::read(&first).unwrap(), b"one");
        assert_eq!(fs::read(&second).unwrap(), b"two");
        assert_eq!(fs::metadata(&second).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
