//! grep, recall and stats through the real binary, on history recorded by the hooks.

mod common;

use std::path::Path;

use common::{agit, git, normalize, run_json};
use serde_json::Value;

fn hook(dir: &Path, args: &[&str], payload: String) {
    // `big.txt` fits when recorded; `history` reindexes with a smaller cap.
    common::hook_ok(dir, args, payload.as_bytes(), &[("AGIT_MAX_FILE_BYTES", "1000")]);
}

/// One recorded turn: a prompt, a `Bash`/`Read` tool call with `result`, a stop.
fn turn(dir: &Path, origin: &str, session: &str, prompt: &str, tool: &str, result: &str) {
    let cwd = dir.display();
    let (prompt_args, tool_args, stop_args): (&[&str], &[&str], &[&str]) = match origin {
        "claude" => (&["claude-hook", "user"], &["claude-tool-batch-hook"], &["claude-hook", "assistant"]),
        _ => (&["codex-hook"], &["codex-hook"], &["codex-hook"]),
    };
    hook(
        dir,
        prompt_args,
        format!(
            r#"{{"session_id":"{session}","cwd":"{cwd}","hook_event_name":"UserPromptSubmit","prompt":"{prompt}","model":"gpt-test"}}"#
        ),
    );
    hook(
        dir,
        tool_args,
        format!(
            r#"{{"session_id":"{session}","cwd":"{cwd}","hook_event_name":"PostToolUse","tool_name":"{tool}","tool_input":{{"command":"make test"}},"tool_response":"{result}"}}"#
        ),
    );
    hook(
        dir,
        stop_args,
        format!(
            r#"{{"session_id":"{session}","cwd":"{cwd}","hook_event_name":"Stop","last_assistant_message":"done"}}"#
        ),
    );
}

/// codex/s1: turn 1 (fix the parser, ok; a.txt), turn 2 (parser ×3, 2 failed; adds
/// big.txt); claude/s1: turn 1 (explain the parser, ok; big.txt grows); codex/s2: turn 1
/// (a secret, ok; edits a.txt). Reindexed under a 64-byte cap, so big.txt is an
/// oversized file without blame rows.
fn history() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    git(w, &["init", "-q", "-b", "main"]);
    std::fs::write(w.join("a.txt"), "one\n").unwrap();
    git(w, &["add", "-A"]);
    git(w, &["commit", "-qm", "base"]);
    agit(w).args(["init", "--no-hooks"]).assert().success();

    std::fs::write(w.join("a.txt"), "one\ntwo\n").unwrap();
    turn(w, "codex", "s1", "fix the parser bug", "Bash", "ok");
    std::fs::write(w.join("big.txt"), "x".repeat(200)).unwrap();
    turn(w, "codex", "s1", "parser parser parser tests again", "Bash", "2 failed");
    std::fs::write(w.join("big.txt"), "y".repeat(300)).unwrap();
    turn(w, "claude", "s1", "explain the parser", "Read", "ok");
    std::fs::write(w.join("a.txt"), "one\ntwo\nthree\n").unwrap();
    turn(w, "codex", "s2", "deploy with token=sekrit-value-123 now", "Bash", "ok");
    agit(w).args(["reindex"]).env("AGIT_MAX_FILE_BYTES", "64").assert().success();
    dir
}

fn matches(run: &common::JsonRun) -> &Vec<Value> {
    run.data()["matches"].as_array().unwrap()
}

/// `origin/session turn` of each match.
fn who(run: &common::JsonRun) -> Vec<String> {
    matches(run)
        .iter()
        .map(|m| format!("{}/{} {}", m["origin"].as_str().unwrap(), m["session_id"].as_str().unwrap(), m["turn_id"]))
        .collect()
}

fn human(w: &Path, args: &[&str]) -> String {
    let out = agit(w).args(args).arg("--utc").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn human_filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"\b[0-9a-f]{12}\b", "[hash12]"),
        (r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "[time]"),
        (r"main@[0-9a-f]{12}", "main@[commit]"),
    ]
}

