//! Issue 2 acceptance through the real binary: init, version, cat, reindex, status,
//! completion, help, and every bad-input path.

mod common;

use common::{agit, place_bundle_by_hand, place_object, place_ref, run_json};
use predicates::prelude::*;

const BUNDLE_HEAD: &str = "e04079b28ec52fc80f20cb516c3747f2e2c0f61ef2091d950684282326b5271e";

#[test]
fn version_human_and_json() {
    let dir = tempfile::tempdir().unwrap();
    agit(dir.path()).arg("version").assert().success().stdout(format!("agit {}\n", env!("CARGO_PKG_VERSION")));
    let run = run_json(dir.path(), &["version"]);
    assert_eq!(run.code, 0);
    insta::assert_json_snapshot!(run.envelope, { ".data.version" => "[version]" });
}

#[test]
fn every_command_has_help_with_examples() {
    let dir = tempfile::tempdir().unwrap();
    // Every visible command, as listed by `agit --help`.
    let listing = String::from_utf8(agit(dir.path()).arg("--help").output().unwrap().stdout).unwrap();
    let commands: Vec<String> = listing
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert!(commands.len() >= 25, "{commands:?}");
    for command in commands.iter().map(String::as_str) {
        agit(dir.path()).args(["help", command]).assert().success().stdout(predicate::str::contains("Examples:"));
        agit(dir.path()).args([command, "--help"]).assert().success().stdout(predicate::str::contains("Examples:"));
    }
    agit(dir.path()).arg("--help").assert().success().stdout(predicate::str::contains("Examples:"));
    let run = run_json(dir.path(), &["help", "nope"]);
    assert_eq!((run.code, run.code_str()), (2, "invalid_argument"));
}

#[test]
fn completions_for_every_shell() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "nushell", "powershell", "elvish"] {
        agit(dir.path()).args(["completion", shell]).assert().success().stdout(predicate::str::contains("reindex"));
    }
    agit(dir.path()).args(["completion", "tcsh"]).assert().code(2);
}

#[test]
fn usage_errors_exit_2_with_a_json_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    agit(dir.path()).arg("frobnicate").assert().code(2).stderr(predicate::str::contains("error:"));
    let run = run_json(dir.path(), &["frobnicate"]);
    assert_eq!((run.code, run.code_str()), (2, "invalid_argument"));
    let run = run_json(dir.path(), &["cat"]);
    assert_eq!((run.code, run.code_str()), (2, "invalid_argument"));
}

#[test]
fn outside_a_store_is_store_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_json(dir.path(), &["status"]);
    assert_eq!((run.code, run.code_str()), (1, "store_not_found"));
    insta::assert_json_snapshot!(run.envelope);
    // Key order is part of the contract (snapshots sort keys, so check the raw line).
    let raw = agit(dir.path()).args(["status", "--json"]).output().unwrap().stdout;
    assert_eq!(
        String::from_utf8(raw).unwrap(),
        "{\"schema_version\":\"cli-json-v1\",\"command\":\"status\",\"data\":{\"diagnostic\":{\"code\":\"store_not_found\",\"message\":\"Not an agit repository.\",\"hint\":\"Run `agit init` from the repository root to start recording.\",\"path\":\".\",\"hash\":null,\"candidates\":null}}}\n"
    );
    agit(dir.path())
        .arg("cat")
        .arg("ab")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("error: Not an agit repository.").and(predicate::str::contains("agit init")));
}

#[test]
fn init_creates_the_store_config_and_git_exclude() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    std::process::Command::new("git").args(["init", "-q"]).current_dir(repo).status().unwrap();
    let sub = repo.join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let run = run_json(&sub, &["init"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.data()["created"], true);
    assert_eq!(run.data()["config_written"], true);
    // Created at the work-tree root, not in the subdirectory.
    assert!(repo.join(".agit/config.json").is_file());
    assert!(repo.join(".agit/index.db").is_file());
    assert!(!sub.join(".agit").exists());
    let exclude = std::fs::read_to_string(repo.join(".git/info/exclude")).unwrap();
    assert_eq!(exclude.matches("/.agit/").count(), 1);
    // git really ignores it.
    let status = std::process::Command::new("git").args(["status", "--porcelain"]).current_dir(repo).output().unwrap();
    assert!(!String::from_utf8_lossy(&status.stdout).contains(".agit"));

    let run = run_json(repo, &["init"]);
    assert_eq!((run.code, run.data()["created"].clone()), (0, false.into()));
    let exclude = std::fs::read_to_string(repo.join(".git/info/exclude")).unwrap();
    assert_eq!(exclude.matches("/.agit/").count(), 1, "init is idempotent");

    let run = run_json(repo, &["status"]);
    assert_eq!((run.data()["sessions"].as_i64(), run.data()["steps"].as_i64()), (Some(0), Some(0)));
}

