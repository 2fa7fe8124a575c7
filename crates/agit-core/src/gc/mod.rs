//! `agit gc`: keep what is reachable, repack it into one `AGITPK2` pack, prune the rest
//! once it is older than the grace period (reference `storage.md` §10, DECISIONS §2
//! improvement 6).
//!
//! # What is kept
//!
//! Reachable = everything [`crate::reach::reachable_from_store`] walks to: every session
//! ref's step chain with trees and blobs, blame objects (and the steps their lines name)
//! and eval objects, whose roots are the index's `blame_maps` / `evaluations` rows or,
//! without a usable index, re-derived from the objects themselves. An unreachable object
//! is pruned only when it is older than the grace period (default 2 h): a loose object by
//! its file's mtime, a packed one by its pack's mtime. Young unreachable objects stay
//! loose (and those in a pack about to be removed are written out loose with that pack's
//! mtime), so their age keeps counting: packing them would reset it at every gc.
//!
//! # Locking: two phases
//!
//! Finalizes hold `gc.lock` shared; gc takes it exclusively only for the part that
//! must not race them, so a gc writing a large pack does not stall every agent:
//!
//! 0. With `prune_before`: exclusive. Refs whose head step is older than the cutoff are
//!    deleted (compare-and-delete under each ref's lock), then the index is rebuilt so
//!    blame rows of the dropped steps stop keeping them alive.
//! 1. **Pack** (shared, like a finalize): mark, then write every reachable object into one
//!    new pack plus its idx, each fsynced with its directory before it is linked in. The
//!    slow part. Skipped when the store already is exactly one pack of the reachable set.
//! 2. **Sweep** (exclusive): mark again, incrementally (steps committed since phase 1 and
//!    new blame/eval roots; everything phase 1 reached stays kept), clear the snapshot
//!    stat cache (it trusts blob ids without re-checking them), write out what must
//!    survive from packs being removed, flush, then delete superseded packs, loose copies
//!    of packed objects and old unreachable objects; remove crash leftovers (temp files
//!    of atomic writes older than the grace period and at least an hour, pack temp files
//!    and idx files whose pack is gone), rotate the hook log, and rebuild the index into
//!    a new file swapped in atomically when anything was pruned or its object rows do not
//!    match the store. Staging files and turn state in `tmp/` are never removed: they
//!    hold turns not yet recorded (`agit doctor` reports them).
//!
//! Lock order: `gc.lock` → `index.lock` → a ref lock, as everywhere. Pack writers must
//! hold `gc.lock` (gc is the only one), which is why phase 2 may delete any pack temp
//! file whatever its age.
//!
//! # Crash safety
//!
//! Nothing is deleted before the new pack and idx are durable and every object leaving a
//! removed pack is durable loose. A crash at any point leaves every reachable object
//! readable: loose, in the new pack, or still in an old pack. The next gc finishes the job
//! (leftover temp packs included).

mod order;
mod sweep;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::error::Error;
use crate::hash::ObjectId;
use crate::index::{Index, rebuild};
use crate::object::ObjectKind;
use crate::reach::{Walker, index_roots, reachable_from_store, roots_index, session_heads};
use crate::store::lock::{self, LockMode};
use crate::store::pack::{MAX_OBJECT_LEN, PackInfo, PackOptions};
use crate::store::{SessionRef, Store, durable, hook_log};

use sweep::{Inventory, Plan};

/// Default grace period (reference: 2 hours): unreachable objects younger than this are
/// kept, so objects a writer has just stored but not yet referenced are never pruned.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(2 * 3600);

/// How long gc waits for the hook log's lock before leaving rotation for next time.
const LOG_ROTATE_WAIT: Duration = Duration::from_millis(50);

/// A pack dictionary is trained when at least this many steps are packed.
const DICTIONARY_MIN_STEPS: usize = 32;
/// Steps (and as many first versions of other objects) sampled for the dictionary.
const DICTIONARY_SAMPLES: usize = 300;
/// Largest dictionary: zstd's default training size (the pack format allows 1 MiB).
const DICTIONARY_BYTES: usize = 112_640;
/// Below this a dictionary is not worth its training.
const DICTIONARY_MIN_BYTES: usize = 1 << 10;

