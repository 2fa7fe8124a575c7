//! Full rebuild (`agit reindex`): walk from refs into a fresh database file inside one
//! transaction, then swap it in atomically.
//!
//! Steps are indexed only when reachable from a ref; every other stored object is
//! recorded as an object (kind sniffed, the only place guessing is allowed) but never
//! becomes a session. Eval objects found that way restore their `evaluations` rows.

use std::collections::HashSet;
use std::fs;
use std::path::PathBuf;

use rusqlite::Connection;

use super::reconcile::index_step_with_objects;
use super::rows::{self, ObjectRecord};
use super::schema::{DDL, SCHEMA_VERSION, meta_keys};
use super::{Index, get_meta, reconcile_all, set_meta};
use crate::error::{Error, Result};
use crate::hash::ObjectId;
use crate::object::{EvalObject, ObjectKind, sniff_kind};
use crate::store::lock::{self, LockMode};
use crate::store::{SessionRef, Store, durable};

/// Something the rebuild could not index; everything else was indexed anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildProblem {
    /// Stable diagnostic code (e.g. `ref_invalid_hash`, `object_hash_mismatch`).
    pub code: &'static str,
    pub message: String,
    pub path: Option<PathBuf>,
    pub session: Option<SessionRef>,
    pub object: Option<ObjectId>,
}

impl RebuildProblem {
    fn from_error(error: &Error, session: Option<&SessionRef>, object: Option<ObjectId>) -> Self {
        let path = match error {
            Error::InvalidRef { path, .. } | Error::ObjectHashMismatch { path, .. } | Error::Io { path, .. } => {
                Some(path.clone())
            }
            _ => None,
        };
        let object = object.or(match error {
            Error::ObjectHashMismatch { id, .. } | Error::InvalidObject { id, .. } => Some(*id),
            _ => None,
        });
        RebuildProblem { code: error.code(), message: error.to_string(), path, session: session.cloned(), object }
    }
}

/// What a rebuild indexed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RebuildStats {
    pub sessions: usize,
    pub steps: usize,
    pub objects: usize,
    pub problems: Vec<RebuildProblem>,
}

/// Rebuild the index from objects and refs, swap it in, then reconcile every session so
/// steps committed by concurrent finalizes during the build are not missed.
pub fn rebuild(store: &Store) -> Result<RebuildStats> {
    store.ensure_layout()?;
    let tmp = tempfile::Builder::new()
        .prefix("index.db.rebuild-")
        .tempfile_in(store.root())
        .map_err(|e| Error::io("create temp index in", store.root(), e))?;
    let tmp_path = tmp.path().to_path_buf();
    let mut stats = RebuildStats::default();
    {
        let mut conn = Connection::open(&tmp_path).map_err(Error::index("create new index"))?;
        // A crash mid-build just leaves a temp file; no journal is needed.
        conn.execute_batch("pragma journal_mode=off; pragma synchronous=off;")
            .map_err(Error::index("configure new index"))?;
        conn.execute_batch(DDL).map_err(Error::index("create schema"))?;
        let tx = conn.transaction().map_err(Error::index("begin rebuild"))?;
        build(&tx, store, &mut stats)?;
        // Blame last: it replays the steps just indexed, in (timestamp, hash) order.
        let blame = crate::blame::rebuild_blame(&tx, store)?;
        stats.problems.extend(blame.failures.iter().map(|(id, e)| RebuildProblem::from_error(e, None, Some(*id))));
        tx.commit().map_err(Error::index("commit rebuild"))?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(Error::index("set schema version"))?;
        conn.query_row("pragma journal_mode=wal", [], |_| Ok(())).map_err(Error::index("enable WAL"))?;
    }
    let file = fs::File::open(&tmp_path).map_err(|e| Error::io("open", &tmp_path, e))?;
    durable::sync_file(&file, &tmp_path)?;
    drop(file);

    swap_in(store, tmp)?;
    let mut index = Index::open_existing(store)?.ok_or_else(|| Error::IndexUnreadable {
        path: store.index_path(),
        reason: "the rebuilt index was replaced while it was being swapped in".into(),
    })?;
    reconcile_all(store, &mut index)?;
    Ok(stats)
}

