//! Recording blame for a step (`recordStepBlame`, reference `formats.md` §5.4), the
//! crash-safe finalize wrapper and the full replay used by reindex (§5.7).

use std::path::PathBuf;

use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};

use super::compute::compute_blame_script;
use super::lines::split_lines;
use crate::error::{Error, Result};
use crate::hash::ObjectId;
use crate::index::rows::{ObjectRecord, insert_object};
use crate::index::schema::meta_keys;
use crate::index::{Index, ReconcileReport, get_meta, reconcile_all, ref_drift, set_meta};
use crate::object::{Blame, ObjectKind, Step};
use crate::snapshot::rules::{looks_binary, max_file_bytes_from_env};
use crate::store::Store;
use crate::store::lock::{self, LockMode};

/// Changed-file limit of incremental blame during finalize (`blame_max_changed_files`).
pub const FINALIZE_CHANGE_LIMIT: usize = 5000;

/// Blobs starting with this are metadata-only snapshot placeholders, never blamed.
pub const METADATA_ONLY_PREFIX: &[u8] = b"[[agit snapshot metadata-only";

/// What recording one step's blame did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlameRecordStats {
    /// `blame_maps` rows written: text files whose blob changed.
    pub rows: usize,
    /// Blame objects that were new to the store (the rest deduplicated).
    pub objects_written: usize,
    /// Files whose blob equals the latest recorded one for the path.
    pub unchanged: usize,
    /// Files over the size cap (tree size or blob length).
    pub oversized: usize,
    /// Files with a NUL byte in their first 8 KiB.
    pub binary: usize,
    /// Metadata-only placeholder blobs.
    pub placeholder: usize,
    /// Files whose diff exceeded the exact algorithm's bounds and used the fallback, so
    /// their attribution may differ from the reference's.
    pub inexact: usize,
}

impl BlameRecordStats {
    fn add(&mut self, other: &BlameRecordStats) {
        self.rows += other.rows;
        self.objects_written += other.objects_written;
        self.unchanged += other.unchanged;
        self.oversized += other.oversized;
        self.binary += other.binary;
        self.placeholder += other.placeholder;
        self.inexact += other.inexact;
    }
}

/// A `blame_maps` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlameRow {
    pub step: ObjectId,
    pub blame: ObjectId,
    pub blob: ObjectId,
    pub origin: String,
    pub session_id: String,
    pub timestamp: i64,
}

/// Columns [`blame_row`] reads, in order.
pub(crate) const ROW_COLUMNS: &str = "step_hash, blame_hash, blob_hash, session_origin, session_id, timestamp";

/// Read a hash column; a malformed hash is a conversion error (an index problem).
pub(crate) fn id_column(row: &Row<'_>, i: usize) -> rusqlite::Result<ObjectId> {
    let text: String = row.get(i)?;
    ObjectId::parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("`{text}` is not a 64-hex object id").into(),
        )
    })
}

/// Decode a row selected with [`ROW_COLUMNS`].
pub(crate) fn blame_row(row: &Row<'_>) -> rusqlite::Result<BlameRow> {
    let id = |i: usize| id_column(row, i);
    Ok(BlameRow {
        step: id(0)?,
        blame: id(1)?,
        blob: id(2)?,
        origin: row.get(3)?,
        session_id: row.get(4)?,
        timestamp: row.get(5)?,
    })
}

/// The prior version of a path as seen from one step.
struct Prior {
    /// Latest row strictly before the step in `(timestamp, step_hash)` order.
    row: Option<BlameRow>,
    /// A row strictly after the step exists (it was recorded out of order).
    newer_exists: bool,
}

