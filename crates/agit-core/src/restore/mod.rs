//! Restoring files from a recorded snapshot (`agit restore`, reference ADR 034 and
//! `storage.md` §13), with the reference's weaknesses fixed.
//!
//! [`restore`] plans every selected tree entry, then (unless a dry run) writes them:
//!
//! 1. **Selection.** Every entry, or the entries a [`PathFilter`] selects (an exact path
//!    or a directory prefix). A filter that selects nothing is a failed `not_in_tree` item.
//! 2. **Per-entry checks**, each failing only its own item (one unsafe or broken entry never
//!    blocks the others): the path passes [`validate_workspace_relative_path`] (reason =
//!    the error name) and has no `.git` segment (`GitPath`: restore never writes into git
//!    metadata); the mode is `file` (`unsupported_mode`); every parent component is a real
//!    directory, checked with a no-follow `lstat` (`ParentNotDirectory`, so a symlinked
//!    directory is refused too); the target, also `lstat`ed, is missing, a regular file or
//!    a symlink (`is_directory`, `unsupported_target_type` otherwise); the blob is readable
//!    and not a metadata-only placeholder (`metadata_only_blob`).
//! 3. **Existing targets.** A regular file with the blob's content is `skipped`/`unchanged`.
//!    Any other existing file or symlink is `skipped`/`exists` unless `force`.
//! 4. **Safety step.** With `force`, the current content of every regular file about to be
//!    overwritten is first committed as a real step of session `agit/restore-safety`
//!    ([`SAFETY_ORIGIN`], [`SAFETY_SESSION`]), whose tree holds just those files, so
//!    restoring that step with `force` undoes the restore. It is committed *before* the first
//!    overwrite: if writing fails half-way, every file already overwritten is recoverable.
//!    Content is kept under the configured snapshot capture level: when that level would
//!    not keep the file exactly (`metadata_only`, `disabled`, or `redacted` and the file
//!    holds a secret), the file is not overwritten (`safety_copy_unavailable`).
//! 5. **Writes.** Missing parent directories are created one at a time (re-checked without
//!    following symlinks). A new file is linked into place without replacing anything
//!    ([`durable::write_new`]; a file that appeared meanwhile is `skipped`/`exists`). An
//!    overwrite is an atomic rename over the target ([`durable::replace`]).
//!
//! **Symlinks are never followed.** Parent components must be real directories, the target
//! is inspected with `lstat`, existing content is read with `O_NOFOLLOW`, and writes
//! create or rename a directory entry. With `force`, a symlink at the target is itself
//! replaced by a regular file (`replaced_symlink`); the file it pointed to is untouched.
//! A symlink cannot be represented in a tree, so it is not part of the safety step; its
//! old target is reported in the item's `detail` instead.
//!
//! The checks and the writes are separate system calls, so a process racing restore inside
//! the target directory could still swap a checked directory for a symlink in between;
//! restore defends against mistakes and hostile *trees*, not against a hostile concurrent
//! local user.

mod path;
mod safety;

#[cfg(test)]
mod tests;

pub use path::{PathError, validate_workspace_relative_path};
pub use safety::{SAFETY_ORIGIN, SAFETY_SESSION};

use std::fs::{self, File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::hash::ObjectId;
use crate::object::{FILE_MODE, Tree, TreeEntry};
use crate::store::{Store, durable};

/// Blobs that start with this and whose length differs from the entry's recorded size are
/// metadata-only snapshot placeholders (`[[agit snapshot metadata-only path=… bytes=…]]`).
pub const METADATA_ONLY_PLACEHOLDER_PREFIX: &[u8] = b"[[agit snapshot metadata-only path=";

/// Reason of entries with a `.git` segment (restore never writes git metadata).
pub const GIT_PATH: &str = "GitPath";

/// Check a path the way restore does: [`validate_workspace_relative_path`], then no `.git`
/// segment at any depth (ASCII case-insensitive). Returns the reason name.
pub fn check_restore_path(path: &str) -> std::result::Result<(), &'static str> {
    validate_workspace_relative_path(path).map_err(PathError::name)?;
    if path.split('/').any(|s| s.eq_ignore_ascii_case(".git")) {
        return Err(GIT_PATH);
    }
    Ok(())
}

/// One requested path: an exact tree path, or a directory whose entries are all selected.
/// A trailing `/` selects only entries under the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathFilter {
    path: String,
    dir_only: bool,
}

/// A requested path that is not safe; [`UnsafeFilter::reason`] is the error name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsafeFilter {
    pub path: String,
    pub reason: &'static str,
}

