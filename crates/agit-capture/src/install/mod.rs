//! Installing and removing agent hooks (`agit init`, `agit uninstall`).
//!
//! A library: it plans, writes and reports; the CLI renders. Nothing here reads the
//! process environment — `HOME`, the `PATH` value and the `agit` binary to run are
//! inputs ([`InstallEnv`]), so tests (and `--dry-run` previews) control them.
//!
//! ```text
//! plan(env, request)      -> Plan            (reads only)
//! install(env, request)   -> InstallReport   (plan + write; request.dry_run = plan only)
//! uninstall(home, binary) -> UninstallReport
//! ```
//!
//! # What gets written
//!
//! | agent | file (under `$HOME`) | events → `agit` argv |
//! |---|---|---|
//! | Claude Code | `.claude/settings.json` | `UserPromptSubmit` → `claude-hook user`, `PostToolBatch` → `claude-tool-batch-hook`, `Stop` → `claude-hook assistant`, `SessionStart` → `claude-hook session-start` |
//! | Codex CLI | `.codex/hooks.json` | `UserPromptSubmit`, `PostToolUse`, `Stop` → `codex-hook` |
//! | Gemini CLI | `.gemini/settings.json` | `BeforeAgent`, `AfterTool`, `AfterAgent`, `BeforeModel` → `gemini-hook` |
//! | Copilot CLI | `.copilot/extensions/agit-recorder/extension.mjs` | generated extension → `copilot-hook` |
//! | Pi | `.pi/agent/extensions/agit-recorder.js` | generated extension → `pi-hook` |
//!
//! Claude handlers use the exec form (`"command": "<AGIT>", "args": [...]`, no shell);
//! Codex and Gemini handlers are one shell command string with the binary path quoted
//! when it needs it. Each handler sits in its own matcher group without `matcher`
//! (every tool / every occurrence). `_agit: {"binary": "<AGIT>"}` is added to the Claude
//! and Gemini settings (both ignore unknown top-level keys) but never to Codex's
//! `hooks.json`, whose top level is strict (and an `_agit` left there by older agit
//! writers is removed). See the `json_hooks` module for the merge rules, `files` for
//! crash safety and the backup rule, `extensions` for the generated modules.
//!
//! # Native schemas relied on (researched, not guessed)
//!
//! - **Claude Code** (hooks reference, code.claude.com/docs/en/hooks; settings
//!   reference): `hooks.<Event>` is an array of matcher groups
//!   `{"matcher"?: string, "hooks": [{"type": "command", "command": …}]}`; `matcher`
//!   may be omitted for all events. A command hook with `args` spawns `command`
//!   directly with that argv, no shell ("exec form"). `PostToolBatch` fires once per
//!   resolved batch with a `tool_calls` array; `PostToolUse` fires per tool for the
//!   same calls — hence only one of them is subscribed (both would double-record).
//! - **Codex CLI** (`openai/codex` `codex-rs/hooks`, `codex_config::HooksFile`):
//!   `~/.codex/hooks.json` is `{"hooks": {<Event>: [matcher groups]}}` with
//!   `#[serde(deny_unknown_fields)]` at the top level; a command handler is
//!   `{"type": "command", "command": <shell string>, "timeout"?, "async"?,
//!   "statusMessage"?}`. Codex may also need hooks enabled in its `config.toml`
//!   (`[features] codex_hooks = true` in the versions documented); we do not edit it.
//! - **Gemini CLI** (`google-gemini/gemini-cli` `docs/hooks/reference.md`): settings
//!   `hooks.<Event>` is an array of hook definitions `{"matcher"?, "sequential"?,
//!   "hooks": [{"type": "command", "command": …, "name"?, "timeout"?}]}`.
//!   `BeforeAgent` carries the user's `prompt` (the reference recorded no prompts),
//!   `AfterAgent` carries `prompt_response`, `BeforeModel` an `llm_request`.
//! - **Copilot CLI / Pi**: extension modules as the reference generated them
//!   (`joinSession` hooks from `@github/copilot-sdk/extension`; Pi's default-export
//!   `pi.on(event, handler)` API, auto-loaded from `~/.pi/agent/extensions/`).

// Everything here reads user files: no panicking shortcuts outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

mod agents;
mod apply;
mod command;
mod extensions;
mod files;
mod json;
mod json_hooks;
mod plan;
mod report;
mod selftest;
mod status;
mod uninstall;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub use agents::{
    AgentId, InstallKind, ManagedEvent, ROUTE_CLAUDE, ROUTE_CLAUDE_TOOL_BATCH, ROUTE_CODEX, ROUTE_COPILOT,
    ROUTE_GEMINI, ROUTE_PI, ROUTES,
};
pub use extensions::MARKER;
pub use plan::{find_in_path, preferred_agit_binary};
pub use report::{
    AgentInstall, AgentPlan, ConfigState, InstallError, InstallReport, InstallStatus, Plan, Problem, Readiness,
    UninstallEntry, UninstallReport, UninstallStatus,
};
pub use selftest::{AgentHooks, HookInvocation, SelfTestOutcome, SelfTestResult, configured_hooks, self_test};
pub use status::{AgentHookStatus, hook_status};

/// The environment an install runs against (never read from the process).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallEnv {
    /// `$HOME`: agent configs live below it.
    pub home: PathBuf,
    /// The `PATH` value used to find agent binaries.
    pub path_var: OsString,
    /// The absolute `agit` binary the hooks will run (see [`preferred_agit_binary`]).
    pub agit_binary: PathBuf,
}

/// What `agit init` was asked to do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallRequest {
    /// `--agent` names (empty: all agents). Unknown names are an `unknown_agent` error.
    pub agents: Vec<String>,
    /// `--force`: back up and replace malformed / non-object configs (and a foreign
    /// file where an extension goes) instead of refusing.
    pub force: bool,
    /// `--dry-run`: plan only, write nothing.
    pub dry_run: bool,
}

/// Plans an install without writing anything. Errors only for an unknown agent name or
/// an unusable `agit` binary path; per-agent problems are in the plan.
pub fn plan(env: &InstallEnv, request: &InstallRequest) -> Result<Plan, InstallError> {
    plan::build(env, request)
}

/// Plans and (unless `request.dry_run`) installs the selected agents. Per-agent
/// outcomes, including refusals and failures, are in the report
/// ([`InstallReport::is_success`]).
pub fn install(env: &InstallEnv, request: &InstallRequest) -> Result<InstallReport, InstallError> {
    let plan = plan::build(env, request)?;
    Ok(apply::apply(plan, request.dry_run))
}

/// Removes our hooks and generated extensions for every agent under `home`.
/// `agit_binary` (the running binary), when given, is also recognised as ours.
pub fn uninstall(home: &Path, agit_binary: Option<&Path>) -> UninstallReport {
    uninstall::uninstall(home, agit_binary)
}
