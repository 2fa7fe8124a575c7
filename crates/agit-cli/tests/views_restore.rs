//! `agit restore` through the real binary: steps recorded by the real hook commands, then
//! restored into the workspace or `--to` a fresh directory; unsafe paths, symlinks,
//! crafted trees with unsafe entries, and the undo of `--force` through its safety step.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use agit_core::commit::{AppendOutcome, append_step};
use agit_core::index::{Index, ObjectRecord};
use agit_core::object::{Step, Tree, TreeEntry};
use agit_core::{ObjectKind, Store};
use common::{JsonRun, agit, normalize, run_json};
use serde_json::Value;

fn hook(dir: &Path, args: &[&str], payload: String) {
    common::hook_ok(dir, args, payload.as_bytes(), &[]);
}

/// Record one Claude Code turn through the hook commands; returns the new step's hash.
fn record_turn(dir: &Path, prompt: &str) -> String {
    let cwd = dir.display();
    hook(
        dir,
        &["claude-hook", "user"],
        format!(r#"{{"session_id":"s1","cwd":"{cwd}","hook_event_name":"UserPromptSubmit","prompt":"{prompt}"}}"#),
    );
    hook(
        dir,
        &["claude-hook", "assistant"],
        format!(r#"{{"session_id":"s1","cwd":"{cwd}","hook_event_name":"Stop","last_assistant_message":"done"}}"#),
    );
    let log = run_json(dir, &["log", "claude/s1"]);
    let steps = log.data()["steps"].as_array().unwrap();
    steps.last().unwrap()["hash"].as_str().unwrap().to_owned()
}

/// A workspace with a store (no git needed) and some files.
fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), files);
    agit(dir.path()).args(["init", "--no-hooks"]).assert().success();
    dir
}

fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

