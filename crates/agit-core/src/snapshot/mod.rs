//! The workspace snapshot taken at every finalize: walk the repository root, store a blob
//! per kept file, and write the tree object (reference `capture.md` §8, `formats.md`
//! §3.2, §4.3).
//!
//! It is incremental (DECISIONS §2, improvement 4): a stat cache in the index maps each
//! path to the (mtime ns, ctime ns, size, inode) it had when it was last hashed, the
//! capture key, and the resulting blob, so a finalize reads and hashes only files whose
//! stat changed. The walk honours a root `.agitignore` in gitignore syntax on top of
//! the reference defaults ([`rules`]).
//!
//! # What is kept
//!
//! Regular files only (symlinks are never followed, special files skipped), not under a
//! default directory (`.git`, `node_modules`, … at any depth), not secret-like by name
//! (reference list plus `.envrc`, `*.gpg`, `*.asc`), not matched by `.agitignore`, at
//! most the size cap, without a NUL in the first 8192 bytes, and readable. The defaults
//! always apply: a `.agitignore` negation cannot re-include `.env` or `node_modules/`.
//! Names that are not valid UTF-8 are skipped (files and whole directories): tree paths
//! are JSON strings that our writers keep valid UTF-8, and replacing the bad bytes with
//! U+FFFD would record a different name (two names could even collide), which restore
//! would then create. `.gitignore` files play no part.
//!
//! # The racy-clean rule
//!
//! A file can change again within the file system's timestamp granularity after it was
//! hashed and keep the exact same stat (git's "racy git" problem). So every cache row
//! remembers the file-system clock at the start of the snapshot that wrote it
//! (`cached_at_ns`, read from the timestamps of a fresh anonymous file in `.agit/tmp`,
//! so it is the clock and granularity that stamp files, not the wall clock), and a row is
//! trusted only for a file whose later of mtime and ctime is *strictly older* than that
//! moment. A file touched during or just before a snapshot is therefore hashed again at
//! the next one, and cached for good once it is older than the snapshot that hashed it.
//! Any write after the clock was read gets a timestamp at or after it, so it always
//! changes the stat of a trusted row.
//!
//! Rows are also keyed by capture level (and redactor key). They are trusted without
//! checking that their blob still exists (that would cost a `stat` per file), so gc must
//! call [`Index::clear_stat_cache`] after pruning objects.
//!
//! # Cost and durability
//!
//! The walk (`readdir` + one `statx` per file, on all cores) runs while this thread reads
//! the cache; both come back sorted by path, so the lookup is a merge and the tree needs
//! no further sort. Changed files are read, hashed and written on worker threads.
//! Objects are written unflushed (`Store::write_object`) and made durable by one
//! `syncfs`, which happens here before the cache rows that name them are committed: a
//! cache row must never outlive (across a crash) the blob it vouches for, because a
//! cache hit never rewrites the blob. A snapshot that hashed nothing flushes nothing.
//! (The finalize's ref update does its own `syncfs` afterwards.)

mod blob;
mod encode;
mod parallel;
pub mod rules;
mod walk;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::CaptureLevel;
use crate::error::{Error, Result};
use crate::hash::ObjectId;
use crate::index::stat_cache::{CachedBlob, FileStat, StatCacheRow, ns};
use crate::index::{Index, ObjectRecord};
use crate::object::{ObjectKind, Tree, TreeEntry};
use crate::store::Store;
use crate::store::durable;
use blob::Prepared;
use rules::AgitIgnore;
use walk::Candidate;

/// Redaction of snapshot file content (`privacy.capture.snapshots = "redacted"`),
/// supplied by the privacy module.
pub trait Redactor: Sync {
    /// The bytes to store for a file with this content.
    fn redact(&self, content: &[u8]) -> Vec<u8>;

    /// Changes whenever `redact` may give different output for the same input (rule
    /// set version, custom literals, …). Cached blobs made under another key are not
    /// reused, so a new secret literal takes effect on unchanged files too.
    fn cache_key(&self) -> String;
}

/// A [`Redactor`] from a closure and a fixed cache key.
pub struct FnRedactor<F> {
    key: String,
    redact: F,
}

