//! `agit init` / `agit uninstall` library behaviour against temp HOME directories.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use agit_capture::install::{
    self, AgentId, ConfigState, InstallEnv, InstallRequest, InstallStatus, MARKER, Readiness, UninstallStatus,
};
use serde_json::{Value, json};

const CLAUDE_FIXTURE: &str = r#"{
    "model": "opus",
    "permissions": {"allow": ["Bash(ls:*)"]},
    "hooks": {
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send 'done'"}]}],
        "UserPromptSubmit": [{"matcher": "", "hooks": [{"type": "command", "command": "~/bin/log-prompt", "timeout": 5}]}],
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard.sh"}]}]
    },
    "env": {"FOO": "1", "BIG": 12345678901234567890, "RATE": 2.50}
}"#;

const CODEX_FIXTURE: &str = r#"{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say done", "timeout": 10}]}],
 "PostToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "audit"}]}]}}"#;

const GEMINI_FIXTURE: &str = r#"{"theme": "GitHub", "hooksConfig": {"enabled": true},
 "hooks": {"AfterAgent": [{"matcher": "*", "hooks": [{"name": "peon", "type": "command", "command": "bash peon.sh AfterAgent"}]}]},
 "general": {"vimMode": true}}"#;

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    home: PathBuf,
    path_var: OsString,
}

impl Fixture {
    /// A temp HOME and a PATH holding stub binaries for `agents`.
    fn new(agents: &[&str]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        let home = root.join("home");
        let bin = root.join("bin");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&bin).unwrap();
        for agent in agents {
            executable(&bin.join(agent), "#!/bin/sh\nexit 0\n");
        }
        let path_var = std::env::join_paths([&bin]).unwrap();
        Fixture { _dir: dir, root, home, path_var }
    }

    fn all() -> Fixture {
        Fixture::new(&["claude", "codex", "gemini", "copilot", "pi"])
    }

    fn env(&self, agit: &str) -> InstallEnv {
        InstallEnv { home: self.home.clone(), path_var: self.path_var.clone(), agit_binary: PathBuf::from(agit) }
    }

    fn path(&self, agent: AgentId) -> PathBuf {
        agent.config_path(&self.home)
    }

    fn write(&self, agent: AgentId, text: &str) {
        let path = self.path(agent);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn json(&self, agent: AgentId) -> Value {
        serde_json::from_slice(&fs::read(self.path(agent)).unwrap()).unwrap()
    }

    fn tree(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        walk(&self.root, &mut out);
        out
    }
}

fn executable(path: &Path, script: &str) {
    fs::write(path, script).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.insert(path.clone(), b"<dir>".to_vec());
            walk(&path, out);
        } else {
            out.insert(path.clone(), fs::read(&path).unwrap());
        }
    }
}

fn req(agents: &[&str]) -> InstallRequest {
    InstallRequest { agents: agents.iter().map(|a| a.to_string()).collect(), force: false, dry_run: false }
}

fn status_of(report: &install::InstallReport, agent: AgentId) -> InstallStatus {
    report.agents.iter().find(|a| a.agent == agent).unwrap().status
}

const AGIT: &str = "/opt/agit/bin/agit";

/// Every handler in a config, as (event, handler) pairs, checking the native
/// matcher-group schema on the way.
fn handlers(config: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (event, groups) in config["hooks"].as_object().unwrap() {
        let Some(groups) = groups.as_array() else { continue };
        for group in groups {
            let inner = group["hooks"].as_array().unwrap_or_else(|| panic!("{event}: group without hooks array"));
            for handler in inner {
                assert_eq!(handler["type"], "command", "{event}: {handler}");
                assert!(handler["command"].is_string(), "{event}: {handler}");
                out.push((event.clone(), handler.clone()));
            }
        }
    }
    out
}

fn agit_handlers(config: &Value) -> Vec<(String, Value)> {
    handlers(config)
        .into_iter()
        .filter(|(_, h)| {
            h["command"].as_str().unwrap().contains("agit") && !h["command"].as_str().unwrap().contains("peon")
        })
        .collect()
}

