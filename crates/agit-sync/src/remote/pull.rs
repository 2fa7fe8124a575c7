//! `agit pull`: fetch what the remote's session refs reach and we lack, verify every
//! object against its id before writing it, fast-forward local refs, reconcile the index.
//!
//! Objects are written children first (blobs, then trees, then steps oldest to newest),
//! so a stored step always has its tree, blobs and parents: an interrupted pull leaves
//! only complete objects behind and the rerun fetches just the rest. Walks stop at local
//! session heads and at remote heads recorded by earlier operations. Every diverged ref
//! is reported (`remote_conflict`) and the index is reconciled even then.

use std::collections::HashSet;

use agit_core::index::{Index, ReconcileReport};
use agit_core::object::{Step, Tree};
use agit_core::reach;
use agit_core::store::lock::{self, LockMode};
use agit_core::{ObjectId, SessionRef, Store};
use futures::{StreamExt, TryStreamExt, stream};
use serde::Serialize;

use super::error::RemoteError;
use super::progress::Progress;
use super::push::{is_ancestor, runtime};
use super::resolve::Remote;
use super::tracking::Tracking;
use super::transport::{Transport, TransportSettings};
use super::{DEFAULT_JOBS, RefConflict};
use crate::envelope;

/// Pull settings.
#[derive(Debug, Clone, Copy)]
pub struct PullOptions {
    /// Concurrent transfers.
    pub jobs: usize,
    /// Ignore what is recorded about the remote.
    pub full: bool,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions { jobs: DEFAULT_JOBS, full: false }
    }
}

/// Reconcile counters (reference names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileCounts {
    /// Sessions looked at.
    pub sessions_checked: usize,
    /// Sessions already in sync.
    pub in_sync: usize,
    /// Sessions whose index rows were brought up to the ref.
    pub repaired: usize,
    /// Sessions that could not be reconciled.
    pub drifted: usize,
    /// Indexed sessions without a ref.
    pub index_ahead: usize,
}

impl From<&ReconcileReport> for ReconcileCounts {
    fn from(r: &ReconcileReport) -> Self {
        ReconcileCounts {
            sessions_checked: r.sessions_checked,
            in_sync: r.in_sync,
            repaired: r.repaired,
            drifted: r.problems.len(),
            index_ahead: r.index_ahead,
        }
    }
}

/// What a pull did (reference field names first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PullReport {
    /// Objects fetched, verified and written.
    pub downloaded_objects: u64,
    /// Objects found locally while walking.
    pub skipped_objects: u64,
    /// Local refs created.
    pub created_refs: u64,
    /// Local refs fast-forwarded.
    pub updated_refs: u64,
    /// Local refs equal to, or ahead of, the remote's.
    pub unchanged_refs: u64,
    /// Whether a decryption key was configured.
    pub encrypted: bool,
    /// Envelope bytes downloaded.
    pub downloaded_bytes: u64,
    /// Requests sent on object keys.
    pub object_requests: u64,
    /// Refs that diverged.
    pub conflicts: Vec<RefConflict>,
    /// The index reconcile that always follows.
    pub reconcile: ReconcileCounts,
}

/// Objects fetched but not yet written (their children come first).
#[derive(Default)]
struct Pending {
    /// Steps per chain, newest first.
    chains: Vec<Vec<(ObjectId, Vec<u8>)>>,
    trees_wanted: Vec<ObjectId>,
    queued: HashSet<ObjectId>,
}