impl<F: Fn(&[u8]) -> Vec<u8> + Sync> FnRedactor<F> {
    /// `key` must change whenever `redact` changes behaviour.
    pub fn new(key: impl Into<String>, redact: F) -> Self {
        FnRedactor { key: key.into(), redact }
    }
}

impl<F: Fn(&[u8]) -> Vec<u8> + Sync> Redactor for FnRedactor<F> {
    fn redact(&self, content: &[u8]) -> Vec<u8> {
        (self.redact)(content)
    }

    fn cache_key(&self) -> String {
        self.key.clone()
    }
}

/// What a snapshot stores for each file: a capture level, with the redactor when
/// content is redacted (so `redacted` without a redactor cannot be expressed).
#[derive(Clone, Copy)]
pub enum SnapshotCapture<'a> {
    /// Raw file bytes.
    Full,
    /// The redactor's output.
    Redacted(&'a dyn Redactor),
    /// `[[agit snapshot metadata-only path=<path> bytes=<N>]]\n`.
    MetadataOnly,
    /// No walk; the empty tree.
    Disabled,
}

impl<'a> SnapshotCapture<'a> {
    /// The capture for a configured level; `redactor` is used only for `redacted`.
    pub fn from_level(level: CaptureLevel, redactor: &'a dyn Redactor) -> Self {
        match level {
            CaptureLevel::Full => SnapshotCapture::Full,
            CaptureLevel::Redacted => SnapshotCapture::Redacted(redactor),
            CaptureLevel::MetadataOnly => SnapshotCapture::MetadataOnly,
            CaptureLevel::Disabled => SnapshotCapture::Disabled,
        }
    }

    /// The configured level this capture implements.
    pub fn level(&self) -> CaptureLevel {
        match self {
            SnapshotCapture::Full => CaptureLevel::Full,
            SnapshotCapture::Redacted(_) => CaptureLevel::Redacted,
            SnapshotCapture::MetadataOnly => CaptureLevel::MetadataOnly,
            SnapshotCapture::Disabled => CaptureLevel::Disabled,
        }
    }

    /// The stat-cache `level` column: blobs are reusable only under the same key.
    fn cache_key(&self) -> String {
        match self {
            SnapshotCapture::Full => "full".into(),
            SnapshotCapture::Redacted(r) => format!("redacted:{}", r.cache_key()),
            SnapshotCapture::MetadataOnly => "metadata_only".into(),
            SnapshotCapture::Disabled => "disabled".into(),
        }
    }
}

impl std::fmt::Debug for SnapshotCapture<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.cache_key())
    }
}

/// How to take a snapshot.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotOptions<'a> {
    pub capture: SnapshotCapture<'a>,
    /// Per-file size cap in bytes; a file of exactly this size is kept.
    pub max_file_bytes: u64,
    /// Worker threads for the walk and for hashing; 0 picks from the CPU count.
    pub threads: usize,
}

impl<'a> SnapshotOptions<'a> {
    /// Options for `capture` with the size cap from `AGIT_MAX_FILE_BYTES` (else 16 MiB).
    pub fn new(capture: SnapshotCapture<'a>) -> Self {
        SnapshotOptions { capture, max_file_bytes: rules::max_file_bytes_from_env(), threads: 0 }
    }
}

/// Counters of one snapshot. Every non-directory entry the walk reaches is counted in
/// `files_seen` and ends up either in the tree or in exactly one `skipped_*` counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SnapshotStats {
    pub files_seen: usize,
    /// Files read and hashed (the cache could not vouch for them).
    pub files_hashed: usize,
    /// Files whose blob (or binary verdict) came from the stat cache, unread.
    pub files_from_cache: usize,
    /// Blobs this snapshot created (the rest were already stored).
    pub blobs_created: usize,
    /// Cache rows whose stat matched but that were racily clean, so were re-hashed.
    pub racy_rehashed: usize,
    pub skipped_binary: usize,
    pub skipped_large: usize,
    pub skipped_secret: usize,
    /// Files matched by `.agitignore`.
    pub skipped_ignored: usize,
    pub skipped_symlink: usize,
    /// FIFOs, sockets, devices.
    pub skipped_special: usize,
    /// Vanished, unreadable or unlistable entries.
    pub skipped_unreadable: usize,
    /// Names that are not UTF-8 (tree paths are JSON strings).
    pub skipped_non_utf8: usize,
    /// Directories not entered (default names, `.agitignore`, non-UTF-8 names).
    pub dirs_skipped: usize,
    /// `.agitignore` lines that were unusable and skipped.
    pub agitignore_invalid_lines: usize,
    pub cache_rows_written: usize,
    pub cache_rows_deleted: usize,
}

