//! Finalize: a staged turn becomes a step.
//!
//! Order: read staging (salvaging every parseable line) → take `gc.lock` shared (gc
//! cannot prune what we are about to reference; other sessions finalize concurrently) →
//! start the git queries → snapshot → next store-wide timestamp → append the step (ref
//! CAS + index rows in one transaction) → incremental blame → delete staging.

use agit_core::blame::record_blame_for_commit;
use agit_core::commit::{AppendOutcome, append_step};
use agit_core::index::Index;
use agit_core::index::schema::meta_keys;
use agit_core::object::{Message, Step};
use agit_core::snapshot::{FnRedactor, SnapshotCapture, SnapshotOptions, snapshot};
use agit_core::store::durable;
use agit_core::store::lock::{self, LockMode, now_ms};
use agit_core::{Error, ObjectId, Result, Store};

use super::Recorder;
use super::staging::StagingFile;
use crate::git::PendingGitContext;
use crate::hook_log::{self, HookLogEntry};
use crate::outcome::derive_outcome;

/// A finalized turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalizeOutcome {
    pub step: ObjectId,
    /// The turn id the step carries: the requested one, or a fresh `<id>~<n>` when the
    /// session already had a different step under that id.
    pub turn_id: String,
    /// The step had already been committed (a retry after a crash); nothing new written.
    pub already_committed: bool,
}

/// Phase timings on stderr when `AGIT_TRACE` is set (performance diagnosis).
struct PhaseTrace(Option<std::time::Instant>);

impl PhaseTrace {
    fn start() -> PhaseTrace {
        PhaseTrace(std::env::var_os("AGIT_TRACE").map(|_| std::time::Instant::now()))
    }

    fn mark(&mut self, phase: &str) {
        if let Some(start) = self.0 {
            eprintln!("agit-trace: finalize {phase}: {:.2} ms", start.elapsed().as_secs_f64() * 1000.0);
            self.0 = Some(std::time::Instant::now());
        }
    }
}

/// Give up inventing fresh turn ids after this many collisions.
const MAX_FRESH_IDS: u32 = 1000;

pub(super) fn finalize(
    recorder: &Recorder,
    origin: &str,
    session_id: &str,
    turn: &str,
    staging: &StagingFile,
) -> Result<FinalizeOutcome> {
    let store = recorder.store();
    let mut trace = PhaseTrace::start();
    let staged = staging.read()?;
    if staged.corrupt_lines > 0 {
        quarantine(store, staging, staged.corrupt_lines, session_id);
    }
    let mut messages = staged.messages;
    messages.push(Message { role: "assistant".into(), content: staged.stop.unwrap_or_default() });

    let _gc = lock::acquire(&store.gc_lock_path(), LockMode::Shared, lock::lock_timeout())?;
    let git = PendingGitContext::start(store.workspace());
    trace.mark("staging+git spawn");
    let mut index = Index::open(store)?;
    trace.mark("index open");
    let model = match staged.model {
        Some(model) => Some(model),
        None => index.meta(&meta_keys::session_key(origin, session_id, "model"))?,
    };
    let detector = recorder.detector();
    let redactor = FnRedactor::new(recorder.redaction_key(), |bytes: &[u8]| detector.redact(bytes));
    let capture = SnapshotCapture::from_level(recorder.snapshot_level(), &redactor);
    let snap = snapshot(store, &mut index, &SnapshotOptions::new(capture))?;
    trace.mark("snapshot");
    let timestamp = index.next_step_timestamp(now_ms())?;
    let git = git.finish();
    trace.mark("timestamp+git wait");
    let mut step = Step {
        parent: None,
        tree: snap.tree,
        session_id: session_id.to_owned(),
        origin: origin.to_owned(),
        model,
        turn_id: turn.to_owned(),
        causes: staged.causes,
        timestamp,
        messages,
        outcome: Some(derive_outcome(&staged.tool_calls).to_owned()),
        tool_calls: staged.tool_calls,
        git_commit: git.commit,
        git_branch: git.branch,
        git_dirty: git.dirty,
    };
    for attempt in 1..=MAX_FRESH_IDS {
        match append_step(store, &mut index, step.clone(), &snap.new_objects)? {
            AppendOutcome::Committed { id, step: committed } => {
                trace.mark("commit");
                // Blame is fail-open: the step is committed; a failure leaves
                // `blame.needs_reindex` set for `agit reindex` to rebuild.
                if let Err(e) = record_blame_for_commit(&mut index, store, &id, &committed) {
                    let entry = HookLogEntry::new("error", e.code(), e.to_string());
                    let _ = hook_log::append(store, &HookLogEntry { context: Some("blame".into()), ..entry });
                }
                trace.mark("blame");
                staging.remove()?;
                return Ok(FinalizeOutcome { step: id, turn_id: committed.turn_id.clone(), already_committed: false });
            }
            AppendOutcome::DuplicateTurn { existing } => {
                let prior = store.read_step(&existing)?;
                if same_turn(&prior, &step) {
                    staging.remove()?;
                    return Ok(FinalizeOutcome { step: existing, turn_id: prior.turn_id, already_committed: true });
                }
                // Same id, different content (e.g. a resumed agent restarting its turn
                // counter): keep both under a fresh id instead of dropping this turn.
                step.turn_id = format!("{turn}~{}", attempt + 1);
            }
        }
    }
    Err(Error::CasConflict {
        path: store.refs().path(&agit_core::SessionRef::new(origin, session_id)),
        expected: None,
        found: None,
    })
}

/// Whether two steps record the same turn (what was said and done, not when).
fn same_turn(a: &Step, b: &Step) -> bool {
    a.messages == b.messages && a.tool_calls == b.tool_calls && a.causes == b.causes && a.model == b.model
}

/// Keep a copy of a staging file with unparseable lines for inspection; the parseable
/// lines are still recorded.
fn quarantine(store: &Store, staging: &StagingFile, corrupt_lines: usize, session_id: &str) {
    let dir = store.log_dir().join("corrupt-staging");
    let target = dir.join(format!("{}-{}.json", now_ms(), staging.key()));
    let copied = durable::create_dir_durable(&dir)
        .and_then(|()| std::fs::read(staging.path()).map_err(|e| Error::io("read", staging.path(), e)))
        .and_then(|bytes| durable::write_new(&target, &bytes));
    let entry = HookLogEntry::new(
        "error",
        "corrupt_staging",
        format!("staging file had {corrupt_lines} unparseable line(s); recorded the rest"),
    );
    let _ = hook_log::append(
        store,
        &HookLogEntry {
            context: Some("recorder-finalize".into()),
            error_kind: Some("CorruptStaging".into()),
            session_id: Some(session_id.to_owned()),
            staging_key: Some(staging.key().to_owned()),
            quarantine_path: copied.ok().map(|_| target.display().to_string()),
            ..entry
        },
    );
}
