//! Agent adapters: one raw hook payload plus its command-line route → one [`HookEvent`].
//!
//! Pure parsing, no I/O: the hook runner reads stdin (capped at the payload limit),
//! calls [`parse`], and hands the event to the recorder — or, on failure, logs the
//! [`ParseFailure`] (code, context, [`ParseFailure::payload_snippet`]) and exits 0.
//!
//! Checks run in this order, so the first problem is the one reported: size cap, JSON
//! syntax, root is an object, `hook_event_name` (required string, one the route
//! handles), `session_id`, `cwd`, `turn_id`, the event's optional ids/model, then its
//! required fields. See [`crate::event`] for what each agent's events become.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod claude;
mod codex;
mod copilot;
mod error;
mod fields;
mod gemini;
mod json;
mod pi;
mod redact;
mod tool;

use std::fmt;
use std::path::PathBuf;

pub use error::{AdapterError, JsonErrorKind, JsonPosition};
pub use redact::{SNIPPET_BYTES, redacted_snippet, redacted_snippet_around};

use crate::event::{HookEvent, Origin};
use fields::Payload;
use json::Value;

/// Default payload cap (16 MiB), overridden by `AGIT_HOOK_MAX_BYTES`.
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 16 * 1024 * 1024;

/// The payload cap for a given `AGIT_HOOK_MAX_BYTES` value: a whitespace-trimmed
/// positive decimal; absent, empty, unparsable or 0 → [`DEFAULT_MAX_PAYLOAD_BYTES`].
pub fn max_payload_bytes(env_value: Option<&str>) -> usize {
    env_value
        .and_then(|value| value.trim().parse::<usize>().ok())
        .filter(|&bytes| bytes > 0)
        .unwrap_or(DEFAULT_MAX_PAYLOAD_BYTES)
}

/// Which hook command received the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookRoute {
    /// `agit claude-hook <subcommand>`.
    Claude(ClaudeHook),
    /// `agit claude-tool-batch-hook`.
    ClaudeToolBatch,
    /// `agit codex-hook`.
    Codex,
    /// `agit gemini-hook`.
    Gemini,
    /// `agit copilot-hook`.
    Copilot,
    /// `agit pi-hook`.
    Pi,
}

/// The positional argument of `agit claude-hook`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClaudeHook {
    /// `user`: `UserPromptSubmit`.
    User,
    /// `assistant`: `Stop`.
    Assistant,
    /// `session-start`: `SessionStart`.
    SessionStart,
}

impl ClaudeHook {
    /// Parses the subcommand; validated before stdin is read, as the reference does.
    pub fn from_arg(arg: Option<&str>) -> Result<ClaudeHook, AdapterError> {
        match arg {
            None => Err(AdapterError::MissingSubcommand),
            Some("user") => Ok(ClaudeHook::User),
            Some("assistant") => Ok(ClaudeHook::Assistant),
            Some("session-start") => Ok(ClaudeHook::SessionStart),
            Some(other) => Err(AdapterError::UnknownSubcommand { value: other.to_owned() }),
        }
    }

    /// The argument as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaudeHook::User => "user",
            ClaudeHook::Assistant => "assistant",
            ClaudeHook::SessionStart => "session-start",
        }
    }
}

impl HookRoute {
    /// Every hook command name, as installed in agent configs.
    pub const COMMANDS: [&'static str; 6] =
        ["claude-hook", "claude-tool-batch-hook", "codex-hook", "gemini-hook", "copilot-hook", "pi-hook"];

    /// The route for a hook command line: `command` is the CLI subcommand, `arg` the
    /// first argument after it (only `claude-hook` uses one; others ignore extras).
    /// `Ok(None)` when `command` is not a hook command.
    pub fn from_cli(command: &str, arg: Option<&str>) -> Result<Option<HookRoute>, AdapterError> {
        Ok(Some(match command {
            "claude-hook" => HookRoute::Claude(ClaudeHook::from_arg(arg)?),
            "claude-tool-batch-hook" => HookRoute::ClaudeToolBatch,
            "codex-hook" => HookRoute::Codex,
            "gemini-hook" => HookRoute::Gemini,
            "copilot-hook" => HookRoute::Copilot,
            "pi-hook" => HookRoute::Pi,
            _ => return Ok(None),
        }))
    }

    /// The CLI subcommand (`claude-hook`, `codex-hook`, …). This is also the adapter
    /// name the reference logs as `agent`.
    pub fn command(self) -> &'static str {
        match self {
            HookRoute::Claude(_) => "claude-hook",
            HookRoute::ClaudeToolBatch => "claude-tool-batch-hook",
            HookRoute::Codex => "codex-hook",
            HookRoute::Gemini => "gemini-hook",
            HookRoute::Copilot => "copilot-hook",
            HookRoute::Pi => "pi-hook",
        }
    }

