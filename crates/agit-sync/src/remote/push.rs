//! `agit push`: upload every object reachable from the session refs (and the blame and
//! eval objects the index names) that the remote lacks, then move each remote ref by
//! compare-and-swap, fast-forward only.
//!
//! Differences from the reference (`remote.md` §2.5, §7): uploads run concurrently;
//! the walk stops at remote heads recorded by earlier pushes and pulls, and objects the
//! remote is known to hold are not asked about again, so a repeat push with nothing new
//! sends no object request; ref updates are conditional (`If-None-Match: *` to create,
//! `If-Match: <etag>` to advance), a lost race is re-read and either retried (the remote
//! moved to an ancestor of ours) or reported; every conflict is reported, not only the
//! first.

use std::collections::HashSet;

use agit_core::reach::{self, Reached, Walker};
use agit_core::store::lock::{self, LockMode};
use agit_core::{ObjectId, ObjectKind, SessionRef, Store};
use futures::{StreamExt, TryStreamExt, stream};
use serde::Serialize;

use super::error::RemoteError;
use super::progress::Progress;
use super::resolve::Remote;
use super::tracking::Tracking;
use super::transport::{RefWrite, RemoteHead, Transport, TransportSettings};
use super::{DEFAULT_JOBS, RefConflict};
use crate::envelope;

/// How often a ref update that lost a race to a compatible writer is retried.
const REF_ATTEMPTS: usize = 8;
/// Above this many objects to check, one listing of the remote's objects replaces a
/// HEAD per object (a listing page names 1,000 keys).
const LIST_INSTEAD_OF_HEAD: usize = 1_000;

/// Push settings.
#[derive(Debug, Clone, Copy)]
pub struct PushOptions {
    /// Concurrent transfers.
    pub jobs: usize,
    /// Check and report, upload nothing, move no ref.
    pub dry_run: bool,
    /// Ignore what is recorded about the remote: ask it about every reachable object.
    pub full: bool,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions { jobs: DEFAULT_JOBS, dry_run: false, full: false }
    }
}

/// What a push did (reference field names first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushReport {
    /// Objects uploaded (or, with `dry_run`, that would be).
    pub uploaded_objects: u64,
    /// Objects the remote already had (asked, or known from earlier operations).
    pub skipped_objects: u64,
    /// Refs created or advanced.
    pub uploaded_refs: u64,
    /// Refs already equal to ours.
    pub skipped_refs: u64,
    /// Whether objects were encrypted.
    pub encrypted: bool,
    /// Envelope bytes uploaded.
    pub uploaded_bytes: u64,
    /// Requests sent on object keys (0 for a repeat push with nothing new).
    pub object_requests: u64,
    /// Refs that could not be moved.
    pub conflicts: Vec<RefConflict>,
    /// Nothing was changed.
    pub dry_run: bool,
}

enum ObjectOutcome {
    Uploaded(u64),
    Present,
}

/// Push the store to `remote`.
pub fn push(
    store: &Store,
    remote: &Remote,
    options: &PushOptions,
    progress: &dyn Progress,
) -> Result<PushReport, RemoteError> {
    let runtime = runtime()?;
    // Shared: finalizes keep running; gc (exclusive) waits until the push is done.
    let _gc = lock::acquire(&store.gc_lock_path(), LockMode::Shared, lock::lock_timeout())?;
    let mut tracking = Tracking::open(store, remote, options.full)?;
    let transport = Transport::open(remote, TransportSettings::from_env(options.jobs))?;
    let heads = reach::session_heads(store)?;

    let reached = reachable(store, &heads, &tracking, options.full)?;
    let mut report = PushReport { encrypted: remote.key.is_some(), dry_run: options.dry_run, ..Default::default() };
    let (candidates, known): (Vec<Reached>, Vec<Reached>) =
        reached.into_iter().partition(|r| options.full || !tracking.knows(&r.id));
    report.skipped_objects += known.len() as u64;

    runtime.block_on(async {
        upload_objects(store, remote, &transport, &mut tracking, &candidates, options, progress, &mut report).await?;
        if !options.dry_run {
            transport.flush().await?;
        }
        update_refs(store, &transport, &tracking, &heads, options, &mut report).await
    })?;
    report.object_requests = transport.object_requests();
    Ok(report)
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, RemoteError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RemoteError::Transport { detail: format!("cannot start the I/O runtime: {e}") })
}

/// Everything to consider uploading: the chains from every head down to what the remote
/// is recorded to have, and the index's blame and eval objects.
fn reachable(
    store: &Store,
    heads: &[(SessionRef, ObjectId)],
    tracking: &Tracking,
    full: bool,
) -> Result<Vec<Reached>, RemoteError> {
    let mut walker = Walker::new(store);
    if !full {
        walker.stop_at(tracking.heads());
    }
    for (_, head) in heads {
        walker.add_chain(*head)?;
    }
    let index = reach::roots_index(store)?;
    for root in reach::index_roots(store, index.as_ref())? {
        match root.kind {
            ObjectKind::Blame => walker.add_blame(root.id)?,
            _ => walker.add_eval(root.id),
        }
    }
    Ok(walker.into_reached())
}