#[test]
fn init_adds_next_to_user_hooks_and_uninstall_restores_them() {
    let fx = Fixture::all();
    fx.write(AgentId::Claude, CLAUDE_FIXTURE);
    fx.write(AgentId::Codex, CODEX_FIXTURE);
    fx.write(AgentId::Gemini, GEMINI_FIXTURE);
    let originals: Vec<(AgentId, Value)> =
        [AgentId::Claude, AgentId::Codex, AgentId::Gemini].into_iter().map(|a| (a, fx.json(a))).collect();

    let report = install::install(&fx.env(AGIT), &req(&[])).unwrap();
    assert!(report.is_success(), "{report:#?}");
    for agent in AgentId::ALL {
        assert_eq!(status_of(&report, agent), InstallStatus::Installed, "{agent}");
    }

    // Claude: exec form, user hooks kept on the same events, other keys kept, _agit set.
    let claude = fx.json(AgentId::Claude);
    assert_eq!(claude["model"], "opus");
    assert_eq!(claude["env"], json!({"FOO": "1", "BIG": 12345678901234567890u64, "RATE": 2.5}));
    let text = fs::read_to_string(fx.path(AgentId::Claude)).unwrap();
    assert!(text.contains("12345678901234567890") && text.contains("2.50"), "numbers kept as written");
    assert!(text.starts_with("{\n  \"model\": \"opus\",\n  \"permissions\""), "{text}");
    assert_eq!(claude["hooks"]["Stop"][0]["hooks"][0]["command"], "notify-send 'done'");
    assert_eq!(
        claude["hooks"]["Stop"][1],
        json!({"hooks": [{"type": "command", "command": AGIT, "args": ["claude-hook", "assistant"]}]})
    );
    assert_eq!(claude["hooks"]["UserPromptSubmit"][0]["hooks"][0]["timeout"], 5);
    assert_eq!(
        claude["hooks"]["PostToolBatch"],
        json!([{"hooks": [{"type": "command", "command": AGIT, "args": ["claude-tool-batch-hook"]}]}])
    );
    assert_eq!(claude["hooks"]["SessionStart"][0]["hooks"][0]["args"], json!(["claude-hook", "session-start"]));
    assert_eq!(claude["_agit"], json!({"binary": AGIT}));
    assert_eq!(agit_handlers(&claude).len(), 4);

    // Codex: shell strings, no _agit (strict top level).
    let codex = fx.json(AgentId::Codex);
    assert_eq!(codex.as_object().unwrap().keys().collect::<Vec<_>>(), vec!["hooks"]);
    let events: Vec<String> = agit_handlers(&codex)
        .into_iter()
        .map(|(e, h)| {
            assert_eq!(h, json!({"type": "command", "command": format!("{AGIT} codex-hook")}));
            e
        })
        .collect();
    assert_eq!(events, vec!["PostToolUse", "Stop", "UserPromptSubmit"]); // serde_json sorts keys
    assert_eq!(codex["hooks"]["Stop"][0]["hooks"][0]["command"], "say done");
    assert_eq!(codex["hooks"]["PostToolUse"][0]["matcher"], "Bash");

    // Gemini: matcher groups incl. BeforeAgent (prompts), _agit, user keys.
    let gemini = fx.json(AgentId::Gemini);
    let mut events: Vec<String> = agit_handlers(&gemini).into_iter().map(|(e, _)| e).collect();
    events.sort();
    assert_eq!(events, vec!["AfterAgent", "AfterTool", "BeforeAgent", "BeforeModel"]);
    assert_eq!(gemini["hooks"]["AfterAgent"][0]["hooks"][0]["name"], "peon");
    assert_eq!(gemini["hooksConfig"], json!({"enabled": true}));
    assert_eq!(gemini["_agit"], json!({"binary": AGIT}));

    // Backups hold the exact original bytes.
    for (agent, fixture) in
        [(AgentId::Claude, CLAUDE_FIXTURE), (AgentId::Codex, CODEX_FIXTURE), (AgentId::Gemini, GEMINI_FIXTURE)]
    {
        let entry = report.agents.iter().find(|a| a.agent == agent).unwrap();
        let backup = entry.backup_path.clone().unwrap();
        assert_eq!(
            backup.file_name().unwrap().to_str().unwrap(),
            format!("{}.agit.bak", fx.path(agent).file_name().unwrap().to_str().unwrap())
        );
        assert_eq!(fs::read(&backup).unwrap(), fixture.as_bytes());
    }

    // Extensions exist with the marker.
    for agent in [AgentId::Copilot, AgentId::Pi] {
        let text = fs::read_to_string(fx.path(agent)).unwrap();
        assert!(text.lines().next().unwrap().contains(MARKER));
        assert!(text.contains(&format!("const AGIT_BINARY = \"{AGIT}\";")));
    }

    // Uninstall: JSON-equal to the originals; extensions gone; backups untouched.
    let agit_store = fx.home.join("project/.agit/objects/ab");
    fs::create_dir_all(&agit_store).unwrap();
    fs::write(agit_store.join("cd"), b"object").unwrap();
    let before = fx.tree();
    let report = install::uninstall(&fx.home, None);
    assert!(report.is_success(), "{report:#?}");
    for (agent, original) in &originals {
        assert_eq!(&fx.json(*agent), original, "{agent}");
    }
    assert!(!fx.path(AgentId::Copilot).exists());
    assert!(!fx.path(AgentId::Copilot).parent().unwrap().exists(), "empty agit-recorder dir removed");
    assert!(!fx.path(AgentId::Pi).exists());
    let after = fx.tree();
    for (path, bytes) in &before {
        let name = path.to_string_lossy();
        if name.contains(".agit.bak") || name.contains("/.agit/") {
            assert_eq!(after.get(path), Some(bytes), "{name}");
        }
    }

    // A second uninstall finds nothing and rewrites nothing.
    let before = fx.tree();
    let report = install::uninstall(&fx.home, None);
    for entry in &report.entries {
        assert!(matches!(entry.status, UninstallStatus::NothingFound | UninstallStatus::Missing), "{entry:?}");
    }
    assert_eq!(fx.tree(), before);
}

