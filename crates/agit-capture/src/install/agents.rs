//! The five agents `agit init` knows, where their configs live, and which hook events we
//! subscribe to with which `agit` route.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::report::InstallError;

/// `agit claude-hook` (takes a positional subcommand).
pub const ROUTE_CLAUDE: &str = "claude-hook";
/// `agit claude-tool-batch-hook`: Claude's `PostToolBatch` (`tool_calls` array) and its
/// per-tool `PostToolUse` payload (tool fields on the root).
pub const ROUTE_CLAUDE_TOOL_BATCH: &str = "claude-tool-batch-hook";
/// `agit codex-hook`.
pub const ROUTE_CODEX: &str = "codex-hook";
/// `agit gemini-hook`.
pub const ROUTE_GEMINI: &str = "gemini-hook";
/// `agit copilot-hook` (spawned by the generated Copilot extension).
pub const ROUTE_COPILOT: &str = "copilot-hook";
/// `agit pi-hook` (spawned by the generated Pi extension).
pub const ROUTE_PI: &str = "pi-hook";
/// Every hook route; a config handler that runs `agit` with one of these is ours.
pub const ROUTES: [&str; 6] =
    [ROUTE_CLAUDE, ROUTE_CLAUDE_TOOL_BATCH, ROUTE_CODEX, ROUTE_GEMINI, ROUTE_COPILOT, ROUTE_PI];

/// One agent `agit init` can install into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentId {
    /// Claude Code (`claude`).
    Claude,
    /// OpenAI Codex CLI (`codex`).
    Codex,
    /// Google Gemini CLI (`gemini`).
    Gemini,
    /// GitHub Copilot CLI (`copilot`).
    Copilot,
    /// Pi coding agent (`pi`).
    Pi,
}

/// How an agent is hooked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallKind {
    /// Handlers merged into the agent's JSON config.
    JsonHooks,
    /// A generated JavaScript extension module.
    JsExtension,
}

/// One subscription: the agent's event name and the `agit` argv that handles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagedEvent {
    /// The agent's hook event name.
    pub event: &'static str,
    /// The arguments after the `agit` binary.
    pub args: &'static [&'static str],
}

const fn ev(event: &'static str, args: &'static [&'static str]) -> ManagedEvent {
    ManagedEvent { event, args }
}

/// Claude Code. `PostToolUse` is deliberately not subscribed next to `PostToolBatch`:
/// Claude Code fires both for the same calls, batch items carry no id to deduplicate
/// on, so every tool call would be recorded twice.
const CLAUDE_EVENTS: [ManagedEvent; 4] = [
    ev("UserPromptSubmit", &[ROUTE_CLAUDE, "user"]),
    ev("PostToolBatch", &[ROUTE_CLAUDE_TOOL_BATCH]),
    ev("Stop", &[ROUTE_CLAUDE, "assistant"]),
    ev("SessionStart", &[ROUTE_CLAUDE, "session-start"]),
];
const CODEX_EVENTS: [ManagedEvent; 3] =
    [ev("UserPromptSubmit", &[ROUTE_CODEX]), ev("PostToolUse", &[ROUTE_CODEX]), ev("Stop", &[ROUTE_CODEX])];
const GEMINI_EVENTS: [ManagedEvent; 4] = [
    ev("BeforeAgent", &[ROUTE_GEMINI]),
    ev("AfterTool", &[ROUTE_GEMINI]),
    ev("AfterAgent", &[ROUTE_GEMINI]),
    ev("BeforeModel", &[ROUTE_GEMINI]),
];

impl AgentId {
    /// All agents, in the order plans and reports list them.
    pub const ALL: [AgentId; 5] = [AgentId::Claude, AgentId::Codex, AgentId::Gemini, AgentId::Copilot, AgentId::Pi];

    /// The id (`claude`, …), also the binary looked up on `PATH`.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentId::Claude => "claude",
            AgentId::Codex => "codex",
            AgentId::Gemini => "gemini",
            AgentId::Copilot => "copilot",
            AgentId::Pi => "pi",
        }
    }

    /// The binary name looked up on `PATH`.
    pub fn binary_name(self) -> &'static str {
        self.as_str()
    }

    /// Human name (`Claude Code`, …).
    pub fn display_name(self) -> &'static str {
        match self {
            AgentId::Claude => "Claude Code",
            AgentId::Codex => "Codex CLI",
            AgentId::Gemini => "Gemini CLI",
            AgentId::Copilot => "Copilot CLI",
            AgentId::Pi => "Pi",
        }
    }

    /// Parses an agent id (exact, lowercase) — `unknown_agent` otherwise.
    pub fn parse(name: &str) -> Result<AgentId, InstallError> {
        AgentId::ALL
            .into_iter()
            .find(|agent| agent.as_str() == name)
            .ok_or_else(|| InstallError::UnknownAgent { name: name.to_owned() })
    }

    /// How this agent is hooked.
    pub fn kind(self) -> InstallKind {
        match self {
            AgentId::Claude | AgentId::Codex | AgentId::Gemini => InstallKind::JsonHooks,
            AgentId::Copilot | AgentId::Pi => InstallKind::JsExtension,
        }
    }

    /// The file `init` writes, relative to `$HOME`.
    pub fn config_relative_path(self) -> &'static str {
        match self {
            AgentId::Claude => ".claude/settings.json",
            AgentId::Codex => ".codex/hooks.json",
            AgentId::Gemini => ".gemini/settings.json",
            AgentId::Copilot => ".copilot/extensions/agit-recorder/extension.mjs",
            AgentId::Pi => ".pi/agent/extensions/agit-recorder.js",
        }
    }

    /// The file `init` writes, under `home`.
    pub fn config_path(self, home: &Path) -> PathBuf {
        home.join(self.config_relative_path())
    }

    /// The events subscribed in the agent's JSON config (empty for extension agents).
    pub fn managed_events(self) -> &'static [ManagedEvent] {
        match self {
            AgentId::Claude => &CLAUDE_EVENTS,
            AgentId::Codex => &CODEX_EVENTS,
            AgentId::Gemini => &GEMINI_EVENTS,
            AgentId::Copilot | AgentId::Pi => &[],
        }
    }

    /// Whether the config gets `"_agit": {"binary": …}`. Codex's `hooks.json` has a
    /// strict top-level schema (unknown keys make Codex reject the file), so not there.
    pub fn writes_marker_key(self) -> bool {
        matches!(self, AgentId::Claude | AgentId::Gemini)
    }

    /// Whether handlers use Claude's exec form (`command` = executable, `args` = argv,
    /// no shell) instead of one shell command string.
    pub fn exec_form(self) -> bool {
        self == AgentId::Claude
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::HookRoute;

    #[test]
    fn parse_is_exact() {
        assert_eq!(AgentId::parse("gemini").unwrap(), AgentId::Gemini);
        let err = AgentId::parse("Claude").unwrap_err();
        assert_eq!(err.code(), "unknown_agent");
    }

    #[test]
    fn every_installed_route_is_accepted_by_the_hook_cli() {
        assert_eq!(ROUTES, HookRoute::COMMANDS);
        for agent in AgentId::ALL {
            for managed in agent.managed_events() {
                let (command, rest) = managed.args.split_first().unwrap();
                let route = HookRoute::from_cli(command, rest.first().copied()).unwrap();
                assert!(route.is_some(), "{agent}: {:?}", managed.args);
            }
        }
    }
}
