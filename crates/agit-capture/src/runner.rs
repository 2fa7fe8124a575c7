//! The hook runner: one hook process from command line and stdin to a recorded event.
//!
//! Fail-open: whatever goes wrong is written to stderr and to `.agit/log/hook-error.log`,
//! and the process still exits 0 so the agent is never blocked. Outside any agit store
//! the hook says so once on stderr and exits 0 quietly.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use agit_core::Store;

use crate::adapters::{self, AdapterError, HookRoute, ParseFailure};
use crate::event::HookEvent;
use crate::hook_log::{self, HookLogEntry};
use crate::recorder::{RecordOutcome, Recorder, TurnEvent};

/// What a hook run did (for tests and `doctor`'s self-test; the process exits 0 anyway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookRunOutcome {
    Recorded(RecordOutcome),
    /// Nothing to record (an empty tool batch).
    Nothing,
    /// No `.agit/` store above the payload's cwd.
    NoStore,
    /// Logged failure with its code.
    Failed(String),
}

/// Inputs of one hook run besides stdin.
pub struct HookRun<'a> {
    /// The hook subcommand (`claude-hook`, `codex-hook`, …).
    pub command: &'a str,
    /// Its first argument (`user|assistant|session-start` for `claude-hook`).
    pub arg: Option<&'a str>,
    /// The hook process's working directory.
    pub process_cwd: &'a Path,
    /// Payload cap (`AGIT_HOOK_MAX_BYTES`).
    pub max_bytes: usize,
}

/// Run one hook invocation. Never panics on input and never returns an error.
pub fn run_hook(run: HookRun<'_>, stdin: &mut dyn Read, stderr: &mut dyn Write) -> HookRunOutcome {
    let route = match HookRoute::from_cli(run.command, run.arg) {
        Ok(Some(route)) => route,
        Ok(None) => return HookRunOutcome::Failed("unknown_subcommand".into()),
        Err(e) => {
            // The subcommand is checked before stdin is read, as the reference does.
            report_adapter_error(run.command, &e, None, run.process_cwd, None, stderr);
            return HookRunOutcome::Failed(e.code().into());
        }
    };
    let agent = route.command();
    let payload = match read_capped(stdin, run.max_bytes) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(stderr, "[agit hook error] {agent}: cannot read stdin: {e}");
            return HookRunOutcome::Failed("hook_error".into());
        }
    };
    match adapters::parse(route, &payload, run.max_bytes) {
        Err(failure) => {
            report_parse_failure(agent, &failure, &payload, run.process_cwd, stderr);
            HookRunOutcome::Failed(failure.code().into())
        }
        Ok(event) if event.is_noop() => HookRunOutcome::Nothing,
        Ok(event) => record(agent, &event, run.process_cwd, stderr),
    }
}

fn record(agent: &str, event: &HookEvent, process_cwd: &Path, stderr: &mut dyn Write) -> HookRunOutcome {
    let (workspace, fell_back) = workspace_dir(Some(&event.cwd), process_cwd);
    let Ok(store) = Store::discover(&workspace) else {
        let _ = writeln!(
            stderr,
            "agit: no .agit/ store in {} or its parents; not recording (run `agit init` to record here)",
            workspace.display()
        );
        return HookRunOutcome::NoStore;
    };
    let about = |entry: HookLogEntry| entry.about(agent, Some(&event.event_name), Some(&event.session_id));
    if fell_back {
        let entry = HookLogEntry::new(
            "info",
            "workspace_cwd_fallback",
            "payload cwd could not be opened; used hook process cwd fallback",
        );
        let _ = hook_log::append(&store, &HookLogEntry { error_kind: Some("InvalidCwd".into()), ..about(entry) });
    }
    let result = Recorder::open(store.clone()).and_then(|recorder| {
        recorder.record(&TurnEvent {
            agent,
            origin: event.origin.as_str(),
            session_id: &event.session_id,
            event_name: &event.event_name,
            preferred_turn_id: event.preferred_turn_id.as_deref(),
            model: event.model.as_deref(),
            kind: &event.kind,
            source: None,
        })
    });
    match result {
        Ok(outcome) => HookRunOutcome::Recorded(outcome),
        Err(e) => {
            let _ = writeln!(stderr, "[agit hook error] {agent}: {e}");
            let entry = HookLogEntry::new("error", e.code(), e.to_string());
            let kind = match &e {
                agit_core::Error::LockTimeout { .. } => Some("LockTimeout".to_owned()),
                agit_core::Error::CasConflict { .. } => Some("CasConflict".to_owned()),
                _ => None,
            };
            let _ = hook_log::append(
                &store,
                &HookLogEntry { context: Some("recorder".into()), error_kind: kind, ..about(entry) },
            );
            HookRunOutcome::Failed(e.code().into())
        }
    }
}