fn build(conn: &Connection, store: &Store, stats: &mut RebuildStats) -> Result<()> {
    let mut recorded: HashSet<ObjectId> = HashSet::new();
    for entry in store.refs().list()? {
        let session = match entry {
            Ok(s) => s,
            Err(path) => {
                stats.problems.push(RebuildProblem {
                    code: "ref_path_invalid",
                    message: format!(
                        "{} does not use the refs/sessions/<origin-hex>/<session-hex> layout",
                        path.display()
                    ),
                    path: Some(path),
                    session: None,
                    object: None,
                });
                continue;
            }
        };
        let problem = |e: &Error| RebuildProblem::from_error(e, Some(&session), None);
        let head = match store.refs().read(&session) {
            Ok(Some(head)) => head,
            Ok(None) => continue,
            Err(e) => {
                stats.problems.push(problem(&e));
                continue;
            }
        };
        let mut chain = Vec::new();
        let mut seen = HashSet::new();
        let mut cursor = Some(head);
        while let Some(id) = cursor {
            if !seen.insert(id) {
                stats.problems.push(RebuildProblem {
                    code: "step_chain_cycle",
                    message: format!("the step parent chain of {} contains a cycle", session.display_name()),
                    path: Some(store.refs().path(&session)),
                    session: Some(session.clone()),
                    object: Some(id),
                });
                break;
            }
            match store.read_step(&id) {
                Ok(step) => {
                    cursor = step.parent;
                    chain.push((id, step));
                }
                Err(e) => {
                    stats.problems.push(problem(&e));
                    break;
                }
            }
        }
        if chain.first().map(|(id, _)| *id) != Some(head) {
            continue;
        }
        for (id, step) in chain.iter().rev() {
            if let Err(e) = index_step_with_objects(conn, store, id, step, &mut recorded) {
                stats.problems.push(problem(&e));
            }
        }
        rows::set_session_head(conn, &session, &head)?;
        stats.sessions += 1;
    }
    for id in store.all_object_ids()? {
        if recorded.contains(&id) {
            continue;
        }
        let bytes = match store.read_object(&id) {
            Ok(b) => b,
            Err(e) => {
                stats.problems.push(RebuildProblem::from_error(&e, None, Some(id)));
                continue;
            }
        };
        let kind = sniff_kind(&bytes);
        rows::insert_object(conn, &ObjectRecord { id, kind, size: bytes.len() as u64 })?;
        if kind == ObjectKind::Eval {
            match EvalObject::decode(&bytes) {
                Ok(eval) => rows::insert_evaluation(conn, &id, &eval)?,
                Err(source) => stats.problems.push(RebuildProblem::from_error(
                    &Error::InvalidObject { id, source },
                    None,
                    Some(id),
                )),
            }
        }
    }
    stats.steps = count(conn, "select count(*) from steps")?;
    stats.objects = count(conn, "select count(*) from objects")?;
    let last: i64 = conn
        .query_row("select coalesce(max(timestamp), 0) from steps", [], |r| r.get(0))
        .map_err(Error::index("max step timestamp"))?;
    set_meta(conn, meta_keys::LAST_STEP_TIMESTAMP, &last.to_string())?;
    set_meta(conn, meta_keys::OBJECTS_COMPLETE, "1")?;
    Ok(())
}

fn count(conn: &Connection, sql: &str) -> Result<usize> {
    conn.query_row(sql, [], |r| r.get::<_, i64>(0))
        .map(|n| usize::try_from(n).unwrap_or(0))
        .map_err(Error::index("count rows"))
}

/// Replace `index.db` with the new file while no connection is open, carrying over what
/// cannot be derived: finalize counters and the monotonic clock.
fn swap_in(store: &Store, new: tempfile::NamedTempFile) -> Result<()> {
    let _exclusive = lock::acquire(&store.index_lock_path(), LockMode::Exclusive, lock::lock_timeout())?;
    let path = store.index_path();
    let carried = carried_meta(&path);
    if !carried.is_empty() {
        let conn = Connection::open(new.path()).map_err(Error::index("open new index"))?;
        for (key, value) in &carried {
            let keep = if key == meta_keys::LAST_STEP_TIMESTAMP {
                let derived = get_meta(&conn, key)?.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
                value.parse::<i64>().is_ok_and(|old| old > derived)
            } else {
                true
            };
            if keep {
                set_meta(&conn, key, value)?;
            }
        }
    }
    // No connection is open (we hold the lock exclusively), so any -wal/-shm left belongs
    // to the old file (a crashed writer) and must not be applied to the new one.
    for suffix in ["-wal", "-shm"] {
        let mut side = path.clone().into_os_string();
        side.push(suffix);
        match fs::remove_file(&side) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", PathBuf::from(side), e)),
        }
    }
    new.persist(&path).map_err(|e| Error::io("rename into", &path, e.error))?;
    durable::sync_dir(store.root())
}

/// Counters and the timestamp clock from the old index, if it is readable at all.
fn carried_meta(path: &std::path::Path) -> Vec<(String, String)> {
    let Ok(conn) = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE) else {
        return Vec::new();
    };
    let Ok(mut stmt) = conn.prepare("select key, value from meta where key like 'metrics.%' or key = ?1") else {
        return Vec::new();
    };
    stmt.query_map([meta_keys::LAST_STEP_TIMESTAMP], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .and_then(|rows| rows.collect())
        .unwrap_or_default()
}
