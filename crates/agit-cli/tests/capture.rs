//! Issue 3 acceptance through the real hook commands: every agent's fixtures, malformed
//! payloads, concurrency, and SIGKILL during finalize.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use agit_core::object::Step;
use agit_core::{ObjectId, SessionRef, Store};
use common::{agit, run_json};
use serde_json::Value;

const AGIT: &str = env!("CARGO_BIN_EXE_agit");

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../agit-capture/tests/fixtures")
}

/// A git repository with a store and a couple of files.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        Command::new("git").args(args).current_dir(dir.path()).env("GIT_CONFIG_NOSYSTEM", "1").output().unwrap()
    };
    git(&["init", "-q"]);
    std::fs::write(dir.path().join("README.md"), "# demo\n").unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").unwrap();
    agit(dir.path()).arg("init").assert().success();
    dir
}

/// Run a hook command with `payload` on stdin; hooks always exit 0.
fn hook(cwd: &Path, args: &[&str], payload: &[u8]) -> String {
    common::run_hook(cwd, args, payload, &[("AGIT_LOCK_TIMEOUT_MS", "60000")])
}

/// A fixture with its `cwd` pointed at `workspace` (when it is a JSON object with a cwd).
fn fixture(agent: &str, name: &str, workspace: &Path) -> Vec<u8> {
    let bytes = std::fs::read(fixtures_dir().join(agent).join(format!("{name}.json"))).unwrap();
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(mut map)) if map.get("cwd").is_some_and(Value::is_string) => {
            map.insert("cwd".into(), Value::String(workspace.display().to_string()));
            serde_json::to_vec(&map).unwrap()
        }
        _ => bytes,
    }
}

fn session_steps(store: &Store, origin: &str, session: &str) -> Vec<Step> {
    let Some(mut cursor) = store.refs().read(&SessionRef::new(origin, session)).unwrap() else { return Vec::new() };
    let mut steps = Vec::new();
    loop {
        let step = store.read_step(&cursor).unwrap();
        let parent = step.parent;
        steps.push(step);
        match parent {
            Some(p) => cursor = p,
            None => break,
        }
    }
    steps.reverse();
    steps
}

fn session_of(agent: &str, name: &str) -> String {
    let bytes = std::fs::read(fixtures_dir().join(agent).join(format!("{name}.json"))).unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    v["session_id"].as_str().unwrap().to_owned()
}

fn hook_log(workspace: &Path) -> String {
    std::fs::read_to_string(workspace.join(".agit/log/hook-error.log")).unwrap_or_default()
}

fn staging_files(workspace: &Path) -> usize {
    std::fs::read_dir(workspace.join(".agit/tmp"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".json"))
        .count()
}

