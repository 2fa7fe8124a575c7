//! Issue 4 views through the real binary: status, timeline, sessions, log, between, watch.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{agit, git, normalize, normalize_text, run_json};
use predicates::prelude::*;

const AGIT: &str = env!("CARGO_BIN_EXE_agit");

fn hook(dir: &Path, args: &[&str], payload: String) {
    common::hook_ok(dir, args, payload.as_bytes(), &[]);
}

fn turn(dir: &Path, origin: &str, session: &str, prompt: &str, result: &str) {
    let cwd = dir.display();
    let (route, user, stop): (&[&str], _, _) = match origin {
        "claude" => (&["claude-hook"], "user", "assistant"),
        _ => (&["codex-hook"], "", ""),
    };
    let args = |sub: &str| -> Vec<&str> {
        let mut v = route.to_vec();
        if !sub.is_empty() {
            v.push(Box::leak(sub.to_owned().into_boxed_str()));
        }
        v
    };
    hook(
        dir,
        &args(user),
        format!(
            r#"{{"session_id":"{session}","cwd":"{cwd}","hook_event_name":"UserPromptSubmit","prompt":"{prompt}","model":"gpt-test"}}"#
        ),
    );
    let tool = format!(
        r#"{{"session_id":"{session}","cwd":"{cwd}","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{{"command":"make test"}},"tool_response":"{result}"}}"#
    );
    match origin {
        "claude" => hook(dir, &["claude-tool-batch-hook"], tool),
        _ => hook(dir, &["codex-hook"], tool),
    }
    hook(
        dir,
        &args(stop),
        format!(
            r#"{{"session_id":"{session}","cwd":"{cwd}","hook_event_name":"Stop","last_assistant_message":"done"}}"#
        ),
    );
}

/// A repository with history: codex/s1 two turns (base, then after commit c1), claude/s1
/// one turn after c2, and codex/s2 one turn.
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
    turn(w, "codex", "s1", "add line two", "ok");
    git(w, &["commit", "-qam", "c1"]);
    let c1 = git(w, &["rev-parse", "HEAD"]);
    turn(w, "codex", "s1", "run the tests token=sekrit-value-123", "2 failed");
    git(w, &["commit", "-q", "--allow-empty", "-m", "c2"]);
    let c2 = git(w, &["rev-parse", "HEAD"]);
    turn(w, "claude", "s1", "explain the change", "ok");
    turn(w, "codex", "s2", "another session", "ok");
    (dir, base, c1, c2)
}