/// What gc should do.
#[derive(Debug, Clone)]
pub struct GcOptions {
    /// Unreachable objects (and stale temp files) younger than this are kept.
    pub grace: Duration,
    /// Drop sessions whose head step is older than this (Unix ms) before marking.
    pub prune_before_ms: Option<i64>,
    /// Report what would happen; change nothing.
    pub dry_run: bool,
    /// How the new pack is written (level, delta depth). A dictionary is trained on the
    /// packed steps when there are enough of them and none is given.
    pub pack: PackOptions,
}

impl Default for GcOptions {
    fn default() -> Self {
        GcOptions { grace: DEFAULT_GRACE, prune_before_ms: None, dry_run: false, pack: PackOptions::default() }
    }
}

/// Why gc stopped. Nothing was pruned or removed when it fails before its sweep.
#[derive(Debug, thiserror::Error)]
pub enum GcError {
    /// What is reachable could not be determined (a ref's chain, a tree, a blame object
    /// is missing or unreadable), so gc refused to prune anything.
    #[error("cannot tell what is reachable, so nothing was pruned: {source}")]
    Mark {
        #[source]
        source: Error,
    },
    /// Any other store error.
    #[error(transparent)]
    Store(#[from] Error),
}

impl GcError {
    /// The stable diagnostic code.
    pub fn code(&self) -> &'static str {
        match self {
            GcError::Mark { .. } => "gc_mark_failed",
            GcError::Store(e) => e.code(),
        }
    }
}

/// An object gc pruned (or would prune).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrunedObject {
    /// Its id (64 hex).
    pub hash: String,
    /// Stored size in bytes (file size when loose, object size when packed).
    pub size: u64,
    /// `loose` or `pack <name>` (the youngest copy).
    pub location: String,
}

/// A stale temp file gc removed (or would remove).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemovedFile {
    /// Path relative to the workspace (`.agit/...`).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
}

/// The pack gc wrote or kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackSummary {
    /// Pack name (64 hex; file stem of `.pack` and `.idx`).
    pub name: String,
    /// Objects in it.
    pub entries: u64,
    /// Entries stored as deltas.
    pub deltas: u64,
    /// `.pack` size in bytes.
    pub pack_bytes: u64,
    /// `.idx` size in bytes.
    pub idx_bytes: u64,
    /// True when the store already was exactly this pack and nothing was rewritten.
    pub reused: bool,
}

/// What gc did (or, with `dry_run`, would do). Counts cover loose and packed objects;
/// an object stored twice counts once.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GcReport {
    pub dry_run: bool,
    /// Grace period in milliseconds.
    pub grace_ms: u64,
    /// The `prune_before` cutoff, Unix ms.
    pub prune_before_ms: Option<i64>,
    /// Sessions whose refs were dropped by `prune_before` (serialized as
    /// `origin/session-id`).
    #[serde(serialize_with = "session_names")]
    pub sessions_pruned: Vec<SessionRef>,
    /// Distinct objects stored before gc.
    pub total_objects_before: u64,
    /// Loose object files before gc.
    pub loose_objects_before: u64,
    /// Pack files before gc (usable ones).
    pub packs_before: u64,
    /// Bytes of loose objects, packs and pack indexes before gc.
    pub bytes_before: u64,
    /// The same after gc (`None` for a dry run).
    pub bytes_after: Option<u64>,
    /// Reachable objects (those stored).
    pub reachable_objects: u64,
    /// Their total size in bytes.
    pub reachable_bytes: u64,
    /// Objects stored after gc (or that would be).
    pub objects_kept: u64,
    /// Unreachable objects kept because they are younger than the grace period.
    pub young_kept: u64,
    /// Unreachable objects removed.
    pub objects_pruned: u64,
    /// Their size in bytes.
    pub object_bytes_pruned: u64,
    /// The pruned objects.
    pub pruned: Vec<PrunedObject>,
    /// Objects in the new pack (0 when none was written).
    pub objects_packed: u64,
    /// The pack holding the reachable objects afterwards (`None` in a dry run, or when
    /// nothing is reachable).
    pub pack: Option<PackSummary>,
    /// Loose copies deleted because the object is in the kept pack.
    pub loose_removed: u64,
    /// Objects too large for a pack (over 1 GiB), left loose.
    pub oversized_loose: u64,
    /// Objects written out loose from packs being removed (young or reachable ones the
    /// new pack does not hold).
    pub unpacked: u64,
    /// Packs removed (names).
    pub packs_removed: Vec<String>,
    /// Packs that could not be opened; left untouched (see `agit fsck`).
    pub broken_packs: Vec<String>,
    /// Stale temp files removed (crash leftovers of atomic writes, pack writes, rebuilds).
    pub tmp_files_pruned: Vec<RemovedFile>,
    /// `log/hook-error.log` was over 10 MiB and rotated to `hook-error.log.1`.
    pub log_rotated: bool,
    /// The index was rebuilt (into a new file, swapped in atomically).
    pub reindexed: bool,
    /// Problems the rebuild reported (everything else was indexed).
    pub reindex_problems: Vec<String>,
}