#[allow(clippy::too_many_arguments)]
async fn upload_objects(
    store: &Store,
    remote: &Remote,
    transport: &Transport,
    tracking: &mut Tracking,
    candidates: &[Reached],
    options: &PushOptions,
    progress: &dyn Progress,
    report: &mut PushReport,
) -> Result<(), RemoteError> {
    let listed = if candidates.len() > LIST_INSTEAD_OF_HEAD { Some(transport.list_objects().await?) } else { None };
    progress.start("upload", Some(candidates.len() as u64));
    let dry_run = options.dry_run;
    let listed = &listed;
    let mut results = stream::iter(candidates.iter().map(|reached| async move {
        let id = reached.id;
        let present = match listed {
            Some(ids) => ids.contains(&id),
            None => transport.has_object(&id).await?,
        };
        if present {
            return Ok::<_, RemoteError>((id, ObjectOutcome::Present));
        }
        if dry_run {
            return Ok((id, ObjectOutcome::Uploaded(0)));
        }
        let bytes = store.read_object(&id)?;
        let body = match &remote.key {
            Some(key) => envelope::encode_encrypted(key, &id.to_hex(), &bytes)
                .map_err(|source| RemoteError::Envelope { id: id.to_hex(), source })?,
            None => envelope::encode_plain(&bytes),
        };
        let len = body.len() as u64;
        transport.put_object(&id, body).await?;
        Ok((id, ObjectOutcome::Uploaded(len)))
    }))
    .buffer_unordered(options.jobs.max(1));

    let mut confirmed = Vec::new();
    let outcome = loop {
        match results.next().await {
            None => break Ok(()),
            Some(Err(e)) => break Err(e),
            Some(Ok((id, result))) => {
                match result {
                    ObjectOutcome::Present => report.skipped_objects += 1,
                    ObjectOutcome::Uploaded(bytes) => {
                        report.uploaded_objects += 1;
                        report.uploaded_bytes += bytes;
                        progress.advance(0, bytes);
                    }
                }
                progress.advance(1, 0);
                if !dry_run {
                    confirmed.push(id);
                    // Record as we go: an interrupted push resumes without redoing these.
                    if confirmed.len() >= 256 {
                        tracking.record_known(&confirmed)?;
                        confirmed.clear();
                    }
                }
            }
        }
    };
    drop(results);
    if !dry_run {
        tracking.record_known(&confirmed)?;
    }
    progress.finish();
    outcome
}

async fn update_refs(
    store: &Store,
    transport: &Transport,
    tracking: &Tracking,
    heads: &[(SessionRef, ObjectId)],
    options: &PushOptions,
    report: &mut PushReport,
) -> Result<(), RemoteError> {
    let outcomes: Vec<(SessionRef, ObjectId, RefOutcome)> =
        stream::iter(heads.iter().map(|(session, head)| async move {
            let outcome = update_ref(store, transport, session, head, options.dry_run).await?;
            Ok::<_, RemoteError>((session.clone(), *head, outcome))
        }))
        .buffer_unordered(options.jobs.max(1))
        .try_collect()
        .await?;
    let mut outcomes = outcomes;
    outcomes.sort_by_key(|(session, _, _)| session.relative_path());
    for (session, head, outcome) in outcomes {
        match outcome {
            RefOutcome::Updated => report.uploaded_refs += 1,
            RefOutcome::Equal => report.skipped_refs += 1,
            RefOutcome::Conflict(remote_hash) => {
                report.conflicts.push(RefConflict {
                    path: session.relative_path(),
                    session,
                    local_hash: head,
                    remote_hash,
                });
                continue;
            }
        }
        if !options.dry_run {
            tracking.set_head(&session, &head)?;
        }
    }
    Ok(())
}

enum RefOutcome {
    Updated,
    Equal,
    Conflict(ObjectId),
}

async fn update_ref(
    store: &Store,
    transport: &Transport,
    session: &SessionRef,
    head: &ObjectId,
    dry_run: bool,
) -> Result<RefOutcome, RemoteError> {
    let mut current = transport.get_ref(session).await?;
    for _ in 0..REF_ATTEMPTS {
        match &current {
            Some(remote) if remote.head == *head => return Ok(RefOutcome::Equal),
            Some(remote) if !is_ancestor(store, &remote.head, head) => return Ok(RefOutcome::Conflict(remote.head)),
            _ => {}
        }
        if dry_run {
            return Ok(RefOutcome::Updated);
        }
        match transport.put_ref(session, head, current.as_ref()).await {
            Ok(RefWrite::Written) => return Ok(RefOutcome::Updated),
            Ok(RefWrite::Raced) => current = transport.get_ref(session).await?,
            Err(error) => {
                // A timed-out conditional write may have landed: look before failing.
                current = transport.get_ref(session).await?;
                if current.as_ref().is_some_and(|r| r.head == *head) {
                    return Ok(RefOutcome::Updated);
                }
                if !matches!(error, RemoteError::Transport { .. }) {
                    return Err(error);
                }
            }
        }
    }
    Ok(match current {
        Some(RemoteHead { head: remote, .. }) if remote == *head => RefOutcome::Equal,
        Some(RemoteHead { head: remote, .. }) => RefOutcome::Conflict(remote),
        None => return Err(RemoteError::Transport { detail: format!("could not update {}", session.relative_path()) }),
    })
}

/// Whether `ancestor` is `descendant` or one of its parents, following local steps. A
/// step missing locally ends the search (answer: no), as in the reference.
pub(super) fn is_ancestor(store: &Store, ancestor: &ObjectId, descendant: &ObjectId) -> bool {
    let mut seen = HashSet::new();
    let mut cursor = Some(*descendant);
    while let Some(id) = cursor {
        if id == *ancestor {
            return true;
        }
        if !seen.insert(id) {
            return false;
        }
        cursor = match store.read_step(&id) {
            Ok(step) => step.parent,
            Err(_) => None,
        };
    }
    false
}
