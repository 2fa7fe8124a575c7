//! `agit doctor --self-test` through the real binary: hooks installed by `agit init` for
//! every agent (fake agent binaries on PATH, a temporary HOME) are run from their
//! configs on a synthetic turn; a broken hook command and a disabled origin are
//! reported; the repository's own history is never touched.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{SYSTEM_PATH, agit};
use serde_json::Value;

struct Sandbox {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    bin: PathBuf,
    repo: PathBuf,
}

fn sandbox(agents: &[&str]) -> Sandbox {
    let tmp = tempfile::tempdir().unwrap();
    let (home, bin, repo) = (tmp.path().join("home"), tmp.path().join("bin"), tmp.path().join("repo"));
    for dir in [&home, &bin, &repo] {
        std::fs::create_dir_all(dir).unwrap();
    }
    for name in agents {
        let path = bin.join(name);
        std::fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    common::git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("main.rs"), "fn main() {}\n").unwrap();
    let s = Sandbox { _tmp: tmp, home, bin, repo };
    let mut init = agit(&s.repo);
    init.arg("init");
    for name in agents {
        init.args(["--agent", name]);
    }
    env(&mut init, &s).assert().success();
    s
}

fn env<'a>(cmd: &'a mut assert_cmd::Command, s: &Sandbox) -> &'a mut assert_cmd::Command {
    cmd.env("HOME", &s.home).env("PATH", format!("{}:{SYSTEM_PATH}", s.bin.display()))
}

fn doctor(s: &Sandbox, args: &[&str]) -> (i32, Value, String) {
    let mut cmd = agit(&s.repo);
    let output = env(&mut cmd, s).arg("--json").arg("doctor").args(args).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let value: Value = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (output.status.code().unwrap(), value, String::from_utf8_lossy(&output.stderr).into_owned())
}

fn check<'a>(data: &'a Value, code: &str, needle: &str) -> &'a Value {
    data["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code && c["message"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no `{code}` check mentioning {needle}: {data:#}"))
}

fn store_file_count(repo: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![repo.join(".agit")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else if !entry.file_name().to_string_lossy().ends_with(".lock") {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn every_installed_agent_records_a_turn_through_its_configured_hooks() {
    let agents = ["claude", "codex", "gemini", "copilot", "pi"];
    let s = sandbox(&agents);
    let files_before = store_file_count(&s.repo);
    let (code, envelope, stderr) = doctor(&s, &["--self-test"]);
    assert_eq!(code, 0, "{stderr}\n{envelope:#}");
    let data = &envelope["data"];
    let results = data["self_test"].as_array().unwrap();
    assert_eq!(results.len(), agents.len(), "{data:#}");
    for (result, agent) in results.iter().zip(agents) {
        assert_eq!(result["agent"], agent);
        assert_eq!(result["outcome"], "recorded", "{result:#}");
        assert_eq!(result["step"].as_str().map(str::len), Some(64));
        assert!(result["session_id"].as_str().unwrap().starts_with("agit-self-test-"));
    }
    // The exact commands from the configs: Claude's exec form, Codex's shell string.
    assert_eq!(results[0]["stop"]["form"], "exec");
    assert_eq!(results[0]["stop"]["args"], serde_json::json!(["claude-hook", "assistant"]));
    assert_eq!(results[1]["stop"]["form"], "shell");
    assert!(results[1]["stop"]["command"].as_str().unwrap().ends_with(" codex-hook"));
    assert_eq!(results[3]["stop"]["args"], serde_json::json!(["copilot-hook"]));
    check(data, "hook_self_test_ok", "Gemini CLI");

    // Nothing was recorded into the repository's own store.
    assert_eq!(store_file_count(&s.repo), files_before);
    let mut status = agit(&s.repo);
    let out = env(&mut status, &s).args(["--json", "status"]).output().unwrap();
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["data"]["steps"], 0, "{status:#}");

    // Without --self-test nothing runs.
    let (_, envelope, _) = doctor(&s, &[]);
    assert!(envelope["data"]["self_test"].is_null());
    let mut human = agit(&s.repo);
    let out = env(&mut human, &s).args(["doctor", "--self-test"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("✓ Pi: self-test turn recorded through its hooks"), "{text}");
}

#[test]
fn a_broken_hook_command_and_a_disabled_origin_are_reported() {
    let s = sandbox(&["codex", "gemini"]);
    // Codex's hook now runs an agit that does not exist.
    let path = s.home.join(".codex/hooks.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    let command = value["hooks"]["Stop"][0]["hooks"][0]["command"].as_str().unwrap().to_owned();
    let program = command.split(' ').next().unwrap().to_owned();
    std::fs::write(&path, text.replace(&program, "/nonexistent/dir/agit")).unwrap();
    // And the store records only claude and codex: gemini is disabled.
    let config_path = s.repo.join(".agit/config.json");
    let mut config: Value = serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
    config["privacy"]["enabled_origins"] = serde_json::json!(["claude", "codex"]);
    std::fs::write(&config_path, serde_json::to_vec(&config).unwrap()).unwrap();

    let (code, envelope, stderr) = doctor(&s, &["--self-test"]);
    assert_eq!(code, 1, "a hook that records nothing is a failure: {stderr}\n{envelope:#}");
    let data = &envelope["data"];
    let failed = check(data, "hook_self_test_failed", "Codex CLI");
    let message = failed["message"].as_str().unwrap();
    assert!(message.contains("stop hook exited 127"), "{message}");
    assert_eq!(failed["hint"], "Run `agit init --agent codex` to rewrite its hooks.");
    let disabled = check(data, "hook_self_test_capture_disabled", "Gemini CLI");
    assert_eq!(disabled["status"], "warn");
    let results = data["self_test"].as_array().unwrap();
    assert_eq!(results[0]["outcome"], "not_recorded");
    assert_eq!(results[1]["outcome"], "capture_disabled");

    // Re-running init repairs the hook; the self-test passes again.
    let mut init = agit(&s.repo);
    env(&mut init, &s).args(["init", "--agent", "codex"]).assert().success();
    let (_, envelope, _) = doctor(&s, &["--self-test"]);
    assert_eq!(envelope["data"]["self_test"][0]["outcome"], "recorded", "{:#}", envelope["data"]);
}
