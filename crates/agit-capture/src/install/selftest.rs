//! End-to-end hook self-test (`agit doctor --self-test`): for every agent with agit
//! hooks installed, run the exact prompt and stop hook commands its config holds, the
//! way the agent would, with a synthetic payload, and check that a step was recorded.
//!
//! The payloads point at a scratch workspace with its own store (the caller provides the
//! directory), so the test never touches real history: no session, step or blame row of
//! the real repository changes, and no human edit is attributed to a test step. The
//! store's `config.json` is copied in, so a capture policy that disables an agent shows
//! up as such.
//!
//! - JSON-config agents (Claude Code, Codex CLI, Gemini CLI): agit's handler of the
//!   agent's prompt event and of its stop event. Exec-form handlers (`command` + `args`,
//!   Claude) run without a shell; command strings run with `sh -c`, as the agents do.
//! - Extension agents (Copilot CLI, Pi): the binary embedded in the generated module,
//!   with the module's route argument (what its `spawnSync` runs). The JavaScript itself
//!   is not executed (that needs the agent's runtime).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use agit_core::config::Config;
use agit_core::store::lock::now_ms;
use agit_core::{SessionRef, Store};

use super::agents::{AgentId, InstallKind, ROUTE_COPILOT, ROUTE_PI};
use super::command::is_agit_handler;
use super::extensions::MARKER;
use super::json::{Json, Object};
use super::json_hooks::recorded_binary;
use super::plan::load_json_config;
use super::status::hook_status;

/// How a hook is run, as the agent runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum HookInvocation {
    /// A command string, run by `sh -c` (Codex, Gemini).
    Shell { command: String },
    /// A program and its arguments, no shell (Claude's exec form; the extensions).
    Exec { program: String, args: Vec<String> },
}

impl HookInvocation {
    /// A one-line rendering for messages.
    pub fn display(&self) -> String {
        match self {
            HookInvocation::Shell { command } => command.clone(),
            HookInvocation::Exec { program, args } => {
                std::iter::once(program.as_str()).chain(args.iter().map(String::as_str)).collect::<Vec<_>>().join(" ")
            }
        }
    }
}

/// The prompt and stop hooks an agent's config runs (`None` when agit has none there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentHooks {
    pub agent: AgentId,
    pub prompt: Option<HookInvocation>,
    pub stop: Option<HookInvocation>,
}

/// What the self-test found for one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SelfTestOutcome {
    /// The hooks ran and the turn was recorded as a step.
    Recorded,
    /// The hooks ran (or failed to) and no step was recorded.
    NotRecorded,
    /// Nothing was recorded because the store's config disables this agent.
    CaptureDisabled,
    /// The config has no agit handler for the prompt or the stop event.
    NoHookCommand,
}

/// The self-test of one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelfTestResult {
    pub agent: AgentId,
    pub outcome: SelfTestOutcome,
    /// The synthetic session id used.
    pub session_id: String,
    /// What was run for the prompt and the stop event.
    pub prompt: Option<HookInvocation>,
    pub stop: Option<HookInvocation>,
    /// The recorded step (64 hex).
    pub step: Option<String>,
    /// Why it failed: exit status, stderr, the scratch store's last hook error.
    pub detail: Option<String>,
}

/// The prompt and stop events of an agent: config event names (JSON-config agents) and
/// payload `hook_event_name`s.
fn events(agent: AgentId) -> (&'static str, &'static str) {
    match agent {
        AgentId::Claude | AgentId::Codex | AgentId::Copilot => ("UserPromptSubmit", "Stop"),
        AgentId::Gemini => ("BeforeAgent", "AfterAgent"),
        AgentId::Pi => ("input", "agent_end"),
    }
}

/// The hook commands agit installed for `agent` under `home`. `agit_binary` (the running
/// agit) also counts as ours when matching handlers, as for `doctor`'s status.
pub fn configured_hooks(home: &Path, agent: AgentId, agit_binary: Option<&Path>) -> AgentHooks {
    let path = agent.config_path(home);
    let (prompt, stop) = match agent.kind() {
        InstallKind::JsonHooks => {
            let Some(root) = load_json_config(&path).object else {
                return AgentHooks { agent, prompt: None, stop: None };
            };
            let mut known: Vec<String> = agit_binary.and_then(Path::to_str).map(str::to_owned).into_iter().collect();
            known.extend(recorded_binary(&root));
            let (prompt_event, stop_event) = events(agent);
            (json_handler(&root, prompt_event, &known), json_handler(&root, stop_event, &known))
        }
        InstallKind::JsExtension => {
            let route = if agent == AgentId::Copilot { ROUTE_COPILOT } else { ROUTE_PI };
            let invocation = std::fs::read_to_string(&path)
                .ok()
                .filter(|text| text.contains(MARKER))
                .and_then(|text| extension_binary(&text))
                .map(|program| HookInvocation::Exec { program, args: vec![route.to_owned()] });
            (invocation.clone(), invocation)
        }
    };
    AgentHooks { agent, prompt, stop }
}