impl PathFilter {
    /// Validate a requested path (see [`check_restore_path`]).
    pub fn parse(arg: &str) -> std::result::Result<PathFilter, UnsafeFilter> {
        let (path, dir_only) = match arg.strip_suffix('/') {
            Some(dir) if !dir.is_empty() => (dir, true),
            _ => (arg, false),
        };
        check_restore_path(path).map_err(|reason| UnsafeFilter { path: arg.to_owned(), reason })?;
        Ok(PathFilter { path: path.to_owned(), dir_only })
    }

    /// Validate every requested path; the first unsafe one is the error.
    pub fn parse_all<S: AsRef<str>>(args: &[S]) -> std::result::Result<Vec<PathFilter>, UnsafeFilter> {
        args.iter().map(|a| PathFilter::parse(a.as_ref())).collect()
    }

    /// The path as given (with its trailing `/`, if any).
    pub fn as_given(&self) -> String {
        if self.dir_only { format!("{}/", self.path) } else { self.path.clone() }
    }

    /// Whether the filter selects the tree path `entry`.
    pub fn matches(&self, entry: &str) -> bool {
        (!self.dir_only && entry == self.path)
            || entry.strip_prefix(self.path.as_str()).is_some_and(|rest| rest.starts_with('/'))
    }
}

/// Which entries to restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreScope {
    All,
    Paths(Vec<PathFilter>),
}

/// What [`restore`] does.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// The directory the tree's paths are relative to: the workspace, or `--to DIR`
    /// (created when missing, unless a dry run).
    pub root: PathBuf,
    pub scope: RestoreScope,
    /// Overwrite existing files and replace symlinks, after committing a safety step.
    pub force: bool,
    /// Plan only: write nothing, create nothing.
    pub dry_run: bool,
}

/// Outcome of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemStatus {
    Restored,
    /// Would be restored (dry run).
    Planned,
    Skipped,
    Failed,
}

/// Reason of a restored (or planned) overwrite of a regular file.
pub const REPLACED: &str = "replaced";
/// Reason of a restored (or planned) replacement of a symlink by a regular file.
pub const REPLACED_SYMLINK: &str = "replaced_symlink";
/// Skipped: the target exists (rerun with force).
pub const EXISTS: &str = "exists";
/// Skipped: the target already has the recorded content.
pub const UNCHANGED: &str = "unchanged";

/// One tree entry (or unmatched filter) and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreItem {
    pub path: String,
    pub status: ItemStatus,
    /// Why it was skipped or failed, or how it was restored (`replaced`,
    /// `replaced_symlink`); `None` for a plain new file.
    pub reason: Option<&'static str>,
    /// Bytes written (or that would be) for restored and planned items.
    pub bytes: Option<u64>,
    /// A human explanation (the failing error, the old symlink target).
    pub detail: Option<String>,
}

/// The step that holds the files a forced restore overwrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyStep {
    pub id: ObjectId,
    /// The saved paths (relative to the restore root), sorted.
    pub paths: Vec<String>,
}

/// Everything [`restore`] did, in tree order (unmatched filters last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreOutcome {
    pub items: Vec<RestoreItem>,
    pub safety_step: Option<SafetyStep>,
}

impl RestoreOutcome {
    /// `(restored, skipped, failed)`; planned items count as restored.
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |f: fn(ItemStatus) -> bool| self.items.iter().filter(|i| f(i.status)).count();
        (
            count(|s| matches!(s, ItemStatus::Restored | ItemStatus::Planned)),
            count(|s| s == ItemStatus::Skipped),
            count(|s| s == ItemStatus::Failed),
        )
    }

    pub fn has_failures(&self) -> bool {
        self.items.iter().any(|i| i.status == ItemStatus::Failed)
    }
}

/// Restore the tree of step `step` (see the module docs).
pub fn restore_step(store: &Store, step: &ObjectId, options: &RestoreOptions) -> Result<RestoreOutcome> {
    let tree_id = store.read_step(step)?.tree;
    let tree = store.read_tree(&tree_id)?;
    restore(store, &tree, Some(step), options)
}