#[test]
fn second_init_changes_nothing() {
    let fx = Fixture::all();
    fx.write(AgentId::Claude, CLAUDE_FIXTURE);
    install::install(&fx.env(AGIT), &req(&[])).unwrap();
    let before = fx.tree();
    let report = install::install(&fx.env(AGIT), &req(&[])).unwrap();
    for agent in AgentId::ALL {
        assert_eq!(status_of(&report, agent), InstallStatus::Unchanged, "{agent}");
    }
    assert_eq!(fx.tree(), before, "nothing rewritten, no new backups");
}

#[test]
fn stale_binary_path_is_replaced() {
    let fx = Fixture::all();
    fx.write(AgentId::Gemini, GEMINI_FIXTURE);
    install::install(&fx.env("/old/place/agit"), &req(&[])).unwrap();
    let report = install::install(&fx.env("/Users/Jane Doe/bin/agit"), &req(&[])).unwrap();
    assert!(report.is_success());
    for agent in AgentId::ALL {
        assert_eq!(status_of(&report, agent), InstallStatus::Installed, "{agent}");
        let text = fs::read_to_string(fx.path(agent)).unwrap();
        assert!(!text.contains("/old/place"), "{agent}: {text}");
    }
    let gemini = fx.json(AgentId::Gemini);
    let ours = agit_handlers(&gemini);
    assert_eq!(ours.len(), 4, "{gemini:#}");
    for (_, h) in ours {
        assert_eq!(h["command"], "'/Users/Jane Doe/bin/agit' gemini-hook");
    }
    assert_eq!(gemini["_agit"]["binary"], "/Users/Jane Doe/bin/agit");
    assert_eq!(fx.json(AgentId::Claude)["hooks"]["Stop"][0]["hooks"][0]["command"], "/Users/Jane Doe/bin/agit");

    // Both backups kept: the pristine original and the state the second init replaced.
    let dir = fx.path(AgentId::Gemini).parent().unwrap().to_owned();
    let backups: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".agit.bak"))
        .collect();
    assert_eq!(backups.len(), 2, "{backups:?}");
    assert_eq!(fs::read(dir.join("settings.json.agit.bak")).unwrap(), GEMINI_FIXTURE.as_bytes());

    // The old binary's entries are recognised by uninstall even without `_agit`.
    let report = install::uninstall(&fx.home, None);
    assert!(report.entries.iter().any(|e| e.agent == AgentId::Gemini && e.status == UninstallStatus::Removed));
    assert_eq!(fx.json(AgentId::Gemini), serde_json::from_str::<Value>(GEMINI_FIXTURE).unwrap());
}