#[test]
fn status_timeline_sessions_log_between() {
    let (dir, base, c1, c2) = history();
    let w = dir.path();

    let run = run_json(w, &["status"]);
    assert_eq!(run.code, 0);
    insta::assert_json_snapshot!("status", normalize(run.envelope, w));
    agit(w).arg("status").assert().success().stdout(predicate::str::contains("Sessions:        3"));

    let run = run_json(w, &["timeline"]);
    let steps = run.data()["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4);
    assert!(steps.windows(2).all(|p| p[0]["timestamp"].as_i64() >= p[1]["timestamp"].as_i64()), "newest first");
    insta::assert_json_snapshot!("timeline", normalize(run.envelope, w));
    let run = run_json(w, &["timeline", "--origin", "claude"]);
    assert_eq!(run.data()["steps"].as_array().unwrap().len(), 1);
    let run = run_json(w, &["timeline", "--session", "codex/s1", "--limit", "1"]);
    assert_eq!(run.data()["steps"][0]["turn_id"], "agturn:2");
    let run = run_json(w, &["timeline", "--since", "2999-01-01"]);
    assert_eq!(run.data()["steps"].as_array().unwrap().len(), 0);
    agit(w)
        .args(["timeline", "--since", "2999-01-01"])
        .assert()
        .success()
        .stdout("No recorded steps match the requested filters.\n");
    // Redaction follows the flags.
    let run = run_json(w, &["timeline", "--session", "codex/s1", "--redacted"]);
    assert!(run.data()["steps"][0]["preview"].as_str().unwrap().contains("[REDACTED]"));
    let run = run_json(w, &["timeline", "--session", "codex/s1", "--full"]);
    assert!(run.data()["steps"][0]["preview"].as_str().unwrap().contains("sekrit-value-123"));

    let run = run_json(w, &["sessions"]);
    insta::assert_json_snapshot!("sessions", normalize(run.envelope, w));

    let run = run_json(w, &["log", "codex/s1"]);
    let log = run.data()["steps"].as_array().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!((log[0]["outcome"].as_str(), log[1]["outcome"].as_str()), (Some("success"), Some("failure")));
    assert_eq!(log[0]["model"], "gpt-test");
    insta::assert_json_snapshot!("log", normalize(run.envelope, w));
    let run = run_json(w, &["log", "s2"]);
    assert_eq!(run.data()["session_id"], "s2");
    let run = run_json(w, &["log", "s1"]);
    assert_eq!((run.code, run.code_str()), (1, "ambiguous_session_id"));
    let candidates = run.data()["diagnostic"]["candidates"].as_array().unwrap();
    assert_eq!(candidates, &["claude/s1", "codex/s1"]);
    let run = run_json(w, &["log", "nope"]);
    assert_eq!((run.code, run.code_str()), (1, "session_not_found"));
    agit(w).args(["log", "codex/s1"]).assert().success().stdout(predicate::str::contains("turn agturn:2"));

    // between base c1: steps recorded at base (turn 1) and at c1 (turn 2).
    let run = run_json(w, &["between", &base, &c1]);
    let turns: Vec<&str> =
        run.data()["steps"].as_array().unwrap().iter().map(|s| s["turn_id"].as_str().unwrap()).collect();
    assert_eq!(turns, ["agturn:1", "agturn:2"]);
    assert_eq!(run.data()["range_commits"].as_array().unwrap().len(), 1);
    let run = run_json(w, &["between", &c2]);
    let sessions: Vec<String> = run.data()["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{}/{}", s["origin"].as_str().unwrap(), s["session_id"].as_str().unwrap()))
        .collect();
    assert_eq!(sessions, ["claude/s1", "codex/s2"], "grouped by origin, session");
    let run = run_json(w, &["between", "no-such-rev"]);
    assert_eq!((run.code, run.code_str()), (1, "from_revision_not_found"));
    let run = run_json(w, &["between", &base, "nope"]);
    assert_eq!((run.code, run.code_str()), (1, "to_revision_not_found"));
    agit(w).args(["between", &base]).assert().success().stdout(predicate::str::contains("codex/s1"));

    // Human output of each view, stable parts snapshotted.
    let human = |args: &[&str]| -> String {
        let out = agit(w).args(args).args(["--color", "never", "--utc"]).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        normalize_text(&String::from_utf8(out.stdout).unwrap(), w)
    };
    insta::assert_snapshot!("status_human", human(&["status"]));
    insta::assert_snapshot!("timeline_human", human(&["timeline"]));
    insta::assert_snapshot!("sessions_human", human(&["sessions"]));
    insta::assert_snapshot!("log_human", human(&["log", "codex/s1"]));
    insta::assert_snapshot!("between_human", human(&["between", &base, &c1]));
}

#[test]
fn date_and_limit_arguments_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    agit(dir.path()).args(["init", "--no-hooks"]).assert().success();
    for args in [
        &["timeline", "--since", "2026-02-30"][..],
        &["timeline", "--since", "2026-05-02", "--until", "2026-05-01"],
        &["timeline", "--limit", "0"],
        &["timeline", "--origin", "codex", "--session", "claude/x"],
    ] {
        let run = run_json(dir.path(), args);
        assert_eq!((run.code, run.code_str()), (2, "invalid_argument"), "{args:?}");
    }
    let run = run_json(dir.path(), &["log"]);
    assert_eq!((run.code, run.code_str()), (1, "session_not_found"));
}

