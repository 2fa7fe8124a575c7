//! `agit eval` through the real binary, over sessions recorded by the real hook commands.

mod common;

use std::path::Path;

use common::{agit, git, normalize, run_json};
use predicates::prelude::*;

fn hook(dir: &Path, payload: String) {
    common::hook_ok(dir, &["codex-hook"], payload.as_bytes(), &[]);
}

/// One codex turn: a prompt, tool calls `(command, result)`, then the final message.
fn turn(dir: &Path, session: &str, prompt: &str, calls: &[(&str, &str)], last: &str) {
    let cwd = dir.display();
    hook(
        dir,
        format!(
            r#"{{"session_id":"{session}","cwd":"{cwd}","hook_event_name":"UserPromptSubmit","prompt":"{prompt}","model":"gpt-test"}}"#
        ),
    );
    for (command, result) in calls {
        hook(
            dir,
            format!(
                r#"{{"session_id":"{session}","cwd":"{cwd}","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{{"command":"{command}"}},"tool_response":"{result}"}}"#
            ),
        );
    }
    hook(
        dir,
        format!(
            r#"{{"session_id":"{session}","cwd":"{cwd}","hook_event_name":"Stop","last_assistant_message":"{last}"}}"#
        ),
    );
}

/// codex/good on the base commit, codex/bad on c1, codex/late (a failure report) on c2.
fn history() -> (tempfile::TempDir, String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    git(w, &["init", "-q", "-b", "main"]);
    std::fs::write(w.join("a.txt"), "one\n").unwrap();
    git(w, &["add", "-A"]);
    git(w, &["commit", "-qm", "base"]);
    let base = git(w, &["rev-parse", "HEAD"]);
    agit(w).args(["init", "--no-hooks"]).assert().success();
    std::fs::write(w.join("a.txt"), "one\ntwo\n").unwrap();
    turn(
        w,
        "good",
        "Implement the parser json command; the parser tests should pass",
        &[("grep -n parser src/lib.rs", "12: fn parser()"), ("cargo test parser", "test result: ok. 3 passed")],
        "Implemented the parser and tested it: all tests passed.",
    );
    git(w, &["commit", "-qam", "c1"]);
    let c1 = git(w, &["rev-parse", "HEAD"]);
    turn(
        w,
        "bad",
        "hmm",
        &[("ls nothing", "ls: error: nothing not found"), ("ls nothing", "ls: error: nothing not found")],
        "done",
    );
    turn(w, "bad", "again", &[("ls nothing", "ls: error: nothing not found")], "ok");
    git(w, &["commit", "-q", "--allow-empty", "-m", "c2"]);
    let c2 = git(w, &["rev-parse", "HEAD"]);
    turn(w, "late", "The CI failed after the parser change", &[("echo hi", "hi")], "I will look.");
    (dir, base, c1, c2)
}

fn object_count(w: &Path) -> usize {
    fn walk(p: &Path) -> usize {
        std::fs::read_dir(p)
            .map(|rd| rd.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum())
            .unwrap_or(0)
    }
    walk(&w.join(".agit/objects"))
}