#[test]
fn corrupt_config_is_invalid_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".agit")).unwrap();
    std::fs::write(dir.path().join(".agit/config.json"), "{\"version\": 1, \"privacy\": {\"captur\": {}}}").unwrap();
    let run = run_json(dir.path(), &["init"]);
    assert_eq!((run.code, run.code_str()), (1, "invalid_config"));
    assert!(run.data()["diagnostic"]["message"].as_str().unwrap().contains("unknown field"));
    assert_eq!(std::fs::read_to_string(dir.path().join(".agit/config.json")).unwrap().len(), 41, "left untouched");
}

#[test]
fn objects_and_refs_placed_by_hand_are_found() {
    let dir = tempfile::tempdir().unwrap();
    place_bundle_by_hand(dir.path());
    // No index exists yet: cat by prefix works from disk…
    agit(dir.path())
        .args(["cat", "e0407"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("{\"type\":\"step\""));
    // …and reindex finds the session and its two steps.
    let run = run_json(dir.path(), &["reindex"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_json_snapshot!(run.envelope);
    let run = run_json(dir.path(), &["status"]);
    assert_eq!((run.data()["sessions"].as_i64(), run.data()["steps"].as_i64()), (Some(1), Some(2)));

    let run = run_json(dir.path(), &["cat", &BUNDLE_HEAD[..8]]);
    assert_eq!(run.data()["kind"], "step");
    assert_eq!(run.data()["hash"], BUNDLE_HEAD);
    // A workspace blob whose content is a step-shaped JSON is still a blob when reached
    // from a tree; here the tree blobs are plain text.
    let run = run_json(dir.path(), &["cat", "80a107a0"]);
    assert_eq!((run.data()["kind"].as_str(), run.data()["size"].as_u64()), (Some("blob"), Some(20)));
    // Uppercase prefixes are accepted.
    agit(dir.path()).args(["cat", &BUNDLE_HEAD[..10].to_uppercase()]).assert().success();
}

#[test]
fn kinds_known_from_the_walk_beat_sniffing() {
    let dir = tempfile::tempdir().unwrap();
    agit(dir.path()).arg("init").assert().success();
    // A workspace file that happens to be a minified step: reached from a tree, it is a blob.
    let tree_hash = "7e67e313925975c3b563670cc6200965f166be637536d92cafa940761d02d65e";
    let fake_step = format!(
        r#"{{"type":"step","parent":null,"tree":"{tree_hash}","session_id":"x","origin":"y","turn_id":"t","causes":[],"timestamp":1}}"#
    );
    let blob = place_object(dir.path(), fake_step.as_bytes());
    let tree = format!(
        r#"{{"type":"tree","entries":[{{"path":"fake.json","blob":"{blob}","mode":"file","size":{}}}]}}"#,
        fake_step.len()
    );
    let tree_id = place_object(dir.path(), tree.as_bytes());
    let step = format!(
        r#"{{"type":"step","parent":null,"tree":"{tree_id}","session_id":"real","origin":"codex","model":null,"turn_id":"t1","causes":[],"timestamp":5,"messages":[],"tool_calls":[],"outcome":null,"git_commit":null,"git_branch":null,"git_dirty":null}}"#
    );
    let step_id = place_object(dir.path(), step.as_bytes());
    place_ref(dir.path(), "codex", "real", format!("{step_id}\n").as_bytes());
    let run = run_json(dir.path(), &["reindex"]);
    assert_eq!((run.code, run.data()["sessions"].as_u64(), run.data()["steps"].as_u64()), (0, Some(1), Some(1)));
    let run = run_json(dir.path(), &["cat", &blob]);
    assert_eq!(run.data()["kind"], "blob");
}

#[test]
fn prefix_ambiguity_and_not_found() {
    let dir = tempfile::tempdir().unwrap();
    agit(dir.path()).arg("init").assert().success();
    // 17 objects guarantee two share a first hex digit.
    let mut ids: Vec<String> = (0..17).map(|i| place_object(dir.path(), format!("object {i}\n").as_bytes())).collect();
    ids.sort();
    let pair = ids.windows(2).find(|w| w[0][..1] == w[1][..1]).unwrap();
    let shared = common_prefix(&pair[0], &pair[1]);
    let run = run_json(dir.path(), &["cat", &shared]);
    assert_eq!((run.code, run.code_str()), (1, "ambiguous_hash_prefix"));
    let candidates = run.data()["diagnostic"]["candidates"].as_array().unwrap();
    assert!(candidates.contains(&pair[0].clone().into()) && candidates.contains(&pair[1].clone().into()));
    agit(dir.path())
        .args(["cat", &shared])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("candidates:").and(predicate::str::contains(&pair[0])));

    // After reindex the same answers come from the index.
    agit(dir.path()).arg("reindex").assert().success();
    let run = run_json(dir.path(), &["cat", &shared]);
    assert_eq!(run.code_str(), "ambiguous_hash_prefix");
    let unique = &pair[0][..shared.len() + 1];
    if pair[1][..shared.len() + 1] != *unique {
        agit(dir.path()).args(["cat", unique]).assert().success();
    }

    let absent =
        (0..16u8).map(|d| format!("{d:x}{}", "0".repeat(11))).find(|p| !ids.iter().any(|id| id.starts_with(p)));
    let run = run_json(dir.path(), &["cat", &absent.unwrap()]);
    assert_eq!((run.code, run.code_str()), (1, "object_not_found"));
    for bad in ["xyz", &"a".repeat(65)] {
        let run = run_json(dir.path(), &["cat", bad]);
        assert_eq!((run.code, run.code_str()), (1, "object_lookup_failed"), "{bad}");
    }
}

fn common_prefix(a: &str, b: &str) -> String {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).map(|(x, _)| x).collect()
}

#[test]
fn bad_step_objects_and_refs_are_reported_with_codes() {
    let dir = tempfile::tempdir().unwrap();
    place_bundle_by_hand(dir.path());
    // A truncated step, a non-JSON object and an invalid ref, next to one good session.
    let truncated = place_object(dir.path(), br#"{"type":"step","parent":null,"tree":"#);
    place_ref(dir.path(), "codex", "truncated", format!("{truncated}\n").as_bytes());
    let not_json = place_object(dir.path(), b"just some text\n");
    place_ref(dir.path(), "codex", "notjson", format!("{not_json}\n").as_bytes());
    place_ref(dir.path(), "codex", "badref", b"not-a-hash\n");
    let run = run_json(dir.path(), &["reindex"]);
    assert_eq!(run.code, 1, "problems make reindex fail");
    assert_eq!(run.data()["sessions"], 1, "the good session is still indexed");
    let codes: Vec<&str> =
        run.data()["problems"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(codes.iter().filter(|c| **c == "invalid_step_object").count(), 2, "{codes:?}");
    assert!(codes.contains(&"ref_invalid_hash"), "{codes:?}");
    agit(dir.path())
        .arg("reindex")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("must contain exactly one 64-character hex step hash"));
}

#[test]
fn unreadable_index_is_reported_and_reindex_repairs_it() {
    let dir = tempfile::tempdir().unwrap();
    place_bundle_by_hand(dir.path());
    agit(dir.path()).arg("reindex").assert().success();
    std::fs::write(dir.path().join(".agit/index.db"), vec![0x5a; 8192]).unwrap();
    for f in ["index.db-wal", "index.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(".agit").join(f));
    }
    let run = run_json(dir.path(), &["status"]);
    assert_eq!((run.code, run.code_str()), (1, "index_unreadable"));
    assert!(run.data()["diagnostic"]["hint"].as_str().unwrap().contains("agit reindex"));
    // cat is plumbing: it still answers from disk, with a warning on stderr.
    agit(dir.path())
        .args(["cat", &BUNDLE_HEAD[..12]])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning:").and(predicate::str::contains("agit reindex")));
    agit(dir.path()).arg("reindex").assert().success();
    let run = run_json(dir.path(), &["status"]);
    assert_eq!((run.code, run.data()["steps"].as_i64()), (0, Some(2)));
}

#[test]
fn an_index_of_another_version_is_rebuilt_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    place_bundle_by_hand(dir.path());
    agit(dir.path()).arg("reindex").assert().success();
    // Simulate a reference index: same file, but user_version 13.
    set_user_version(&dir.path().join(".agit/index.db"), 13);
    let run = run_json(dir.path(), &["status"]);
    assert_eq!((run.code, run.data()["sessions"].as_i64(), run.data()["steps"].as_i64()), (0, Some(1), Some(2)));
}

/// `PRAGMA user_version` lives at byte offset 60 of the SQLite header (big-endian u32).
fn set_user_version(db: &std::path::Path, version: u32) {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = std::fs::OpenOptions::new().write(true).open(db).unwrap();
    file.seek(SeekFrom::Start(60)).unwrap();
    file.write_all(&version.to_be_bytes()).unwrap();
}

#[test]
fn a_reference_agitpk1_pack_is_read_by_every_command() {
    use agit_core::ObjectKind;
    use agit_core::store::pack::test_support::{V1Object, build_v1_pack};

    let dir = tempfile::tempdir().unwrap();
    // The vector bundle's objects, packed the way the reference gc would (the second
    // README version as a splice delta against the first), with only the ref loose.
    let bundle = common::vectors_dir().join("bundle");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    let mut objects: Vec<(ObjectKind, Vec<u8>)> = manifest["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let kind = ObjectKind::parse(o["kind"].as_str().unwrap()).unwrap();
            (kind, std::fs::read(bundle.join(o["path"].as_str().unwrap())).unwrap())
        })
        .collect();
    objects.sort_by_key(|(kind, _)| *kind != ObjectKind::Blob);
    let readme_v1 = objects.iter().position(|(_, b)| b.starts_with(b"# public\r\nline two\n\n")).unwrap();
    let entries: Vec<V1Object<'_>> = objects
        .iter()
        .map(|(kind, bytes)| V1Object {
            kind: *kind,
            bytes,
            base: bytes.starts_with(b"# public\r\nline two changed").then_some(readme_v1),
        })
        .collect();
    let (name, pack) = build_v1_pack(&entries);
    let pack_dir = dir.path().join(".agit/objects/pack");
    std::fs::create_dir_all(&pack_dir).unwrap();
    std::fs::write(pack_dir.join(format!("{name}.pack")), pack).unwrap();
    place_ref(dir.path(), "claude", "sess-public", format!("{BUNDLE_HEAD}\n").as_bytes());

    let run = run_json(dir.path(), &["reindex"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!((run.data()["sessions"].as_u64(), run.data()["steps"].as_u64()), (Some(1), Some(2)));
    let run = run_json(dir.path(), &["cat", &BUNDLE_HEAD[..10]]);
    assert_eq!((run.data()["kind"].as_str(), run.data()["hash"].as_str()), (Some("step"), Some(BUNDLE_HEAD)));
    let run = run_json(dir.path(), &["cat", "db90b147"]);
    assert_eq!(run.data()["text"], "# public\r\nline two changed\n\nline four\n", "delta entry rebuilt");
    let run = run_json(dir.path(), &["log", "claude/sess-public"]);
    assert_eq!(run.data()["steps"].as_array().unwrap().len(), 2);
    let run = run_json(dir.path(), &["blame", "README.md"]);
    assert_eq!(run.data()["lines"].as_array().unwrap().len(), 5);
}

#[test]
fn a_held_lock_times_out_with_a_diagnostic_that_names_the_holder() {
    use agit_core::store::lock::{LockMode, acquire};
    let dir = tempfile::tempdir().unwrap();
    place_bundle_by_hand(dir.path());
    agit(dir.path()).arg("reindex").assert().success();
    // This test process holds the index lock the rebuild needs to swap in its file.
    let held =
        acquire(&dir.path().join(".agit/index.lock"), LockMode::Exclusive, std::time::Duration::from_secs(1)).unwrap();
    let out = agit(dir.path()).args(["reindex", "--json"]).env("AGIT_LOCK_TIMEOUT_MS", "200").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let envelope: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let diagnostic = &envelope["data"]["diagnostic"];
    assert_eq!(diagnostic["code"], "lock_timeout");
    let message = diagnostic["message"].as_str().unwrap();
    assert!(message.contains(&format!("held by pid {}", std::process::id())), "{message}");
    assert!(diagnostic["path"].as_str().unwrap().ends_with("index.lock"));
    assert!(diagnostic["hint"].as_str().unwrap().contains("AGIT_LOCK_TIMEOUT_MS"));
    drop(held);
    agit(dir.path()).arg("reindex").assert().success();
}