/// Restore entries of `tree` under `options.root`. `source` (the step the tree belongs to)
/// is named in the safety step. Errors are only about the root and the safety step's
/// store access; every per-entry problem is an item.
pub fn restore(
    store: &Store,
    tree: &Tree,
    source: Option<&ObjectId>,
    options: &RestoreOptions,
) -> Result<RestoreOutcome> {
    let root = &options.root;
    let root_exists = match fs::metadata(root) {
        Ok(meta) if meta.is_dir() => true,
        Ok(_) => {
            let e = io::Error::new(io::ErrorKind::NotADirectory, "not a directory");
            return Err(Error::io("restore into", root, e));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(Error::io("restore into", root, e)),
    };
    if !root_exists && !options.dry_run {
        durable::create_dir_durable(root)?;
    }
    let root_exists = root_exists || !options.dry_run;

    let (selected, unmatched) = select(tree, &options.scope);
    let mut plans: Vec<Plan> =
        selected.into_iter().map(|entry| plan_entry(store, root, root_exists, entry, options.force)).collect();

    let safety_step = save_overwritten(store, source, root, &mut plans, options.dry_run);

    let mut items: Vec<RestoreItem> = plans
        .into_iter()
        .map(|plan| if options.dry_run { plan.dry_run_item() } else { execute(store, root, plan) })
        .collect();
    items.extend(unmatched.into_iter().map(|path| RestoreItem {
        path,
        status: ItemStatus::Failed,
        reason: Some("not_in_tree"),
        bytes: None,
        detail: Some("no file of the snapshot matches this path".into()),
    }));
    Ok(RestoreOutcome { items, safety_step })
}

/// Before any overwrite: refuse the overwrites whose content cannot be kept exactly, then
/// (unless a dry run) commit the safety step holding the rest. When the commit fails, no
/// file is overwritten.
fn save_overwritten(
    store: &Store,
    source: Option<&ObjectId>,
    root: &Path,
    plans: &mut [Plan],
    dry_run: bool,
) -> Option<SafetyStep> {
    if !plans.iter().any(|p| matches!(p.action, Action::Replace { .. })) {
        return None;
    }
    match safety::SafetyCapture::load(store) {
        Ok(capture) => {
            for plan in plans.iter_mut() {
                if let Action::Replace { previous } = &plan.action
                    && let Some(why) = capture.refuses(previous)
                {
                    plan.action = Action::Fail { reason: safety::SAFETY_COPY_UNAVAILABLE, detail: Some(why) };
                }
            }
        }
        Err(why) => {
            for plan in plans.iter_mut().filter(|p| matches!(p.action, Action::Replace { .. })) {
                plan.action = Action::Fail { reason: safety::SAFETY_COPY_UNAVAILABLE, detail: Some(why.clone()) };
            }
        }
    }
    if dry_run {
        return None;
    }
    let files: Vec<(&str, &[u8])> = plans
        .iter()
        .filter_map(|p| match &p.action {
            Action::Replace { previous } => Some((p.path.as_str(), previous.as_slice())),
            _ => None,
        })
        .collect();
    if files.is_empty() {
        return None;
    }
    let detail = match safety::commit(store, source, root, &files) {
        Ok((id, paths)) => return Some(SafetyStep { id, paths }),
        Err(e) => format!("could not record the safety step, so nothing was overwritten: {e}"),
    };
    for plan in plans.iter_mut().filter(|p| matches!(p.action, Action::Replace { .. })) {
        plan.action = Action::Fail { reason: safety::SAFETY_SNAPSHOT_FAILED, detail: Some(detail.clone()) };
    }
    None
}

/// The selected entries (tree order), and the filters that selected nothing.
fn select<'t>(tree: &'t Tree, scope: &RestoreScope) -> (Vec<&'t TreeEntry>, Vec<String>) {
    match scope {
        RestoreScope::All => (tree.entries.iter().collect(), Vec::new()),
        RestoreScope::Paths(filters) => {
            let selected = tree.entries.iter().filter(|e| filters.iter().any(|f| f.matches(&e.path))).collect();
            let mut unmatched: Vec<String> = filters
                .iter()
                .filter(|f| !tree.entries.iter().any(|e| f.matches(&e.path)))
                .map(PathFilter::as_given)
                .collect();
            unmatched.dedup();
            (selected, unmatched)
        }
    }
}

/// What to do with one entry.
#[derive(Debug)]
enum Action {
    /// Create a new file (no file there when planned).
    Create,
    /// Overwrite a regular file whose current content is `previous`.
    Replace {
        previous: Vec<u8>,
    },
    /// Replace a symlink (pointing at `target`) by a regular file.
    ReplaceSymlink {
        target: String,
    },
    Skip {
        reason: &'static str,
    },
    Fail {
        reason: &'static str,
        detail: Option<String>,
    },
}