#[test]
fn watch_once_prints_exactly_the_steps_finalized_since_it_started() {
    let (dir, ..) = history();
    let w = dir.path().to_path_buf();
    let child = Command::new(AGIT)
        .args(["watch", "--json", "--interval", "1500", "--once"])
        .current_dir(&w)
        .env("HOME", common::isolated_home())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Let watch take its starting point, then record two new turns in order.
    std::thread::sleep(std::time::Duration::from_millis(500));
    turn(&w, "codex", "s3", "first new", "ok");
    turn(&w, "codex", "s3", "second new", "ok");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let previews: Vec<&str> = lines
        .iter()
        .filter(|l| l["data"]["event"] == "step")
        .map(|l| l["data"]["step"]["preview"].as_str().unwrap())
        .collect();
    assert_eq!(previews, ["first new", "second new"]);
    let last = lines.last().unwrap();
    assert_eq!((last["data"]["event"].as_str(), last["data"]["steps"].as_u64()), (Some("summary"), Some(2)));
}

#[test]
fn blame_answers_from_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    git(w, &["init", "-q", "-b", "main"]);
    agit(w).args(["init", "--no-hooks"]).assert().success();
    std::fs::create_dir_all(w.join("src")).unwrap();
    std::fs::write(w.join("src/a.rs"), "one\ntwo\n").unwrap();
    turn(w, "codex", "b1", "write a", "ok");
    std::fs::write(w.join("src/a.rs"), "one\nTWO\nthree\n").unwrap();
    turn(w, "claude", "b2", "edit a", "ok");

    let run = run_json(&w.join("src"), &["blame", "a.rs"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.data()["lines"].as_array().unwrap();
    let origins: Vec<&str> = lines.iter().map(|l| l["origin"].as_str().unwrap()).collect();
    assert_eq!(origins, ["codex", "claude", "claude", "codex"], "lines 1 and the final empty line kept; 2-3 changed");
    assert_eq!(lines[1]["text"], "TWO");
    assert_eq!(lines[0]["model"], "gpt-test");
    insta::assert_json_snapshot!("blame", normalize(run.envelope.clone(), w));
    // The same file by absolute path and ./ path; -L narrows.
    let abs = w.join("src/a.rs").display().to_string();
    assert_eq!(run_json(w, &["blame", &abs]).data()["lines"].as_array().unwrap().len(), 4);
    let run = run_json(&w.join("src"), &["blame", "./a.rs", "-L", "2,3"]);
    assert_eq!(run.data()["lines"].as_array().unwrap().len(), 2);
    // As of the first step.
    let first = run_json(w, &["log", "codex/b1"]).data()["steps"][0]["hash"].as_str().unwrap().to_owned();
    let run = run_json(w, &["blame", "src/a.rs", "--step", &first[..12]]);
    let texts: Vec<&str> =
        run.data()["lines"].as_array().unwrap().iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["one", "two", ""]);
    agit(w).args(["blame", "src/a.rs"]).assert().success().stdout(predicate::str::contains("TWO"));
    let out = agit(w).args(["blame", "src/a.rs", "--utc", "--color", "never"]).output().unwrap();
    insta::assert_snapshot!("blame_human", normalize_text(&String::from_utf8(out.stdout).unwrap(), w));

    let run = run_json(w, &["blame", "src/missing.rs"]);
    assert_eq!((run.code, run.code_str()), (1, "no_blame"));
    let run = run_json(w, &["blame", "src/a.rs", "-L", "3,1"]);
    assert_eq!((run.code, run.code_str()), (2, "invalid_argument"));
    let run = run_json(w, &["blame", "/etc/passwd"]);
    assert_eq!((run.code, run.code_str()), (2, "invalid_argument"));
    let run = agit(w).args(["blame", "src/a.rs", "--json"]).env("AGIT_MAX_FILE_BYTES", "3").output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stdout).contains("file_too_large"));
    agit(w).args(["blame", "src/a.rs", "--no-limits"]).env("AGIT_MAX_FILE_BYTES", "3").assert().success();
}