/// The payload's cwd (relative to the process cwd) if it is a directory, else the
/// process cwd; the flag says whether the fallback was used.
fn workspace_dir(payload_cwd: Option<&Path>, process_cwd: &Path) -> (PathBuf, bool) {
    match payload_cwd {
        Some(cwd) => {
            let dir = process_cwd.join(cwd);
            if dir.is_dir() { (dir, false) } else { (process_cwd.to_path_buf(), true) }
        }
        None => (process_cwd.to_path_buf(), false),
    }
}

fn read_capped(stdin: &mut dyn Read, max_bytes: usize) -> std::io::Result<Vec<u8>> {
    let mut payload = Vec::new();
    // One byte past the cap is enough to know it is too large, without reading it all.
    stdin.take(max_bytes as u64 + 1).read_to_end(&mut payload)?;
    Ok(payload)
}

fn report_parse_failure(
    agent: &str,
    failure: &ParseFailure,
    payload: &[u8],
    process_cwd: &Path,
    stderr: &mut dyn Write,
) {
    report_adapter_error(
        agent,
        &failure.error,
        Some(failure),
        process_cwd,
        Some(failure.payload_snippet(payload)),
        stderr,
    );
}

fn report_adapter_error(
    agent: &str,
    error: &AdapterError,
    failure: Option<&ParseFailure>,
    process_cwd: &Path,
    snippet: Option<String>,
    stderr: &mut dyn Write,
) {
    let position = error.position();
    let _ = match position {
        Some(p) => writeln!(
            stderr,
            "[agit hook error] {agent}: {} at byte offset {} (line {}, column {})",
            error.message(),
            p.offset,
            p.line,
            p.column
        ),
        None => writeln!(stderr, "[agit hook error] {agent}: {error}"),
    };
    let context = failure.map(|f| &f.context);
    let (workspace, _) = workspace_dir(context.and_then(|c| c.cwd.as_deref()), process_cwd);
    let Ok(store) = Store::discover(&workspace) else { return };
    let bytes = context.map(|c| c.payload_bytes as u64);
    let entry = HookLogEntry::new("error", error.code(), error.message()).about(
        agent,
        context.and_then(|c| c.event_name.as_deref()),
        context.and_then(|c| c.session_id.as_deref()),
    );
    let max_payload_bytes = match error {
        AdapterError::HookPayloadTooLarge { max_payload_bytes, .. } => Some(*max_payload_bytes as u64),
        _ => None,
    };
    let entry = HookLogEntry {
        context: Some("hook".into()),
        error_kind: Some(error.error_kind().into()),
        error_msg: Some(error.to_string()),
        payload_size: bytes,
        payload_bytes: bytes,
        max_payload_bytes,
        payload_snippet: snippet,
        parse_path: position.map(|_| "stdin".into()),
        parse_offset: position.map(|p| p.offset as u64),
        parse_line: position.map(|p| p.line as u64),
        parse_column: position.map(|p| p.column as u64),
        field: error.field().map(str::to_owned),
        ..entry
    };
    let _ = hook_log::append(&store, &entry);
}