/// A snapshot taken.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The tree object id.
    pub tree: ObjectId,
    /// Stored size of the tree object.
    pub tree_bytes_len: u64,
    /// Number of files in the tree.
    pub entries: usize,
    /// The tree itself (for blame and diff, without reading it back).
    pub listing: Tree,
    /// The tree and every blob this snapshot wrote or rewrote (deduplicated, kinds
    /// known), for the caller's step transaction. Blobs that already existed are
    /// included too, so one left behind by a crashed finalize gets indexed now. They are
    /// also recorded in the index by the snapshot itself, with its cache rows.
    pub new_objects: Vec<ObjectRecord>,
    pub stats: SnapshotStats,
}

/// Below this many files per thread, hashing threads cost more than they save.
const PARALLEL_HASH_MIN_FILES: usize = 16;

/// Take a snapshot of `store`'s workspace.
///
/// Call it under the shared `gc.lock`, like every finalize: gc must not prune blobs
/// between the cache lookup and the step commit.
pub fn snapshot(store: &Store, index: &mut Index, options: &SnapshotOptions<'_>) -> Result<Snapshot> {
    let mut stats = SnapshotStats::default();
    if matches!(options.capture, SnapshotCapture::Disabled) {
        return finish(store, index, Done::default(), stats);
    }
    // Walk the real directory: a workspace reached through a symlink would otherwise be
    // skipped as a symlink itself.
    let root = std::fs::canonicalize(store.workspace()).map_err(|e| Error::io("resolve", store.workspace(), e))?;
    // An unreadable root must fail, not look like a workspace whose files were all deleted.
    std::fs::read_dir(&root).map_err(|e| Error::io("list", &root, e))?;
    let clock_ns = snapshot_clock_ns(store);
    let ignore = AgitIgnore::load(&root);
    stats.agitignore_invalid_lines = ignore.invalid_lines;
    let threads = worker_threads(options.threads);
    let level_key = options.capture.cache_key();

    // Read the cache on this thread while the walk runs on the others: the walk is
    // mostly `statx` calls, the scan mostly SQLite, and they overlap well.
    let (walked, cached) = std::thread::scope(|scope| {
        let walker = scope.spawn(|| walk::walk(&root, &ignore, options.max_file_bytes, threads));
        let mut cached = Vec::new();
        let scanned = index.scan_stat_cache(|row| {
            cached.push(CachedRow {
                path: row.path.to_owned(),
                stat: row.stat,
                level_ok: row.level == level_key,
                blob: row.blob,
                cached_at_ns: row.cached_at_ns,
            })
        });
        let walked = walker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        scanned.map(|()| (walked, cached))
    })?;
    let c = walked.counts;
    stats.files_seen = c.files_seen;
    stats.skipped_secret = c.skipped_secret;
    stats.skipped_ignored = c.skipped_ignored;
    stats.skipped_symlink = c.skipped_symlink;
    stats.skipped_special = c.skipped_special;
    stats.skipped_large = c.skipped_large;
    stats.skipped_unreadable = c.skipped_unreadable;
    stats.skipped_non_utf8 = c.skipped_non_utf8;
    stats.dirs_skipped = c.dirs_skipped;

    // Sorted like tree entries and like the cache rows, so the lookup is one merge pass
    // and the tree comes out already in order.
    let mut files = walked.files;
    files.sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
    let (slots, mut deleted) = look_up(&files, cached);

    let misses: Vec<usize> = (0..files.len()).filter(|&i| !matches!(slots[i], Slot::Hit(_))).collect();
    let (outcomes, created) = hash_misses(store, &root, &files, &misses, options, threads)?;
    stats.blobs_created = created;

    let mut outcomes = misses.iter().copied().zip(outcomes).peekable();
    let mut entries = Vec::with_capacity(files.len());
    let mut rows = Vec::new();
    let mut objects = Vec::new();
    let mut seen = HashSet::new();
    for (i, (file, slot)) in files.into_iter().zip(slots).enumerate() {
        let outcome = match slot {
            Slot::Hit(blob) => {
                stats.files_from_cache += 1;
                match blob {
                    Some(blob) => entries.push(TreeEntry::file(file.rel, blob, file.stat.size)),
                    None => stats.skipped_binary += 1,
                }
                continue;
            }
            Slot::Racy | Slot::Miss { .. } => match outcomes.next_if(|(j, _)| *j == i) {
                Some((_, outcome)) => outcome,
                None => Outcome::Unreadable, // unreachable: every miss has an outcome
            },
        };
        stats.racy_rehashed += usize::from(slot == Slot::Racy);
        let (stat, blob) = match outcome {
            Outcome::Blob { blob, blob_len, size, stat } => {
                stats.files_hashed += 1;
                if seen.insert(blob) {
                    objects.push(ObjectRecord { id: blob, kind: ObjectKind::Blob, size: blob_len });
                }
                entries.push(TreeEntry::file(file.rel.clone(), blob, size));
                (stat, Some(blob))
            }
            Outcome::Binary { stat } => {
                stats.files_hashed += 1;
                stats.skipped_binary += 1;
                (stat, None)
            }
            skipped => {
                if skipped == Outcome::Large {
                    stats.skipped_large += 1;
                } else {
                    stats.skipped_unreadable += 1;
                }
                if slot != (Slot::Miss { had_row: false }) {
                    deleted.push(file.rel);
                }
                continue;
            }
        };
        let row = StatCacheRow { stat, level: level_key.clone(), blob, cached_at_ns: clock_ns };
        rows.push((file.rel, row));
    }
    finish(store, index, Done { entries, rows, deleted, objects }, stats)
}

