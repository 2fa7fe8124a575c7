//! Turning one changed file into a blob: open without following links, check it is
//! still a small regular text file, and build the blob for the capture level.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::SnapshotCapture;
use super::rules::{BINARY_SNIFF_BYTES, looks_binary};
use crate::index::stat_cache::FileStat;

/// What became of a file the cache could not vouch for, before anything is stored.
#[derive(Debug)]
pub(super) enum Prepared {
    /// The blob to store; `size` is the original file size.
    Blob { bytes: Vec<u8>, size: u64, stat: FileStat },
    /// A NUL byte in the first 8192 bytes: skipped, and remembered as such.
    Binary { stat: FileStat },
    /// Grew past the cap since the walk.
    Large,
    /// Gone, unreadable, or no longer a regular file.
    Unreadable,
}

/// Read `abs` (workspace path `rel`) and build its blob. Nothing here is an error:
/// anything wrong with the file itself skips it.
pub(super) fn prepare(abs: &Path, rel: &str, capture: &SnapshotCapture<'_>, max_file_bytes: u64) -> Prepared {
    // O_NOFOLLOW: a file swapped for a symlink after the walk is not followed.
    // O_NONBLOCK: one swapped for a FIFO does not hang the finalize.
    let Ok(mut file) = OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(abs) else {
        return Prepared::Unreadable;
    };
    // Stat the handle we read, before reading: a write racing the read then changes the
    // mtime after this stat, so the cache row cannot vouch for content it did not see.
    let Ok(meta) = file.metadata() else { return Prepared::Unreadable };
    if !meta.file_type().is_file() {
        return Prepared::Unreadable;
    }
    let stat = FileStat::of(&meta);
    if stat.size > max_file_bytes {
        return Prepared::Large;
    }
    match capture {
        SnapshotCapture::MetadataOnly => {
            let Some(head) = read_up_to(&mut file, BINARY_SNIFF_BYTES as u64, BINARY_SNIFF_BYTES) else {
                return Prepared::Unreadable;
            };
            if looks_binary(&head) {
                return Prepared::Binary { stat };
            }
            Prepared::Blob {
                bytes: crate::privacy::snapshot_metadata_placeholder(rel, stat.size),
                size: stat.size,
                stat,
            }
        }
        SnapshotCapture::Full | SnapshotCapture::Redacted(_) => {
            // One byte over the cap tells a file that grew since the stat.
            let limit = max_file_bytes.saturating_add(1);
            let hint = usize::try_from(stat.size.min(limit)).unwrap_or(0);
            let Some(content) = read_up_to(&mut file, limit, hint) else {
                return Prepared::Unreadable;
            };
            let size = content.len() as u64;
            if size > max_file_bytes {
                return Prepared::Large;
            }
            if looks_binary(&content) {
                return Prepared::Binary { stat };
            }
            let bytes = match capture {
                SnapshotCapture::Redacted(redactor) => redactor.redact(&content),
                _ => content,
            };
            Prepared::Blob { bytes, size, stat }
        }
        // The caller never walks when snapshots are disabled.
        SnapshotCapture::Disabled => Prepared::Unreadable,
    }
}

/// Read at most `limit` bytes; `None` on a read error.
fn read_up_to(file: &mut File, limit: u64, capacity_hint: usize) -> Option<Vec<u8>> {
    // +1 so a file that is exactly the hint long does not grow the buffer to find EOF.
    let mut buf = Vec::with_capacity(capacity_hint.saturating_add(1));
    file.take(limit).read_to_end(&mut buf).ok()?;
    Some(buf)
}