/// agit's handler for `event` in a JSON hooks config (native groups, bare handlers and
/// object-valued events alike, as `uninstall` recognises them).
fn json_handler(root: &Object, event: &str, known: &[String]) -> Option<HookInvocation> {
    let value = root.get("hooks")?.as_object()?.get(event)?;
    let items: Vec<&Json> = match value {
        Json::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for item in items {
        if is_agit_handler(item, known) {
            return invocation(item);
        }
        if let Some(Json::Array(handlers)) = item.as_object().and_then(|g| g.get("hooks"))
            && let Some(handler) = handlers.iter().find(|h| is_agit_handler(h, known))
        {
            return invocation(handler);
        }
    }
    None
}

fn invocation(handler: &Json) -> Option<HookInvocation> {
    let object = handler.as_object()?;
    let command = object.get("command").or_else(|| object.get("bash"))?.as_str()?.to_owned();
    match object.get("args") {
        Some(Json::Array(args)) => {
            let args = args.iter().map(|a| a.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>()?;
            Some(HookInvocation::Exec { program: command, args })
        }
        Some(_) => None,
        None => Some(HookInvocation::Shell { command }),
    }
}

/// The binary a generated extension spawns: its `const AGIT_BINARY = "<JSON string>";`.
fn extension_binary(module: &str) -> Option<String> {
    module.lines().find_map(|line| {
        let literal = line.trim().strip_prefix("const AGIT_BINARY = ")?.strip_suffix(';')?;
        serde_json::from_str::<String>(literal).ok()
    })
}

/// The synthetic payloads (prompt, stop) of `agent` for `session` in `cwd`.
fn payloads(agent: AgentId, session: &str, cwd: &Path, prompt: &str) -> (Vec<u8>, Vec<u8>) {
    let cwd = cwd.display().to_string();
    let (prompt_event, stop_event) = events(agent);
    let answer = "agit doctor self-test: recorded";
    let turn = format!("agturn:{}-selftest-1", agent.as_str());
    let (first, second) = match agent {
        AgentId::Claude | AgentId::Codex => (
            serde_json::json!({"session_id": session, "cwd": cwd, "hook_event_name": prompt_event, "prompt": prompt}),
            serde_json::json!({"session_id": session, "cwd": cwd, "hook_event_name": stop_event, "last_assistant_message": answer}),
        ),
        AgentId::Gemini => (
            serde_json::json!({"session_id": session, "cwd": cwd, "hook_event_name": prompt_event, "prompt": prompt}),
            serde_json::json!({"session_id": session, "cwd": cwd, "hook_event_name": stop_event, "response": answer}),
        ),
        AgentId::Copilot => (
            serde_json::json!({"session_id": session, "cwd": cwd, "turn_id": turn, "hook_event_name": prompt_event, "prompt": prompt}),
            serde_json::json!({"session_id": session, "cwd": cwd, "turn_id": turn, "hook_event_name": stop_event}),
        ),
        AgentId::Pi => (
            serde_json::json!({"session_id": session, "cwd": cwd, "turn_id": turn, "hook_event_name": prompt_event, "prompt": prompt}),
            serde_json::json!({"session_id": session, "cwd": cwd, "turn_id": turn, "hook_event_name": stop_event, "response": answer}),
        ),
    };
    (first.to_string().into_bytes(), second.to_string().into_bytes())
}

/// How one hook run ended.
struct RunResult {
    /// Exit code (`None`: killed by a signal, or by us after the timeout).
    code: Option<i32>,
    timed_out: bool,
    stderr: String,
}

impl RunResult {
    fn ok(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }

    fn describe(&self, what: &str) -> String {
        let status = match (self.timed_out, self.code) {
            (true, _) => "timed out".to_owned(),
            (false, Some(code)) => format!("exited {code}"),
            (false, None) => "was killed".to_owned(),
        };
        let stderr = self.stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
        if stderr.is_empty() { format!("{what} hook {status}") } else { format!("{what} hook {status}: {stderr}") }
    }
}

fn run(invocation: &HookInvocation, payload: &[u8], cwd: &Path, timeout: Duration) -> std::io::Result<RunResult> {
    let mut command = match invocation {
        HookInvocation::Shell { command } => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(command);
            c
        }
        HookInvocation::Exec { program, args } => {
            let mut c = Command::new(program);
            c.args(args);
            c
        }
    };
    let mut child =
        command.current_dir(cwd).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that exits without reading its payload is reported by its status.
        let _ = stdin.write_all(payload);
    }
    let reader = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    });
    let start = Instant::now();
    let (code, timed_out) = loop {
        if let Some(status) = child.try_wait()? {
            break (status.code(), false);
        }
        if start.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stderr = reader.and_then(|r| r.join().ok()).unwrap_or_default();
    Ok(RunResult { code, timed_out, stderr })
}