#[test]
fn grep_ranks_filters_and_redacts() {
    let dir = history();
    let w = dir.path();

    // bm25: the prompt that says "parser" three times first; --sort time: newest first.
    let run = run_json(w, &["grep", "parser"]);
    assert_eq!(run.code, 0);
    assert_eq!(who(&run), ["codex/s1 \"agturn:2\"", "claude/s1 \"agturn:1\"", "codex/s1 \"agturn:1\""]);
    let scores: Vec<f64> = matches(&run).iter().map(|m| m["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|p| p[0] >= p[1]), "{scores:?}");
    assert_eq!(matches(&run)[0]["snippet"], "[parser] [parser] [parser] tests again");
    insta::assert_json_snapshot!("grep_rank", normalize(run.envelope, w), { ".data.matches[].score" => "[score]" });
    let run = run_json(w, &["grep", "parser", "--sort", "time"]);
    assert_eq!(who(&run), ["claude/s1 \"agturn:1\"", "codex/s1 \"agturn:2\"", "codex/s1 \"agturn:1\""]);
    assert_eq!(run.data()["sort"], "time");

    // Every token must appear (AND), literally: operators are words.
    assert_eq!(matches(&run_json(w, &["grep", "fix parser"])).len(), 1);
    assert_eq!(matches(&run_json(w, &["grep", "parser OR deploy"])).len(), 0);
    assert_eq!(matches(&run_json(w, &["grep", "pars*"])).len(), 0);
    assert_eq!(matches(&run_json(w, &["grep", "\"parser"])).len(), 3);

    // Filters and limit.
    assert_eq!(who(&run_json(w, &["grep", "parser", "--origin", "claude"])), ["claude/s1 \"agturn:1\""]);
    assert_eq!(matches(&run_json(w, &["grep", "parser", "--session", "codex/s1"])).len(), 2);
    assert_eq!(matches(&run_json(w, &["grep", "parser", "--session", "s1"])).len(), 3);
    assert_eq!(matches(&run_json(w, &["grep", "parser", "--since", "2999-01-01"])).len(), 0);
    assert_eq!(matches(&run_json(w, &["grep", "parser", "--until", "2000-01-01"])).len(), 0);
    assert_eq!(matches(&run_json(w, &["grep", "parser", "--since", "2000-01-01", "--until", "2999-01-01"])).len(), 3);
    assert_eq!(matches(&run_json(w, &["grep", "parser", "--limit", "1"])).len(), 1);
    // Tool arguments and results are searched too, labelled with the tool.
    let run = run_json(w, &["grep", "failed"]);
    assert_eq!(
        (matches(&run)[0]["entry_kind"].as_str(), matches(&run)[0]["label"].as_str()),
        (Some("tool_result"), Some("Bash"))
    );
    let run = run_json(w, &["grep", "make", "--origin", "claude"]);
    assert_eq!(matches(&run)[0]["entry_kind"], "tool_args");

    // Context trims the snippet.
    let run = run_json(w, &["grep", "token", "--context", "2", "--full"]);
    let snippet = matches(&run)[0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("[token]") && snippet.ends_with('…'), "{snippet}");

    // Regex mode: newest first, the first match highlighted.
    let run = run_json(w, &["grep", "--regex", r"pars(er|ing)\s+bug"]);
    assert_eq!(who(&run), ["codex/s1 \"agturn:1\""]);
    assert_eq!(matches(&run)[0]["snippet"], "fix the [parser bug]");
    assert_eq!((run.data()["regex"].as_bool(), run.data()["sort"].as_str()), (Some(true), Some("time")));
    let run = run_json(w, &["grep", "--regex", "^2 fail", "--context", "1"]);
    assert_eq!(
        (matches(&run)[0]["entry_kind"].as_str(), matches(&run)[0]["snippet"].as_str()),
        (Some("tool_result"), Some("[2 fail]ed"))
    );
    let run = run_json(w, &["grep", "--regex", "par.er", "--origin", "codex", "--limit", "5"]);
    assert_eq!(who(&run), ["codex/s1 \"agturn:2\"", "codex/s1 \"agturn:1\""]);
    assert_eq!(matches(&run)[0]["snippet"], "[parser] parser parser tests again");

    // Redaction of snippets (highlight markers must not hide a secret from the detector).
    for args in [&["grep", "sekrit", "--redacted"][..], &["grep", "--regex", "sekrit-v", "--redacted"]] {
        let run = run_json(w, args);
        let snippet = matches(&run)[0]["snippet"].as_str().unwrap();
        assert!(snippet.contains("[REDACTED]") && !snippet.contains("sekrit"), "{args:?}: {snippet}");
        assert_eq!(run.data()["redacted"], true);
    }
    let run = run_json(w, &["grep", "sekrit", "--full"]);
    assert!(matches(&run)[0]["snippet"].as_str().unwrap().contains("[sekrit]-value-123"));

    // Human output.
    let text = human(w, &["grep", "parser"]);
    insta::with_settings!({ filters => human_filters() }, { insta::assert_snapshot!("grep_human", text) });
    assert_eq!(human(w, &["grep", "nothing-like-this"]), "No matches for \"nothing-like-this\".\n");
}

#[test]
fn recall_puts_failures_first_and_follows_path_changes() {
    let dir = history();
    let w = dir.path();

    let run = run_json(w, &["recall", "parser"]);
    assert_eq!(run.code, 0);
    assert_eq!(who(&run), ["codex/s1 \"agturn:2\"", "claude/s1 \"agturn:1\"", "codex/s1 \"agturn:1\""]);
    let outcomes: Vec<&str> = matches(&run).iter().map(|m| m["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["failure", "success", "success"]);
    assert_eq!(matches(&run)[0]["evidence"], "[parser] [parser] [parser] tests again");
    insta::assert_json_snapshot!("recall_query", normalize(run.envelope, w));
    assert_eq!(who(&run_json(w, &["recall", "parser", "--limit", "1"])), ["codex/s1 \"agturn:2\""]);
    assert_eq!(
        who(&run_json(w, &["recall", "parser", "--outcome", "success", "--origin", "codex"])),
        ["codex/s1 \"agturn:1\""]
    );
    assert_eq!(matches(&run_json(w, &["recall", "parser", "--outcome", "unknown"])).len(), 0);

    // --path on an oversized file (no blame rows): added by the failed turn, then
    // modified by claude/s1, whose first step is compared with the workspace as last
    // recorded (codex/s1's tree), not with an empty tree.
    let store = agit_core::Store::discover(w).unwrap();
    let index = agit_core::index::Index::open(&store).unwrap();
    assert_eq!(index.count("select count(*) from blame_maps where path = 'big.txt'").unwrap(), 0);
    assert!(index.count("select count(*) from blame_maps where path = 'a.txt'").unwrap() > 0);
    drop(index);
    let run = run_json(w, &["recall", "--path", "./big.txt"]);
    assert_eq!(who(&run), ["codex/s1 \"agturn:2\"", "claude/s1 \"agturn:1\""]);
    let changes: Vec<&str> = matches(&run).iter().map(|m| m["change"].as_str().unwrap()).collect();
    assert_eq!(changes, ["added", "modified"]);
    insta::assert_json_snapshot!("recall_path", normalize(run.envelope, w));
    // A text file: first step (vs the empty tree), then the codex/s2 edit.
    assert_eq!(who(&run_json(w, &["recall", "--path", "a.txt"])), ["codex/s2 \"agturn:1\"", "codex/s1 \"agturn:1\""]);
    assert_eq!(who(&run_json(w, &["recall", "--path", "a.txt", "--outcome", "failure"])), Vec::<String>::new());
    // Query and path together: the query hits that changed the path.
    assert_eq!(
        who(&run_json(w, &["recall", "parser", "--path", "big.txt"])),
        ["codex/s1 \"agturn:2\"", "claude/s1 \"agturn:1\""]
    );
    assert_eq!(matches(&run_json(w, &["recall", "parser", "--path", "nope.txt"])).len(), 0);

    // Redaction of preview and evidence.
    let run = run_json(w, &["recall", "sekrit", "--redacted"]);
    let m = &matches(&run)[0];
    for key in ["preview", "evidence"] {
        let text = m[key].as_str().unwrap();
        assert!(text.contains("[REDACTED]") && !text.contains("sekrit"), "{key}: {text}");
    }

    // --judged uses each session's latest session-scope evaluation.
    assert_eq!(matches(&run_json(w, &["recall", "parser", "--judged", "bad"])).len(), 0);
    let index = agit_core::index::Index::open(&store).unwrap();
    index
        .conn()
        .execute_batch(
            "insert into evaluations values('e1','session','codex/s1','good','x',1);
             insert into evaluations values('e2','session','codex/s1','bad','x',2);
             insert into evaluations values('e3','session','claude/s1','bad','x',1);
             insert into evaluations values('e4','session','claude/s1','good','x',3);
             insert into evaluations values('e5','commit','claude/s1','bad','x',9);",
        )
        .unwrap();
    drop(index);
    assert_eq!(
        who(&run_json(w, &["recall", "parser", "--judged", "bad"])),
        ["codex/s1 \"agturn:2\"", "codex/s1 \"agturn:1\""]
    );
    assert_eq!(who(&run_json(w, &["recall", "--path", "big.txt", "--judged", "good"])), ["claude/s1 \"agturn:1\""]);
    assert_eq!(matches(&run_json(w, &["recall", "parser", "--judged", "mixed"])).len(), 0);

    let text = human(w, &["recall", "parser", "--path", "big.txt"]);
    insta::with_settings!({ filters => human_filters() }, { insta::assert_snapshot!("recall_human", text) });
    assert_eq!(human(w, &["recall", "--path", "missing.txt"]), "No recall matches.\n");
}

#[test]
fn stats_counts_tools_models_outcomes_and_changed_paths() {
    let dir = history();
    let w = dir.path();

    let run = run_json(w, &["stats"]);
    assert_eq!(run.code, 0);
    let d = run.data();
    assert_eq!(d["scope"], Value::Null);
    assert_eq!((d["summary"]["session_count"].as_i64(), d["summary"]["step_count"].as_i64()), (Some(3), Some(4)));
    assert_eq!(d["summary"]["turn_count"], 4);
    assert_eq!(d["tool_calls"], serde_json::json!([{"tool_name":"Bash","count":3},{"tool_name":"Read","count":1}]));
    assert_eq!(
        d["outcomes"],
        serde_json::json!([{"outcome":"success","step_count":3},{"outcome":"failure","step_count":1}])
    );
    // a.txt: codex/s1's first step (the first recorded) and codex/s2's edit; big.txt:
    // added, then grown.
    let paths: Vec<(String, i64)> = d["most_changed_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["path"].as_str().unwrap().to_owned(), p["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(paths, [("a.txt".to_owned(), 2), ("big.txt".to_owned(), 2)]);
    assert_eq!(
        d["file_tally"],
        serde_json::json!({"bounded":true,"step_cap":500,"steps_considered":4,"truncated":false})
    );
    insta::assert_json_snapshot!("stats_all", normalize(run.envelope, w), {
        ".data.summary.first_timestamp" => 0,
        ".data.sessions[].first_timestamp" => 0,
    });

    // --steps bounds the tally to the newest steps: codex/s2 (a.txt), claude/s1 (big.txt).
    let run = run_json(w, &["stats", "--steps", "2"]);
    let d = run.data();
    assert_eq!(d["file_tally"], serde_json::json!({"bounded":true,"step_cap":2,"steps_considered":2,"truncated":true}));
    assert_eq!(d["most_changed_paths"], serde_json::json!([{"path":"a.txt","count":1},{"path":"big.txt","count":1}]));

    // Scopes.
    let run = run_json(w, &["stats", "--session", "codex/s1"]);
    let d = run.data();
    assert_eq!(d["scope"], serde_json::json!({"origin":"codex","session_id":"s1"}));
    assert_eq!((d["summary"]["step_count"].as_i64(), d["sessions"].as_array().unwrap().len()), (Some(2), 1));
    let run = run_json(w, &["stats", "--session", "s1", "--origin", "claude"]);
    assert_eq!(run.data()["scope"]["origin"], "claude");
    assert_eq!(run.data()["tool_calls"], serde_json::json!([{"tool_name":"Read","count":1}]));
    let run = run_json(w, &["stats", "--origin", "codex"]);
    assert_eq!(
        (run.data()["summary"]["session_count"].as_i64(), run.data()["summary"]["step_count"].as_i64()),
        (Some(2), Some(3))
    );
    assert_eq!(run.data()["models"], serde_json::json!([{"model":"gpt-test","step_count":3}]));
    let run = run_json(w, &["stats", "--since", "2999-01-01"]);
    assert_eq!(
        (run.data()["summary"]["session_count"].as_i64(), run.data()["summary"]["step_count"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(run.data()["summary"]["first_timestamp"], Value::Null);

    let text = human(w, &["stats"]);
    insta::with_settings!({ filters => human_filters() }, { insta::assert_snapshot!("stats_human", text) });
}

/// With `snapshots: metadata_only` every file is a placeholder blob that is never
/// blamed; `recall --path` still finds each step that changed it.
#[test]
fn recall_path_sees_files_without_blame() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    git(w, &["init", "-q", "-b", "main"]);
    agit(w).args(["init", "--no-hooks"]).assert().success();
    let config_path = w.join(".agit/config.json");
    let mut config: Value = serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
    config["privacy"]["capture"]["snapshots"] = "metadata_only".into();
    std::fs::write(&config_path, serde_json::to_vec(&config).unwrap()).unwrap();
    std::fs::write(w.join("notes.md"), "first\n").unwrap();
    turn(w, "claude", "m1", "write notes", "Bash", "ok");
    turn(w, "claude", "m1", "unrelated", "Bash", "ok");
    std::fs::write(w.join("notes.md"), "first\nsecond\n").unwrap();
    turn(w, "claude", "m1", "extend notes", "Bash", "ok");
    std::fs::remove_file(w.join("notes.md")).unwrap();
    turn(w, "claude", "m1", "drop notes", "Bash", "2 failed");

    let store = agit_core::Store::discover(w).unwrap();
    let index = agit_core::index::Index::open(&store).unwrap();
    assert_eq!(index.count("select count(*) from blame_maps").unwrap(), 0);
    drop(index);
    let run = run_json(w, &["recall", "--path", "notes.md"]);
    let got: Vec<(String, &str)> =
        who(&run).into_iter().zip(matches(&run).iter().map(|m| m["change"].as_str().unwrap())).collect();
    let want = [("agturn:4", "deleted"), ("agturn:3", "modified"), ("agturn:1", "added")]
        .map(|(t, c)| (format!("claude/m1 \"{t}\""), c));
    assert_eq!(got, want);
    assert_eq!(matches(&run_json(w, &["recall", "--path", "notes.md", "--limit", "1"])).len(), 1);
    assert_eq!(
        who(&run_json(w, &["recall", "notes", "--path", "notes.md", "--outcome", "success"])),
        ["claude/m1 \"agturn:3\"", "claude/m1 \"agturn:1\""]
    );
}

#[test]
fn bad_arguments_are_usage_errors() {
    let dir = history();
    let w = dir.path();
    for args in [
        &["grep", ""][..],
        &["grep", "   "],
        &["grep", "x", "--limit", "0"],
        &["grep", "x", "--context", "0"],
        &["grep", "x", "--context", "65"],
        &["grep", "x", "--sort", "relevance"],
        &["grep", "x", "--since", "2026-13-01"],
        &["grep", "x", "--since", "2026-05-02", "--until", "2026-05-01"],
        &["grep", "x", "--origin", "claude", "--session", "codex/s1"],
        &["grep", "--regex", "("],
        &["grep", "a", "b"],
        &["recall"],
        &["recall", " "],
        &["recall", "--path", "./"],
        &["recall", "x", "--outcome", "maybe"],
        &["recall", "x", "--judged", "great"],
        &["recall", "x", "--limit", "0"],
        &["stats", "--steps", "0"],
        &["stats", "--until", "yesterday"],
        &["stats", "--origin", "claude", "--session", "codex/s1"],
    ] {
        let run = run_json(w, args);
        assert_eq!((run.code, run.code_str()), (2, "invalid_argument"), "{args:?}");
    }
    let out = agit(w).args(["grep", ""]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Query must not be empty."));

    let run = run_json(w, &["stats", "--session", "s1"]);
    assert_eq!((run.code, run.code_str()), (1, "ambiguous_session_id"));
    assert_eq!(run.data()["diagnostic"]["candidates"], serde_json::json!(["claude/s1", "codex/s1"]));
    let run = run_json(w, &["stats", "--session", "nope"]);
    assert_eq!((run.code, run.code_str()), (1, "session_not_found"));

    let empty = tempfile::tempdir().unwrap();
    let run = run_json(empty.path(), &["grep", "x"]);
    assert_eq!((run.code, run.code_str()), (1, "store_not_found"));
}