/// Every file and directory under `root` (except `.agit/`) with file contents and symlink
/// targets: a picture of the filesystem to compare before and after.
fn picture(root: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(base).unwrap().display().to_string();
            if rel == ".agit" {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let what = if meta.file_type().is_symlink() {
                format!("-> {}", std::fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                walk(&path, base, out);
                "dir".into()
            } else {
                String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned()
            };
            out.insert(rel, what);
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn objects_count(root: &Path) -> usize {
    walkdir_count(&root.join(".agit/objects"))
}

fn walkdir_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| {
                    let p = e.unwrap().path();
                    if p.is_dir() { walkdir_count(&p) } else { 1 }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn items(run: &JsonRun) -> Vec<(String, String, Option<String>)> {
    run.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["path"].as_str().unwrap().to_owned(),
                i["status"].as_str().unwrap().to_owned(),
                i["reason"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn item(path: &str, status: &str, reason: Option<&str>) -> (String, String, Option<String>) {
    (path.to_owned(), status.to_owned(), reason.map(str::to_owned))
}

const FILES: [(&str, &str); 4] = [
    ("README.md", "# demo\n"),
    ("src/main.rs", "fn main() {\n    println!(\"hi\");\n}\n"),
    ("src/deep/nested/mod.rs", "// nested\n"),
    ("docs/ünïcode name.txt", "héllo wörld\n"),
];

#[test]
fn restore_all_into_a_fresh_dir_reproduces_the_recorded_bytes() {
    let dir = workspace(&FILES);
    let w = dir.path();
    let first = record_turn(w, "first");
    // The agent changes things; the second step records them.
    write_files(w, &[("README.md", "# demo v2\n"), ("src/new.rs", "pub fn new() {}\n")]);
    std::fs::remove_file(w.join("src/deep/nested/mod.rs")).unwrap();
    let second = record_turn(w, "second");
    assert_ne!(first, second);

    let out = tempfile::tempdir().unwrap();
    let fresh = out.path().join("restored/first");
    let run = run_json(w, &["restore", &first[..12], "--all", "--to", fresh.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{:?}", run.envelope);
    assert_eq!(run.data()["counts"], serde_json::json!({"restored": 4, "skipped": 0, "failed": 0}));
    assert_eq!(run.data()["hash"], first.as_str());
    let expected: BTreeMap<String, String> = FILES.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect();
    let got: BTreeMap<String, String> = picture(&fresh).into_iter().filter(|(_, v)| v != "dir").collect();
    assert_eq!(got, expected);

    // The second step into another fresh directory: its own snapshot, byte for byte.
    let fresh2 = out.path().join("second");
    let run = run_json(w, &["restore", &second, "--all", "--to", fresh2.to_str().unwrap()]);
    assert_eq!(run.code, 0);
    let got: BTreeMap<String, String> = picture(&fresh2).into_iter().filter(|(_, v)| v != "dir").collect();
    let now: BTreeMap<String, String> = picture(w).into_iter().filter(|(_, v)| v != "dir").collect();
    assert_eq!(got, now);
    // The workspace itself was not touched by restoring elsewhere.
    assert_eq!(std::fs::read_to_string(w.join("README.md")).unwrap(), "# demo v2\n");

    // A directory filter restores just that directory into the workspace.
    let run = run_json(w, &["restore", &first, "--", "src/deep/"]);
    assert_eq!(run.code, 0);
    assert_eq!(items(&run), [item("src/deep/nested/mod.rs", "restored", None)]);
    assert_eq!(std::fs::read_to_string(w.join("src/deep/nested/mod.rs")).unwrap(), "// nested\n");
}

#[test]
fn unsafe_requested_paths_are_refused_and_nothing_is_written() {
    let dir = workspace(&FILES);
    let w = dir.path();
    let step = record_turn(w, "first");
    std::fs::remove_file(w.join("README.md")).unwrap();
    let before = picture(w);
    let objects = objects_count(w);
    let outside = w.parent().unwrap().join("x");
    for (path, name) in [
        ("../x", "ParentSegment"),
        ("/etc/passwd", "AbsolutePath"),
        (&*outside.display().to_string(), "AbsolutePath"),
        (".agit/config.json", "StorePath"),
        (".agit", "StorePath"),
        ("src/../../x", "ParentSegment"),
        ("./README.md", "DotSegment"),
        ("src//main.rs", "EmptySegment"),
        ("a\\b", "BackslashPath"),
        (".git/hooks/pre-commit", "GitPath"),
    ] {
        // Safe paths alongside do not make it through either: nothing is written.
        let run = run_json(w, &["restore", &step, "--", "README.md", path]);
        assert_eq!(run.code, 1, "{path}");
        assert_eq!(run.code_str(), "unsafe_path", "{path}");
        let d = &run.data()["diagnostic"];
        assert_eq!(d["message"], "Requested restore path is not a safe workspace-relative path.");
        assert_eq!(d["hint"], name, "{path}");
        assert_eq!(d["path"], path);
        let human = agit(w).args(["restore", &step, "--force", "--", "README.md", path]).output().unwrap();
        assert_eq!(human.status.code(), Some(1));
        assert!(human.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&human.stderr);
        assert!(stderr.contains("error: Requested restore path is not a safe workspace-relative path."), "{stderr}");
        assert!(stderr.contains(&format!("hint: {name}")), "{stderr}");
    }
    assert_eq!(picture(w), before);
    assert_eq!(objects_count(w), objects);
    assert!(!outside.exists());
}

#[test]
fn symlinked_targets_are_skipped_unless_forced_and_never_followed() {
    let dir = workspace(&FILES);
    let w = dir.path();
    let step = record_turn(w, "first");
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = elsewhere.path().join("victim.txt");
    std::fs::write(&victim, "outside content\n").unwrap();
    std::fs::remove_file(w.join("README.md")).unwrap();
    symlink(&victim, w.join("README.md")).unwrap();
    // A symlinked parent directory pointing outside the workspace.
    std::fs::rename(w.join("src/deep"), elsewhere.path().join("deep")).unwrap();
    symlink(elsewhere.path().join("deep"), w.join("src/deep")).unwrap();
    std::fs::remove_file(elsewhere.path().join("deep/nested/mod.rs")).unwrap();
    let before = picture(w);
    let outside_before = picture(elsewhere.path());

    let run = run_json(w, &["restore", &step, "--", "README.md"]);
    assert_eq!(run.code, 0, "a skipped file is not a failure");
    assert_eq!(items(&run), [item("README.md", "skipped", Some("exists"))]);
    let human = agit(w).args(["restore", &step, "--", "README.md"]).output().unwrap();
    let stdout = String::from_utf8(human.stdout).unwrap();
    assert!(stdout.contains("skipped README.md: exists"), "{stdout}");
    assert!(stdout.contains("rerun with --force"), "{stdout}");

    let run = run_json(w, &["restore", &step, "--force", "--", "src/deep/nested/mod.rs"]);
    assert_eq!(run.code, 1);
    assert_eq!(items(&run), [item("src/deep/nested/mod.rs", "failed", Some("ParentNotDirectory"))]);
    assert_eq!(picture(w), before);
    assert_eq!(picture(elsewhere.path()), outside_before);

    // --force replaces the link itself by a regular file; its target stays as it was.
    let run = run_json(w, &["restore", &step, "--force", "--", "README.md"]);
    assert_eq!(run.code, 0, "{:?}", run.envelope);
    assert_eq!(items(&run), [item("README.md", "restored", Some("replaced_symlink"))]);
    assert!(std::fs::symlink_metadata(w.join("README.md")).unwrap().file_type().is_file());
    assert_eq!(std::fs::read_to_string(w.join("README.md")).unwrap(), "# demo\n");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "outside content\n");
    assert_eq!(picture(elsewhere.path()), outside_before);
}

/// Commit a step whose tree is given by hand (what a hostile bundle or remote could carry).
fn crafted_step(w: &Path, entries: &[(&str, &[u8])]) -> String {
    let store = Store::open(w).unwrap();
    let mut records = Vec::new();
    let mut tree_entries = Vec::new();
    for (path, content) in entries {
        let (id, _) = store.write_object(content).unwrap();
        records.push(ObjectRecord { id, kind: ObjectKind::Blob, size: content.len() as u64 });
        tree_entries.push(TreeEntry::file(*path, id, content.len() as u64));
    }
    let tree = Tree::new(tree_entries).encode();
    let (tree_id, _) = store.write_object(&tree).unwrap();
    records.push(ObjectRecord { id: tree_id, kind: ObjectKind::Tree, size: tree.len() as u64 });
    let mut index = Index::open(&store).unwrap();
    let step = Step {
        parent: None,
        tree: tree_id,
        session_id: "crafted".into(),
        origin: "test".into(),
        model: None,
        turn_id: "1".into(),
        causes: vec![],
        timestamp: index.next_step_timestamp(1).unwrap(),
        messages: vec![],
        tool_calls: vec![],
        outcome: None,
        git_commit: None,
        git_branch: None,
        git_dirty: None,
    };
    match append_step(&store, &mut index, step, &records).unwrap() {
        AppendOutcome::Committed { id, .. } => id.to_hex(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_tree_with_unsafe_entries_still_restores_the_safe_ones() {
    let parent = tempfile::tempdir().unwrap();
    let w = parent.path().join("ws");
    std::fs::create_dir(&w).unwrap();
    agit(&w).args(["init", "--no-hooks"]).assert().success();
    let step = crafted_step(
        &w,
        &[
            ("../evil", b"escaped\n"),
            (".agit/config.json", b"{}"),
            (".git/hooks/post-checkout", b"#!/bin/sh\necho pwned\n"),
            ("good.txt", b"good\n"),
            ("dir/also-good.txt", b"also good\n"),
        ],
    );
    let config_before = std::fs::read(w.join(".agit/config.json")).ok();
    let run = run_json(&w, &["restore", &step, "--all"]);
    assert_eq!(run.code, 1, "a failed item fails the command");
    assert_eq!(
        items(&run),
        [
            item("../evil", "failed", Some("ParentSegment")),
            item(".agit/config.json", "failed", Some("StorePath")),
            item(".git/hooks/post-checkout", "failed", Some("GitPath")),
            item("dir/also-good.txt", "restored", None),
            item("good.txt", "restored", None),
        ]
    );
    assert_eq!(run.data()["counts"], serde_json::json!({"restored": 2, "skipped": 0, "failed": 3}));
    assert_eq!(std::fs::read_to_string(w.join("good.txt")).unwrap(), "good\n");
    assert_eq!(std::fs::read_to_string(w.join("dir/also-good.txt")).unwrap(), "also good\n");
    assert!(!parent.path().join("evil").exists());
    assert!(!w.join(".git").exists());
    assert_eq!(std::fs::read(w.join(".agit/config.json")).ok(), config_before);

    // A path-scoped restore only looks at what it selects.
    std::fs::remove_file(w.join("good.txt")).unwrap();
    let run = run_json(&w, &["restore", &step, "--", "good.txt"]);
    assert_eq!(run.code, 0);
    assert_eq!(items(&run), [item("good.txt", "restored", None)]);

    let human = agit(&w).args(["restore", &step, "--all", "--force"]).output().unwrap();
    assert_eq!(human.status.code(), Some(1));
    let stdout = String::from_utf8(human.stdout).unwrap();
    assert!(stdout.contains("failed ../evil: ParentSegment\n"), "{stdout}");
    assert!(stdout.contains("Restore summary: restored 0, skipped 2, failed 3."), "{stdout}");
}

#[test]
fn force_saves_a_safety_step_and_the_printed_undo_restores_it() {
    let dir = workspace(&FILES);
    let w = dir.path();
    let step = record_turn(w, "first");
    write_files(w, &[("README.md", "# my local edit\n"), ("src/main.rs", "fn main() { edited(); }\n")]);
    std::fs::remove_file(w.join("docs/ünïcode name.txt")).unwrap();
    let edited = picture(w);

    let out = agit(w).args(["restore", &step, "--all", "--force"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("restored README.md (7 bytes, replaced the existing file)"), "{stdout}");
    assert!(stdout.contains("restored docs/ünïcode name.txt (14 bytes)\n"), "{stdout}");
    assert!(stdout.contains("skipped src/deep/nested/mod.rs: unchanged"), "{stdout}");
    assert!(stdout.contains("Restore summary: restored 3, skipped 1, failed 0."), "{stdout}");
    assert!(stdout.contains("(agit/restore-safety)"), "{stdout}");
    for (path, content) in FILES {
        assert_eq!(std::fs::read_to_string(w.join(path)).unwrap(), content);
    }

    // The undo line, run as printed, puts the overwritten content back.
    let undo = stdout.lines().find_map(|l| l.strip_prefix("To undo: ")).expect("undo line").to_owned();
    let words: Vec<&str> = undo.split(' ').collect();
    assert_eq!(&words[..2], ["agit", "restore"]);
    assert_eq!(&words[3..], ["--force", "--", "README.md", "src/main.rs"], "{undo}");
    let out = agit(w).args(&words[1..]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let mut expected = edited.clone();
    // The file that did not exist before the restore is not removed by the undo.
    expected.insert("docs/ünïcode name.txt".into(), "héllo wörld\n".into());
    assert_eq!(picture(w), expected);

    // The safety steps are ordinary steps of the agit/restore-safety session.
    let log = run_json(w, &["log", "agit/restore-safety"]);
    let steps = log.data()["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "the undo saved what it overwrote too");
    assert!(steps[0]["hash"].as_str().unwrap().starts_with(words[2]));
    assert!(steps[0]["turn_id"].as_str().unwrap().starts_with("restore:"));

    // JSON carries the same: the safety step and its undo command.
    write_files(w, &[("README.md", "again\n")]);
    let run = run_json(w, &["restore", &step, "--force", "--", "README.md"]);
    assert_eq!(run.code, 0);
    let safety = &run.data()["safety_step"];
    let hash = safety["hash"].as_str().unwrap();
    assert_eq!(safety["paths"], serde_json::json!(["README.md"]));
    assert_eq!(safety["undo"], format!("agit restore {} --force -- README.md", &hash[..12]));
    let run = run_json(w, &["restore", hash, "--force", "--", "README.md"]);
    assert_eq!(run.code, 0);
    assert_eq!(std::fs::read_to_string(w.join("README.md")).unwrap(), "again\n");
}

#[test]
fn force_with_to_prints_an_undo_for_that_directory() {
    let dir = workspace(&FILES);
    let w = dir.path();
    let step = record_turn(w, "first");
    let out = tempfile::tempdir().unwrap();
    let target: PathBuf = out.path().join("copy with space");
    write_files(&target, &[("README.md", "other\n")]);
    let run = run_json(w, &["restore", &step, "--force", "--to", target.to_str().unwrap(), "--", "README.md"]);
    assert_eq!(run.code, 0);
    let undo = run.data()["safety_step"]["undo"].as_str().unwrap().to_owned();
    assert!(undo.contains(&format!("--to '{}' -- README.md", target.display())), "{undo}");
    assert_eq!(std::fs::read_to_string(target.join("README.md")).unwrap(), "# demo\n");
    let hash = run.data()["safety_step"]["hash"].as_str().unwrap().to_owned();
    let run = run_json(w, &["restore", &hash, "--force", "--to", target.to_str().unwrap(), "--", "README.md"]);
    assert_eq!(run.code, 0);
    assert_eq!(std::fs::read_to_string(target.join("README.md")).unwrap(), "other\n");
    // The workspace copy was never involved.
    assert_eq!(std::fs::read_to_string(w.join("README.md")).unwrap(), "# demo\n");

    // --to inside the store is refused before anything is written.
    let run = run_json(w, &["restore", &step, "--all", "--to", ".agit/objects/zz"]);
    assert_eq!((run.code, run.code_str()), (1, "invalid_restore_target"));
    assert!(!w.join(".agit/objects/zz").exists());
}

#[test]
fn scope_errors_and_dry_run() {
    let dir = workspace(&FILES);
    let w = dir.path();
    let step = record_turn(w, "first");
    std::fs::remove_file(w.join("README.md")).unwrap();
    let before = picture(w);

    let run = run_json(w, &["restore", &step]);
    assert_eq!((run.code, run.code_str()), (2, "restore_scope_required"));
    assert_eq!(run.data()["diagnostic"]["message"], "Restore requires --all or one or more paths after --.");
    let run = run_json(w, &["restore", &step, "--all", "--", "README.md"]);
    assert_eq!((run.code, run.code_str()), (2, "invalid_restore_scope"));
    let run = run_json(w, &["restore", "--all"]);
    assert_eq!((run.code, run.code_str()), (2, "missing_hash"));
    let run = run_json(w, &["restore", "ffffffffffff", "--all"]);
    assert_eq!((run.code, run.code_str()), (1, "object_not_found"));
    let log = run_json(w, &["log", "claude/s1"]);
    let tree = log.data()["steps"][0]["tree_hash"].as_str().unwrap().to_owned();
    let run = run_json(w, &["restore", &tree, "--all"]);
    assert_eq!((run.code, run.code_str()), (1, "invalid_step_object"));
    assert!(run.data()["diagnostic"]["hint"].as_str().unwrap().contains("hash of a step"));

    let run = run_json(w, &["restore", &step, "--all", "--dry-run", "--force"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.data()["dry_run"], true);
    assert_eq!(run.data()["safety_step"], Value::Null);
    assert_eq!(items(&run)[0], item("README.md", "planned", None));
    let out = agit(w).args(["restore", &step, "--dry-run", "--", "README.md", "missing.txt"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "a path not in the snapshot is a failed item");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout,
        "would restore README.md (7 bytes)\nfailed missing.txt: not_in_tree (no file of the snapshot matches this path)\n\nDry run summary: would restore 1, skipped 0, failed 1.\n"
    );
    assert_eq!(picture(w), before);
}

#[test]
fn json_shapes() {
    let dir = workspace(&FILES);
    let w = dir.path();
    let step = record_turn(w, "first");
    write_files(w, &[("README.md", "local\n")]);
    std::fs::remove_file(w.join("src/main.rs")).unwrap();
    std::fs::write(w.join(".agit/config.json"), r#"{"version":1,"privacy":{"display":{"redacted_by_default":true}}}"#)
        .unwrap();

    let run = run_json(w, &["restore", &step, "--dry-run", "--", "README.md", "src", "nope"]);
    insta::assert_json_snapshot!("restore_dry_run", normalize(run.envelope.clone(), w));
    // Key order is part of the contract (snapshots sort keys, so check the raw line).
    let raw = agit(w).args(["--json", "restore", &step, "--dry-run", "--", "README.md"]).output().unwrap().stdout;
    let raw = String::from_utf8(raw).unwrap();
    let keys = ["\"dry_run\"", "\"counts\"", "\"items\"", "\"warning\"", "\"hash\"", "\"to\"", "\"safety_step\""];
    let positions: Vec<usize> = keys.iter().map(|k| raw.find(k).unwrap_or_else(|| panic!("{k} in {raw}"))).collect();
    assert!(positions.windows(2).all(|p| p[0] < p[1]), "{raw}");
    let item_keys = ["\"path\"", "\"status\"", "\"reason\"", "\"bytes\"", "\"detail\""];
    let positions: Vec<usize> = item_keys.iter().map(|k| raw.find(k).unwrap()).collect();
    assert!(positions.windows(2).all(|p| p[0] < p[1]), "{raw}");

    let run = run_json(w, &["restore", &step, "--force", "--", "README.md", "src"]);
    assert_eq!(run.code, 0);
    let mut envelope = normalize(run.envelope.clone(), w);
    let safety = run.data()["safety_step"]["hash"].as_str().unwrap();
    let undo = &mut envelope["data"]["safety_step"]["undo"];
    *undo = undo.as_str().unwrap().replace(&safety[..12], "[hash12]").into();
    insta::assert_json_snapshot!("restore_force", envelope);

    let run = run_json(w, &["restore", &step, "--", "../x"]);
    insta::assert_json_snapshot!("restore_unsafe_path", normalize(run.envelope.clone(), w));

    // Human mode: the raw-bytes warning goes to stderr, the report to stdout.
    let out = agit(w).args(["restore", &step, "--", "README.md"]).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("warning: restore writes raw captured bytes; display redaction is not applied"),
        "{stderr}"
    );
}