#[test]
fn malformed_and_non_object_configs_are_left_alone_without_force() {
    let fx = Fixture::all();
    let broken = "{\n  \"model\": \"opus\",\n  \"hooks\": {\n}\n";
    fx.write(AgentId::Claude, broken);
    fx.write(AgentId::Codex, "[1, 2]");
    let before = fx.tree();

    let plan = install::plan(&fx.env(AGIT), &req(&[])).unwrap();
    let claude = &plan.agents[0];
    assert_eq!(claude.readiness, Readiness::ConfigMalformed);
    assert!(!claude.selected);
    assert!(
        matches!(claude.config, ConfigState::Malformed { line: 5, column: 1, offset: 36, .. }),
        "{:?}",
        claude.config
    );
    let codex = &plan.agents[1];
    assert_eq!(codex.readiness, Readiness::ConfigNotObject);
    assert_eq!(codex.problem.as_ref().unwrap().code, "config_not_object");

    let report = install::install(&fx.env(AGIT), &req(&["claude", "codex"])).unwrap();
    assert!(!report.is_success());
    let claude = &report.agents[0];
    assert_eq!(claude.status, InstallStatus::Refused);
    let problem = claude.problem.as_ref().unwrap();
    assert_eq!(
        (problem.code, problem.line, problem.column, problem.offset),
        ("config_malformed", Some(5), Some(1), Some(36))
    );
    assert_eq!(status_of(&report, AgentId::Codex), InstallStatus::Refused);
    assert_eq!(status_of(&report, AgentId::Gemini), InstallStatus::Skipped, "not requested");
    assert_eq!(fx.tree(), before, "byte-identical, no backups");

    // Uninstall leaves them alone too, with warnings.
    let report = install::uninstall(&fx.home, None);
    assert!(report.is_success());
    let skipped: Vec<_> = report.entries.iter().filter(|e| e.status == UninstallStatus::Skipped).collect();
    assert_eq!(skipped.len(), 2);
    assert_eq!(skipped[0].problem.as_ref().unwrap().code, "config_malformed");
    assert_eq!(skipped[1].problem.as_ref().unwrap().code, "config_not_object");
    assert_eq!(fx.tree(), before);
}

#[test]
fn force_backs_up_broken_bytes_and_starts_fresh() {
    let fx = Fixture::new(&["claude"]);
    fx.write(AgentId::Claude, "{ not json");
    let mut request = req(&["claude"]);
    request.force = true;
    let report = install::install(&fx.env(AGIT), &request).unwrap();
    assert!(report.is_success(), "{report:#?}");
    let entry = &report.agents[0];
    assert_eq!(entry.status, InstallStatus::Installed);
    assert_eq!(fs::read(entry.backup_path.as_ref().unwrap()).unwrap(), b"{ not json");
    assert_eq!(agit_handlers(&fx.json(AgentId::Claude)).len(), 4);
}