/// Run the self-test for every agent whose config has agit hooks, recording into a
/// store created in `scratch` (a new, empty directory the caller removes afterwards).
/// `store_config` is the real store's `config.json`, copied into the scratch store.
/// Each hook command gets `timeout` to finish.
pub fn self_test(
    home: &Path,
    agit_binary: Option<&Path>,
    scratch: &Path,
    store_config: Option<&Path>,
    timeout: Duration,
) -> agit_core::Result<Vec<SelfTestResult>> {
    let (store, _) = Store::init(scratch)?;
    if let Some(config) = store_config.filter(|p| p.is_file()) {
        std::fs::copy(config, store.config_path())
            .map_err(|e| agit_core::Error::io("copy config to", store.config_path(), e))?;
    }
    let enabled: Vec<String> =
        Config::load(&store.config_path()).map(|c| c.privacy.enabled_origins).unwrap_or_default();
    let mut results = Vec::new();
    for status in hook_status(home, agit_binary).into_iter().filter(|s| s.installed()) {
        let agent = status.agent;
        let hooks = configured_hooks(home, agent, agit_binary);
        let session_id = format!("agit-self-test-{}-{}-{}", agent.as_str(), std::process::id(), now_ms());
        let mut result = SelfTestResult {
            agent,
            outcome: SelfTestOutcome::NoHookCommand,
            session_id: session_id.clone(),
            prompt: hooks.prompt.clone(),
            stop: hooks.stop.clone(),
            step: None,
            detail: None,
        };
        let (Some(prompt_hook), Some(stop_hook)) = (&hooks.prompt, &hooks.stop) else {
            let (prompt_event, stop_event) = events(agent);
            result.detail = Some(format!(
                "{} has no agit handler for {prompt_event} and {stop_event}",
                status.config_path.display()
            ));
            results.push(result);
            continue;
        };
        let prompt_text = format!("agit doctor self-test of {}", agent.display_name());
        let (prompt_payload, stop_payload) = payloads(agent, &session_id, scratch, &prompt_text);
        let mut problems = Vec::new();
        for (what, hook, payload) in [("prompt", prompt_hook, &prompt_payload), ("stop", stop_hook, &stop_payload)] {
            match run(hook, payload, scratch, timeout) {
                Ok(outcome) if outcome.ok() => {}
                Ok(outcome) => problems.push(outcome.describe(what)),
                Err(e) => problems.push(format!("{what} hook could not be started: {e}")),
            }
        }
        let session = SessionRef::new(agent.as_str(), session_id.as_str());
        match store.refs().read(&session) {
            Ok(Some(step)) => {
                result.outcome = SelfTestOutcome::Recorded;
                result.step = Some(step.to_hex());
            }
            Ok(None) => {
                let off = !enabled.is_empty() && !enabled.iter().any(|o| o == agent.as_str());
                result.outcome = if off { SelfTestOutcome::CaptureDisabled } else { SelfTestOutcome::NotRecorded };
                if off {
                    problems.push(format!("{} is not in privacy.enabled_origins of .agit/config.json", agent.as_str()));
                }
                problems.extend(last_hook_error(&store));
            }
            Err(e) => {
                result.outcome = SelfTestOutcome::NotRecorded;
                problems.push(e.to_string());
            }
        }
        if !problems.is_empty() {
            result.detail = Some(problems.join("; "));
        }
        results.push(result);
    }
    Ok(results)
}

fn last_hook_error(store: &Store) -> Option<String> {
    let path: PathBuf = agit_core::store::hook_log::hook_log_path(store);
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let code = value.get("code").and_then(|v| v.as_str()).unwrap_or("hook_error");
    let message = value.get("message").and_then(|v| v.as_str()).unwrap_or("");
    Some(format!("hook log: {code}: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_binary_is_read_from_the_generated_module() {
        let module = super::super::extensions::render_copilot("/opt/My Tools/\"agit\"");
        assert_eq!(extension_binary(&module).as_deref(), Some("/opt/My Tools/\"agit\""));
        assert_eq!(extension_binary("const OTHER = 1;"), None);
    }

    #[test]
    fn handlers_are_found_in_every_written_shape() {
        let known = vec!["/opt/agit".to_owned()];
        let parse = |text: &str| match super::super::json::parse(text.as_bytes()) {
            Ok(Json::Object(o)) => o,
            other => panic!("{other:?}"),
        };
        let native = parse(
            r#"{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"echo mine"}]},{"hooks":[{"type":"command","command":"/opt/agit codex-hook"}]}]}}"#,
        );
        assert_eq!(
            json_handler(&native, "Stop", &known),
            Some(HookInvocation::Shell { command: "/opt/agit codex-hook".into() })
        );
        let exec =
            parse(r#"{"hooks":{"Stop":[{"hooks":[{"command":"/x/agit","args":["claude-hook","assistant"]}]}]}}"#);
        assert_eq!(
            json_handler(&exec, "Stop", &known),
            Some(HookInvocation::Exec {
                program: "/x/agit".into(),
                args: vec!["claude-hook".into(), "assistant".into()]
            })
        );
        let legacy = parse(r#"{"hooks":{"Stop":{"command":"agit codex-hook"}}}"#);
        assert!(json_handler(&legacy, "Stop", &known).is_some());
        assert_eq!(json_handler(&legacy, "UserPromptSubmit", &known), None);
    }
}