fn session_names<S: serde::Serializer>(sessions: &[SessionRef], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(sessions.iter().map(SessionRef::display_name))
}

/// Run gc on `store` (see the module documentation).
pub fn gc(store: &Store, options: &GcOptions) -> Result<GcReport, GcError> {
    let mut report = GcReport {
        dry_run: options.dry_run,
        grace_ms: u64::try_from(options.grace.as_millis()).unwrap_or(u64::MAX),
        prune_before_ms: options.prune_before_ms,
        ..GcReport::default()
    };
    if options.dry_run {
        dry_run(store, options, &mut report)?;
        return Ok(report);
    }
    store.ensure_layout()?;

    // Phase 0: drop old sessions, then rebuild so their blame rows stop being roots.
    if let Some(cutoff) = options.prune_before_ms {
        let _gc = lock::acquire(&store.gc_lock_path(), LockMode::Exclusive, lock::lock_timeout())?;
        report.sessions_pruned = prune_refs(store, cutoff, true)?;
        if !report.sessions_pruned.is_empty() {
            reindex(store, &mut report)?;
        }
    }
    let packed = pack_phase(store, options)?;
    sweep_phase(store, options, packed, &mut report)?;
    Ok(report)
}

/// What phase 1 reached and packed.
struct Packed {
    reached: HashMap<ObjectId, ObjectKind>,
    /// The pack it wrote.
    written: Option<PackInfo>,
    /// The pack it found already holding exactly the reachable objects.
    reused: Option<String>,
}

/// Phase 1, under `gc.lock` shared: mark, then write the new pack (or find that the only
/// pack already holds exactly what is reachable).
fn pack_phase(store: &Store, options: &GcOptions) -> Result<Packed, GcError> {
    let _gc = lock::acquire(&store.gc_lock_path(), LockMode::Shared, lock::lock_timeout())?;
    let index = roots_index(store)?;
    let reached = mark(store, index.as_ref())?;
    drop(index);
    let inventory = Inventory::scan(store)?;
    let target = pack_target(&reached, &inventory);
    let reused = inventory.reusable_pack(&target).map(|p| p.name.clone());
    let written = if reused.is_some() || target.is_empty() {
        None
    } else {
        Some(order::write_pack(store, &reached, &target, &options.pack)?)
    };
    Ok(Packed { reached, written, reused })
}

/// Phase 2, under `gc.lock` exclusive: mark what changed since phase 1, then sweep.
fn sweep_phase(store: &Store, options: &GcOptions, packed: Packed, report: &mut GcReport) -> Result<(), GcError> {
    let _gc = lock::acquire(&store.gc_lock_path(), LockMode::Exclusive, lock::lock_timeout())?;
    let index = roots_index(store)?;
    let mut reindex_needed = index.is_none();
    let Packed { reached: first, written, reused } = packed;
    let reached = remark(store, index.as_ref(), first)?;
    let inventory = Inventory::scan(store)?;
    // Objects recorded since phase 1 are not in the kept pack; they stay loose (young
    // or reachable) until the next gc.
    let keep = match (&written, &reused) {
        (Some(info), _) => inventory.pack_named(&info.name),
        (None, Some(name)) => inventory.pack_named(name),
        (None, None) => None,
    };
    let now = SystemTime::now();
    let plan = Plan::new(&inventory, &reached, keep, options.grace, now);
    fill_counts(report, &inventory, &reached, &plan);
    report.pack = keep.map(|pack| PackSummary {
        name: pack.name.clone(),
        entries: pack.entries.len() as u64,
        deltas: pack.deltas,
        pack_bytes: pack.pack_bytes,
        idx_bytes: pack.idx_bytes,
        reused: written.is_none(),
    });
    report.objects_packed = if written.is_some() { keep.map_or(0, |p| p.entries.len() as u64) } else { 0 };

    // An index whose object rows do not match what stays (an earlier gc killed before
    // its rebuild, a finalize killed before its commit) is rebuilt too.
    reindex_needed |= index_drifts(index.as_ref(), &plan)?;
    if plan.deletes_anything()
        && let Some(index) = &index
    {
        // Before any delete: a crash after the first one must not leave cached rows
        // naming a pruned blob (finalizes trust them without checking).
        index.clear_stat_cache()?;
    }
    plan.execute(store)?;
    report.tmp_files_pruned = sweep::remove_temp_files(store, &inventory, options.grace, now, false)?;
    report.log_rotated = hook_log::rotate_hook_log(store, LOG_ROTATE_WAIT)?;
    drop(index);
    reindex_needed |= report.objects_pruned > 0;
    if reindex_needed {
        reindex(store, report)?;
    }
    report.bytes_after = Some(Inventory::scan(store)?.object_bytes());
    Ok(())
}