/// Match the sorted walk against the sorted cache rows: one slot per file, plus the
/// paths of rows whose file the walk no longer keeps (deleted, now ignored, secret, too
/// large...).
fn look_up(files: &[Candidate], cached: Vec<CachedRow>) -> (Vec<Slot>, Vec<String>) {
    let mut slots = Vec::with_capacity(files.len());
    let mut deleted = Vec::new();
    let mut next = 0;
    for row in cached {
        // Files before this row's path have no row.
        while next < files.len() && files[next].rel < row.path {
            slots.push(Slot::Miss { had_row: false });
            next += 1;
        }
        let Some(file) = files.get(next).filter(|f| f.rel == row.path) else {
            deleted.push(row.path);
            continue;
        };
        next += 1;
        let usable = row.stat == file.stat && row.level_ok;
        slots.push(match row.blob {
            CachedBlob::Garbled => Slot::Miss { had_row: true },
            _ if !usable => Slot::Miss { had_row: true },
            _ if file.stat.changed_ns() >= row.cached_at_ns => Slot::Racy,
            CachedBlob::Blob(blob) => Slot::Hit(Some(blob)),
            CachedBlob::Binary => Slot::Hit(None),
        });
    }
    slots.resize(files.len(), Slot::Miss { had_row: false });
    (slots, deleted)
}

/// Read, hash and store the files at `misses` (indexes into `files`) on worker threads.
/// Returns their outcomes in `misses` order and how many blobs were new.
fn hash_misses(
    store: &Store,
    root: &Path,
    files: &[Candidate],
    misses: &[usize],
    options: &SnapshotOptions<'_>,
    threads: usize,
) -> Result<(Vec<Outcome>, usize)> {
    let created = AtomicUsize::new(0);
    let workers = threads.min(misses.len() / PARALLEL_HASH_MIN_FILES).max(1);
    let outcomes = parallel::map(misses, workers, |&i| {
        let file = &files[i];
        match blob::prepare(&root.join(&file.rel), &file.rel, &options.capture, options.max_file_bytes) {
            Prepared::Blob { bytes, size, stat } => {
                let (blob, new) = store.write_object(&bytes)?;
                created.fetch_add(usize::from(new), Ordering::Relaxed);
                Ok(Outcome::Blob { blob, blob_len: bytes.len() as u64, size, stat })
            }
            other => Ok(Outcome::skipped(other)),
        }
    })?;
    Ok((outcomes, created.into_inner()))
}