/// Look up the prior row of `path` for the step at `(ts, step_hex)`.
///
/// Recording in `(timestamp, hash)` order, the latest row of the path *is* the prior one,
/// which is what the reference reads; one indexed query answers it. Only when the latest
/// row is this step's own (a repeated recording) or a later step's do we ask again for
/// the row strictly before, so a repeat is idempotent and an out-of-order recording is
/// detected instead of silently diffing against the future.
fn prior_row(conn: &Connection, path: &str, ts: i64, step_hex: &str) -> Result<Prior> {
    let latest = conn
        .prepare_cached(&format!(
            "select {ROW_COLUMNS} from blame_maps where path=?1 order by timestamp desc, step_hash desc limit 1"
        ))
        .and_then(|mut st| st.query_row([path], blame_row).optional())
        .map_err(Error::index("look up latest blame row"))?;
    let Some(latest) = latest else {
        return Ok(Prior { row: None, newer_exists: false });
    };
    let latest_hex = latest.step.to_hex();
    let order = latest.timestamp.cmp(&ts).then_with(|| latest_hex.as_str().cmp(step_hex));
    if order.is_lt() {
        return Ok(Prior { row: Some(latest), newer_exists: false });
    }
    let row = conn
        .prepare_cached(&format!(
            "select {ROW_COLUMNS} from blame_maps where path=?1 and (timestamp < ?2 or (timestamp = ?2 and step_hash < ?3))
             order by timestamp desc, step_hash desc limit 1"
        ))
        .and_then(|mut st| st.query_row(params![path, ts, step_hex], blame_row).optional())
        .map_err(Error::index("look up prior blame row"))?;
    Ok(Prior { row, newer_exists: order.is_gt() })
}

/// Record blame for every changed text file of `step` (reference `recordStepBlame`):
/// compute each file's blame against the latest recorded version of the same path (in any
/// session), write the blame objects, and upsert their `blame_maps` rows and `objects`
/// rows on `conn`. The caller owns the transaction; rows are written only after every file
/// succeeded, so an error leaves no row of this step behind (blame objects already
/// written are harmless unreferenced objects).
///
/// Files are skipped when over the size cap (`AGIT_MAX_FILE_BYTES`), unchanged since the
/// latest row, binary, or metadata-only placeholders. More than `limit` changed files is
/// [`Error::BlameChangeLimitExceeded`]; a prior blame that does not match its blob is
/// [`Error::BlameLengthMismatch`]; a later step already having a row for a changed path is
/// [`Error::BlameOutOfOrder`]. Callers turn any error into `blame.needs_reindex`.
pub fn record_step_blame(
    conn: &Connection,
    store: &Store,
    step_id: &ObjectId,
    step: &Step,
    limit: Option<usize>,
) -> Result<BlameRecordStats> {
    record_with_cap(conn, store, step_id, step, limit, max_file_bytes_from_env())
}

pub(crate) fn record_with_cap(
    conn: &Connection,
    store: &Store,
    step_id: &ObjectId,
    step: &Step,
    limit: Option<usize>,
    cap: u64,
) -> Result<BlameRecordStats> {
    let plan = plan_step(conn, store, step_id, step, limit, cap)?;
    apply_plan(conn, step_id, step, &plan)?;
    Ok(plan.stats)
}

/// The rows a step's blame will add, with their blame objects already written.
struct Plan {
    stats: BlameRecordStats,
    /// (path, blame object, its size, blob).
    rows: Vec<(String, ObjectId, u64, ObjectId)>,
}