/// The dry run: phase 1's marking under a shared lock, then the plan phase 2 would
/// carry out, assuming the new pack would hold every reachable object.
fn dry_run(store: &Store, options: &GcOptions, report: &mut GcReport) -> Result<(), GcError> {
    if !store.gc_lock_path().exists() {
        // Taking the lock would create the file; a store never finalized has nothing
        // that could race us.
        return dry_run_unlocked(store, options, report);
    }
    let _gc = lock::acquire(&store.gc_lock_path(), LockMode::Shared, lock::lock_timeout())?;
    dry_run_unlocked(store, options, report)
}

fn dry_run_unlocked(store: &Store, options: &GcOptions, report: &mut GcReport) -> Result<(), GcError> {
    let index = if store.index_path().exists() { roots_index(store)? } else { None };
    let dropped = match options.prune_before_ms {
        Some(cutoff) => prune_refs(store, cutoff, false)?,
        None => Vec::new(),
    };
    let reached = if dropped.is_empty() {
        mark(store, index.as_ref())?
    } else {
        // As phase 0 would leave it: without the dropped sessions' heads. Their steps
        // still named by blame rows count as kept here; the real run rebuilds the index
        // first, so it prunes them.
        let mut walker = Walker::new(store);
        for (session, head) in session_heads(store).map_err(mark_error)? {
            if !dropped.contains(&session) {
                walker.add_chain(head).map_err(mark_error)?;
            }
        }
        add_index_roots(&mut walker, store, index.as_ref(), &HashMap::new())?;
        kinds_of(walker)
    };
    report.sessions_pruned = dropped;
    let inventory = Inventory::scan(store)?;
    let target = pack_target(&reached, &inventory);
    let reusable = inventory.reusable_pack(&target);
    let plan = match reusable {
        Some(pack) => Plan::new(&inventory, &reached, Some(pack), options.grace, SystemTime::now()),
        None => Plan::hypothetical(&inventory, &reached, &target, options.grace, SystemTime::now()),
    };
    fill_counts(report, &inventory, &reached, &plan);
    report.objects_packed = if reusable.is_some() { 0 } else { target.len() as u64 };
    report.tmp_files_pruned = sweep::remove_temp_files(store, &inventory, options.grace, SystemTime::now(), true)?;
    let drifts = index_drifts(index.as_ref(), &plan)?;
    drop(index);
    report.log_rotated =
        std::fs::metadata(hook_log::hook_log_path(store)).is_ok_and(|m| m.len() > hook_log::ROTATE_BYTES);
    report.reindexed =
        drifts || report.objects_pruned > 0 || !report.sessions_pruned.is_empty() || !store.index_path().exists();
    Ok(())
}

/// Whether the index's object rows differ in number from the objects the plan keeps.
fn index_drifts(index: Option<&Index>, plan: &Plan) -> Result<bool, GcError> {
    let Some(index) = index else { return Ok(false) };
    let rows = index.count("select count(*) from objects")?;
    Ok(u64::try_from(rows).ok() != Some(plan.kept))
}

