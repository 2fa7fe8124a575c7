//! Bundle archives: the bundle directory layout as one tar stream compressed with zstd
//! (`agit export --archive out.tar.zst`), `manifest.json` as the last entry.
//!
//! Import recognises an archive by the zstd frame magic, whatever the file is called,
//! and unpacks it into a private temporary directory that is then validated like any
//! bundle directory. Unpacking refuses everything a hostile archive could use to write
//! outside that directory or to smuggle in something that is not plain data: entries
//! other than regular files and directories (symlinks, hard links, devices, FIFOs),
//! absolute paths, `..`, and the same path twice.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Component, Path};

use super::error::BundleError;
use super::manifest::is_safe_relative_path;

/// The first four bytes of every zstd frame.
pub const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// zstd level for archives (zstd's default: fast, and objects are mostly text).
pub(crate) const ZSTD_LEVEL: i32 = 3;

/// The error name of every malformed-archive failure.
const ARCHIVE_INVALID: &str = "BundleArchiveInvalid";

/// Whether `path` is a regular file starting with the zstd magic.
pub fn is_archive(path: &Path) -> Result<bool, BundleError> {
    let meta = fs::metadata(path).map_err(|e| BundleError::io("open", path, e))?;
    if !meta.is_file() {
        return Ok(false);
    }
    let mut magic = [0u8; 4];
    let mut file = File::open(path).map_err(|e| BundleError::io("open", path, e))?;
    match file.read_exact(&mut magic) {
        Ok(()) => Ok(magic == ZSTD_MAGIC),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(BundleError::io("read", path, e)),
    }
}

/// Unpack the archive at `path` into a new temporary directory (removed when the
/// returned handle drops).
pub fn unpack(path: &Path) -> Result<tempfile::TempDir, BundleError> {
    let file = File::open(path).map_err(|e| BundleError::io("open", path, e))?;
    let decoder = zstd::Decoder::new(file).map_err(|e| BundleError::io("decompress", path, e))?;
    let dir = tempfile::Builder::new()
        .prefix("agit-import-")
        .tempdir()
        .map_err(|e| BundleError::io("create temp directory", std::env::temp_dir(), e))?;
    unpack_into(decoder, dir.path(), max_unpacked_bytes())?;
    Ok(dir)
}

/// Largest total an archive may unpack to (`AGIT_IMPORT_MAX_BYTES`, default 8 GiB): a
/// small compressed file must not be able to fill the disk (a decompression bomb).
fn max_unpacked_bytes() -> u64 {
    std::env::var("AGIT_IMPORT_MAX_BYTES").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(8 << 30)
}

/// Unpack a tar stream into `root` (an empty directory), at most `budget` bytes of files.
fn unpack_into(stream: impl Read, root: &Path, mut budget: u64) -> Result<(), BundleError> {
    let mut archive = tar::Archive::new(stream);
    let entries = archive.entries().map_err(bad_stream)?;
    for entry in entries {
        let mut entry = entry.map_err(bad_stream)?;
        let raw_path = entry.path().map_err(bad_stream)?.into_owned();
        let rel = safe_entry_path(&raw_path)?;
        let kind = entry.header().entry_type();
        let target = root.join(&rel);
        if kind.is_dir() {
            fs::create_dir_all(&target).map_err(|e| invalid_entry(&rel, &format!("cannot create directory: {e}")))?;
            continue;
        }
        if !kind.is_file() {
            return Err(invalid_entry(&rel, &format!("entry type {kind:?} is not a regular file or directory")));
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| invalid_entry(&rel, &format!("cannot create directory: {e}")))?;
        }
        // `create_new`: a second entry with the same path is refused, never merged.
        let mut out = File::create_new(&target).map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => invalid_entry(&rel, "the path appears twice"),
            _ => invalid_entry(&rel, &format!("cannot create file: {e}")),
        })?;
        // Read one byte past the budget to tell "exactly at the limit" from "over it".
        let written = io::copy(&mut (&mut entry).take(budget.saturating_add(1)), &mut out).map_err(bad_stream)?;
        if written > budget {
            return Err(invalid_entry(
                &rel,
                "the archive unpacks to more than AGIT_IMPORT_MAX_BYTES (default 8 GiB); raise it to import anyway",
            ));
        }
        budget -= written;
    }
    Ok(())
}

