//! The normalized hook event: what one agent hook invocation means for the recorder.
//!
//! Every hook process (`agit claude-hook user`, `agit codex-hook`, …) reads one raw payload
//! from stdin and turns it, through [`crate::adapters::parse`], into exactly one
//! [`HookEvent`]. The recorder consumes only this type: it resolves the effective turn id
//! from [`HookEvent::preferred_turn_id`] (reference rules, `capture.md` §5), records
//! [`HookEvent::model`] (§7) and dispatches on [`EventKind`]:
//!
//! | [`EventKind`] | reference kind | recorder action |
//! |---|---|---|
//! | [`EventKind::UserPrompt`] | `user_prompt` | append a user message to the turn's staging |
//! | [`EventKind::ToolUse`] | `tool_use` | append each call to the turn's staging (nothing if empty) |
//! | [`EventKind::Stop`] | `assistant` | finalize the turn into a step with this assistant text |
//! | [`EventKind::Metadata`] | `metadata` | only model attribution; nothing staged |
//!
//! # Per-agent mapping
//!
//! Route = the hook command line ([`crate::adapters::HookRoute`]); event = the payload's
//! `hook_event_name`, which must match the route. "source" is
//! [`HookEvent::source_event_id`].
//!
//! | origin | route | `hook_event_name` | kind | text / calls from | source | model |
//! |---|---|---|---|---|---|---|
//! | `claude` | `claude-hook session-start` | `SessionStart` | Metadata | — | `event_id` | `model` |
//! | `claude` | `claude-hook user` | `UserPromptSubmit` | UserPrompt | `prompt` (required) | `event_id` | `model` |
//! | `claude` | `claude-tool-batch-hook` | `PostToolBatch` | ToolUse | `tool_calls[]` (required array) | — | — |
//! | `claude` | `claude-tool-batch-hook` | `PostToolUse` | ToolUse | one call on the root | `tool_use_id` | — |
//! | `claude` | `claude-hook assistant` | `Stop` | Stop | `last_assistant_message` (else "") | `event_id` | `model` |
//! | `codex` | `codex-hook` | `UserPromptSubmit` | UserPrompt | `prompt` (required) | `event_id` | `model` |
//! | `codex` | `codex-hook` | `PostToolUse` | ToolUse | one call on the root | `tool_use_id` | `model` |
//! | `codex` | `codex-hook` | `Stop` | Stop | `last_assistant_message` (else "") | `event_id` | `model` |
//! | `gemini` | `gemini-hook` | `BeforeModel` | Metadata | `llm_request` (required object) | `event_id` | `llm_request.model` |
//! | `gemini` | `gemini-hook` | `BeforeAgent` | UserPrompt | `prompt` (required) | `event_id` | — |
//! | `gemini` | `gemini-hook` | `AfterTool` | ToolUse | one call on the root | `tool_use_id` | — |
//! | `gemini` | `gemini-hook` | `AfterAgent` | Stop | `response`, else `prompt_response`, else "" | `event_id` | — |
//! | `copilot` | `copilot-hook` | `UserPromptSubmit` | UserPrompt | `prompt` (required) | `event_id` | — |
//! | `copilot` | `copilot-hook` | `PostToolUse` | ToolUse | one call, Copilot rules (below) | `tool_use_id` | — |
//! | `copilot` | `copilot-hook` | `Stop` | Stop | always "" (Copilot sends no final message) | — | — |
//! | `pi` | `pi-hook` | `input` | UserPrompt | `prompt` (required) | `event_id` | — |
//! | `pi` | `pi-hook` | `tool_execution_end` | ToolUse | one call on the root | `tool_use_id` | — |
//! | `pi` | `pi-hook` | `agent_end` | Stop | `response` (else "") | `event_id` | — |
//!
//! Gemini `BeforeAgent` and the `prompt_response` fallback are additions over the
//! reference (which never recorded Gemini prompts and read only `response`); Claude
//! `PostToolUse` is accepted on the batch route as the per-tool fallback the reference
//! notes suggest.
//!
//! Identity, for every agent:
//! - [`HookEvent::session_id`] = payload `session_id` verbatim (required string, may be
//!   empty: the Pi extension sends `""` when it cannot get an id — the recorder decides);
//!   a session is the pair ([`HookEvent::origin`], `session_id`).
//! - [`HookEvent::cwd`] = payload `cwd` (required string, used as given: relative values
//!   resolve against the hook process cwd; one that cannot be opened falls back to the
//!   process cwd, §4).
//! - [`HookEvent::preferred_turn_id`] = payload `turn_id` when a non-empty string. Codex
//!   sends its own; the Copilot and Pi extensions send `agturn:<agent>-<n>`; Claude and
//!   Gemini usually send none, so the recorder allocates `agturn:<n>` / recovery ids.
//! - [`HookEvent::model`] = the non-empty model named above; per §7 it is turn-scoped when
//!   the resolved turn id is non-empty, else session-scoped.
//!
//! Tool calls ([`ToolCall`]) follow the reference's shared extraction: `tool_name`
//! (string) names the tool, `args` is the compact JSON of `tool_input` (`null` when absent),
//! `result` is `tool_response` verbatim when it is a string, else its compact JSON (`null`
//! when absent). A malformed entry is kept visible instead of rejected: missing `tool_name`
//! → name `unknown`, args = JSON of the whole entry, result `missing tool_name`; a
//! non-string name → result `invalid tool_name`; a batch item that is not an object → name
//! `unknown`, args = its JSON, result `tool entry is not an object`. Copilot differs: name
//! = `tool_name` or `unknown`, args = JSON of `tool_input`, result =
//! `tool_result.text_result_for_llm` when a string, else `tool_result` itself when a
//! string, else its compact JSON, or `""` when absent.
//!
//! Compact JSON here means the reference's (Zig `std.json`) rendering of the parsed value:
//! no whitespace, object keys in document order, strings re-escaped with Zig's rules
//! (`"`, `\`, `\b`, `\f`, `\n`, `\r`, `\t`, other controls as lowercase `\u00xx`, nothing
//! else escaped), integers as written, other numbers as the shortest decimal that
//! round-trips (`1.50` → `1.5`, `1e2` → `100`), non-finite ones as written.
//!
//! All text is valid UTF-8: invalid bytes and unpaired surrogate escapes in the payload
//! become U+FFFD.

