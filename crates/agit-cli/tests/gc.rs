//! `agit gc` through the real binary, on stores recorded by the real hook commands:
//! packing, pruning with a grace period, dry runs, blame/eval roots, repeat runs, a
//! finalize racing gc, and SIGKILL at random points of gc.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use agit_core::index::Index;
use agit_core::reach::reachable_from_store;
use agit_core::{ObjectId, Store};
use common::{agit, place_object, run_json};

const AGIT: &str = env!("CARGO_BIN_EXE_agit");
const THREE_HOURS: Duration = Duration::from_secs(3 * 3600);

/// A git repository with a store (no agent hooks) and a few source files.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    common::git(w, &["init", "-q"]);
    std::fs::create_dir_all(w.join("src")).unwrap();
    std::fs::write(w.join("README.md"), "# demo\n").unwrap();
    for i in 0..5 {
        std::fs::write(w.join(format!("src/m{i}.rs")), format!("pub fn f{i}() -> u32 {{\n    {i}\n}}\n")).unwrap();
    }
    agit(w).args(["init", "--no-hooks"]).assert().success();
    dir
}

fn codex(w: &Path, session: &str, event: &str, extra: &str) -> Vec<u8> {
    format!(r#"{{"session_id":"{session}","cwd":"{}","hook_event_name":"{event}"{extra}}}"#, w.display()).into_bytes()
}

/// One recorded turn through `agit codex-hook`: prompt, a tool call, an edit of
/// `src/m<n % 5>.rs`, stop.
fn turn(w: &Path, session: &str, n: usize) {
    let envs = [("AGIT_LOCK_TIMEOUT_MS", "60000")];
    common::hook_ok(
        w,
        &["codex-hook"],
        &codex(w, session, "UserPromptSubmit", &format!(r#","prompt":"change {n}""#)),
        &envs,
    );
    let path = w.join(format!("src/m{}.rs", n % 5));
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!("// edit {n}\npub fn g{n}() -> usize {{ {n} }}\n"));
    std::fs::write(&path, text).unwrap();
    let tool = r#","tool_name":"Bash","tool_input":{"command":"cargo test"},"tool_response":"test result: ok""#;
    common::hook_ok(w, &["codex-hook"], &codex(w, session, "PostToolUse", tool), &envs);
    common::hook_ok(w, &["codex-hook"], &codex(w, session, "Stop", r#","last_assistant_message":"done""#), &envs);
}

/// Every reachable object (refs, blame and eval roots) with its bytes.
fn reachable(w: &Path) -> BTreeMap<ObjectId, Vec<u8>> {
    let store = Store::open(w).unwrap();
    let index = Index::open_existing(&store).unwrap();
    reachable_from_store(&store, index.as_ref())
        .unwrap()
        .into_iter()
        .map(|r| (r.id, store.read_object(&r.id).unwrap()))
        .collect()
}

fn set_age(path: &Path, age: Duration) {
    std::fs::File::open(path).unwrap().set_modified(SystemTime::now() - age).unwrap();
}

fn loose_path(w: &Path, hex: &str) -> PathBuf {
    w.join(".agit/objects").join(&hex[..2]).join(&hex[2..])
}

/// Loose object ids on disk.
fn loose(w: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(w.join(".agit/objects")).unwrap().flatten() {
        let name = shard.file_name().to_string_lossy().into_owned();
        if name == "pack" {
            continue;
        }
        for f in std::fs::read_dir(shard.path()).unwrap().flatten() {
            out.push(format!("{name}{}", f.file_name().to_string_lossy()));
        }
    }
    out.sort();
    out
}

/// Every file under `.agit/` with a hash of its content (lock files excluded: their
/// holder record is rewritten by whoever takes them).
fn listing(w: &Path) -> BTreeMap<String, String> {
    let root = w.join(".agit");
    let mut out = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else if !path.to_string_lossy().ends_with(".lock") {
                let rel = path.strip_prefix(&root).unwrap().display().to_string();
                out.insert(rel, blake3::hash(&std::fs::read(&path).unwrap()).to_hex().to_string());
            }
        }
    }
    out
}

fn fsck_clean(w: &Path) {
    let run = run_json(w, &["fsck"]);
    assert_eq!(run.code, 0, "{:#}", run.data());
    let problems: Vec<_> = run.data()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "error" || c["status"] == "warn")
        .collect();
    assert!(problems.is_empty(), "fsck findings: {problems:#?}");
}

fn cat(w: &Path, id: &ObjectId) -> Vec<u8> {
    let out = agit(w).args(["cat", &id.to_hex()]).output().unwrap();
    assert!(out.status.success(), "cat {id}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn blame(w: &Path) -> String {
    let out = agit(w).args(["blame", "src/m1.rs", "--color", "never"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn gc_packs_prunes_and_everything_reachable_reads_back() {
    let dir = repo();
    let w = dir.path();
    for n in 0..4 {
        turn(w, if n % 2 == 0 { "a" } else { "b" }, n);
    }
    let blame_before = blame(w);
    let eval = run_json(w, &["eval", "--session", "codex/a"]);
    assert_eq!(eval.code, 0, "{}", eval.stderr);
    let before = reachable(w);
    let kinds = {
        let store = Store::open(w).unwrap();
        let index = Index::open_existing(&store).unwrap();
        reachable_from_store(&store, index.as_ref()).unwrap().into_iter().map(|r| r.kind.as_str()).collect::<Vec<_>>()
    };
    assert!(kinds.contains(&"blame") && kinds.contains(&"eval"), "{kinds:?}");
    let old = place_object(w, b"unreachable and old\n");
    set_age(&loose_path(w, &old), THREE_HOURS);
    let young = place_object(w, b"unreachable but young\n");

    let run = run_json(w, &["gc"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let d = run.data();
    assert_eq!(d["objects_pruned"], 1, "{d:#}");
    assert_eq!(d["pruned"][0]["hash"], old);
    assert_eq!(d["young_kept"], 1);
    assert_eq!(d["reachable_objects"].as_u64(), Some(before.len() as u64));
    assert_eq!(d["objects_packed"].as_u64(), Some(before.len() as u64));
    assert_eq!(d["reindexed"], true);
    assert!(d["total_bytes_after"].as_u64().unwrap() < d["total_bytes_before"].as_u64().unwrap());
    assert_eq!(loose(w), vec![young.clone()], "only the young unreachable object stays loose");

    fsck_clean(w);
    for (id, bytes) in &before {
        assert_eq!(&cat(w, id), bytes, "{id} reads back identical");
    }
    let missing = agit(w).args(["cat", &old]).output().unwrap();
    assert!(!missing.status.success(), "the old unreachable object is gone");
    assert_eq!(cat(w, &ObjectId::parse(&young).unwrap()), b"unreachable but young\n");
    assert_eq!(blame(w), blame_before, "blame survives gc");
    let list = run_json(w, &["eval", "--list"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.data().to_string().contains(eval.data()["eval_hash"].as_str().unwrap()), "{:#}", list.data());

    // Recording goes on after gc: the packed files are not duplicated loose again.
    turn(w, "a", 10);
    let after_turn = loose(w);
    assert!(after_turn.len() < 8, "a turn after gc writes only what changed: {after_turn:?}");
    let run = run_json(w, &["gc", "--grace", "0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.data()["objects_pruned"], 1, "the young object, with --grace 0");
    assert!(loose(w).is_empty());
    fsck_clean(w);
}

#[test]
fn dry_run_changes_nothing_and_gc_twice_is_stable() {
    let dir = repo();
    let w = dir.path();
    turn(w, "a", 1);
    turn(w, "a", 2);
    let old = place_object(w, b"old garbage\n");
    set_age(&loose_path(w, &old), THREE_HOURS);
    std::fs::write(w.join(".agit/tmp/.tmp-crashed"), b"half").unwrap();
    set_age(&w.join(".agit/tmp/.tmp-crashed"), THREE_HOURS);

    let before = listing(w);
    let run = run_json(w, &["gc", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(listing(w), before, "a dry run changes nothing");
    let d = run.data();
    assert_eq!(d["dry_run"], true);
    assert_eq!(d["objects_pruned"], 1);
    assert_eq!(d["pruned"][0]["hash"], old);
    assert_eq!(d["tmp_files"][0]["path"], ".agit/tmp/.tmp-crashed");
    assert!(d["objects_packed"].as_u64().unwrap() > 0);
    assert!(d["total_bytes_after"].is_null());
    let human = agit(w).args(["gc", "--dry-run"]).output().unwrap();
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(text.starts_with("gc (dry run): refs_pruned=0 objects_pruned=1"), "{text}");
    assert!(text.contains(&format!("would prune {old}")), "{text}");
    assert_eq!(listing(w), before);

    let first = run_json(w, &["gc"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.data()["tmp_files_pruned"], 1);
    let packed = listing(w);
    let second = run_json(w, &["gc"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let d = second.data();
    assert_eq!((d["objects_pruned"].as_u64(), d["objects_packed"].as_u64()), (Some(0), Some(0)));
    assert_eq!(d["pack"]["reused"], true);
    assert_eq!(d["pack"]["name"], first.data()["pack"]["name"]);
    assert_eq!(d["reindexed"], false);
    assert_eq!(listing(w), packed, "a second gc changes nothing");
    fsck_clean(w);
}

#[test]
fn prune_before_drops_old_sessions() {
    let dir = repo();
    let w = dir.path();
    turn(w, "old", 1);
    let run = run_json(w, &["gc", "--prune-before", "9999-01-01", "--grace", "0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.data()["refs_pruned"], 1);
    assert_eq!(run.data()["sessions_pruned"][0], "codex/old");
    let status = run_json(w, &["status"]);
    assert_eq!(status.data()["sessions"], 0, "{:#}", status.data());
    assert!(loose(w).is_empty());
    fsck_clean(w);
    let bad = run_json(w, &["gc", "--prune-before", "2026-02-30"]);
    assert_eq!((bad.code, bad.code_str()), (2, "invalid_argument"));
    let bad = run_json(w, &["gc", "--grace", "-1"]);
    assert_eq!((bad.code, bad.code_str()), (2, "invalid_argument"));
}

#[test]
fn finalizes_racing_gc_are_not_lost() {
    let dir = repo();
    let w = dir.path().to_path_buf();
    turn(&w, "s", 0);
    const TURNS: usize = 12;
    let writer = {
        let w = w.clone();
        std::thread::spawn(move || {
            for n in 1..=TURNS {
                turn(&w, "s", n);
            }
        })
    };
    let mut runs = 0;
    while !writer.is_finished() {
        let out = agit(&w).args(["gc", "--grace", "0"]).env("AGIT_LOCK_TIMEOUT_MS", "60000").output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        runs += 1;
    }
    writer.join().unwrap();
    assert!(runs >= 2, "gc ran {runs} time(s) while turns were recorded");
    let run = run_json(&w, &["gc", "--grace", "0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let status = run_json(&w, &["status"]);
    assert_eq!(status.data()["steps"].as_u64(), Some(TURNS as u64 + 1), "{:#}", status.data());
    let log = std::fs::read_to_string(w.join(".agit/log/hook-error.log")).unwrap_or_default();
    assert!(log.is_empty(), "hook errors: {log}");
    fsck_clean(&w);
    for (id, bytes) in reachable(&w) {
        assert_eq!(Store::open(&w).unwrap().read_object(&id).unwrap(), bytes);
    }
}

/// A small deterministic generator (no dependency), seedable via AGIT_TEST_SEED.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// Every path under `.agit/objects/` (loose objects, packs, temp files).
fn object_files(w: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![w.join(".agit/objects")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

fn spawn_gc(w: &Path) -> std::process::Child {
    Command::new(AGIT)
        .args(["gc", "--grace", "0"])
        .current_dir(w)
        .env("AGIT_FSYNC", "0")
        .env("HOME", common::isolated_home())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn sigkill_at_random_points_of_gc_loses_nothing() {
    const ROUNDS: usize = 100;
    let dir = repo();
    let w = dir.path();
    for n in 0..3 {
        turn(w, "k", n);
    }
    // How long an undisturbed gc of this store takes, to spread the kills over it.
    let start = Instant::now();
    agit(w).args(["gc", "--grace", "0"]).assert().success();
    let full = start.elapsed().max(Duration::from_millis(5));
    let seed = std::env::var("AGIT_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x9c5eed);
    let mut rng = Lcg(seed);
    let mut expected = reachable(w);
    let (mut mid_flight, mut changed_then_killed) = (0, 0);
    for round in 0..ROUNDS {
        // Work for this gc: new loose history every few rounds, old garbage every round.
        if round % 4 == 0 {
            turn(w, "k", 100 + round);
            expected = reachable(w);
        }
        let garbage = place_object(w, format!("garbage {round}\n").as_bytes());
        set_age(&loose_path(w, &garbage), THREE_HOURS);

        let objects_before = object_files(w);
        let mut child = spawn_gc(w);
        let delay = rng.next(full.as_micros() as u64 * 3 / 2 + 1);
        std::thread::sleep(Duration::from_micros(delay));
        let killed = child.try_wait().unwrap().is_none();
        let _ = child.kill();
        let _ = child.wait();
        if killed {
            mid_flight += 1;
            // Killed after it had started changing objects (packing or deleting).
            changed_then_killed += usize::from(object_files(w) != objects_before);
        }

        let store = Store::open(w).unwrap();
        for (id, bytes) in &expected {
            let read = store.read_object(id).unwrap_or_else(|e| panic!("round {round} (seed {seed:#x}): {id}: {e}"));
            assert_eq!(&read, bytes, "round {round} (seed {seed:#x})");
        }
    }
    eprintln!(
        "sigkill: {mid_flight}/{ROUNDS} killed mid-gc, {changed_then_killed} after it had changed objects; full gc {full:?}"
    );
    assert!(mid_flight >= ROUNDS / 4, "only {mid_flight} of {ROUNDS} kills landed mid-gc (full gc: {full:?})");
    assert!(changed_then_killed >= ROUNDS / 10, "only {changed_then_killed} kills landed after gc changed objects");

    let run = run_json(w, &["gc", "--grace", "0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(loose(w).is_empty(), "{:?}", loose(w));
    let packs: Vec<_> =
        std::fs::read_dir(w.join(".agit/objects/pack")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(packs.len(), 2, "one pack and its idx, no leftovers: {packs:?}");
    fsck_clean(w);
    for (id, bytes) in &expected {
        assert_eq!(&cat(w, id), bytes);
    }
    let status = run_json(w, &["status"]);
    assert_eq!(status.data()["steps"].as_u64(), Some(3 + ROUNDS as u64 / 4), "{:#}", status.data());
    let _ = std::io::stderr().flush();
}