/// Pull `remote` into the store.
pub fn pull(
    store: &Store,
    remote: &Remote,
    options: &PullOptions,
    progress: &dyn Progress,
) -> Result<PullReport, RemoteError> {
    let runtime = runtime()?;
    // Shared: gc (exclusive) must not prune what we write before the refs name it.
    let gc = lock::acquire(&store.gc_lock_path(), LockMode::Shared, lock::lock_timeout())?;
    let mut tracking = Tracking::open(store, remote, options.full)?;
    let transport = Transport::open(remote, TransportSettings::from_env(options.jobs))?;
    let mut report = PullReport { encrypted: remote.key.is_some(), ..Default::default() };

    let remote_heads = runtime.block_on(async {
        let sessions = transport.list_refs().await?;
        stream::iter(sessions.into_iter().map(|session| {
            let transport = &transport;
            async move {
                let head = transport.get_ref(&session).await?;
                Ok::<_, RemoteError>(head.map(|h| (session, h.head)))
            }
        }))
        .buffer_unordered(options.jobs.max(1))
        .try_collect::<Vec<_>>()
        .await
    })?;
    let mut remote_heads: Vec<(SessionRef, ObjectId)> = remote_heads.into_iter().flatten().collect();
    remote_heads.sort_by_key(|(s, _)| s.relative_path());

    let fetched = runtime.block_on(fetch_objects(
        store,
        remote,
        &transport,
        &tracking,
        &remote_heads,
        options,
        progress,
        &mut report,
    ))?;
    tracking.record_known(&fetched)?;

    for (session, remote_head) in &remote_heads {
        let local = store.refs().read(session)?;
        match local {
            None => match store.refs().compare_and_swap(session, None, *remote_head) {
                Ok(()) => report.created_refs += 1,
                Err(agit_core::Error::CasConflict { .. }) => {
                    report.conflicts.push(conflict(store, session, *remote_head)?)
                }
                Err(e) => return Err(e.into()),
            },
            Some(local) if local == *remote_head => report.unchanged_refs += 1,
            Some(local) if is_ancestor(store, &local, remote_head) => {
                match store.refs().compare_and_swap(session, Some(local), *remote_head) {
                    Ok(()) => report.updated_refs += 1,
                    Err(agit_core::Error::CasConflict { .. }) => {
                        report.conflicts.push(conflict(store, session, *remote_head)?)
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Some(local) if is_ancestor(store, remote_head, &local) => report.unchanged_refs += 1,
            Some(local) => report.conflicts.push(RefConflict {
                path: session.relative_path(),
                session: session.clone(),
                local_hash: local,
                remote_hash: *remote_head,
            }),
        }
        tracking.set_head(session, remote_head)?;
    }
    drop(gc);

    let mut index = Index::open(store)?;
    let reconciled = agit_core::blame::reconcile_arrivals(store, &mut index)?;
    report.reconcile = ReconcileCounts::from(&reconciled);
    report.object_requests = transport.object_requests();
    Ok(report)
}

/// The conflict after a local CAS lost to a concurrent writer: report the head that
/// won (a read failure is an error, not a made-up hash).
fn conflict(store: &Store, session: &SessionRef, remote_head: ObjectId) -> Result<RefConflict, RemoteError> {
    let local = store.refs().read(session)?.ok_or_else(|| RemoteError::InvalidResponse {
        detail: format!("local ref {} vanished during the pull", session.relative_path()),
    })?;
    Ok(RefConflict {
        path: session.relative_path(),
        session: session.clone(),
        local_hash: local,
        remote_hash: remote_head,
    })
}

/// Fetch, verify and decode one object.
async fn fetch(transport: &Transport, remote: &Remote, id: &ObjectId) -> Result<(Vec<u8>, u64), RemoteError> {
    let body = transport.get_object(id).await?.ok_or_else(|| RemoteError::ObjectMissing { id: id.to_hex() })?;
    let len = body.len() as u64;
    let bytes = envelope::decode(remote.key.as_ref(), &id.to_hex(), &body)
        .map_err(|source| RemoteError::Envelope { id: id.to_hex(), source })?;
    Ok((bytes, len))
}

/// Write verified bytes; the store hashes again, so a mismatch can never be stored.
fn write_verified(store: &Store, id: &ObjectId, bytes: &[u8]) -> Result<(), RemoteError> {
    let (written, _) = store.write_object(bytes)?;
    if written != *id {
        return Err(RemoteError::Envelope {
            id: id.to_hex(),
            source: envelope::EnvelopeError::ObjectHashMismatch { expected: id.to_hex(), actual: written.to_hex() },
        });
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn fetch_objects(
    store: &Store,
    remote: &Remote,
    transport: &Transport,
    tracking: &Tracking,
    remote_heads: &[(SessionRef, ObjectId)],
    options: &PullOptions,
    progress: &dyn Progress,
    report: &mut PullReport,
) -> Result<Vec<ObjectId>, RemoteError> {
    // Steps known complete: local session heads and recorded remote heads.
    let mut complete: HashSet<ObjectId> = reach::session_heads(store)?.into_iter().map(|(_, h)| h).collect();
    if !options.full {
        complete.extend(tracking.heads());
    }
    let mut pending = Pending::default();
    let mut fetched = Vec::new();
    progress.start("steps", None);
    for (_, head) in remote_heads {
        let mut chain = Vec::new();
        let mut cursor = Some(*head);
        while let Some(id) = cursor {
            if complete.contains(&id) || !pending.queued.insert(id) {
                break;
            }
            let step_bytes = if store.has_object(&id) {
                report.skipped_objects += 1;
                None
            } else {
                let (bytes, len) = fetch(transport, remote, &id).await?;
                report.downloaded_bytes += len;
                progress.advance(1, len);
                Some(bytes)
            };
            let step = match &step_bytes {
                Some(bytes) => Step::decode(bytes).map_err(|e| agit_core::Error::InvalidObject { id, source: e })?,
                None => store.read_step(&id)?,
            };
            if pending.queued.insert(step.tree) {
                if store.has_object(&step.tree) {
                    report.skipped_objects += 1;
                } else {
                    pending.trees_wanted.push(step.tree);
                }
            }
            if let Some(bytes) = step_bytes {
                chain.push((id, bytes));
            }
            cursor = step.parent;
        }
        pending.chains.push(chain);
    }
    progress.finish();

    // Trees, concurrently; their blobs are queued from what they list.
    progress.start("trees", Some(pending.trees_wanted.len() as u64));
    let trees: Vec<(ObjectId, Vec<u8>, u64)> = stream::iter(pending.trees_wanted.iter().map(|id| async move {
        let (bytes, len) = fetch(transport, remote, id).await?;
        Ok::<_, RemoteError>((*id, bytes, len))
    }))
    .buffer_unordered(options.jobs.max(1))
    .inspect(|r| {
        if let Ok((_, _, len)) = r {
            progress.advance(1, *len);
        }
    })
    .try_collect()
    .await?;
    progress.finish();
    let mut blobs_wanted = Vec::new();
    for (id, bytes, len) in &trees {
        report.downloaded_bytes += len;
        let tree = Tree::decode(bytes).map_err(|e| agit_core::Error::InvalidObject { id: *id, source: e })?;
        for entry in &tree.entries {
            if pending.queued.insert(entry.blob) {
                if store.has_object(&entry.blob) {
                    report.skipped_objects += 1;
                } else {
                    blobs_wanted.push(entry.blob);
                }
            }
        }
    }

    // Blobs: written as they arrive (they have no children).
    progress.start("blobs", Some(blobs_wanted.len() as u64));
    let mut blobs = stream::iter(blobs_wanted.iter().map(|id| async move {
        let (bytes, len) = fetch(transport, remote, id).await?;
        Ok::<_, RemoteError>((*id, bytes, len))
    }))
    .buffer_unordered(options.jobs.max(1));
    while let Some(result) = blobs.next().await {
        let (id, bytes, len) = result?;
        write_verified(store, &id, &bytes)?;
        report.downloaded_objects += 1;
        report.downloaded_bytes += len;
        progress.advance(1, len);
        fetched.push(id);
    }
    drop(blobs);
    progress.finish();

    for (id, bytes, _) in &trees {
        write_verified(store, id, bytes)?;
        report.downloaded_objects += 1;
        fetched.push(*id);
    }
    // Steps oldest first, chain by chain: a later chain stops at a step of an earlier one.
    for chain in &pending.chains {
        for (id, bytes) in chain.iter().rev() {
            write_verified(store, id, bytes)?;
            report.downloaded_objects += 1;
            fetched.push(*id);
        }
    }
    Ok(fetched)
}
