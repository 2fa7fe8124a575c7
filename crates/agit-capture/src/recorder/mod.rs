//! The recorder: turns normalized events into staged turns and committed steps.
//!
//! Per event, under the session's turn lock: finish any turn whose stop was staged but
//! not committed (a crash earlier), resolve the turn id (reference `capture.md` §5), then
//! stage (prompt, tool calls, model) or finalize (stop). Finalize writes the stop into the
//! staging file first and deletes the staging file only after the step is committed, so
//! every turn ends committed or still staged — never lost.

mod finalize;
mod repair;
pub mod staging;
pub mod turn_state;

pub use finalize::FinalizeOutcome;
pub use repair::RepairReport;

use std::path::Path;

use agit_core::config::{CaptureConfig, CaptureLevel, Config};
use agit_core::index::Index;
use agit_core::index::schema::meta_keys;
use agit_core::privacy::{Detector, TextLabel, capture_text};
use agit_core::store::durable;
use agit_core::store::lock::{self, LockMode};
use agit_core::{Error, Result, Store};

use crate::event::{EventKind, ToolCall};
use crate::hook_log::{self, HookLogEntry};
use staging::{StagedOp, StagingFile};
use turn_state::{TurnState, TurnStateFile};

/// One event for the recorder, independent of where it came from (hook or observer).
#[derive(Debug, Clone, Copy)]
pub struct TurnEvent<'a> {
    /// Who reports it, for logs (`codex-hook`, `jsonl`).
    pub agent: &'a str,
    pub origin: &'a str,
    pub session_id: &'a str,
    pub event_name: &'a str,
    pub preferred_turn_id: Option<&'a str>,
    pub model: Option<&'a str>,
    pub kind: &'a EventKind,
    /// Where an observed event came from (`None` for hooks): makes replays idempotent.
    pub source: Option<EventSource<'a>>,
}

/// An observer event's identity: its source instance and position in that source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSource<'a> {
    pub instance: &'a str,
    pub watermark: u64,
}

impl EventSource<'_> {
    fn tag(&self) -> String {
        format!("{}:{}", self.instance, self.watermark)
    }
}

/// What recording an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// The origin is not in `privacy.enabled_origins`.
    OriginDisabled,
    /// Prompt or tool calls appended to the turn's staging.
    Staged { turn_id: String },
    /// Only model attribution was recorded.
    ModelRecorded,
    /// The turn became a step.
    Finalized(FinalizeOutcome),
    /// An observed event this session had already applied (a replay); nothing done.
    AlreadyApplied,
}

/// Records events into one store.
pub struct Recorder {
    store: Store,
    capture: CaptureConfig,
    enabled_origins: Vec<String>,
    detector: Detector,
    /// Identifies the redaction rules (custom literals) so cached redacted blobs are
    /// recomputed when they change.
    redaction_key: String,
}