#[derive(Debug)]
struct Plan {
    path: String,
    blob: ObjectId,
    /// Length of the blob (bytes to write).
    len: u64,
    action: Action,
}

impl Plan {
    fn fail(entry: &TreeEntry, reason: &'static str, detail: Option<String>) -> Plan {
        Plan { path: entry.path.clone(), blob: entry.blob, len: 0, action: Action::Fail { reason, detail } }
    }

    fn item(&self, status: ItemStatus, reason: Option<&'static str>, detail: Option<String>) -> RestoreItem {
        let bytes = matches!(status, ItemStatus::Restored | ItemStatus::Planned).then_some(self.len);
        RestoreItem { path: self.path.clone(), status, reason, bytes, detail }
    }

    fn dry_run_item(self) -> RestoreItem {
        match &self.action {
            Action::Create => self.item(ItemStatus::Planned, None, None),
            Action::Replace { .. } => self.item(ItemStatus::Planned, Some(REPLACED), None),
            Action::ReplaceSymlink { target } => {
                self.item(ItemStatus::Planned, Some(REPLACED_SYMLINK), Some(symlink_detail(target)))
            }
            Action::Skip { reason } => self.item(ItemStatus::Skipped, Some(reason), None),
            Action::Fail { reason, detail } => self.item(ItemStatus::Failed, Some(reason), detail.clone()),
        }
    }
}

fn symlink_detail(target: &str) -> String {
    format!("was a symlink to `{target}`; the link was replaced by a regular file, its target is untouched")
}

/// Check one entry without writing anything.
fn plan_entry(store: &Store, root: &Path, root_exists: bool, entry: &TreeEntry, force: bool) -> Plan {
    if let Err(reason) = check_restore_path(&entry.path) {
        return Plan::fail(entry, reason, None);
    }
    if entry.mode != FILE_MODE {
        return Plan::fail(entry, "unsupported_mode", Some(format!("mode `{}` cannot be restored", entry.mode)));
    }
    let target = root.join(&entry.path);
    let parents_exist = match check_parents(root, &entry.path, false) {
        Ok(exist) => root_exists && exist,
        Err((reason, detail)) => return Plan::fail(entry, reason, Some(detail)),
    };
    let existing = if parents_exist {
        match fs::symlink_metadata(&target) {
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Plan::fail(entry, "io_error", Some(format!("cannot inspect the target: {e}"))),
        }
    } else {
        None
    };
    if let Some(meta) = &existing
        && let Err(reason) = writable_kind(meta)
    {
        return Plan::fail(entry, reason, None);
    }
    let content = match read_blob(store, entry) {
        Ok(content) => content,
        Err((reason, detail)) => return Plan::fail(entry, reason, Some(detail)),
    };
    let len = content.len() as u64;
    let plan = |action| Plan { path: entry.path.clone(), blob: entry.blob, len, action };
    let Some(meta) = existing else { return plan(Action::Create) };
    if meta.file_type().is_symlink() {
        if !force {
            return plan(Action::Skip { reason: EXISTS });
        }
        let target = fs::read_link(&target).map(|t| t.display().to_string()).unwrap_or_else(|_| "?".into());
        return plan(Action::ReplaceSymlink { target });
    }
    let previous = match read_no_follow(&target) {
        Ok(previous) => previous,
        Err(e) => return Plan::fail(entry, "io_error", Some(format!("cannot read the existing file: {e}"))),
    };
    if previous == content {
        plan(Action::Skip { reason: UNCHANGED })
    } else if force {
        plan(Action::Replace { previous })
    } else {
        plan(Action::Skip { reason: EXISTS })
    }
}

/// A regular file or symlink may be replaced; anything else is a failure reason.
fn writable_kind(meta: &Metadata) -> std::result::Result<(), &'static str> {
    let kind = meta.file_type();
    if kind.is_file() || kind.is_symlink() {
        Ok(())
    } else if kind.is_dir() {
        Err("is_directory")
    } else {
        Err("unsupported_target_type")
    }
}

/// Read and check an entry's blob: `(reason, detail)` on failure.
fn read_blob(store: &Store, entry: &TreeEntry) -> std::result::Result<Vec<u8>, (&'static str, String)> {
    let content = store.read_object(&entry.blob).map_err(|e| (e.code(), e.to_string()))?;
    if is_metadata_only_placeholder(&content, entry.size) {
        return Err((
            "metadata_only_blob",
            "only metadata was captured for this file (privacy.capture.snapshots = metadata_only)".into(),
        ));
    }
    Ok(content)
}

