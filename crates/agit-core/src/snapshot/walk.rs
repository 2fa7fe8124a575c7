//! The parallel walk: list every regular file of the workspace that the rules keep,
//! with its `lstat`, without reading any content.
//!
//! A small walker of our own rather than `ignore::WalkBuilder`: with every automatic
//! filter of that walker turned off (hidden files, `.gitignore`, `.ignore`, git excludes,
//! parent directories) it only adds per-entry overhead — it `lstat`s each file by full
//! path, where `std`'s directory entries `statx` relative to the open directory, which
//! measured 25% faster on 10,000 files. The `ignore` crate still provides the gitignore
//! matcher ([`super::rules::AgitIgnore`]).

use std::fs;
use std::path::Path;
use std::sync::{Condvar, Mutex};

use super::rules::{self, AgitIgnore};
use crate::index::stat_cache::FileStat;

/// A file the walk kept.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    /// Workspace-relative, `/`-separated.
    pub rel: String,
    /// From `lstat` during the walk.
    pub stat: FileStat,
}

/// Skip counters of the walk.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct WalkCounts {
    pub files_seen: usize,
    pub skipped_secret: usize,
    pub skipped_ignored: usize,
    pub skipped_symlink: usize,
    pub skipped_special: usize,
    pub skipped_large: usize,
    pub skipped_unreadable: usize,
    pub skipped_non_utf8: usize,
    pub dirs_skipped: usize,
}

impl WalkCounts {
    fn add(&mut self, o: &WalkCounts) {
        self.files_seen += o.files_seen;
        self.skipped_secret += o.skipped_secret;
        self.skipped_ignored += o.skipped_ignored;
        self.skipped_symlink += o.skipped_symlink;
        self.skipped_special += o.skipped_special;
        self.skipped_large += o.skipped_large;
        self.skipped_unreadable += o.skipped_unreadable;
        self.skipped_non_utf8 += o.skipped_non_utf8;
        self.dirs_skipped += o.dirs_skipped;
    }
}

/// What the walk found (files in no particular order).
#[derive(Debug, Default)]
pub(super) struct Walked {
    pub files: Vec<Candidate>,
    pub counts: WalkCounts,
}

/// Directories waiting to be listed (workspace-relative; `""` is the root), and how
/// many are being listed right now: the walk is over when both are zero.
struct Queue {
    pending: Vec<String>,
    listing: usize,
}

/// Walk `root` (a canonical directory) with `threads` threads.
pub(super) fn walk(root: &Path, ignore: &AgitIgnore, max_file_bytes: u64, threads: usize) -> Walked {
    let queue = Mutex::new(Queue { pending: vec![String::new()], listing: 0 });
    let wake = Condvar::new();
    let lister = Lister { root, ignore, max_file_bytes };
    let parts: Vec<Walked> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1)).map(|_| scope.spawn(|| worker(&lister, &queue, &wake))).collect();
        workers.into_iter().map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    let mut walked = Walked::default();
    for part in parts {
        walked.files.extend(part.files);
        walked.counts.add(&part.counts);
    }
    walked
}

fn worker(lister: &Lister<'_>, queue: &Mutex<Queue>, wake: &Condvar) -> Walked {
    let mut out = Walked::default();
    let mut subdirs = Vec::new();
    loop {
        let dir = {
            let mut q = queue.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if let Some(dir) = q.pending.pop() {
                    q.listing += 1;
                    break Some(dir);
                }
                if q.listing == 0 {
                    break None;
                }
                q = wake.wait(q).unwrap_or_else(|p| p.into_inner());
            }
        };
        let Some(dir) = dir else {
            wake.notify_all();
            return out;
        };
        lister.list(&dir, &mut out, &mut subdirs);
        let mut q = queue.lock().unwrap_or_else(|p| p.into_inner());
        let found = !subdirs.is_empty();
        q.pending.append(&mut subdirs);
        q.listing -= 1;
        if found || q.listing == 0 {
            wake.notify_all();
        }
    }
}

struct Lister<'a> {
    root: &'a Path,
    ignore: &'a AgitIgnore,
    max_file_bytes: u64,
}

impl Lister<'_> {
    /// List one directory: kept files go to `out`, directories to enter to `subdirs`.
    fn list(&self, dir: &str, out: &mut Walked, subdirs: &mut Vec<String>) {
        let counts = &mut out.counts;
        let Ok(entries) = fs::read_dir(self.root.join(dir)) else {
            counts.skipped_unreadable += 1;
            return;
        };
        for entry in entries {
            let Ok(entry) = entry else {
                counts.skipped_unreadable += 1;
                continue;
            };
            // The directory entry's type (`d_type`), or an `lstat` where the file system
            // gives none: never follows a link.
            let Ok(file_type) = entry.file_type() else {
                counts.skipped_unreadable += 1;
                continue;
            };
            let name = entry.file_name();
            // Tree paths are JSON strings: a name that is not UTF-8 has no faithful form.
            let Some(name) = name.to_str() else {
                if file_type.is_dir() {
                    counts.dirs_skipped += 1;
                } else {
                    counts.files_seen += 1;
                    counts.skipped_non_utf8 += 1;
                }
                continue;
            };
            let rel = if dir.is_empty() { name.to_owned() } else { format!("{dir}/{name}") };
            if file_type.is_dir() {
                if rules::is_default_skip_dir(name) || self.ignore.is_ignored(&rel, true) {
                    counts.dirs_skipped += 1;
                } else {
                    subdirs.push(rel);
                }
                continue;
            }
            counts.files_seen += 1;
            if file_type.is_symlink() {
                counts.skipped_symlink += 1;
                continue;
            }
            if !file_type.is_file() {
                counts.skipped_special += 1;
                continue;
            }
            if rules::is_secret_name(name) {
                counts.skipped_secret += 1;
                continue;
            }
            if self.ignore.is_ignored(&rel, false) {
                counts.skipped_ignored += 1;
                continue;
            }
            // `lstat` relative to the open directory (no path lookup, no link followed).
            let Ok(meta) = entry.metadata() else {
                counts.skipped_unreadable += 1;
                continue;
            };
            if !meta.file_type().is_file() {
                // Replaced between the directory read and the lstat.
                counts.skipped_special += 1;
                continue;
            }
            if meta.len() > self.max_file_bytes {
                counts.skipped_large += 1;
                continue;
            }
            out.files.push(Candidate { rel, stat: FileStat::of(&meta) });
        }
    }
}