use std::fmt;
use std::path::PathBuf;

/// The agent a hook event comes from; the first half of a session's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// Claude Code.
    Claude,
    /// OpenAI Codex CLI.
    Codex,
    /// Google Gemini CLI.
    Gemini,
    /// GitHub Copilot CLI.
    Copilot,
    /// Pi.
    Pi,
}

impl Origin {
    /// Every hook origin, in the reference's agent order.
    pub const ALL: [Origin; 5] = [Origin::Claude, Origin::Codex, Origin::Gemini, Origin::Copilot, Origin::Pi];

    /// The origin string stored in steps and refs (`claude`, `codex`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Claude => "claude",
            Origin::Codex => "codex",
            Origin::Gemini => "gemini",
            Origin::Copilot => "copilot",
            Origin::Pi => "pi",
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One normalized hook event; see the [module docs](self) for where each field comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookEvent {
    /// The agent that sent the event.
    pub origin: Origin,
    /// The payload's `hook_event_name` as received (for logs: `event`/`event_name`).
    pub event_name: String,
    /// Payload `session_id`, verbatim (may be empty).
    pub session_id: String,
    /// Payload `cwd`: the directory the agent worked in; the store is found from here.
    pub cwd: PathBuf,
    /// The agent's own turn id (payload `turn_id`), when a non-empty string. The recorder
    /// turns it, or its absence, into the effective turn id.
    pub preferred_turn_id: Option<String>,
    /// The agent's id for this event (`event_id`, or `tool_use_id` for single tool
    /// events), when a non-empty string. Diagnostics only; never stored in a step.
    pub source_event_id: Option<String>,
    /// The model named by the payload, when a non-empty string.
    pub model: Option<String>,
    /// What happened.
    pub kind: EventKind,
}

impl HookEvent {
    /// True when the event carries nothing to record: a tool batch with no calls. The
    /// reference exits silently in that case, before touching the store.
    pub fn is_noop(&self) -> bool {
        matches!(&self.kind, EventKind::ToolUse { calls } if calls.is_empty())
    }
}

/// What a hook event reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// The user submitted a prompt; staged as a user message of the turn.
    UserPrompt {
        /// The prompt text.
        prompt: String,
    },
    /// Tool calls completed; each is staged in arrival order. Empty for a Claude
    /// `PostToolBatch` with no calls (see [`HookEvent::is_noop`]).
    ToolUse {
        /// The calls, in payload order.
        calls: Vec<ToolCall>,
    },
    /// The agent finished its turn: the recorder finalizes the turn into a step.
    Stop {
        /// The final assistant message; empty when the agent sent none.
        assistant_text: String,
    },
    /// Only metadata (the event's [`HookEvent::model`]); nothing is staged.
    Metadata,
}

impl EventKind {
    /// The reference's name for this kind: `user_prompt`, `tool_use`, `assistant` or
    /// `metadata`.
    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::UserPrompt { .. } => "user_prompt",
            EventKind::ToolUse { .. } => "tool_use",
            EventKind::Stop { .. } => "assistant",
            EventKind::Metadata => "metadata",
        }
    }
}

/// One tool call, in the shape a step stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// The tool's name (`unknown` when the payload did not name it properly).
    pub tool_name: String,
    /// The arguments as compact JSON text (`null` when the payload had none).
    pub args: String,
    /// The result: the agent's text verbatim, or compact JSON of a structured result.
    pub result: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_strings_are_the_reference_ones() {
        let names: Vec<&str> = Origin::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(names, ["claude", "codex", "gemini", "copilot", "pi"]);
        assert_eq!(Origin::Pi.to_string(), "pi");
    }

    #[test]
    fn only_an_empty_tool_batch_is_a_noop() {
        let mut event = HookEvent {
            origin: Origin::Claude,
            event_name: "PostToolBatch".into(),
            session_id: "s".into(),
            cwd: PathBuf::from("/w"),
            preferred_turn_id: None,
            source_event_id: None,
            model: None,
            kind: EventKind::ToolUse { calls: Vec::new() },
        };
        assert!(event.is_noop());
        event.kind = EventKind::Metadata;
        assert!(!event.is_noop());
        assert_eq!(event.kind.as_str(), "metadata");
    }
}