    /// The agent this route records for.
    pub fn origin(self) -> Origin {
        match self {
            HookRoute::Claude(_) | HookRoute::ClaudeToolBatch => Origin::Claude,
            HookRoute::Codex => Origin::Codex,
            HookRoute::Gemini => Origin::Gemini,
            HookRoute::Copilot => Origin::Copilot,
            HookRoute::Pi => Origin::Pi,
        }
    }
}

impl fmt::Display for HookRoute {
    /// The command line after `agit`, e.g. `claude-hook user`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HookRoute::Claude(hook) => write!(f, "claude-hook {}", hook.as_str()),
            other => f.write_str(other.command()),
        }
    }
}

/// A rejected payload: the error plus what could be read of the payload, for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct ParseFailure {
    /// What was wrong. (Displayed as the failure itself, not as a separate source,
    /// so error chains do not print it twice.)
    pub error: AdapterError,
    /// Fields read opportunistically for the log and to locate the store (boxed to
    /// keep the `Result` small on the success path).
    pub context: Box<PayloadContext>,
}

impl ParseFailure {
    /// The stable diagnostic code of [`ParseFailure::error`].
    pub fn code(&self) -> &'static str {
        self.error.code()
    }

    /// The redacted `payload_snippet` for the log: around the syntax error for invalid
    /// JSON, else the start of the payload.
    pub fn payload_snippet(&self, payload: &[u8]) -> String {
        match self.error.position() {
            Some(position) => redacted_snippet_around(payload, position.offset),
            None => redacted_snippet(payload),
        }
    }
}

/// What a failed payload revealed: `session_id`, `hook_event_name` and `cwd` when the
/// payload was a JSON object and they were strings (the log is written to the store
/// found from `cwd` when known), and its size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayloadContext {
    /// Payload `session_id`, if a string.
    pub session_id: Option<String>,
    /// Payload `hook_event_name`, if a string.
    pub event_name: Option<String>,
    /// Payload `cwd`, if a string.
    pub cwd: Option<PathBuf>,
    /// Payload size in bytes (`payload_bytes` in the log).
    pub payload_bytes: usize,
}

