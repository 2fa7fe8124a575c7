//! Appending a step to a session: the one write path for new steps.

use crate::error::Result;
use crate::hash::ObjectId;
use crate::index::{Index, ObjectRecord, reconcile};
use crate::object::{ObjectKind, Step};
use crate::store::{SessionRef, Store, lock};

/// Result of [`append_step`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendOutcome {
    /// The step was written and its session ref advanced to it.
    Committed { id: ObjectId, step: Box<Step> },
    /// The session already has a step for this turn id; nothing was written.
    DuplicateTurn { existing: ObjectId },
}

/// Append `step` to its session. Under the session's ref lock: bring the index up to the
/// ref, refuse a turn id the session already has, set `parent` to the current head, write
/// the step object, then insert the index rows and move the ref in one transaction.
/// `objects` are the objects the step introduces (tree, blobs) with their known kinds.
///
/// Reading the head under the lock makes the parent check a true compare-and-swap: a
/// concurrent writer of the same session is serialized, never overwritten.
pub fn append_step(
    store: &Store,
    index: &mut Index,
    mut step: Step,
    objects: &[ObjectRecord],
) -> Result<AppendOutcome> {
    let session = SessionRef::new(step.origin.clone(), step.session_id.clone());
    let locked = store.refs().lock(&session, lock::lock_timeout())?;
    reconcile::reconcile_locked(store, index, &locked)?;
    if let Some(existing) = index.step_for_turn(&session, &step.turn_id)? {
        return Ok(AppendOutcome::DuplicateTurn { existing });
    }
    step.parent = locked.read()?;
    let bytes = step.encode();
    let (id, _) = store.write_object(&bytes)?;
    let mut records = objects.to_vec();
    records.push(ObjectRecord { id, kind: ObjectKind::Step, size: bytes.len() as u64 });
    index.commit_step(&locked, &id, &step, &records, 0)?;
    Ok(AppendOutcome::Committed { id, step: Box::new(step) })
}