#[test]
fn classifications_json_shape_persistence_and_list() {
    let (dir, _, _, _) = history();
    let w = dir.path();

    let run = run_json(w, &["eval", "--session", "codex/good", "--no-lookahead", "--include-steps"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let data = run.data();
    assert_eq!(data["in_scope_assessment"]["classification"], "good");
    assert_eq!(data["current_assessment"]["classification"], "good");
    assert_eq!(data["follow_up_assessment"]["classification_delta"], "none");
    assert_eq!(data["association_confidence"], "high");
    assert_eq!(data["step_assessments"].as_array().unwrap().len(), 1);
    let good_hash = data["eval_hash"].as_str().unwrap().to_owned();
    insta::assert_json_snapshot!("eval_good_json", normalize(run.envelope.clone(), w));

    // The eval object is stored and readable.
    let cat = run_json(w, &["cat", &good_hash]);
    assert_eq!(cat.code, 0);
    assert!(cat.data().to_string().contains(r#"\"type\":\"eval\""#), "{}", cat.data());

    // A failure report in a later session within 24h downgrades good → mixed.
    let run = run_json(w, &["eval", "--session", "good", "--origin", "codex"]);
    let data = run.data();
    assert_eq!(data["in_scope_assessment"]["classification"], "good");
    assert_eq!(data["follow_up_assessment"]["classification_delta"], "downgrade");
    assert_eq!(data["follow_up_assessment"]["signals"][0]["phrase"], "ci failed");
    assert_eq!(data["follow_up_assessment"]["signals"][0]["session_id"], "late");
    assert_eq!(data["current_assessment"], serde_json::json!({"classification": "mixed", "confidence": "high"}));
    assert_eq!(data["step_assessments"], serde_json::json!([]));
    let second_hash = data["eval_hash"].as_str().unwrap().to_owned();
    assert_ne!(second_hash, good_hash);
    let run = run_json(w, &["eval", "--session", "codex/good", "--lookahead", "0"]);
    assert_eq!(run.data()["follow_up_assessment"]["classification_delta"], "none");

    // The bad session: vague prompt, repeated failing commands.
    let run = run_json(w, &["eval", "--session", "codex/bad", "--lookahead", "1h"]);
    let data = run.data();
    assert_eq!(data["in_scope_assessment"]["classification"], "bad");
    assert_eq!(data["in_scope_assessment"]["confidence"], "high");
    let dims = &data["in_scope_assessment"]["dimensions"];
    assert_eq!(dims["failure_recovery"]["rating"], "bad");
    assert_eq!(dims["churn_risk"]["rating"], "bad");
    assert_eq!(dims["verification"]["reasons"][0], "No test, build, or check command was captured.");
    assert_eq!(dims["failure_recovery"]["signals"]["repeated_failures"], 2);
    assert_eq!(data["patterns"][0]["phrase"], "repeated failure output");
    assert_eq!(data["scope"]["step_count"], 2);
    let bad_hash = data["eval_hash"].as_str().unwrap().to_owned();

    // --list: newest first, origin-filterable.
    let run = run_json(w, &["eval", "--list"]);
    assert_eq!(run.code, 0);
    let evals = run.data()["evals"].as_array().unwrap();
    assert_eq!(evals.len(), 4);
    assert_eq!(evals[0]["eval_hash"], bad_hash.as_str());
    assert_eq!(evals[0]["scope_key"], "codex/bad");
    assert_eq!(evals[0]["classification"], "bad");
    assert!(evals.iter().any(|e| e["eval_hash"] == good_hash.as_str()));
    assert!(evals.windows(2).all(|p| p[0]["evaluated_at"].as_i64() >= p[1]["evaluated_at"].as_i64()));
    assert_eq!(run_json(w, &["eval", "--list", "--origin", "claude"]).data()["evals"], serde_json::json!([]));
    assert_eq!(run_json(w, &["eval", "--list", "--origin", "codex"]).data()["evals"].as_array().unwrap().len(), 4);

    // --no-save writes nothing and reports a null hash.
    let before = object_count(w);
    let run = run_json(w, &["eval", "--session", "codex/good", "--no-save"]);
    assert_eq!(run.code, 0);
    assert!(run.data()["eval_hash"].is_null());
    agit(w).args(["eval", "--no-save"]).assert().success().stdout(predicate::str::contains("not saved"));
    assert_eq!(object_count(w), before);
    assert_eq!(run_json(w, &["eval", "--list"]).data()["evals"].as_array().unwrap().len(), 4);
    // A saving run adds exactly one object.
    agit(w).args(["eval", "--session", "codex/bad"]).assert().success();
    assert_eq!(object_count(w), before + 1);
}

#[test]
fn human_output_and_default_scope() {
    let (dir, _, _, _) = history();
    let w = dir.path();
    agit(w)
        .args(["eval", "--session", "codex/good", "--no-lookahead"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("eval session codex/good\n1 step(s) in 1 session(s)\n\n"))
        .stdout(predicate::str::contains("classification: good (medium confidence)\n"))
        .stdout(predicate::str::contains("in scope:      good (medium confidence)\n"))
        .stdout(predicate::str::contains("follow-up:     none (0 signal(s))\n"))
        .stdout(predicate::str::contains(
            "verification: good score=85 confidence=high\n  - Captured tool calls include a test, build, or check command.\n",
        ))
        .stdout(predicate::str::contains("goal clarity: good score="))
        .stdout(predicate::str::contains("\npatterns:\n  verification command: higher_rated_sessions (1 support, low confidence)\n"))
        .stdout(predicate::str::contains("\nsaved eval "));
    // Default: the most recent session.
    let run = run_json(w, &["eval"]);
    assert_eq!(run.data()["scope"]["session_id"], "late");
    assert_eq!(run.data()["scope"]["kind"], "session");
    // A date window spans sessions.
    let run = run_json(w, &["eval", "--since", "2000-01-01", "--no-save"]);
    assert_eq!(run.data()["scope"]["kind"], "window");
    assert_eq!(run.data()["scope"]["session_count"], 3);
    assert_eq!(run.data()["scope"]["since"], "2000-01-01");
}

#[test]
fn commit_and_range_scopes_use_git() {
    let (dir, base, c1, c2) = history();
    let w = dir.path();
    // HEAD=c2: its own steps (late) and its first parent's (bad).
    let run = run_json(w, &["eval", "--commit", "HEAD", "--no-lookahead"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let scope = &run.data()["scope"];
    assert_eq!((scope["kind"].as_str(), scope["rev"].as_str()), (Some("commit"), Some("HEAD")));
    assert_eq!((scope["session_count"].as_u64(), scope["step_count"].as_u64()), (Some(2), Some(3)));
    assert_eq!(run.data()["association_confidence"], "medium");
    // The root commit has no parent: only its own steps.
    let run = run_json(w, &["eval", "--commit", &base, "--no-lookahead"]);
    assert_eq!(run.data()["scope"]["step_count"], 1);
    assert_eq!(run.data()["in_scope_assessment"]["classification"], "good");
    let run = run_json(w, &["eval", "--commit", &c1, "--origin", "claude"]);
    assert_eq!((run.code, run.code_str()), (1, "session_not_found"));

    let range = format!("{base}..{c2}");
    let run = run_json(w, &["eval", "--range", &range]);
    assert_eq!(run.code, 0);
    assert_eq!(run.data()["scope"]["kind"], "range");
    assert_eq!(run.data()["scope"]["range"], range.as_str());
    assert_eq!(run.data()["scope"]["step_count"], 4);
    let listed = run_json(w, &["eval", "--list"]);
    let keys: Vec<&str> =
        listed.data()["evals"].as_array().unwrap().iter().map(|e| e["scope_key"].as_str().unwrap()).collect();
    assert_eq!(keys[0], format!("range {range}"));
    assert!(keys.contains(&"commit HEAD"), "{keys:?}");

    let run = run_json(w, &["eval", "--commit", "no-such-rev"]);
    assert_eq!((run.code, run.code_str()), (1, "git_revision_not_found"));
    let run = run_json(w, &["eval", "--range", &format!("{base}..nope")]);
    assert_eq!((run.code, run.code_str()), (1, "git_revision_not_found"));
    let run = run_json(w, &["eval", "--range", "main"]);
    assert_eq!((run.code, run.code_str()), (2, "invalid_argument"));
}

#[test]
fn scope_errors_exit_non_zero() {
    let (dir, _, _, _) = history();
    let w = dir.path();
    let before = object_count(w);
    for (args, code, diag) in [
        (&["eval", "--session", "codex/missing"][..], 1, "session_not_found"),
        (&["eval", "--since", "2999-01-01"], 1, "session_not_found"),
        (&["eval", "--session", "good", "--commit", "HEAD"], 2, "invalid_argument"),
        (&["eval", "--commit", "HEAD", "--range", "a..b"], 2, "invalid_argument"),
        (&["eval", "--list", "--session", "good"], 2, "invalid_argument"),
        (&["eval", "--lookahead", "5m"], 2, "invalid_argument"),
        (&["eval", "--lookahead", "1h", "--no-lookahead"], 2, "invalid_argument"),
        (&["eval", "--since", "2024-13-01"], 2, "invalid_argument"),
        (&["eval", "--session", "claude/good", "--origin", "codex"], 2, "invalid_argument"),
    ] {
        let run = run_json(w, args);
        assert_eq!((run.code, run.code_str()), (code, diag), "{args:?}");
    }
    agit(w).args(["eval", "--list"]).assert().code(2).stderr(predicate::str::contains("requires --json"));
    agit(w).args(["eval", "--session", "nope"]).assert().code(1);
    assert_eq!(object_count(w), before, "failed runs write nothing");
}
