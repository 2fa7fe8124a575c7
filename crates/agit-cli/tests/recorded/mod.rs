//! Real recorded history for the bundle and privacy tests: a git repository whose
//! sessions are written by the same `claude-hook` commands Claude Code runs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::common::{agit, git, hook_ok};

/// A git repository with one commit and an initialized store (no agent hooks).
pub fn repo(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join(name);
    std::fs::create_dir_all(&w).unwrap();
    git(&w, &["init", "-q", "-b", "main"]);
    std::fs::write(w.join("README.md"), "# demo\n").unwrap();
    git(&w, &["add", "-A"]);
    git(&w, &["commit", "-qm", "base"]);
    agit(&w).args(["init", "--no-hooks"]).assert().success();
    (dir, w)
}

/// A store with no history (no git repository).
pub fn empty_store(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join(name);
    std::fs::create_dir_all(&w).unwrap();
    agit(&w).args(["init", "--no-hooks"]).assert().success();
    (dir, w)
}

/// One Claude Code turn of `session`: session start (with a model), the prompt, one Bash
/// tool call with `tool_result`, and the stop with `answer`. The workspace is snapshotted
/// at the stop.
pub fn turn(w: &Path, session: &str, prompt: &str, tool_result: &str, answer: &str) {
    let cwd = w.display().to_string();
    let run = |args: &[&str], payload: serde_json::Value| hook_ok(w, args, payload.to_string().as_bytes(), &[]);
    run(
        &["claude-hook", "session-start"],
        json!({"session_id": session, "cwd": cwd, "hook_event_name": "SessionStart", "source": "startup", "model": "claude-sonnet-4-5"}),
    );
    run(
        &["claude-hook", "user"],
        json!({"session_id": session, "cwd": cwd, "hook_event_name": "UserPromptSubmit", "prompt": prompt}),
    );
    run(
        &["claude-tool-batch-hook"],
        json!({"session_id": session, "cwd": cwd, "hook_event_name": "PostToolUse", "tool_name": "Bash",
               "tool_input": {"command": "make test"}, "tool_response": tool_result, "tool_use_id": "toolu_1"}),
    );
    run(
        &["claude-hook", "assistant"],
        json!({"session_id": session, "cwd": cwd, "hook_event_name": "Stop", "last_assistant_message": answer}),
    );
}

/// A plain turn with nothing sensitive in it.
pub fn clean_turn(w: &Path, session: &str, prompt: &str) {
    turn(w, session, prompt, "2 passed", "done");
}

/// Every file under `root` (relative path → bytes), sorted; `None` when `root` is absent.
pub fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// The loose objects of a workspace's store.
pub fn objects(w: &Path) -> Vec<(String, Vec<u8>)> {
    tree(&w.join(".agit/objects")).into_iter().filter(|(p, _)| !p.starts_with("pack/")).collect()
}

/// The session ref files of a workspace's store (lock files left out).
pub fn refs(w: &Path) -> Vec<(String, Vec<u8>)> {
    tree(&w.join(".agit/refs")).into_iter().filter(|(p, _)| !p.ends_with(".lock")).collect()
}
