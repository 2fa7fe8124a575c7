//! `agit init` hook installation and `agit uninstall` through the real binary, with fake
//! agent binaries on PATH and a temporary HOME holding the user's own hooks.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{SYSTEM_PATH, agit};
use serde_json::{Value, json};

fn fake_agents(bin: &Path, names: &[&str]) {
    std::fs::create_dir_all(bin).unwrap();
    for name in names {
        let path = bin.join(name);
        std::fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn run(home: &Path, bin: &Path, repo: &Path, args: &[&str]) -> (i32, Value, String) {
    let output = agit(repo)
        .env("HOME", home)
        .env("PATH", format!("{}:{SYSTEM_PATH}", bin.display()))
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let value: Value = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (output.status.code().unwrap(), value, String::from_utf8_lossy(&output.stderr).into_owned())
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn init_adds_hooks_next_to_the_users_and_uninstall_restores_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, bin, repo) = (tmp.path().join("home"), tmp.path().join("bin"), tmp.path().join("repo"));
    std::fs::create_dir_all(&repo).unwrap();
    fake_agents(&bin, &["claude", "codex", "gemini", "copilot", "pi"]);
    let claude = json!({
        "model": "opus",
        "hooks": {
            "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard.sh"}]}]
        }
    });
    let codex = json!({"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]}});
    let gemini = json!({"theme": "dark", "hooks": {"AfterTool": [{"matcher": "write_file", "hooks": [{"type": "command", "command": "lint"}]}]}});
    for (rel, value) in
        [(".claude/settings.json", &claude), (".codex/hooks.json", &codex), (".gemini/settings.json", &gemini)]
    {
        let path = home.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    }

    let (code, out, stderr) = run(&home, &bin, &repo, &["init"]);
    assert_eq!(code, 0, "{stderr} {out}");
    let installed: Vec<&str> =
        out["data"]["hooks"]["agents"].as_array().unwrap().iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(installed, ["installed"; 5]);
    assert!(repo.join(".agit").is_dir());
    let settings = read_json(&home.join(".claude/settings.json"));
    let stop = settings["hooks"]["Stop"].as_array().unwrap();
    assert_eq!(stop.len(), 2, "the user's Stop hook is kept next to ours");
    assert_eq!(stop[0], claude["hooks"]["Stop"][0]);
    assert_eq!(settings["hooks"]["PreToolUse"], claude["hooks"]["PreToolUse"]);
    assert_eq!(settings["model"], "opus");
    assert!(settings["hooks"]["UserPromptSubmit"].to_string().contains("claude-hook"));
    assert!(read_json(&home.join(".codex/hooks.json")).get("_agit").is_none(), "Codex's schema is strict");
    assert!(home.join(".claude/settings.json.agit.bak").is_file());
    assert!(home.join(".copilot/extensions/agit-recorder/extension.mjs").is_file());
    assert!(home.join(".pi/agent/extensions/agit-recorder.js").is_file());

    // Idempotent.
    let (code, out, _) = run(&home, &bin, &repo, &["init"]);
    assert_eq!(code, 0);
    assert!(out["data"]["hooks"]["agents"].as_array().unwrap().iter().all(|a| a["status"] == "unchanged"));
    assert_eq!(read_json(&home.join(".claude/settings.json"))["hooks"]["Stop"].as_array().unwrap().len(), 2);

    let (code, _, stderr) = run(&home, &bin, &repo, &["uninstall"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(read_json(&home.join(".claude/settings.json")), claude);
    assert_eq!(read_json(&home.join(".codex/hooks.json")), codex);
    assert_eq!(read_json(&home.join(".gemini/settings.json")), gemini);
    assert!(!home.join(".copilot/extensions/agit-recorder/extension.mjs").exists());
    assert!(!home.join(".pi/agent/extensions/agit-recorder.js").exists());
    assert!(repo.join(".agit").is_dir(), "uninstall never touches the store");
}

#[test]
fn malformed_configs_are_left_alone_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, bin, repo) = (tmp.path().join("home"), tmp.path().join("bin"), tmp.path().join("repo"));
    std::fs::create_dir_all(&repo).unwrap();
    fake_agents(&bin, &["claude"]);
    let path = home.join(".claude/settings.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "{\"hooks\": {,}").unwrap();

    let (code, out, _) = run(&home, &bin, &repo, &["init", "--dry-run"]);
    assert_eq!(code, 1, "{out}");
    assert!(!repo.join(".agit").exists(), "dry run writes nothing");
    let (code, out, _) = run(&home, &bin, &repo, &["init", "--agent", "claude"]);
    assert_eq!(code, 1);
    assert_eq!(out["data"]["hooks"]["agents"][0]["status"], "refused");
    assert_eq!(out["data"]["hooks"]["agents"][0]["problem"]["code"], "config_malformed");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"hooks\": {,}", "byte-identical");
    let (code, _, _) = run(&home, &bin, &repo, &["uninstall"]);
    assert_eq!(code, 0);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"hooks\": {,}");

    let (code, _, _) = run(&home, &bin, &repo, &["init", "--agent", "claude", "--force"]);
    assert_eq!(code, 0);
    assert!(read_json(&path)["hooks"]["Stop"].is_array());
    assert_eq!(std::fs::read_to_string(home.join(".claude/settings.json.agit.bak")).unwrap(), "{\"hooks\": {,}");

    let (code, out, _) = run(&home, &bin, &repo, &["init", "--agent", "emacs"]);
    assert_eq!((code, out["data"]["diagnostic"]["code"].as_str()), (2, Some("unknown_agent")));
}