/// Everything but the row writes: read prior rows, diff, write blame objects. Only reads
/// the index, so finalize runs it outside the write transaction.
fn plan_step(
    conn: &Connection,
    store: &Store,
    step_id: &ObjectId,
    step: &Step,
    limit: Option<usize>,
    cap: u64,
) -> Result<Plan> {
    let tree = store.read_tree(&step.tree)?;
    let step_hex = step_id.to_hex();
    let mut stats = BlameRecordStats::default();
    let mut queued: Vec<(String, ObjectId, u64, ObjectId)> = Vec::new();
    let previous = previous_blamed_tree(conn, store, step, &step_hex)?;
    for entry in &tree.entries {
        // The tree records the original size, so oversized files are skipped unread.
        if entry.size > cap {
            stats.oversized += 1;
            continue;
        }
        // Same blob as in the previous step, whose blame is recorded: nothing changed
        // for this path since (its latest row, if any, has this blob), so no lookup and
        // no read — this keeps a finalize proportional to what changed, not to the tree.
        if previous.as_ref().and_then(|t| t.get(&entry.path)).is_some_and(|p| p.blob == entry.blob) {
            stats.unchanged += 1;
            continue;
        }
        let prior = prior_row(conn, &entry.path, step.timestamp, &step_hex)?;
        if prior.row.as_ref().is_some_and(|p| p.blob == entry.blob) {
            stats.unchanged += 1;
            continue;
        }
        let bytes = store.read_object(&entry.blob)?;
        if bytes.len() as u64 > cap {
            stats.oversized += 1;
            continue;
        }
        if looks_binary(&bytes) {
            stats.binary += 1;
            continue;
        }
        if bytes.starts_with(METADATA_ONLY_PREFIX) {
            stats.placeholder += 1;
            continue;
        }
        if prior.newer_exists {
            return Err(Error::BlameOutOfOrder { path: entry.path.clone(), step: *step_id });
        }
        if let Some(limit) = limit
            && queued.len() >= limit
        {
            return Err(Error::BlameChangeLimitExceeded { limit });
        }
        // No prior row means no old lines at all (not one empty line).
        let (old_bytes, old_blame) = match &prior.row {
            Some(p) => {
                let blame_bytes = store.read_object(&p.blame)?;
                let blame =
                    Blame::decode(&blame_bytes).map_err(|source| Error::InvalidObject { id: p.blame, source })?;
                (Some(store.read_object(&p.blob)?), Some(blame))
            }
            None => (None, None),
        };
        let old_lines = old_bytes.as_deref().map(split_lines).unwrap_or_default();
        let new_lines = split_lines(&bytes);
        let (blame, exact) = compute_blame_script(&entry.path, &old_lines, &new_lines, old_blame.as_ref(), *step_id)?;
        if !exact {
            stats.inexact += 1;
        }
        let encoded = blame.encode();
        let (blame_id, new) = store.write_object(&encoded)?;
        stats.objects_written += usize::from(new);
        queued.push((entry.path.clone(), blame_id, encoded.len() as u64, entry.blob));
    }
    stats.rows = queued.len();
    Ok(Plan { stats, rows: queued })
}