/// A tar entry path as a safe bundle-relative path (`./` prefixes are tolerated).
fn safe_entry_path(path: &Path) -> Result<String, BundleError> {
    let shown = path.to_string_lossy().into_owned();
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => match part.to_str() {
                Some(text) => parts.push(text),
                None => return Err(invalid_entry(&shown, "the path is not UTF-8")),
            },
            Component::CurDir => {}
            Component::ParentDir => return Err(invalid_entry(&shown, "the path contains `..`")),
            Component::RootDir | Component::Prefix(_) => return Err(invalid_entry(&shown, "the path is absolute")),
        }
    }
    let rel = parts.join("/");
    if !is_safe_relative_path(&rel) {
        return Err(invalid_entry(&shown, "the path is not a safe relative path"));
    }
    Ok(rel)
}

fn invalid_entry(path: &str, why: &str) -> BundleError {
    BundleError::invalid(ARCHIVE_INVALID, format!("archive entry `{path}`: {why}"))
}

fn bad_stream(e: io::Error) -> BundleError {
    BundleError::invalid(ARCHIVE_INVALID, format!("the archive is not a readable tar.zst stream: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar stream with raw header names (bypassing the builder's own path checks, as a
    /// hostile producer would).
    fn raw_tar(entries: &[(&[u8], tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, kind, data) in entries {
            let mut header = tar::Header::new_old();
            header.as_old_mut().name[..name.len()].copy_from_slice(name);
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            if *kind == tar::EntryType::Symlink {
                header.set_link_name("/etc/passwd").unwrap();
            }
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn unpack_err(entries: &[(&[u8], tar::EntryType, &[u8])]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let err = unpack_into(&raw_tar(entries)[..], dir.path(), u64::MAX).unwrap_err();
        assert_eq!(err.name(), ARCHIVE_INVALID);
        // Nothing escaped the directory.
        assert!(!dir.path().parent().unwrap().join("evil").exists());
        err.to_string()
    }

    #[test]
    fn hostile_entries_are_refused() {
        use tar::EntryType::{Block, Fifo, Link, Regular, Symlink};
        assert!(unpack_err(&[(b"../evil", Regular, b"x")]).contains(".."));
        assert!(unpack_err(&[(b"objects/../../evil", Regular, b"x")]).contains(".."));
        assert!(unpack_err(&[(b"/tmp/evil", Regular, b"x")]).contains("absolute"));
        assert!(unpack_err(&[(b"link", Symlink, b"")]).contains("Symlink"));
        assert!(unpack_err(&[(b"hard", Link, b"")]).contains("Link"));
        assert!(unpack_err(&[(b"fifo", Fifo, b"")]).contains("Fifo"));
        assert!(unpack_err(&[(b"dev", Block, b"")]).contains("Block"));
        assert!(unpack_err(&[(b"a", Regular, b"1"), (b"a", Regular, b"2")]).contains("twice"));
        assert!(unpack_err(&[(b"a\\b", Regular, b"1")]).contains("safe"));
    }

    #[test]
    fn plain_entries_unpack() {
        use tar::EntryType::{Directory, Regular};
        let dir = tempfile::tempdir().unwrap();
        let tar =
            raw_tar(&[(b"./objects/", Directory, b""), (b"objects/ab/cd", Regular, b"data"), (b"m", Regular, b"")]);
        unpack_into(&tar[..], dir.path(), 4).unwrap();
        assert_eq!(fs::read(dir.path().join("objects/ab/cd")).unwrap(), b"data");
        assert_eq!(fs::read(dir.path().join("m")).unwrap(), b"");
    }

    #[test]
    fn an_archive_over_the_size_budget_is_refused() {
        use tar::EntryType::Regular;
        let dir = tempfile::tempdir().unwrap();
        let tar = raw_tar(&[(b"a", Regular, b"1234"), (b"b", Regular, b"5")]);
        let err = unpack_into(&tar[..], dir.path(), 4).unwrap_err();
        assert!(err.to_string().contains("AGIT_IMPORT_MAX_BYTES"), "{err}");
    }

    #[test]
    fn not_zstd_is_not_an_archive() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.tar.zst");
        fs::write(&file, b"PK\x03\x04").unwrap();
        assert!(!is_archive(&file).unwrap());
        fs::write(&file, b"\x28").unwrap();
        assert!(!is_archive(&file).unwrap());
        assert!(!is_archive(dir.path()).unwrap());
        let compressed = zstd::encode_all(&b"hello"[..], 3).unwrap();
        fs::write(&file, compressed).unwrap();
        assert!(is_archive(&file).unwrap());
    }
}