/// Whether `blob` is a metadata-only placeholder of a file of `size` bytes. A real file
/// that merely starts with the placeholder text has its own length as its size.
pub fn is_metadata_only_placeholder(blob: &[u8], size: u64) -> bool {
    blob.starts_with(METADATA_ONLY_PLACEHOLDER_PREFIX) && blob.len() as u64 != size
}

/// Check (and with `create`, create) the parent directories of `rel` under `root`, one
/// component at a time, never following a symlink. `Ok(true)` when all exist (or were
/// created), `Ok(false)` when one is missing (only without `create`).
fn check_parents(root: &Path, rel: &str, create: bool) -> std::result::Result<bool, (&'static str, String)> {
    let mut dir = root.to_path_buf();
    let segments: Vec<&str> = rel.split('/').collect();
    let parents = &segments[..segments.len().saturating_sub(1)];
    for (i, segment) in parents.iter().enumerate() {
        let parent = dir.clone();
        dir.push(segment);
        let shown = parents[..=i].join("/");
        let not_dir = |what: &str| ("ParentNotDirectory", format!("`{shown}` is {what}, not a directory"));
        match fs::symlink_metadata(&dir) {
            Ok(meta) if meta.file_type().is_dir() => {}
            Ok(meta) if meta.file_type().is_symlink() => return Err(not_dir("a symlink")),
            Ok(_) => return Err(not_dir("a file")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !create {
                    return Ok(false);
                }
                match fs::create_dir(&dir) {
                    Ok(()) => durable::sync_dir(&parent).map_err(|e| ("io_error", e.to_string()))?,
                    // Someone else created it meanwhile: accept only a real directory.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match fs::symlink_metadata(&dir) {
                        Ok(meta) if meta.file_type().is_dir() => {}
                        _ => return Err(not_dir("not a directory")),
                    },
                    Err(e) => return Err(("io_error", format!("cannot create directory `{shown}`: {e}"))),
                }
            }
            Err(e) => return Err(("io_error", format!("cannot inspect `{shown}`: {e}"))),
        }
    }
    Ok(true)
}

/// Read a regular file without following a symlink at its name.
fn read_no_follow(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = File::options().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("no longer a regular file"));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Carry out one plan.
fn execute(store: &Store, root: &Path, plan: Plan) -> RestoreItem {
    match &plan.action {
        Action::Skip { reason } => return plan.item(ItemStatus::Skipped, Some(reason), None),
        Action::Fail { reason, detail } => return plan.item(ItemStatus::Failed, Some(reason), detail.clone()),
        Action::Create | Action::Replace { .. } | Action::ReplaceSymlink { .. } => {}
    }
    if let Err((reason, detail)) = check_parents(root, &plan.path, true) {
        return plan.item(ItemStatus::Failed, Some(reason), Some(detail));
    }
    // Read again rather than keeping every blob of the plan in memory.
    let content = match store.read_object(&plan.blob) {
        Ok(content) => content,
        Err(e) => return plan.item(ItemStatus::Failed, Some(e.code()), Some(e.to_string())),
    };
    let target = root.join(&plan.path);
    #[cfg(test)]
    if tests::FAIL_WRITES.with(|f| f.borrow().contains(&plan.path)) {
        let e = Error::io("rename into", &target, io::Error::other("injected failure"));
        return plan.item(ItemStatus::Failed, Some(e.code()), Some(e.to_string()));
    }
    let written = match &plan.action {
        Action::Create => durable::write_new(&target, &content).map(|created| created.then_some(None)),
        Action::Replace { .. } => durable::replace(&target, &content).map(|()| Some(Some(REPLACED))),
        Action::ReplaceSymlink { .. } => durable::replace(&target, &content).map(|()| Some(Some(REPLACED_SYMLINK))),
        Action::Skip { .. } | Action::Fail { .. } => unreachable!("handled above"),
    };
    match written {
        Ok(Some(reason)) => {
            let detail = match &plan.action {
                Action::ReplaceSymlink { target } => Some(symlink_detail(target)),
                _ => None,
            };
            RestoreItem { bytes: Some(content.len() as u64), ..plan.item(ItemStatus::Restored, reason, detail) }
        }
        // A file appeared after planning: it was not saved in the safety step, keep it.
        Ok(None) => plan.item(ItemStatus::Skipped, Some(EXISTS), Some("the file appeared while restoring".into())),
        Err(e) => plan.item(ItemStatus::Failed, Some(e.code()), Some(e.to_string())),
    }
}