/// Insert a plan's `objects` and `blame_maps` rows (upserts, so a repeat is harmless).
/// The tree of the step just before `step` (by timestamp, hash) when that step is the
/// last one whose blame was recorded; `None` means "compare every path with its rows".
fn previous_blamed_tree(
    conn: &Connection,
    store: &Store,
    step: &Step,
    step_hex: &str,
) -> Result<Option<crate::object::Tree>> {
    let Some(last) = get_meta(conn, meta_keys::BLAME_LAST_RECORDED_STEP)? else { return Ok(None) };
    let previous: Option<(String, String)> = conn
        .prepare_cached(
            "select hash, tree_hash from steps where timestamp < ?1 or (timestamp = ?1 and hash < ?2)
             order by timestamp desc, hash desc limit 1",
        )
        .and_then(|mut st| st.query_row(params![step.timestamp, step_hex], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(Error::index("previous step"))?;
    match previous {
        Some((hash, tree)) if hash == last => match ObjectId::parse(&tree) {
            Some(tree) => Ok(Some(store.read_tree(&tree)?)),
            None => Ok(None),
        },
        _ => Ok(None),
    }
}

fn apply_plan(conn: &Connection, step_id: &ObjectId, step: &Step, plan: &Plan) -> Result<()> {
    let step_hex = step_id.to_hex();
    set_meta(conn, meta_keys::BLAME_LAST_RECORDED_STEP, &step_hex)?;
    for (path, blame_id, size, blob) in &plan.rows {
        insert_object(conn, &ObjectRecord { id: *blame_id, kind: ObjectKind::Blame, size: *size })?;
        conn.prepare_cached(
            "insert into blame_maps(path, step_hash, blame_hash, blob_hash, session_origin, session_id, timestamp)
             values(?1, ?2, ?3, ?4, ?5, ?6, ?7)
             on conflict(path, step_hash) do update set blame_hash=excluded.blame_hash, blob_hash=excluded.blob_hash,
               session_origin=excluded.session_origin, session_id=excluded.session_id, timestamp=excluded.timestamp",
        )
        .and_then(|mut st| {
            st.execute(params![
                path,
                step_hex,
                blame_id.to_hex(),
                blob.to_hex(),
                step.origin,
                step.session_id,
                step.timestamp
            ])
        })
        .map_err(Error::index("upsert blame row"))?;
    }
    Ok(())
}

/// What [`record_blame_for_commit`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlameCommitOutcome {
    /// Blame was recorded (possibly zero rows).
    Recorded(BlameRecordStats),
    /// `blame.needs_reindex` was already set: incremental blame is off until reindex.
    SkippedNeedsReindex,
}

/// The lock serializing incremental blame across processes (`.agit/blame.lock`).
///
/// Finalizes of different sessions run concurrently (they share `gc.lock`), but the
/// reference's flag protocol assumes one at a time: without this lock one finalize would
/// read another's in-progress flag as "needs reindex" and silently skip its step. Lock
/// order: `gc.lock` → `index.lock` → `blame.lock`.
pub fn blame_lock_path(store: &Store) -> PathBuf {
    store.root().join("blame.lock")
}

fn needs_reindex(conn: &Connection) -> Result<bool> {
    // The reference writes "1" and deletes the key to clear it; anything else but an
    // explicit "0" is treated as set, erring on the side of a reindex.
    Ok(get_meta(conn, meta_keys::BLAME_NEEDS_REINDEX)?.is_some_and(|v| v != "0"))
}

fn clear_needs_reindex(conn: &Connection) -> Result<()> {
    conn.execute("delete from meta where key=?1", [meta_keys::BLAME_NEEDS_REINDEX])
        .map_err(Error::index("clear blame.needs_reindex"))?;
    Ok(())
}

/// Incremental blame after a step commit (reference `formats.md` §5.7): if
/// `blame.needs_reindex` is set, skip (blame is off until reindex). Otherwise set the flag
/// (durably, so a crash before the rows commit leaves it set), record the step's blame
/// with the finalize change limit, and insert its rows and clear the flag in one
/// transaction. On error the flag stays set and the error is returned (finalize logs it).
pub fn record_blame_for_commit(
    index: &mut Index,
    store: &Store,
    step_id: &ObjectId,
    step: &Step,
) -> Result<BlameCommitOutcome> {
    record_commit_with(index, store, step_id, step, FINALIZE_CHANGE_LIMIT, max_file_bytes_from_env())
}

pub(crate) fn record_commit_with(
    index: &mut Index,
    store: &Store,
    step_id: &ObjectId,
    step: &Step,
    limit: usize,
    cap: u64,
) -> Result<BlameCommitOutcome> {
    let _lock = lock::acquire(&blame_lock_path(store), LockMode::Exclusive, lock::lock_timeout())?;
    let conn = index.conn();
    if needs_reindex(conn)? {
        return Ok(BlameCommitOutcome::SkippedNeedsReindex);
    }
    set_meta(conn, meta_keys::BLAME_NEEDS_REINDEX, "1")?;
    // Diffing happens outside the write transaction so other sessions' step commits never
    // wait on it; the rows it read cannot change meanwhile, since every blame writer holds
    // the blame lock.
    let plan = plan_step(conn, store, step_id, step, Some(limit), cap)?;
    // `&mut Index` guarantees no other transaction is open on this connection.
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
        .map_err(Error::index("begin blame transaction"))?;
    apply_plan(&tx, step_id, step, &plan)?;
    clear_needs_reindex(&tx)?;
    tx.commit().map_err(Error::index("commit blame"))?;
    Ok(BlameCommitOutcome::Recorded(plan.stats))
}

/// After steps arrived from elsewhere (pull, import): reconcile the index with the refs
/// and rebuild blame from scratch when sessions were replayed (arrived steps interleave
/// with local ones in time, and blame replays every step in (timestamp, hash) order).
///
/// `blame.needs_reindex` is set durably before the replay commits, so a process killed
/// between the replay and the rebuild leaves it set: the next call sees it and rebuilds
/// (the index is in sync by then, so the replay alone would not say so), and finalizes
/// skip incremental blame meanwhile instead of appending to an incomplete map. A flag
/// left by anything else (a finalize whose blame failed) is repaired the same way.
pub fn reconcile_arrivals(store: &Store, index: &mut Index) -> Result<ReconcileReport> {
    let pending = needs_reindex(index.conn())?;
    let behind = ref_drift(store, index)?.index_behind_refs > 0;
    if behind {
        set_meta(index.conn(), meta_keys::BLAME_NEEDS_REINDEX, "1")?;
    }
    let reconciled = reconcile_all(store, index)?;
    if pending || behind || reconciled.repaired > 0 {
        reindex_blame(index, store)?;
    }
    Ok(reconciled)
}

/// What [`rebuild_blame`] did.
#[derive(Debug, Default)]
pub struct BlameRebuildStats {
    /// Steps replayed (successfully or not).
    pub steps: usize,
    /// Totals over the successful steps.
    pub recorded: BlameRecordStats,
    /// Steps whose blame could not be recorded; `blame.needs_reindex` stays set if any.
    pub failures: Vec<(ObjectId, Error)>,
}

/// Rebuild all blame from scratch on `conn` (reference reindex, `formats.md` §5.7): clear
/// `blame_maps`, set `blame.needs_reindex`, replay every indexed step ordered by
/// `(timestamp asc, hash asc)` with no changed-file limit, and clear the flag only if
/// every step succeeded. A step that fails is reported and skipped; index (SQLite) errors
/// abort. Run it inside the caller's transaction.
pub fn rebuild_blame(conn: &Connection, store: &Store) -> Result<BlameRebuildStats> {
    rebuild_with_cap(conn, store, max_file_bytes_from_env())
}

pub(crate) fn rebuild_with_cap(conn: &Connection, store: &Store, cap: u64) -> Result<BlameRebuildStats> {
    conn.execute("delete from blame_maps", []).map_err(Error::index("clear blame_maps"))?;
    conn.execute("delete from meta where key=?1", [meta_keys::BLAME_LAST_RECORDED_STEP])
        .map_err(Error::index("clear blame cursor"))?;
    set_meta(conn, meta_keys::BLAME_NEEDS_REINDEX, "1")?;
    let ids: Vec<ObjectId> = conn
        .prepare("select hash from steps order by timestamp asc, hash asc")
        .and_then(|mut st| st.query_map([], |r| id_column(r, 0))?.collect())
        .map_err(Error::index("list steps for blame"))?;
    let mut stats = BlameRebuildStats::default();
    for id in ids {
        stats.steps += 1;
        let result = store.read_step(&id).and_then(|step| record_with_cap(conn, store, &id, &step, None, cap));
        match result {
            Ok(recorded) => stats.recorded.add(&recorded),
            // A broken index is not a per-step problem.
            Err(e @ Error::Index { .. }) => return Err(e),
            Err(e) => stats.failures.push((id, e)),
        }
    }
    if stats.failures.is_empty() {
        clear_needs_reindex(conn)?;
    }
    Ok(stats)
}

/// [`rebuild_blame`] on an open index in its own transaction, under the blame lock (for
/// `agit reindex --from` and repair paths that keep the index file).
pub fn reindex_blame(index: &mut Index, store: &Store) -> Result<BlameRebuildStats> {
    let _lock = lock::acquire(&blame_lock_path(store), LockMode::Exclusive, lock::lock_timeout())?;
    let tx = Transaction::new_unchecked(index.conn(), TransactionBehavior::Immediate)
        .map_err(Error::index("begin blame rebuild"))?;
    let stats = rebuild_blame(&tx, store)?;
    tx.commit().map_err(Error::index("commit blame rebuild"))?;
    Ok(stats)
}
