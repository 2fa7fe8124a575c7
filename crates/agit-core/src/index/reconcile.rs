//! Reconcile: bring the index up to a session's ref (ref ahead of index → replay the
//! missing steps; ref missing but indexed → report `index_ahead`, never delete).

use std::collections::HashSet;

use rusqlite::{Connection, TransactionBehavior};

use super::rows::{self, ObjectRecord};
use super::schema::meta_keys;
use super::{Index, get_meta};
use crate::error::{Error, Result};
use crate::hash::ObjectId;
use crate::object::{ObjectKind, Step};
use crate::store::{LockedRef, SessionRef, Store, lock};

/// What reconcile found for one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    /// Index and ref agree.
    InSync,
    /// The ref was ahead; this many steps were replayed into the index.
    Repaired { steps: usize },
    /// The index knows a head but the ref file is gone (reported, not repaired).
    IndexAhead,
}

/// Totals over many sessions (names follow the reference's `reconcile` JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub sessions_checked: usize,
    pub in_sync: usize,
    pub repaired: usize,
    pub index_ahead: usize,
    /// Sessions that could not be checked (bad ref, unreadable chain), with the reason.
    pub problems: Vec<(SessionRef, String)>,
}

/// Reconcile one session under its ref lock.
pub fn reconcile_session(store: &Store, index: &mut Index, session: &SessionRef) -> Result<SessionState> {
    let locked = store.refs().lock(session, lock::lock_timeout())?;
    reconcile_locked(store, index, &locked)
}

/// Reconcile one session whose ref lock the caller holds.
pub(crate) fn reconcile_locked(store: &Store, index: &mut Index, locked: &LockedRef<'_>) -> Result<SessionState> {
    let session = locked.session().clone();
    let tip = locked.read()?;
    let Some(tip) = tip else {
        let indexed_head: Option<Option<String>> = index
            .conn
            .query_row(
                "select head_hash from sessions where origin=?1 and session_id=?2",
                [&session.origin, &session.session_id],
                |r| r.get(0),
            )
            .ok();
        return Ok(match indexed_head {
            Some(Some(_)) => SessionState::IndexAhead,
            _ => SessionState::InSync,
        });
    };
    let meta_tip =
        get_meta(&index.conn, &meta_keys::session_key(&session.origin, &session.session_id, "last_ref_hash"))?;
    if index.has_step(&tip)? && meta_tip.as_deref() == Some(tip.to_hex().as_str()) {
        return Ok(SessionState::InSync);
    }
    // Walk back from the tip to the newest step the index already has.
    let mut chain = Vec::new();
    let mut seen = HashSet::new();
    let mut cursor = Some(tip);
    while let Some(id) = cursor {
        if index.has_step(&id)? {
            break;
        }
        if !seen.insert(id) {
            return Err(Error::InvalidRef {
                path: store.refs().path(&session),
                reason: "step parent chain contains a cycle".into(),
            });
        }
        let step = store.read_step(&id)?;
        cursor = step.parent;
        chain.push((id, step));
    }
    let replayed = chain.len();
    let tx = index
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(Error::index("begin reconcile"))?;
    let mut recorded = HashSet::new();
    for (id, step) in chain.iter().rev() {
        index_step_with_objects(&tx, store, id, step, &mut recorded)?;
    }
    rows::set_session_head(&tx, &session, &tip)?;
    tx.commit().map_err(Error::index("commit reconcile"))?;
    Ok(if replayed == 0 { SessionState::InSync } else { SessionState::Repaired { steps: replayed } })
}

/// Reconcile every session known to the refs or the index; one bad session is reported
/// and the rest still run.
pub fn reconcile_all(store: &Store, index: &mut Index) -> Result<ReconcileReport> {
    let mut sessions: Vec<SessionRef> = store.refs().list()?.into_iter().flatten().collect();
    let mut stmt =
        index.conn.prepare("select origin, session_id from sessions").map_err(Error::index("list sessions"))?;
    let indexed = stmt
        .query_map([], |r| Ok(SessionRef::new(r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(Error::index("list sessions"))?;
    drop(stmt);
    sessions.extend(indexed);
    sessions.sort();
    sessions.dedup();
    let mut report = ReconcileReport::default();
    for session in sessions {
        report.sessions_checked += 1;
        match reconcile_session(store, index, &session) {
            Ok(SessionState::InSync) => report.in_sync += 1,
            Ok(SessionState::Repaired { .. }) => report.repaired += 1,
            Ok(SessionState::IndexAhead) => report.index_ahead += 1,
            Err(e) => report.problems.push((session, e.to_string())),
        }
    }
    Ok(report)
}

/// Ref/index disagreement, counted without changing anything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RefDrift {
    /// Sessions whose ref points at a step the index lacks (reconcile replays them).
    pub index_behind_refs: usize,
    /// Indexed sessions whose ref file is gone.
    pub index_ahead_of_refs: usize,
}

/// Count sessions where the refs and the index disagree (read-only).
pub fn ref_drift(store: &Store, index: &Index) -> Result<RefDrift> {
    let mut drift = RefDrift::default();
    for session in store.refs().list()?.into_iter().flatten() {
        if let Ok(Some(head)) = store.refs().read(&session)
            && !index.has_step(&head)?
        {
            drift.index_behind_refs += 1;
        }
    }
    for row in index.sessions(None)? {
        if row.head_hash.is_some() && store.refs().read(&SessionRef::new(row.origin, row.session_id))?.is_none() {
            drift.index_ahead_of_refs += 1;
        }
    }
    Ok(drift)
}

/// Index a step together with the objects it reaches (itself, its tree, the tree's
/// blobs), with kinds known from the walk. `recorded` skips objects already done.
pub(crate) fn index_step_with_objects(
    conn: &Connection,
    store: &Store,
    id: &ObjectId,
    step: &Step,
    recorded: &mut HashSet<ObjectId>,
) -> Result<()> {
    if recorded.insert(*id) {
        let size = store.object_size(id).unwrap_or(step.encode().len() as u64);
        rows::insert_object(conn, &ObjectRecord { id: *id, kind: ObjectKind::Step, size })?;
    }
    rows::insert_step(conn, id, step)?;
    if recorded.insert(step.tree) {
        let bytes = store.read_object(&step.tree)?;
        let tree =
            crate::object::Tree::decode(&bytes).map_err(|source| Error::InvalidObject { id: step.tree, source })?;
        rows::insert_object(conn, &ObjectRecord { id: step.tree, kind: ObjectKind::Tree, size: bytes.len() as u64 })?;
        for entry in &tree.entries {
            if recorded.insert(entry.blob) {
                // A missing blob is fsck's finding; the index records what exists.
                if let Some(size) = store.object_size(&entry.blob) {
                    rows::insert_object(conn, &ObjectRecord { id: entry.blob, kind: ObjectKind::Blob, size })?;
                }
            }
        }
    }
    Ok(())
}