/// Turns one raw payload received on `route` into its normalized event.
///
/// `max_bytes` is the payload cap (see [`max_payload_bytes`]); a larger payload is
/// rejected unparsed. Never panics, whatever the bytes.
pub fn parse(route: HookRoute, payload: &[u8], max_bytes: usize) -> Result<HookEvent, ParseFailure> {
    let mut context = PayloadContext { payload_bytes: payload.len(), ..PayloadContext::default() };
    let fail = |error, context| Err(ParseFailure { error, context: Box::new(context) });
    if payload.len() > max_bytes {
        let error = AdapterError::HookPayloadTooLarge { payload_bytes: payload.len(), max_payload_bytes: max_bytes };
        return fail(error, context);
    }
    let root = match json::parse(payload) {
        Ok(Value::Object(root)) => root,
        Ok(other) => {
            let error = AdapterError::PayloadNotObject { found: other.type_name() };
            return fail(error, context);
        }
        Err(syntax) => {
            let error = AdapterError::InvalidPayload {
                kind: syntax.kind,
                position: JsonPosition::locate(payload, syntax.offset),
            };
            return fail(error, context);
        }
    };
    context.session_id = root.get_str("session_id").map(str::to_owned);
    context.event_name = root.get_str("hook_event_name").map(str::to_owned);
    context.cwd = root.get_str("cwd").map(PathBuf::from);
    let payload = Payload::new(&root);
    let parsed = match route {
        HookRoute::Claude(hook) => claude::parse_hook(hook, &payload),
        HookRoute::ClaudeToolBatch => claude::parse_tool_batch(&payload),
        HookRoute::Codex => codex::parse(&payload),
        HookRoute::Gemini => gemini::parse(&payload),
        HookRoute::Copilot => copilot::parse(&payload),
        HookRoute::Pi => pi::parse(&payload),
    };
    parsed.or_else(|error| fail(error, context))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn env_cap_parsing_matches_the_reference() {
        assert_eq!(max_payload_bytes(None), DEFAULT_MAX_PAYLOAD_BYTES);
        assert_eq!(max_payload_bytes(Some("")), DEFAULT_MAX_PAYLOAD_BYTES);
        assert_eq!(max_payload_bytes(Some("0")), DEFAULT_MAX_PAYLOAD_BYTES);
        assert_eq!(max_payload_bytes(Some("12k")), DEFAULT_MAX_PAYLOAD_BYTES);
        assert_eq!(max_payload_bytes(Some(" 1024\n")), 1024);
    }

    #[test]
    fn routes_come_from_the_command_line() {
        assert_eq!(
            HookRoute::from_cli("claude-hook", Some("user")).unwrap(),
            Some(HookRoute::Claude(ClaudeHook::User))
        );
        assert_eq!(HookRoute::from_cli("claude-hook", None).unwrap_err().code(), "missing_subcommand");
        assert_eq!(HookRoute::from_cli("claude-hook", Some("tool")).unwrap_err().code(), "unknown_subcommand");
        assert_eq!(HookRoute::from_cli("pi-hook", Some("extra")).unwrap(), Some(HookRoute::Pi));
        assert_eq!(HookRoute::from_cli("log", None).unwrap(), None);
        for command in HookRoute::COMMANDS {
            let arg = (command == "claude-hook").then_some("session-start");
            let route = HookRoute::from_cli(command, arg).unwrap().unwrap();
            assert_eq!(route.command(), command);
        }
        assert_eq!(HookRoute::Claude(ClaudeHook::SessionStart).to_string(), "claude-hook session-start");
        assert_eq!(HookRoute::ClaudeToolBatch.origin(), Origin::Claude);
        assert_eq!(HookRoute::Copilot.to_string(), "copilot-hook");
    }

    #[test]
    fn oversized_payloads_are_rejected_unparsed() {
        let failure = parse(HookRoute::Codex, b"not even json", 4).unwrap_err();
        assert_eq!(failure.error, AdapterError::HookPayloadTooLarge { payload_bytes: 13, max_payload_bytes: 4 });
        assert_eq!(failure.context.payload_bytes, 13);
        // Exactly the cap is accepted.
        let payload = br#"{"hook_event_name":"Stop","session_id":"s","cwd":"/w"}"#;
        assert!(parse(HookRoute::Codex, payload, payload.len()).is_ok());
    }

    #[test]
    fn failures_keep_what_the_payload_revealed() {
        let payload = br#"{"hook_event_name":"UserPromptSubmit","session_id":"s1","cwd":"/repo"}"#;
        let failure = parse(HookRoute::Codex, payload, DEFAULT_MAX_PAYLOAD_BYTES).unwrap_err();
        assert_eq!(failure.code(), "missing_required_field");
        assert_eq!(failure.context.session_id.as_deref(), Some("s1"));
        assert_eq!(failure.context.event_name.as_deref(), Some("UserPromptSubmit"));
        assert_eq!(failure.context.cwd, Some(PathBuf::from("/repo")));
        assert_eq!(failure.to_string(), "hook payload is missing required field `prompt`");
    }

    #[test]
    fn non_object_roots_are_invalid_payloads() {
        for (payload, found) in [(&b"[]"[..], "an array"), (b"\"x\"", "a string"), (b"null", "null")] {
            let failure = parse(HookRoute::Pi, payload, DEFAULT_MAX_PAYLOAD_BYTES).unwrap_err();
            assert_eq!(failure.error, AdapterError::PayloadNotObject { found });
            assert_eq!(failure.code(), "invalid_json_payload");
        }
    }

    #[test]
    fn json_errors_carry_a_snippet_around_the_error() {
        let mut payload = br#"{"api_key":"sk-live-0123456789abcdefghijkl","pad":""#.to_vec();
        payload.extend(std::iter::repeat_n(b'a', 600));
        payload.extend_from_slice(br#"" "oops"}"#);
        let failure = parse(HookRoute::Codex, &payload, DEFAULT_MAX_PAYLOAD_BYTES).unwrap_err();
        let position = failure.error.position().unwrap();
        assert_eq!(position.offset, payload.len() - 7);
        let snippet = failure.payload_snippet(&payload);
        assert!(snippet.ends_with(r#"" "oops"}"#), "{snippet}");
        let head = redacted_snippet(&payload);
        assert!(head.starts_with(r#"{"api_key":"[REDACTED]","pad":""#), "{head}");
    }
}