/// What became of a file the cache could not vouch for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Stored (or to be stored) as `blob` of `blob_len` bytes; `size` is the original size.
    Blob {
        blob: ObjectId,
        blob_len: u64,
        size: u64,
        stat: FileStat,
    },
    Binary {
        stat: FileStat,
    },
    Large,
    Unreadable,
}

impl Outcome {
    fn skipped(prepared: Prepared) -> Outcome {
        match prepared {
            Prepared::Binary { stat } => Outcome::Binary { stat },
            Prepared::Large => Outcome::Large,
            Prepared::Blob { .. } | Prepared::Unreadable => Outcome::Unreadable,
        }
    }
}

/// Everything a snapshot has decided, for [`finish`] to write.
#[derive(Default)]
struct Done {
    entries: Vec<TreeEntry>,
    rows: Vec<(String, StatCacheRow)>,
    deleted: Vec<String>,
    /// Index records of the blobs in the tree that were hashed this time.
    objects: Vec<ObjectRecord>,
}

/// A stat-cache row, read while the walk runs.
struct CachedRow {
    path: String,
    stat: FileStat,
    /// Made under this snapshot's capture key.
    level_ok: bool,
    blob: CachedBlob,
    cached_at_ns: i64,
}

/// What the stat cache says about one walked file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Trusted: the blob, or `None` for a binary verdict.
    Hit(Option<ObjectId>),
    /// The stat matches but the row is racily clean: hash again.
    Racy,
    /// Changed, new, or cached under another capture key.
    Miss { had_row: bool },
}

/// Write the tree, make the new objects durable, then commit the cache rows and object
/// records in one transaction.
fn finish(store: &Store, index: &mut Index, done: Done, mut stats: SnapshotStats) -> Result<Snapshot> {
    let Done { entries, rows, deleted, mut objects } = done;
    // Already in order when built from the sorted walk, which `Tree::new` checks in O(n).
    let listing = Tree::new(entries);
    let bytes = encode::encode_tree(&listing);
    let (tree, tree_created) = store.write_object(&bytes)?;
    // Blobs hashed this time are flushed even when they already existed: one left by a
    // finalize that never reached its `syncfs` may not be on disk yet.
    if tree_created || !objects.is_empty() {
        durable::sync_filesystem(&store.objects_dir())?;
    }
    objects.push(ObjectRecord { id: tree, kind: ObjectKind::Tree, size: bytes.len() as u64 });
    // An unchanged workspace (nothing hashed, nothing deleted, tree already stored) needs
    // no transaction at all.
    if tree_created || !rows.is_empty() || !deleted.is_empty() || objects.len() > 1 {
        index.write_stat_cache(&rows, &deleted, &objects)?;
    }
    stats.cache_rows_written = rows.len();
    stats.cache_rows_deleted = deleted.len();
    Ok(Snapshot {
        tree,
        tree_bytes_len: bytes.len() as u64,
        entries: listing.entries.len(),
        listing,
        new_objects: objects,
        stats,
    })
}

fn worker_threads(requested: usize) -> usize {
    if requested > 0 {
        return requested;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(4)
}

/// The moment this snapshot starts, on the clock that stamps files (see the module docs).
/// A fresh anonymous temp file (`O_TMPFILE`: nothing is left behind) is stamped by the
/// file system itself, with its own clock and granularity. If that is impossible, the wall
/// clock minus 2 s, which covers the coarsest common granularity (FAT's 2 s).
fn snapshot_clock_ns(store: &Store) -> i64 {
    let wall =
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    let probe_dirs: [PathBuf; 2] = [store.tmp_dir(), store.root().to_path_buf()];
    for dir in probe_dirs {
        if let Ok(file) = tempfile::tempfile_in(&dir)
            && let Ok(meta) = file.metadata()
        {
            let stamped = FileStat::of(&meta);
            return stamped.mtime_ns.min(stamped.ctime_ns).min(wall);
        }
    }
    wall.saturating_sub(ns(2, 0))
}