fn fill_counts(report: &mut GcReport, inventory: &Inventory, reached: &HashMap<ObjectId, ObjectKind>, plan: &Plan) {
    report.total_objects_before = inventory.distinct_objects() as u64;
    report.loose_objects_before = inventory.loose.len() as u64;
    report.packs_before = inventory.packs.len() as u64;
    report.bytes_before = inventory.object_bytes();
    let (count, bytes) = inventory.stored_size_of(reached.keys());
    report.reachable_objects = count;
    report.reachable_bytes = bytes;
    report.objects_kept = plan.kept;
    report.young_kept = plan.young_kept;
    report.objects_pruned = plan.pruned.len() as u64;
    report.object_bytes_pruned = plan.pruned.iter().map(|p| p.size).sum();
    report.pruned = plan.pruned.clone();
    report.loose_removed = plan.loose_removed;
    report.oversized_loose = plan.oversized;
    report.unpacked = plan.unpack.len() as u64;
    report.packs_removed = plan.remove_packs.iter().map(|p| p.name.clone()).collect();
    report.broken_packs = inventory.broken.iter().map(|(path, _)| file_name(path)).collect();
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn mark_error(source: Error) -> GcError {
    GcError::Mark { source }
}

fn kinds_of(walker: Walker<'_>) -> HashMap<ObjectId, ObjectKind> {
    walker.into_reached().into_iter().map(|r| (r.id, r.kind)).collect()
}

/// Everything reachable, with kinds from context.
fn mark(store: &Store, index: Option<&Index>) -> Result<HashMap<ObjectId, ObjectKind>, GcError> {
    let reached = reachable_from_store(store, index).map_err(mark_error)?;
    Ok(reached.into_iter().map(|r| (r.id, r.kind)).collect())
}

fn add_index_roots(
    walker: &mut Walker<'_>,
    store: &Store,
    index: Option<&Index>,
    known: &HashMap<ObjectId, ObjectKind>,
) -> Result<(), GcError> {
    for root in index_roots(store, index).map_err(mark_error)? {
        if known.contains_key(&root.id) {
            continue;
        }
        match root.kind {
            ObjectKind::Blame => walker.add_blame(root.id).map_err(mark_error)?,
            _ => walker.add_eval(root.id),
        }
    }
    Ok(())
}

/// Phase 2's marking: what phase 1 reached stays (a step's history never changes; an
/// object that lost its last ref meanwhile is merely kept one gc longer), plus whatever
/// refs and index roots reach now, walking only what phase 1 did not.
fn remark(
    store: &Store,
    index: Option<&Index>,
    first: HashMap<ObjectId, ObjectKind>,
) -> Result<HashMap<ObjectId, ObjectKind>, GcError> {
    let mut walker = Walker::new(store);
    walker.stop_at(first.iter().filter(|(_, kind)| **kind == ObjectKind::Step).map(|(id, _)| *id));
    for (_, head) in session_heads(store).map_err(mark_error)? {
        walker.add_chain(head).map_err(mark_error)?;
    }
    add_index_roots(&mut walker, store, index, &first)?;
    let mut reached = first;
    for r in walker.into_reached() {
        reached.entry(r.id).or_insert(r.kind);
    }
    Ok(reached)
}

/// The objects the pack should hold: reachable, stored, and small enough for a pack.
fn pack_target(reached: &HashMap<ObjectId, ObjectKind>, inventory: &Inventory) -> HashSet<ObjectId> {
    reached.keys().filter(|id| inventory.size_of(id).is_some_and(|size| size <= MAX_OBJECT_LEN)).copied().collect()
}

/// Refs whose head step is older than `cutoff` (Unix ms). With `delete`, each is
/// removed under its lock if it still names the same head. Unreadable refs or heads
/// fail the run (nothing could be marked anyway).
fn prune_refs(store: &Store, cutoff: i64, delete: bool) -> Result<Vec<SessionRef>, GcError> {
    let mut dropped = Vec::new();
    for (session, head) in session_heads(store).map_err(mark_error)? {
        let step = store.read_step(&head).map_err(mark_error)?;
        if step.timestamp >= cutoff {
            continue;
        }
        if delete {
            let locked = store.refs().lock(&session, lock::lock_timeout())?;
            if locked.read()? != Some(head) {
                continue; // moved since we looked: it is being written to, so not old
            }
            let path = store.refs().path(&session);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("delete ref", &path, e).into()),
            }
            if let Some(dir) = path.parent() {
                durable::sync_dir(dir)?;
            }
        }
        dropped.push(session);
    }
    Ok(dropped)
}

/// Rebuild the index (new file, atomic swap) and record it in the report.
fn reindex(store: &Store, report: &mut GcReport) -> Result<(), GcError> {
    let stats = rebuild(store)?;
    report.reindexed = true;
    report.reindex_problems.extend(stats.problems.into_iter().map(|p| format!("{}: {}", p.code, p.message)));
    Ok(())
}
