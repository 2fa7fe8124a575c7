//! The safety step of a forced restore: the content a restore is about to overwrite,
//! committed as an ordinary step so that restoring it undoes the restore.
//!
//! The step belongs to session `agit/restore-safety` (one session for every forced
//! restore, so its log lists them in order), has turn id `restore:<timestamp>`, one user
//! message naming the restore, a `restore` cause pointing at the restored step, and a tree
//! of just the overwritten files. It goes through [`append_step`] like any recorded turn:
//! `gc.lock` shared while its objects are unreferenced, the session ref moved by
//! compare-and-swap together with the index rows, every object's kind recorded.

use std::collections::BTreeMap;
use std::path::Path;

use crate::commit::{AppendOutcome, append_step};
use crate::config::{CaptureLevel, Config};
use crate::error::{Error, Result};
use crate::hash::ObjectId;
use crate::index::{Index, ObjectRecord};
use crate::object::{Cause, Message, ObjectKind, Step, Tree, TreeEntry};
use crate::privacy::Detector;
use crate::store::lock::{self, LockMode, now_ms};
use crate::store::{SessionRef, Store};

/// Origin of safety steps.
pub const SAFETY_ORIGIN: &str = "agit";
/// Session of safety steps.
pub const SAFETY_SESSION: &str = "restore-safety";

/// Reason of a file not overwritten because its content could not be saved exactly.
pub(super) const SAFETY_COPY_UNAVAILABLE: &str = "safety_copy_unavailable";
/// Reason of a file not overwritten because the safety step could not be committed.
pub(super) const SAFETY_SNAPSHOT_FAILED: &str = "safety_snapshot_failed";

/// How file content may be kept, following `privacy.capture.snapshots`: a safety copy must
/// not store more than a snapshot would, and must be exact to be an undo.
pub(super) enum SafetyCapture {
    Full,
    /// Content is kept only when the detector finds nothing to redact in it.
    Redacted(Detector),
}

impl SafetyCapture {
    /// The capture of the store's config; `Err` (why) when no content may be kept. An
    /// unreadable config keeps nothing (fail closed, like the hooks).
    pub(super) fn load(store: &Store) -> std::result::Result<SafetyCapture, String> {
        let config = Config::load(&store.config_path())
            .map_err(|e| format!("no safety copy can be kept ({e}), so the file is not overwritten"))?;
        let level = match config.privacy.capture.snapshots {
            CaptureLevel::Full => return Ok(SafetyCapture::Full),
            CaptureLevel::Redacted => return Ok(SafetyCapture::Redacted(Detector::from_config(&config.privacy))),
            CaptureLevel::MetadataOnly => "metadata_only",
            CaptureLevel::Disabled => "disabled",
        };
        Err(format!(
            "privacy.capture.snapshots is `{level}`, so agit keeps no file content and cannot save a safety copy; \
             move the file aside and restore again"
        ))
    }

    /// Why `content` cannot be kept exactly, if it cannot.
    pub(super) fn refuses(&self, content: &[u8]) -> Option<String> {
        match self {
            SafetyCapture::Full => None,
            SafetyCapture::Redacted(detector) => (!detector.is_clean(content)).then(|| {
                "the file holds text that privacy.capture.snapshots = redacted does not keep, so a safety copy \
                 would not be exact; move the file aside and restore again"
                    .to_owned()
            }),
        }
    }
}

/// Commit the safety step holding `files` (path relative to `root`, current content);
/// returns it with the saved paths (sorted, each once).
pub(super) fn commit(
    store: &Store,
    source: Option<&ObjectId>,
    root: &Path,
    files: &[(&str, &[u8])],
) -> Result<(ObjectId, Vec<String>)> {
    // gc must not prune the new objects before the ref references them.
    let _gc = lock::acquire(&store.gc_lock_path(), LockMode::Shared, lock::lock_timeout())?;
    let unique: BTreeMap<&str, &[u8]> = files.iter().rev().map(|(p, b)| (*p, *b)).collect();
    let mut records = Vec::with_capacity(unique.len() + 1);
    let mut entries = Vec::with_capacity(unique.len());
    for (path, bytes) in &unique {
        let (id, _) = store.write_object(bytes)?;
        records.push(ObjectRecord { id, kind: ObjectKind::Blob, size: bytes.len() as u64 });
        entries.push(TreeEntry::file(*path, id, bytes.len() as u64));
    }
    let tree = Tree::new(entries).encode();
    let (tree_id, _) = store.write_object(&tree)?;
    records.push(ObjectRecord { id: tree_id, kind: ObjectKind::Tree, size: tree.len() as u64 });

    let paths: Vec<&str> = unique.keys().copied().collect();
    let source_text = source.map_or_else(|| "a snapshot".to_owned(), |s| s.short(12));
    let mut content = format!(
        "Safety copy before `agit restore {source_text} --force` overwrote {} file(s): {}",
        paths.len(),
        paths.join(", ")
    );
    if root != store.workspace() {
        content.push_str(&format!(" (in {})", root.display()));
    }
    let mut index = Index::open(store)?;
    // Timestamps are unique store-wide, so a duplicate turn id means a clock oddity; retry.
    for _ in 0..3 {
        let timestamp = index.next_step_timestamp(now_ms())?;
        let step = Step {
            parent: None,
            tree: tree_id,
            session_id: SAFETY_SESSION.to_owned(),
            origin: SAFETY_ORIGIN.to_owned(),
            model: None,
            turn_id: format!("restore:{timestamp}"),
            causes: source.map(|s| Cause { kind: "restore".into(), reference: s.to_hex() }).into_iter().collect(),
            timestamp,
            messages: vec![Message { role: "user".into(), content: content.clone() }],
            tool_calls: Vec::new(),
            outcome: None,
            git_commit: None,
            git_branch: None,
            git_dirty: None,
        };
        if let AppendOutcome::Committed { id, .. } = append_step(store, &mut index, step, &records)? {
            return Ok((id, paths.iter().map(|p| (*p).to_owned()).collect()));
        }
    }
    Err(Error::CasConflict {
        path: store.refs().path(&SessionRef::new(SAFETY_ORIGIN, SAFETY_SESSION)),
        expected: None,
        found: None,
    })
}
