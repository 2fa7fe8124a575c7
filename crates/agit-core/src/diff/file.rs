//! The content diff of one changed tree entry.

use std::borrow::Cow;

use super::text::{TextDiff, line_stat, unified_diff};
use super::tree::Change;
use crate::error::Result;
use crate::hash::ObjectId;
use crate::privacy::Detector;
use crate::snapshot::rules::{looks_binary, max_file_bytes_from_env};
use crate::store::Store;

/// What a blob is, for diffing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobClass {
    Text,
    /// A NUL byte in the first 8 KiB.
    Binary,
    /// Larger than the size cap.
    TooLarge,
}

/// Classify blob bytes against the size cap.
pub fn classify(bytes: &[u8], max_bytes: u64) -> BlobClass {
    if bytes.len() as u64 > max_bytes {
        BlobClass::TooLarge
    } else if looks_binary(bytes) {
        BlobClass::Binary
    } else {
        BlobClass::Text
    }
}

/// How to diff file contents.
#[derive(Debug, Clone, Copy)]
pub struct FileDiffOptions<'a> {
    /// Lines of context per hunk.
    pub context: usize,
    /// Files larger than this (tree size or blob length) are not diffed.
    pub max_bytes: u64,
    /// Redact both texts with this detector before diffing.
    pub redact: Option<&'a Detector>,
    /// Build hunks (`false`: only count inserted and deleted lines, for `--stat`).
    pub hunks: bool,
}

impl Default for FileDiffOptions<'_> {
    /// Three lines of context, the `AGIT_MAX_FILE_BYTES` cap, no redaction, hunks.
    fn default() -> Self {
        FileDiffOptions {
            context: super::DEFAULT_CONTEXT,
            max_bytes: max_file_bytes_from_env(),
            redact: None,
            hunks: true,
        }
    }
}

/// The content diff of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilePatch {
    /// Both sides are text. `diff.hunks` is empty when only counts were asked for (or the
    /// texts are equal, e.g. after redaction); the counts are always set.
    Text(TextDiff),
    /// A side is binary (never printed).
    Binary,
    /// A side exceeds the size cap (never read in full); `size` is the larger side.
    TooLarge { size: u64, limit: u64 },
}

/// Read the blobs of `change` and diff them. The missing side of an added or deleted
/// entry is the empty text.
pub fn diff_change(store: &Store, change: &Change, options: &FileDiffOptions<'_>) -> Result<FilePatch> {
    // The tree records the original size; check it before reading anything large.
    let recorded = change.old_size().unwrap_or(0).max(change.new_size().unwrap_or(0));
    if recorded > options.max_bytes {
        return Ok(FilePatch::TooLarge { size: recorded, limit: options.max_bytes });
    }
    let old = read_side(store, change.old_blob())?;
    let new = read_side(store, change.new_blob())?;
    let largest = old.len().max(new.len()) as u64;
    if largest > options.max_bytes {
        return Ok(FilePatch::TooLarge { size: largest, limit: options.max_bytes });
    }
    if looks_binary(&old) || looks_binary(&new) {
        return Ok(FilePatch::Binary);
    }
    let (old, new): (Cow<'_, [u8]>, Cow<'_, [u8]>) = match options.redact {
        Some(d) => (d.redact_cow(&old), d.redact_cow(&new)),
        None => (Cow::Borrowed(&old), Cow::Borrowed(&new)),
    };
    Ok(FilePatch::Text(if options.hunks {
        unified_diff(&old, &new, options.context)
    } else {
        let (insertions, deletions) = line_stat(&old, &new);
        TextDiff { hunks: Vec::new(), insertions, deletions }
    }))
}

fn read_side(store: &Store, blob: Option<ObjectId>) -> Result<Vec<u8>> {
    match blob {
        Some(id) => store.read_object(&id),
        None => Ok(Vec::new()),
    }
}