#[test]
fn every_agent_records_a_full_turn() {
    // (agent, hook args per fixture, fixtures in order, expected messages, tool calls, model)
    type Case = (&'static str, Vec<(&'static [&'static str], &'static str)>, usize, Option<&'static str>);
    let cases: Vec<Case> = vec![
        (
            "claude",
            vec![
                (&["claude-hook", "session-start"], "session_start"),
                (&["claude-hook", "user"], "user_prompt_submit"),
                (&["claude-tool-batch-hook"], "post_tool_batch"),
                (&["claude-tool-batch-hook"], "post_tool_use"),
                (&["claude-hook", "assistant"], "stop"),
            ],
            3,
            None,
        ),
        (
            "codex",
            vec![
                (&["codex-hook"], "user_prompt_submit"),
                (&["codex-hook"], "post_tool_use"),
                (&["codex-hook"], "stop"),
            ],
            1,
            None,
        ),
        (
            "gemini",
            vec![
                (&["gemini-hook"], "before_agent"),
                (&["gemini-hook"], "before_model"),
                (&["gemini-hook"], "after_tool"),
                (&["gemini-hook"], "after_agent"),
            ],
            1,
            None,
        ),
        (
            "copilot",
            vec![
                (&["copilot-hook"], "user_prompt_submit"),
                (&["copilot-hook"], "post_tool_use"),
                (&["copilot-hook"], "stop"),
            ],
            1,
            None,
        ),
        (
            "pi",
            vec![(&["pi-hook"], "input"), (&["pi-hook"], "tool_execution_end"), (&["pi-hook"], "agent_end")],
            1,
            None,
        ),
    ];
    for (agent, events, tool_calls, _) in cases {
        let dir = repo();
        let elsewhere = tempfile::tempdir().unwrap();
        for (args, name) in &events {
            // Hooks run from another directory still record into the payload's cwd.
            hook(elsewhere.path(), args, &fixture(agent, name, dir.path()));
        }
        let session = session_of(agent, events[1].1);
        let store = Store::open(dir.path()).unwrap();
        let steps = session_steps(&store, agent, &session);
        assert_eq!(steps.len(), 1, "{agent}: one turn, one step; log: {}", hook_log(dir.path()));
        let step = &steps[0];
        assert_eq!(step.origin, agent);
        assert!(step.tool_calls.len() >= tool_calls.min(1), "{agent}: tool calls {:?}", step.tool_calls);
        assert_eq!(step.messages.last().unwrap().role, "assistant");
        assert!(step.messages.iter().any(|m| m.role == "user"), "{agent}: prompt recorded");
        let tree = store.read_tree(&step.tree).unwrap();
        assert!(tree.get("README.md").is_some() && tree.get("src/main.rs").is_some(), "{agent}: snapshot");
        assert!(tree.entries.iter().all(|e| !e.path.starts_with(".agit") && !e.path.starts_with(".git/")));
        assert_eq!(staging_files(dir.path()), 0, "{agent}: staging removed after commit");
        let run = run_json(dir.path(), &["status"]);
        assert_eq!(run.data()["steps"], 1);
    }
}

#[test]
fn malformed_payloads_exit_0_log_their_code_and_write_nothing() {
    let dir = repo();
    let mut checked = 0;
    for agent in ["claude", "codex", "gemini", "copilot", "pi"] {
        let route_args: Vec<&str> = match agent {
            "claude" => vec!["claude-hook", "user"],
            other => vec![Box::leak(format!("{other}-hook").into_boxed_str())],
        };
        for entry in std::fs::read_dir(fixtures_dir().join(agent)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let payload = fixture(agent, &name, dir.path());
            let route = agit_capture::adapters::HookRoute::from_cli(route_args[0], route_args.get(1).copied())
                .unwrap()
                .unwrap();
            let expected = match agit_capture::adapters::parse(route, &payload, 16 << 20) {
                Ok(_) => continue,
                Err(failure) => failure.code(),
            };
            let before = hook_log(dir.path()).lines().count();
            let stderr = hook(dir.path(), &route_args, &payload);
            assert!(stderr.contains("[agit hook error]"), "{agent}/{name}: {stderr}");
            let log = hook_log(dir.path());
            let new_lines: Vec<&str> = log.lines().skip(before).collect();
            assert_eq!(new_lines.len(), 1, "{agent}/{name}: one log line");
            let line: Value = serde_json::from_str(new_lines[0]).unwrap();
            assert_eq!(line["code"], expected, "{agent}/{name}");
            assert_eq!(line["agent"], route_args[0]);
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} malformed fixtures exercised");
    assert_eq!(staging_files(dir.path()), 0, "nothing half-written");
    assert!(std::fs::read_dir(dir.path().join(".agit/refs/sessions")).unwrap().next().is_none());
}

#[test]
fn oversized_and_subcommand_errors() {
    let dir = repo();
    let big = format!(
        r#"{{"session_id":"s","cwd":"{}","hook_event_name":"Stop","pad":"{}"}}"#,
        dir.path().display(),
        "x".repeat(4096)
    );
    let mut cmd = Command::new(AGIT);
    cmd.args(["codex-hook"]).current_dir(dir.path()).env("AGIT_HOOK_MAX_BYTES", "1024").stdin(Stdio::piped());
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let _ = child.stdin.take().unwrap().write_all(big.as_bytes());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(hook_log(dir.path()).contains("\"code\":\"oversized_payload\""));
    hook(dir.path(), &["claude-hook"], b"{}");
    hook(dir.path(), &["claude-hook", "bogus"], b"{}");
    let log = hook_log(dir.path());
    assert!(log.contains("\"code\":\"missing_subcommand\"") && log.contains("\"code\":\"unknown_subcommand\""));
}

#[test]
fn outside_a_store_hooks_exit_0_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let payload = format!(r#"{{"session_id":"s","cwd":"{}","hook_event_name":"Stop"}}"#, dir.path().display());
    let stderr = hook(dir.path(), &["codex-hook"], payload.as_bytes());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("agit init"));
    assert!(!dir.path().join(".agit").exists());
}

fn codex_payload(workspace: &Path, session: &str, event: &str, extra: &str) -> Vec<u8> {
    format!(r#"{{"session_id":"{session}","cwd":"{}","hook_event_name":"{event}"{extra}}}"#, workspace.display())
        .into_bytes()
}

#[test]
fn turns_without_ids_interrupted_turns_and_duplicate_ids() {
    let dir = repo();
    let w = dir.path();
    // Two full turns without turn ids: two steps, one session.
    for n in 1..=2 {
        hook(w, &["codex-hook"], &codex_payload(w, "s", "UserPromptSubmit", &format!(r#","prompt":"turn {n}""#)));
        hook(w, &["codex-hook"], &codex_payload(w, "s", "Stop", r#","last_assistant_message":"done""#));
    }
    // An interrupted turn (no stop) is recorded when the next prompt arrives.
    hook(w, &["codex-hook"], &codex_payload(w, "s", "UserPromptSubmit", r#","prompt":"interrupted""#));
    hook(w, &["codex-hook"], &codex_payload(w, "s", "UserPromptSubmit", r#","prompt":"after""#));
    hook(w, &["codex-hook"], &codex_payload(w, "s", "Stop", r#","last_assistant_message":"ok""#));
    // A resumed agent reusing a turn id with different content gets a fresh id.
    for prompt in ["first", "second"] {
        let extra = format!(r#","turn_id":"agturn:copilot-1","prompt":"{prompt}""#);
        hook(w, &["codex-hook"], &codex_payload(w, "r", "UserPromptSubmit", &extra));
        hook(w, &["codex-hook"], &codex_payload(w, "r", "Stop", r#","turn_id":"agturn:copilot-1""#));
    }
    let store = Store::open(w).unwrap();
    let prompts: Vec<String> =
        session_steps(&store, "codex", "s").iter().map(|s| s.messages[0].content.clone()).collect();
    assert_eq!(prompts, ["turn 1", "turn 2", "interrupted", "after"]);
    let resumed = session_steps(&store, "codex", "r");
    let ids: Vec<&str> = resumed.iter().map(|s| s.turn_id.as_str()).collect();
    assert_eq!(ids, ["agturn:copilot-1", "agturn:copilot-1~2"]);
    assert_eq!(resumed[1].messages[0].content, "second");
    // Timestamps strictly increase store-wide.
    let mut all: Vec<i64> = session_steps(&store, "codex", "s").iter().map(|s| s.timestamp).collect();
    all.extend(resumed.iter().map(|s| s.timestamp));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 6);
}

#[test]
fn sixteen_concurrent_sessions_fifty_turns_each() {
    const SESSIONS: usize = 16;
    const TURNS: usize = 50;
    let dir = repo();
    let w = dir.path().to_path_buf();
    let threads: Vec<_> = (0..SESSIONS)
        .map(|s| {
            let w = w.clone();
            std::thread::spawn(move || {
                for t in 0..TURNS {
                    let session = format!("sess-{s}");
                    let prompt = format!(r#","prompt":"s{s}-t{t}""#);
                    hook(&w, &["codex-hook"], &codex_payload(&w, &session, "UserPromptSubmit", &prompt));
                    if t % 5 == 0 {
                        let tool = r#","tool_name":"Bash","tool_input":{"command":"ls"},"tool_response":"ok""#;
                        hook(&w, &["codex-hook"], &codex_payload(&w, &session, "PostToolUse", tool));
                    }
                    hook(
                        &w,
                        &["codex-hook"],
                        &codex_payload(&w, &session, "Stop", r#","last_assistant_message":"done""#),
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let store = Store::open(&w).unwrap();
    let mut seen = BTreeMap::new();
    for s in 0..SESSIONS {
        let steps = session_steps(&store, "codex", &format!("sess-{s}"));
        assert_eq!(steps.len(), TURNS, "session {s}");
        for step in steps {
            *seen.entry(step.messages[0].content.clone()).or_insert(0) += 1;
        }
    }
    assert_eq!(seen.len(), SESSIONS * TURNS);
    assert!(seen.values().all(|n| *n == 1), "every turn exactly once");
    let log = hook_log(&w);
    for bad in ["lock_timeout", "LockTimeout", "cas_conflict", "CasConflict", "corrupt_staging"] {
        assert!(!log.contains(bad), "hook-error.log mentions {bad}:\n{log}");
    }
    let run = run_json(&w, &["status"]);
    assert_eq!((run.data()["sessions"].as_u64(), run.data()["steps"].as_u64()), (Some(16), Some(800)));
    agit(&w).arg("reindex").assert().success();
    let run = run_json(&w, &["status"]);
    assert_eq!((run.data()["sessions"].as_u64(), run.data()["steps"].as_u64()), (Some(16), Some(800)));
}

/// A small deterministic generator (no rand dependency needed for jitter).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

#[test]
fn sigkill_during_finalize_never_loses_or_duplicates_a_turn() {
    const ROUNDS: usize = 200;
    let dir = repo();
    let w = dir.path();
    // Enough files that a finalize takes a few milliseconds.
    for i in 0..200 {
        std::fs::write(w.join(format!("src/f{i}.txt")), format!("file {i}\n").repeat(20)).unwrap();
    }
    let seed = std::env::var("AGIT_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
    let mut rng = Lcg(seed);
    let mut killed_mid_flight = 0;
    for round in 0..ROUNDS {
        std::fs::write(w.join("src/changing.txt"), format!("round {round}\n")).unwrap();
        hook(w, &["codex-hook"], &codex_payload(w, "k", "UserPromptSubmit", &format!(r#","prompt":"round {round}""#)));
        let mut child = Command::new(AGIT)
            .arg("codex-hook")
            .current_dir(w)
            .env("AGIT_FSYNC", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(&codex_payload(w, "k", "Stop", r#","last_assistant_message":"done""#))
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(rng.next(40_000)));
        if child.try_wait().unwrap().is_none() {
            killed_mid_flight += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    // One more full turn: its events finish whatever the kills left pending.
    hook(w, &["codex-hook"], &codex_payload(w, "k", "UserPromptSubmit", r#","prompt":"final""#));
    hook(w, &["codex-hook"], &codex_payload(w, "k", "Stop", r#","last_assistant_message":"done""#));
    let store = Store::open(w).unwrap();
    let steps = session_steps(&store, "codex", "k");
    let mut counts = BTreeMap::new();
    for step in &steps {
        *counts.entry(step.messages[0].content.clone()).or_insert(0usize) += 1;
    }
    for round in 0..ROUNDS {
        assert_eq!(counts.get(&format!("round {round}")), Some(&1), "round {round} (seed {seed:#x}); {counts:?}");
    }
    assert_eq!(counts.get("final"), Some(&1));
    assert_eq!(steps.len(), ROUNDS + 1);
    assert_eq!(staging_files(w), 0);
    assert!(
        killed_mid_flight > ROUNDS / 10,
        "only {killed_mid_flight} kills landed mid-flight; the test lost its teeth"
    );
    let _ = ObjectId::of(b"");
    agit(w).arg("reindex").assert().success();
    let run = run_json(w, &["status"]);
    assert_eq!(run.data()["steps"].as_u64(), Some((ROUNDS + 1) as u64));
}

fn jsonl(workspace: &Path, lines: &[(&str, &str)]) -> String {
    let cwd = workspace.display();
    lines
        .iter()
        .map(|(role, body)| format!(r#"{{"session_id":"observer-session","cwd":"{cwd}","role":"{role}",{body}}}"#))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn observe_records_new_lines_exactly_once() {
    let dir = repo();
    let w = dir.path();
    let turn = [
        ("user", r#""content":"fix the parser""#),
        ("tool", r#""tool_name":"Bash","args":"cargo test","result":"ok""#),
        ("assistant", r#""content":"fixed""#),
    ];
    let log = w.join("session.jsonl");
    std::fs::write(&log, jsonl(w, &turn)).unwrap();
    let run = run_json(w, &["observe", "--once", "--input", "session.jsonl", "jsonl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!((run.data()["processed_events"].as_u64(), run.data()["finalized_turns"].as_u64()), (Some(3), Some(1)));
    // A rerun reads nothing new.
    let run = run_json(w, &["observe", "--once", "--input", "session.jsonl", "jsonl"]);
    assert_eq!(run.data()["processed_events"], 0);
    // Losing the checkpoint (a crash before it was written) never records twice.
    for entry in std::fs::read_dir(w.join(".agit/observers/jsonl")).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let run = run_json(w, &["observe", "--once", "--input", "session.jsonl", "jsonl"]);
    assert_eq!((run.data()["processed_events"].as_u64(), run.data()["already_recorded"].as_u64()), (Some(0), Some(3)));
    // New lines (one invalid) are recorded; the invalid one is reported and skipped.
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str("{not json}\n");
    text.push_str(&jsonl(w, &turn));
    std::fs::write(&log, text).unwrap();
    let run = run_json(w, &["observe", "--once", "--input", "session.jsonl", "jsonl"]);
    assert_eq!(run.code, 1, "an invalid line is a finding");
    assert_eq!(run.data()["finalized_turns"], 1);
    assert_eq!(run.data()["invalid_lines"][0]["line"], 4);
    let store = Store::open(w).unwrap();
    assert_eq!(session_steps(&store, "jsonl", "observer-session").len(), 2);
    let run = run_json(w, &["observe", "--once", "--input", "session.jsonl", "nope"]);
    assert_eq!((run.code, run.code_str()), (1, "unknown_source"));
}

#[test]
fn demo_records_a_session_through_the_hooks() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("demo");
    let run = run_json(dir.path(), &["demo", "--dir", "demo"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.data()["steps"], 3);
    let turns = run.data()["turns"].as_array().unwrap();
    assert!(turns.iter().all(|t| t["outcome"] == "success"));
    let store = Store::open(&target).unwrap();
    let steps = session_steps(&store, "claude", "demo-session-1");
    assert_eq!(steps.len(), 3);
    assert!(steps[0].tool_calls.iter().any(|c| c.tool_name == "Bash"));
    let run = run_json(dir.path(), &["demo", "--dir", "demo"]);
    assert_eq!((run.code, run.code_str()), (1, "demo_dir_not_empty"));
}

#[test]
fn doctor_reports_and_repair_commits_a_stranded_turn() {
    let dir = repo();
    let w = dir.path();
    // A turn whose stop was staged by a process that died before committing it, in a
    // session that never sends another event: exactly what a crash leaves behind.
    let key = agit_core::store::staging::staging_key("codex", "stranded", "agturn:1");
    let staging = w.join(".agit/tmp").join(format!("{key}.json"));
    std::fs::write(
        &staging,
        concat!(
            r#"{"op":"turn","origin":"codex","session_id":"stranded","turn_id":"agturn:1"}"#,
            "\n",
            r#"{"op":"message","role":"user","content":"finish me"}"#,
            "\n",
            r#"{"op":"stop","content":"done"}"#,
            "\n"
        ),
    )
    .unwrap();
    let run = run_json(w, &["doctor"]);
    assert_eq!(run.code, 0, "a stranded turn is a warning: {}", run.stderr);
    let codes: Vec<&str> =
        run.data()["checks"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"staging_stranded"), "{codes:?}");
    let run = run_json(w, &["doctor", "--repair"]);
    assert_eq!(run.data()["repair"]["staged"]["finalized"], 1);
    assert!(!staging.exists());
    let store = Store::open(w).unwrap();
    let steps = session_steps(&store, "codex", "stranded");
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].messages[1].content, "done");
    let run = run_json(w, &["doctor", "--repair"]);
    assert_eq!(run.data()["repair"]["staged"]["finalized"], 0, "idempotent");
    assert_eq!(session_steps(&store, "codex", "stranded").len(), 1);
}

#[test]
fn a_hook_that_cannot_get_its_lock_exits_0_and_logs_the_holder() {
    use agit_core::store::lock::{LockMode, acquire};
    let dir = repo();
    let w = dir.path();
    hook(w, &["codex-hook"], &codex_payload(w, "locked", "UserPromptSubmit", r#","prompt":"keep me""#));
    let state = agit_capture::recorder::turn_state::TurnStateFile::new(&w.join(".agit/tmp"), "codex", "locked");
    let held = acquire(&state.lock_path, LockMode::Exclusive, std::time::Duration::from_secs(1)).unwrap();
    let stderr = common::run_hook(
        w,
        &["codex-hook"],
        &codex_payload(w, "locked", "Stop", r#","last_assistant_message":"done""#),
        &[("AGIT_LOCK_TIMEOUT_MS", "200")],
    );
    assert!(stderr.contains("timed out"), "{stderr}");
    let line: Value = serde_json::from_str(hook_log(w).lines().last().unwrap()).unwrap();
    assert_eq!((line["code"].as_str(), line["error_kind"].as_str()), (Some("lock_timeout"), Some("LockTimeout")));
    assert!(line["message"].as_str().unwrap().contains(&format!("held by pid {}", std::process::id())));
    // Nothing was lost: the prompt is still staged, and the next stop records the turn.
    drop(held);
    hook(w, &["codex-hook"], &codex_payload(w, "locked", "Stop", r#","last_assistant_message":"done""#));
    let store = Store::open(w).unwrap();
    let steps = session_steps(&store, "codex", "locked");
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].messages[0].content, "keep me");
}
