//! The SQLite query index (`.agit/index.db`): a rebuildable cache of objects and refs.
//!
//! Ground truth is always the objects and refs on disk. The index is versioned with
//! `PRAGMA user_version`; a missing index or one of another version is rebuilt from the
//! store into a new file and swapped in atomically ([`rebuild`]). A file SQLite cannot
//! read at all is reported as [`Error::IndexUnreadable`] (run `agit reindex`).
//!
//! Lock order, to stay deadlock-free: `gc.lock` → `index.lock` → a ref lock. Every open
//! [`Index`] holds `index.lock` shared; swapping in a rebuilt file holds it exclusive.

pub mod content;
mod query;
mod rebuild;
pub(crate) mod reconcile;
mod resolve;
pub(crate) mod rows;
pub mod schema;
mod search;
pub mod stat_cache;

pub use query::{SessionRow, StepFilter, StepRow};
pub use rebuild::{RebuildProblem, RebuildStats, rebuild};
pub use reconcile::{ReconcileReport, RefDrift, SessionState, reconcile_all, reconcile_session, ref_drift};
pub use resolve::resolve_prefix;
pub use rows::{ObjectRecord, preview};
pub use search::{
    FileTally, MAX_SNIPPET_TOKENS, ModelCount, OutcomeCount, PathChange, PathCount, PathProbe, SearchFilter, SearchHit,
    SearchOrder, SessionStats, Stats, StatsSummary, ToolCount, compile_pattern, fts_query, regex_snippet,
};

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::error::{Error, Result};
use crate::hash::ObjectId;
use crate::object::Step;
use crate::store::lock::{self, LockGuard, LockMode};
use crate::store::{LockedRef, SessionRef, Store};
use schema::{SCHEMA_VERSION, meta_keys};

/// How long SQLite waits on a busy database before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open index connection (holds `index.lock` shared for its lifetime).
pub struct Index {
    conn: Connection,
    path: PathBuf,
    _lock: LockGuard,
}

enum Probe {
    Ready(Index),
    Rebuild,
}

impl Index {
    /// Open the store's index, building it first when it is missing or of another
    /// version.
    pub fn open(store: &Store) -> Result<Index> {
        for _ in 0..3 {
            match Index::probe(store)? {
                Probe::Ready(index) => return Ok(index),
                Probe::Rebuild => {
                    rebuild(store)?;
                }
            }
        }
        Err(Error::IndexUnreadable {
            path: store.index_path(),
            reason: "the index kept changing version while it was being opened".into(),
        })
    }

    /// Open the index only if it is present and current (no rebuild); `None` otherwise.
    pub fn open_existing(store: &Store) -> Result<Option<Index>> {
        Ok(match Index::probe(store)? {
            Probe::Ready(index) => Some(index),
            Probe::Rebuild => None,
        })
    }

    fn probe(store: &Store) -> Result<Probe> {
        let guard = lock::acquire(&store.index_lock_path(), LockMode::Shared, lock::lock_timeout())?;
        let path = store.index_path();
        if !path.exists() {
            return Ok(Probe::Rebuild);
        }
        let conn = open_connection(&path)?;
        let version: i64 =
            conn.query_row("pragma user_version", [], |r| r.get(0)).map_err(|e| unreadable(&path, &e))?;
        if version != SCHEMA_VERSION {
            return Ok(Probe::Rebuild);
        }
        // Catch a truncated or garbled file now rather than on the first query.
        conn.query_row("select count(*) from meta", [], |r| r.get::<_, i64>(0)).map_err(|e| unreadable(&path, &e))?;
        Ok(Probe::Ready(Index { conn, path, _lock: guard }))
    }

    /// The underlying connection, for read queries.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read a meta value.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        get_meta(&self.conn, key)
    }

    /// Set a meta value (autocommit).
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        set_meta(&self.conn, key, value)
    }

    /// Hand out the next step timestamp: `max(now_ms, last + 1)`, recorded in one
    /// `BEGIN IMMEDIATE` transaction so timestamps strictly increase store-wide even
    /// when finalizes of different sessions run concurrently.
    pub fn next_step_timestamp(&mut self, now_ms: i64) -> Result<i64> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::index("begin timestamp transaction"))?;
        let last = get_meta(&tx, meta_keys::LAST_STEP_TIMESTAMP)?.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        let ts = now_ms.max(last.saturating_add(1));
        set_meta(&tx, meta_keys::LAST_STEP_TIMESTAMP, &ts.to_string())?;
        tx.commit().map_err(Error::index("commit timestamp"))?;
        Ok(ts)
    }

    /// The step recorded for a turn, if any.
    pub fn step_for_turn(&self, session: &SessionRef, turn_id: &str) -> Result<Option<ObjectId>> {
        let hash: Option<String> = self
            .conn
            .query_row(
                "select hash from steps where session_origin=?1 and session_id=?2 and turn_id=?3",
                params![session.origin, session.session_id, turn_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(Error::index("look up turn"))?;
        Ok(hash.and_then(|h| ObjectId::parse(&h)))
    }

    /// Whether a step is indexed.
    pub fn has_step(&self, id: &ObjectId) -> Result<bool> {
        rows::has_step(&self.conn, id)
    }

    /// Record objects written outside a step commit (e.g. snapshot blobs), idempotently.
    pub fn record_objects(&mut self, objects: &[ObjectRecord]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::index("begin objects transaction"))?;
        for object in objects {
            rows::insert_object(&tx, object)?;
        }
        tx.commit().map_err(Error::index("commit objects"))
    }

    /// Commit a step under its held ref lock: insert the index rows, move the ref, then
    /// commit the transaction. The ref is written inside the transaction so that a crash
    /// leaves the ref ahead of the index (repaired by reconcile), never behind it.
    pub fn commit_step(
        &mut self,
        locked: &LockedRef<'_>,
        id: &ObjectId,
        step: &Step,
        objects: &[ObjectRecord],
        retries: u64,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::index("begin step transaction"))?;
        for object in objects {
            rows::insert_object(&tx, object)?;
        }
        rows::insert_step(&tx, id, step)?;
        rows::set_session_head(&tx, locked.session(), id)?;
        rows::add_counter(&tx, meta_keys::OBJECTS_WRITTEN_TOTAL, 1)?;
        if retries > 0 {
            rows::add_counter(&tx, meta_keys::RETRIES_TOTAL, retries)?;
        }
        locked.write(id)?;
        tx.commit().map_err(Error::index("commit step"))
    }
}

pub(crate) fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| unreadable(path, &e))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| unreadable(path, &e))?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(|e| unreadable(path, &e))?;
    Ok(conn)
}

fn unreadable(path: &Path, e: &rusqlite::Error) -> Error {
    Error::IndexUnreadable { path: path.to_path_buf(), reason: e.to_string() }
}

pub(crate) fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    conn.query_row("select value from meta where key=?1", [key], |r| r.get(0))
        .optional()
        .map_err(Error::index("read meta"))
}

pub(crate) fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "insert into meta(key, value) values(?1, ?2) on conflict(key) do update set value=excluded.value",
        params![key, value],
    )
    .map_err(Error::index("write meta"))?;
    Ok(())
}