#[test]
fn colour_time_zone_and_pager_follow_flags_and_environment() {
    let (dir, ..) = history();
    let w = dir.path();
    let out = |args: &[&str], envs: &[(&str, &str)]| -> String {
        let mut cmd = agit(w);
        cmd.env_remove("NO_COLOR");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        String::from_utf8(cmd.args(args).output().unwrap().stdout).unwrap()
    };
    // Not a terminal: no colour by default, colour with --color always, never with NO_COLOR+auto.
    assert!(!out(&["timeline"], &[]).contains('\x1b'));
    assert!(out(&["timeline", "--color", "always"], &[]).contains("\x1b["));
    assert!(!out(&["timeline"], &[("NO_COLOR", "1")]).contains('\x1b'));
    assert!(!out(&["timeline", "--color", "never"], &[]).contains('\x1b'));
    // Local time follows TZ; --utc ignores it.
    let utc = out(&["timeline", "--utc", "--limit", "1"], &[("TZ", "Asia/Kolkata")]);
    let local = out(&["timeline", "--limit", "1"], &[("TZ", "Asia/Kolkata")]);
    let plain = out(&["timeline", "--limit", "1"], &[("TZ", "UTC")]);
    assert_eq!(utc[..19], plain[..19]);
    assert_ne!(utc[..19], local[..19], "+05:30 shifts the clock");
    // Off a terminal the pager is never used, even when one is configured.
    let paged = out(&["timeline"], &[("AGIT_PAGER", "sh -c 'echo PAGED'"), ("PAGER", "false")]);
    assert!(!paged.contains("PAGED") && paged.contains("turn agturn:1"));
}

#[test]
fn grep_content_searches_captured_files_incrementally_and_after_reindex() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    git(w, &["init", "-q", "-b", "main"]);
    agit(w).args(["init", "--no-hooks"]).assert().success();
    std::fs::create_dir_all(w.join("src")).unwrap();
    std::fs::write(w.join("src/parser.rs"), "fn parse_header() { /* quux marker */ }\n").unwrap();
    std::fs::write(w.join("data.bin"), b"quux\0binary").unwrap();
    turn(w, "codex", "c1", "write the parser", "ok");
    std::fs::write(w.join("notes.md"), "the quux notes\nline two\n").unwrap();
    turn(w, "claude", "c2", "write notes", "ok");

    let search = |args: &[&str]| -> Vec<(String, String)> {
        let run = run_json(w, args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.data()["content"], true);
        run.data()["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["label"].as_str().unwrap().to_owned(), m["session_id"].as_str().unwrap().to_owned()))
            .collect()
    };
    let mut all = search(&["grep", "--content", "quux"]);
    all.sort();
    // The binary file is never indexed; each text file is attributed to the step that
    // first captured it.
    assert_eq!(all, [("notes.md".to_owned(), "c2".to_owned()), ("src/parser.rs".to_owned(), "c1".to_owned())]);
    assert_eq!(
        search(&["grep", "--content", "quux", "--session", "codex/c1"]),
        [("src/parser.rs".to_owned(), "c1".to_owned())]
    );
    assert_eq!(search(&["grep", "--content", "parse_header"]).len(), 1);
    assert!(search(&["grep", "--content", "prompt"]).is_empty(), "activity text is not file content");
    let run = run_json(w, &["grep", "--content", "quux", "--limit", "1"]);
    assert!(run.data()["matches"][0]["snippet"].as_str().unwrap().contains("[quux]"));
    // A rebuilt index answers the same.
    agit(w).arg("reindex").assert().success();
    let mut again = search(&["grep", "--content", "quux"]);
    again.sort();
    assert_eq!(again, all);
    agit(w)
        .args(["grep", "--content", "quux", "--color", "never"])
        .assert()
        .success()
        .stdout(predicate::str::contains("content notes.md"));
    let run = run_json(w, &["grep", "--content", "--regex", "q.x"]);
    assert_eq!((run.code, run.code_str()), (2, "invalid_argument"));
}

#[test]
fn status_warns_about_recent_hook_errors_only() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    agit(w).args(["init", "--no-hooks"]).assert().success();
    let log = w.join(".agit/log/hook-error.log");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let old = now - 3 * 24 * 3600 * 1000;
    std::fs::write(&log, format!("{{\"ts\":{old},\"level\":\"error\",\"code\":\"x\"}}\n")).unwrap();
    assert_eq!(run_json(w, &["status"]).data()["warnings"]["hook_errors"], 0, "a three-day-old error");
    // A malformed payload logs a fresh error through the real hook command.
    common::run_hook(w, &["codex-hook"], b"{not json", &[]);
    assert_eq!(run_json(w, &["status"]).data()["warnings"]["hook_errors"], 1);
}