#[test]
fn uninstall_removes_every_legacy_shape() {
    let fx = Fixture::all();
    let reference = "/usr/local/Cellar/agit/0.3/bin/agit";
    // Reference Claude: exec form plus a shell-string variant, and `_agit`.
    fx.write(
        AgentId::Claude,
        &json!({
            "hooks": {
                "UserPromptSubmit": [{"hooks": [{"type": "command", "command": reference, "args": ["claude-hook", "user"]}]}],
                "PostToolBatch": [{"hooks": [{"type": "command", "command": reference, "args": ["claude-tool-batch-hook"]}]}],
                "Stop": [
                    {"hooks": [{"type": "command", "command": format!("{reference} claude-hook assistant")}]},
                    {"hooks": [{"type": "command", "command": "my-stop"}, {"type": "command", "command": reference, "args": ["claude-hook", "assistant"]}]}
                ],
                "Notification": []
            },
            "_agit": {"binary": reference},
            "theme": "dark"
        })
        .to_string(),
    );
    // Reference Codex: old object-valued shape with `_agit`, and the matcher-group shape.
    fx.write(
        AgentId::Codex,
        &json!({
            "hooks": {
                "Stop": {"command": format!("{reference} codex-hook")},
                "UserPromptSubmit": [{"hooks": [{"type": "command", "command": format!("{reference} codex-hook")}]}],
                "PostToolUse": [{"hooks": [{"type": "command", "command": "audit"}]}, {"hooks": [{"type": "command", "command": "agit codex-hook"}]}]
            },
            "_agit": {"binary": reference}
        })
        .to_string(),
    );
    // Reference Gemini: bare command objects and the older object-valued shape.
    fx.write(
        AgentId::Gemini,
        &json!({
            "hooks": {
                "AfterTool": [{"command": format!("{reference} gemini-hook")}],
                "AfterAgent": {"command": format!("{reference} gemini-hook")},
                "BeforeModel": [{"command": format!("{reference} gemini-hook")}, {"command": "mine"}]
            },
            "_agit": {"binary": reference},
            "ui": {"theme": "x"}
        })
        .to_string(),
    );
    // Legacy Copilot hooks.json.
    let legacy = fx.home.join(".copilot/hooks.json");
    fs::create_dir_all(legacy.parent().unwrap()).unwrap();
    fs::write(
        &legacy,
        json!({"version": 1, "hooks": {"postToolUse": [{"type": "command", "bash": format!("{reference} copilot-hook")}], "agentStop": [{"type": "command", "bash": "echo hi"}]}})
            .to_string(),
    )
    .unwrap();

    let report = install::uninstall(&fx.home, None);
    assert!(report.is_success());
    let removed = |agent: AgentId, path: &Path| {
        report.entries.iter().find(|e| e.agent == agent && e.path == path).unwrap().removed_handlers
    };
    assert_eq!(removed(AgentId::Claude, &fx.path(AgentId::Claude)), 4);
    assert_eq!(removed(AgentId::Codex, &fx.path(AgentId::Codex)), 3);
    assert_eq!(removed(AgentId::Gemini, &fx.path(AgentId::Gemini)), 3);
    assert_eq!(removed(AgentId::Copilot, &legacy), 1);

    assert_eq!(
        fx.json(AgentId::Claude),
        json!({"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "my-stop"}]}], "Notification": []}, "theme": "dark"})
    );
    assert_eq!(
        fx.json(AgentId::Codex),
        json!({"hooks": {"PostToolUse": [{"hooks": [{"type": "command", "command": "audit"}]}]}})
    );
    assert_eq!(
        fx.json(AgentId::Gemini),
        json!({"hooks": {"BeforeModel": [{"command": "mine"}]}, "ui": {"theme": "x"}})
    );
    let legacy_after: Value = serde_json::from_slice(&fs::read(&legacy).unwrap()).unwrap();
    assert_eq!(legacy_after, json!({"version": 1, "hooks": {"agentStop": [{"type": "command", "bash": "echo hi"}]}}));
}

#[test]
fn extensions_follow_the_marker_rule() {
    let fx = Fixture::new(&["copilot", "pi"]);
    fx.write(AgentId::Pi, "// my own recorder\nexport default function mine() {}\n");
    let before_pi = fs::read(fx.path(AgentId::Pi)).unwrap();

    let report = install::install(&fx.env(AGIT), &req(&[])).unwrap();
    assert_eq!(status_of(&report, AgentId::Copilot), InstallStatus::Installed);
    assert_eq!(status_of(&report, AgentId::Pi), InstallStatus::Refused);
    assert_eq!(report.agents[4].problem.as_ref().unwrap().code, "extension_not_generated");
    assert_eq!(fs::read(fx.path(AgentId::Pi)).unwrap(), before_pi);

    // Uninstall deletes only the generated one.
    let report = install::uninstall(&fx.home, None);
    let pi = report.entries.iter().find(|e| e.agent == AgentId::Pi).unwrap();
    assert_eq!(pi.status, UninstallStatus::Skipped);
    assert_eq!(fs::read(fx.path(AgentId::Pi)).unwrap(), before_pi);
    assert!(!fx.path(AgentId::Copilot).exists());

    // --force replaces the foreign file after backing it up.
    let mut request = req(&["pi"]);
    request.force = true;
    let report = install::install(&fx.env(AGIT), &request).unwrap();
    let entry = &report.agents[4];
    assert_eq!(entry.status, InstallStatus::Installed);
    assert_eq!(fs::read(entry.backup_path.as_ref().unwrap()).unwrap(), before_pi);
    assert!(fs::read_to_string(fx.path(AgentId::Pi)).unwrap().contains(MARKER));
}

#[test]
fn dry_run_writes_nothing() {
    let fx = Fixture::new(&["claude", "codex", "copilot"]);
    fx.write(AgentId::Claude, CLAUDE_FIXTURE);
    let before = fx.tree();
    let mut request = req(&[]);
    request.dry_run = true;
    let report = install::install(&fx.env(AGIT), &request).unwrap();
    assert!(report.dry_run);
    assert_eq!(fx.tree(), before);
    assert_eq!(status_of(&report, AgentId::Claude), InstallStatus::WouldInstall);
    assert_eq!(status_of(&report, AgentId::Codex), InstallStatus::WouldInstall);
    assert_eq!(status_of(&report, AgentId::Copilot), InstallStatus::WouldInstall);
    assert_eq!(status_of(&report, AgentId::Gemini), InstallStatus::Skipped);
    let claude = &report.agents[0];
    assert_eq!(
        claude.backup_path.as_deref(),
        Some(fx.path(AgentId::Claude).with_file_name("settings.json.agit.bak").as_path())
    );
    let gemini = &report.plan.agents[2];
    assert_eq!(gemini.readiness, Readiness::BinaryMissing);
    assert_eq!(report.agents[2].problem.as_ref().unwrap().code, "binary_missing");
    // The report serializes for `--json`.
    let value = serde_json::to_value(&report).unwrap();
    assert_eq!(value["agents"][0]["status"], "would_install");
    assert_eq!(value["plan"]["agents"][2]["readiness"], "binary_missing");
}

#[test]
fn plan_selection_and_input_errors() {
    let fx = Fixture::new(&["claude", "codex"]);
    let plan = install::plan(&fx.env(AGIT), &req(&["codex", "gemini"])).unwrap();
    let selected: Vec<_> = plan.selected().map(|a| a.agent).collect();
    assert_eq!(selected, vec![AgentId::Codex]);
    assert!(!plan.agents[0].requested);
    assert_eq!(plan.agents[2].readiness, Readiness::BinaryMissing);
    assert_eq!(plan.agents[1].config, ConfigState::Missing);

    let err = install::plan(&fx.env(AGIT), &req(&["claude", "cursor"])).unwrap_err();
    assert_eq!(err.code(), "unknown_agent");
    let err = install::install(&fx.env("relative/agit"), &req(&[])).unwrap_err();
    assert_eq!(err.code(), "invalid_agit_binary");
    assert!(!fx.home.join(".claude").exists());
}

/// Runs the generated extensions in real Node with a stub SDK and a stub `agit`, and
/// feeds what they send through the real adapters.
#[test]
fn generated_extensions_run_and_feed_the_adapters() {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("node not found; skipping");
        return;
    }
    let fx = Fixture::new(&["copilot", "pi"]);
    let out = fx.root.join("sent.log");
    let agit = fx.root.join("fake-agit");
    executable(
        &agit,
        "#!/bin/sh\nprintf '%s\\t' \"$1\" >> \"$AGIT_TEST_OUT\"\ncat >> \"$AGIT_TEST_OUT\"\nprintf '\\n' >> \"$AGIT_TEST_OUT\"\n",
    );
    let report = install::install(&fx.env(agit.to_str().unwrap()), &req(&[])).unwrap();
    assert!(report.is_success());

    let sdk = fx.path(AgentId::Copilot).parent().unwrap().join("node_modules/@github/copilot-sdk");
    fs::create_dir_all(&sdk).unwrap();
    fs::write(
        sdk.join("package.json"),
        r#"{"name": "@github/copilot-sdk", "type": "module", "exports": {"./extension": "./extension.js"}}"#,
    )
    .unwrap();
    fs::write(
        sdk.join("extension.js"),
        "export async function joinSession(config) { globalThis.__hooks = config.hooks; return {}; }\n",
    )
    .unwrap();

    let copilot_driver = fx.root.join("copilot-driver.mjs");
    fs::write(
        &copilot_driver,
        format!(
            r#"await import({ext:?});
const h = globalThis.__hooks;
const base = {{ sessionId: "s-1", cwd: "/work/repo" }};
await h.onUserPromptSubmitted({{ ...base, prompt: "fix it" }});
await h.onPostToolUse({{ ...base, toolName: "bash", toolArgs: {{ command: "ls" }}, toolResult: {{ textResultForLlm: "a\nb" }} }});
await h.onAgentStop({{ ...base, stopReason: "end_turn" }});
"#,
            ext = fx.path(AgentId::Copilot).to_str().unwrap()
        ),
    )
    .unwrap();
    let pi_driver = fx.root.join("pi-driver.mjs");
    fs::write(
        &pi_driver,
        format!(
            r#"const {{ default: agitRecorder }} = await import({ext:?});
const handlers = {{}};
agitRecorder({{ on: (name, fn) => {{ handlers[name] = fn; }} }});
const ctx = {{ cwd: "/work/repo", sessionManager: {{ getSessionId: () => "pi-s" }} }};
await handlers.before_agent_start({{ prompt: "hello" }}, ctx);
await handlers.tool_execution_start({{ toolCallId: "t1", toolName: "read", args: {{ path: "a.txt" }} }}, ctx);
await handlers.tool_execution_end({{ toolCallId: "t1", toolName: "read", result: {{ content: [{{ type: "text", text: "contents" }}] }} }}, ctx);
await handlers.agent_end({{ messages: [{{ role: "user", content: "hello" }}, {{ role: "assistant", content: [{{ type: "text", text: "done" }}] }}] }}, ctx);
await handlers.agent_end({{ messages: [] }}, ctx);
"#,
            ext = fx.path(AgentId::Pi).to_str().unwrap()
        ),
    )
    .unwrap();

    let run = |driver: &Path| {
        let status = Command::new("node").arg(driver).env("AGIT_TEST_OUT", &out).status().unwrap();
        assert!(status.success());
    };
    run(&copilot_driver);
    run(&copilot_driver); // a second process: a "resumed" session
    run(&pi_driver);

    use agit_capture::adapters::{self, DEFAULT_MAX_PAYLOAD_BYTES, HookRoute};
    use agit_capture::event::EventKind;
    let sent = fs::read_to_string(&out).unwrap();
    let lines: Vec<(&str, Value, &str)> = sent
        .lines()
        .map(|line| {
            let (route, payload) = line.split_once('\t').unwrap();
            (route, serde_json::from_str(payload).unwrap(), payload)
        })
        .collect();
    assert_eq!(lines.len(), 3 + 3 + 4, "{sent}");
    let mut kinds = Vec::new();
    for (route, value, payload) in &lines {
        let route = HookRoute::from_cli(route, None).unwrap().unwrap();
        let event = adapters::parse(route, payload.as_bytes(), DEFAULT_MAX_PAYLOAD_BYTES)
            .unwrap_or_else(|e| panic!("{e}: {payload}"));
        assert_eq!(event.cwd, PathBuf::from("/work/repo"));
        assert!(value.get("turn_id").is_none_or(Value::is_string), "{payload}");
        kinds.push(event.kind);
    }
    assert_eq!(lines[0].1["prompt"], "fix it");
    assert_eq!(lines[1].1["tool_result"]["text_result_for_llm"], "a\nb");
    assert!(
        matches!(&kinds[1], EventKind::ToolUse { calls } if calls[0].tool_name == "bash" && calls[0].result == "a\nb")
    );
    assert!(matches!(&kinds[8], EventKind::Stop { assistant_text } if assistant_text == "done"));
    assert!(
        matches!(&kinds[7], EventKind::ToolUse { calls } if calls[0].result == "contents" && calls[0].args.contains("a.txt"))
    );
    assert!(lines[9].1.get("turn_id").is_none(), "no active turn: turn_id omitted, not null");

    // Turn ids of the two Copilot processes differ (no restart at `-1`).
    let first = lines[0].1["turn_id"].as_str().unwrap();
    let second = lines[3].1["turn_id"].as_str().unwrap();
    assert!(first.starts_with("agturn:copilot-") && first.ends_with("-1"), "{first}");
    assert_ne!(first, second);
    assert_eq!(lines[1].1["turn_id"], first);
    assert!(lines[6].1["turn_id"].as_str().unwrap().starts_with("agturn:pi-"));
}