impl Recorder {
    /// Open a recorder on `store`. An unreadable config fails closed: every capture level
    /// becomes `disabled` (and the problem is logged), as the reference does.
    pub fn open(store: Store) -> Result<Recorder> {
        store.ensure_layout()?;
        durable::create_dir_durable(&store.tmp_dir().join("turns"))?;
        let (capture, enabled_origins, literals) = match Config::load(&store.config_path()) {
            Ok(config) => (config.privacy.capture, config.privacy.enabled_origins, config.privacy.custom_literals),
            Err(e) => {
                let entry = HookLogEntry::new("error", e.code(), format!("{e}; capture fails closed (disabled)"));
                let _ = hook_log::append(&store, &HookLogEntry { context: Some("config".into()), ..entry });
                (CaptureConfig::all_disabled(), Vec::new(), Vec::new())
            }
        };
        let mut key = blake3::Hasher::new();
        for literal in &literals {
            key.update(&(literal.len() as u64).to_le_bytes());
            key.update(literal.as_bytes());
        }
        Ok(Recorder {
            store,
            capture,
            enabled_origins,
            detector: Detector::new(&literals),
            redaction_key: format!("agit-privacy-v1:{}", key.finalize().to_hex()),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Record one event.
    pub fn record(&self, event: &TurnEvent<'_>) -> Result<RecordOutcome> {
        if !self.enabled_origins.is_empty() && !self.enabled_origins.iter().any(|o| o == event.origin) {
            return Ok(RecordOutcome::OriginDisabled);
        }
        let state_file = TurnStateFile::new(&self.store.tmp_dir(), event.origin, event.session_id);
        let _session_lock = lock::acquire(&state_file.lock_path, LockMode::Exclusive, lock::lock_timeout())?;
        let mut state = state_file.load()?;
        self.finish_pending(event, &state_file, &mut state);
        let src = event.source.map(|s| s.tag());
        if let Some(source) = event.source
            && state.observed.get(source.instance).is_some_and(|w| *w >= source.watermark)
        {
            return Ok(RecordOutcome::AlreadyApplied);
        }
        // Marked applied only in the state save that follows the event's staging write.
        let mark = |state: &mut TurnState| {
            if let Some(source) = event.source {
                state.observed.insert(source.instance.to_owned(), source.watermark);
            }
        };

        let preferred = event.preferred_turn_id.filter(|t| !t.is_empty());
        match event.kind {
            EventKind::UserPrompt { prompt } => {
                let turn = preferred.map(str::to_owned).unwrap_or_else(|| state.allocate("agturn"));
                if let Some(previous) = state.active_turn_id.clone().filter(|p| *p != turn) {
                    self.finish_interrupted(event, &previous, &state_file, &mut state)?;
                }
                state.active_turn_id = Some(turn.clone());
                let content = capture_text(self.capture.prompts, TextLabel::Prompt, prompt, &self.detector);
                let mut ops = vec![StagedOp::Message { role: "user".into(), content, src: src.clone() }];
                ops.extend(self.model_op(event));
                self.staging(event, &turn).append(&self.header(event, &turn), &ops)?;
                mark(&mut state);
                state_file.save(&state)?;
                Ok(RecordOutcome::Staged { turn_id: turn })
            }
            EventKind::ToolUse { calls } => {
                let turn = match preferred.map(str::to_owned).or_else(|| state.active_turn_id.clone()) {
                    Some(turn) => turn,
                    None => {
                        let turn = state.allocate("agrecovery");
                        self.log_recovery(event, &turn, "tool event arrived without an active turn");
                        turn
                    }
                };
                state.active_turn_id = Some(turn.clone());
                let mut ops: Vec<StagedOp> = calls.iter().map(|c| self.tool_op(c, src.clone())).collect();
                ops.extend(self.model_op(event));
                self.staging(event, &turn).append(&self.header(event, &turn), &ops)?;
                mark(&mut state);
                state_file.save(&state)?;
                Ok(RecordOutcome::Staged { turn_id: turn })
            }
            EventKind::Metadata => {
                let Some(model) = event.model.filter(|m| !m.is_empty()) else {
                    return Ok(RecordOutcome::ModelRecorded);
                };
                match preferred {
                    Some(turn) => {
                        let ops = [StagedOp::Model { model: model.to_owned() }];
                        self.staging(event, turn).append(&self.header(event, turn), &ops)?;
                    }
                    None => {
                        let index = Index::open(&self.store)?;
                        index.set_meta(&meta_keys::session_key(event.origin, event.session_id, "model"), model)?;
                    }
                }
                mark(&mut state);
                state_file.save(&state)?;
                Ok(RecordOutcome::ModelRecorded)
            }
            EventKind::Stop { assistant_text } => {
                let turn = match preferred.map(str::to_owned).or_else(|| state.active_turn_id.clone()) {
                    Some(turn) => turn,
                    None => {
                        let turn = state.allocate("agrecovery");
                        self.log_recovery(event, &turn, "assistant event arrived without an active turn");
                        turn
                    }
                };
                if state.active_turn_id.as_deref() == Some(turn.as_str()) {
                    state.active_turn_id = None;
                }
                let content =
                    capture_text(self.capture.assistant, TextLabel::AssistantMessage, assistant_text, &self.detector);
                let mut ops = vec![StagedOp::Stop { content, src: src.clone() }];
                ops.extend(self.model_op(event));
                let staging = self.staging(event, &turn);
                staging.append(&self.header(event, &turn), &ops)?;
                // Persist "this turn must be finalized" before trying, so a crash from
                // here on is finished by the next event of the session.
                if !state.pending_stops.contains(&turn) {
                    state.pending_stops.push(turn.clone());
                }
                mark(&mut state);
                state_file.save(&state)?;
                let outcome = self.finalize(event.origin, event.session_id, &turn, &staging)?;
                state.pending_stops.retain(|t| t != &turn);
                state_file.save(&state)?;
                Ok(RecordOutcome::Finalized(outcome))
            }
        }
    }

    /// A new prompt while another turn is active means that turn was interrupted (the
    /// agent sends no stop then): record it as a step with an empty assistant message
    /// instead of abandoning it in staging (reference weakness 7).
    fn finish_interrupted(
        &self,
        event: &TurnEvent<'_>,
        turn: &str,
        state_file: &TurnStateFile,
        state: &mut TurnState,
    ) -> Result<()> {
        state.active_turn_id = None;
        let staging = self.staging(event, turn);
        if staging.exists() {
            // A stop may already be staged (a crash right after staging it): keep its text.
            if staging.read()?.stop.is_none() {
                staging.append(&self.header(event, turn), &[StagedOp::Stop { content: String::new(), src: None }])?;
            }
            if !state.pending_stops.iter().any(|t| t == turn) {
                state.pending_stops.push(turn.to_owned());
            }
        }
        state_file.save(state)?;
        self.finish_pending(event, state_file, state);
        Ok(())
    }

    /// Finalize turns whose stop was staged by an earlier process that did not finish.
    fn finish_pending(&self, event: &TurnEvent<'_>, state_file: &TurnStateFile, state: &mut TurnState) {
        let pending = state.pending_stops.clone();
        for turn in pending {
            let staging = self.staging(event, &turn);
            let done = if staging.exists() {
                match self.finalize(event.origin, event.session_id, &turn, &staging) {
                    Ok(_) => true,
                    Err(e) => {
                        self.log_error(event, &e, "recorder-recover");
                        false
                    }
                }
            } else {
                true
            };
            if done {
                state.pending_stops.retain(|t| t != &turn);
                if let Err(e) = state_file.save(state) {
                    self.log_error(event, &e, "recorder-recover");
                }
            }
        }
    }

    /// Finalize a staged turn (the caller holds the session lock).
    pub(crate) fn finalize(
        &self,
        origin: &str,
        session_id: &str,
        turn: &str,
        staging: &StagingFile,
    ) -> Result<FinalizeOutcome> {
        finalize::finalize(self, origin, session_id, turn, staging)
    }

    fn staging(&self, event: &TurnEvent<'_>, turn: &str) -> StagingFile {
        StagingFile::new(&self.store.tmp_dir(), event.origin, event.session_id, turn)
    }

    fn header(&self, event: &TurnEvent<'_>, turn: &str) -> StagedOp {
        StagedOp::Turn { origin: event.origin.into(), session_id: event.session_id.into(), turn_id: turn.into() }
    }

    fn model_op(&self, event: &TurnEvent<'_>) -> Option<StagedOp> {
        event.model.filter(|m| !m.is_empty()).map(|m| StagedOp::Model { model: m.to_owned() })
    }

    fn tool_op(&self, call: &ToolCall, src: Option<String>) -> StagedOp {
        StagedOp::ToolCall {
            src,
            tool_name: call.tool_name.clone(),
            args: capture_text(self.capture.tool_args, TextLabel::ToolArguments, &call.args, &self.detector),
            result: Some(capture_text(self.capture.tool_results, TextLabel::ToolResult, &call.result, &self.detector)),
        }
    }

    fn log_recovery(&self, event: &TurnEvent<'_>, turn: &str, why: &str) {
        let entry = HookLogEntry::new("info", "recovery_turn_id", format!("{why}; generated recovery turn id {turn}"))
            .about(event.agent, Some(event.event_name), Some(event.session_id));
        let _ = hook_log::append(&self.store, &HookLogEntry { error_kind: Some("MissingActiveTurn".into()), ..entry });
    }

    fn log_error(&self, event: &TurnEvent<'_>, error: &Error, context: &str) {
        let entry = HookLogEntry::new("error", error.code(), error.to_string()).about(
            event.agent,
            Some(event.event_name),
            Some(event.session_id),
        );
        let _ = hook_log::append(&self.store, &HookLogEntry { context: Some(context.into()), ..entry });
    }

    /// The snapshot capture level in force.
    pub(crate) fn snapshot_level(&self) -> CaptureLevel {
        self.capture.snapshots
    }

    pub(crate) fn redaction_key(&self) -> String {
        self.redaction_key.clone()
    }

    pub(crate) fn detector(&self) -> &Detector {
        &self.detector
    }
}

/// Find the store for a hook: walk up from `cwd`.
pub fn find_store(cwd: &Path) -> Result<Store> {
    Store::discover(cwd)
}
