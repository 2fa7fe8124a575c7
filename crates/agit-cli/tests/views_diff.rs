//! `agit diff`, `agit show` and `agit steps` through the real binary, on steps recorded
//! by the real hook commands. The patches must be accepted by the real `git apply`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use agit_core::object::{Step, Tree, TreeEntry};
use agit_core::{ObjectId, Store};
use common::{agit, git, normalize, run_json};
use serde_json::{Value, json};

const SECRET: &str = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";

fn hook(dir: &Path, payload: Value) {
    common::hook_ok(dir, &["codex-hook"], payload.to_string().as_bytes(), &[]);
}

/// One Codex turn: prompt, one Bash tool call with `result`, stop.
fn turn(dir: &Path, session: &str, prompt: &str, result: &str) {
    let cwd = dir.display().to_string();
    hook(
        dir,
        json!({"session_id": session, "cwd": cwd, "hook_event_name": "UserPromptSubmit", "prompt": prompt, "model": "gpt-test"}),
    );
    hook(
        dir,
        json!({"session_id": session, "cwd": cwd, "hook_event_name": "PostToolUse", "tool_name": "Bash",
        "tool_input": {"command": "cargo test"}, "tool_response": result}),
    );
    hook(
        dir,
        json!({"session_id": session, "cwd": cwd, "hook_event_name": "Stop", "last_assistant_message": "Done: edited the files."}),
    );
}

fn write(root: &Path, path: &str, bytes: &[u8]) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn lib_rs(changed: &[usize], extra: bool) -> String {
    let mut text: String = (1..=30)
        .map(|i| {
            if changed.contains(&i) {
                format!("pub fn f{i}() -> u32 {{ {} }}\n", i * 100)
            } else {
                format!("pub fn f{i}() -> u32 {{ {i} }}\n")
            }
        })
        .collect();
    if extra {
        text.push_str("pub fn f31() -> u32 { 31 }\n");
    }
    text
}

/// A repository with session codex/s1: turn 1 records the initial files; turn 2 edits
/// many of them (several hunks, CRLF, no final newline, adds, deletes, empty files,
/// a name with a space). Returns the dir and the two step hashes.
fn recorded() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    git(w, &["init", "-q", "-b", "main"]);
    write(w, "src/lib.rs", lib_rs(&[], false).as_bytes());
    write(w, "README.md", b"# demo\n\nSome text.\n");
    write(w, "docs/guide.md", b"guide\n");
    write(w, "crlf.txt", b"one\r\ntwo\r\nthree\r\n");
    write(w, "noeol.txt", b"alpha\nbeta");
    write(w, "gone.txt", b"bye\n");
    write(w, "empty-gone.txt", b"");
    write(w, "srcx/other.rs", b"other\n");
    write(w, "dir with space/file.txt", b"spaced\n");
    write(w, "settings.txt", format!("mode=1\ntoken={SECRET}\n").as_bytes());
    git(w, &["add", "-A"]);
    git(w, &["commit", "-qm", "base"]);
    agit(w).args(["init", "--no-hooks"]).assert().success();
    turn(w, "s1", "set up the project", "ok");

    write(w, "src/lib.rs", lib_rs(&[3, 15, 28], true).as_bytes());
    write(w, "README.md", b"# demo\n\nSome better text.\n");
    write(w, "crlf.txt", b"one\r\nTWO\r\nthree\r\n");
    write(w, "noeol.txt", b"alpha\ngamma");
    std::fs::remove_file(w.join("gone.txt")).unwrap();
    std::fs::remove_file(w.join("empty-gone.txt")).unwrap();
    write(w, "added-empty.txt", b"");
    write(w, "src/new.rs", b"pub fn new() {}\n");
    write(w, "srcx/other.rs", b"other changed\n");
    write(w, "dir with space/file.txt", b"spaced out\n");
    write(w, "settings.txt", format!("mode=2\ntoken={SECRET}\n").as_bytes());
    let long_result: String = (1..=30).map(|i| format!("test t{i} ... ok\n")).collect();
    turn(w, "s1", &format!("refactor the library; the token is token={SECRET}"), &long_result);

    let run = run_json(w, &["log", "codex/s1"]);
    let hashes: Vec<String> =
        run.data()["steps"].as_array().unwrap().iter().map(|s| s["hash"].as_str().unwrap().to_owned()).collect();
    assert_eq!(hashes.len(), 2);
    (dir, hashes[0].clone(), hashes[1].clone())
}

/// Like `run_json`, with `--json` placed before a `--` path section.
fn run_json_paths(w: &Path, args: &[&str], paths: &[&str]) -> common::JsonRun {
    let mut all: Vec<&str> = args.to_vec();
    all.push("--json");
    all.push("--");
    all.extend_from_slice(paths);
    let out = agit(w).args(&all).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    common::JsonRun {
        code: out.status.code().unwrap(),
        envelope: serde_json::from_str(&stdout).unwrap(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn store(w: &Path) -> Store {
    Store::open(w).unwrap()
}

fn step_tree(w: &Path, step: &str) -> Tree {
    let store = store(w);
    let step = store.read_step(&ObjectId::parse(step).unwrap()).unwrap();
    store.read_tree(&step.tree).unwrap()
}

/// path → bytes of every file of a tree.
fn tree_files(w: &Path, tree: &Tree) -> BTreeMap<String, Vec<u8>> {
    let store = store(w);
    tree.entries.iter().map(|e| (e.path.clone(), store.read_object(&e.blob).unwrap())).collect()
}

/// path → bytes of every file under `root` (without `.git`).
fn dir_files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_name() == ".git" {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Materialize `base` in a fresh git repository, `git apply --check` then `git apply`
/// the output of `agit <args> --color never --no-pager`, and return the resulting files.
fn apply_patch(
    w: &Path,
    base: &BTreeMap<String, Vec<u8>>,
    args: &[&str],
    apply_args: &[&str],
) -> BTreeMap<String, Vec<u8>> {
    let out = agit(w).args(args).args(["--color", "never", "--no-pager"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let target = tempfile::tempdir().unwrap();
    let t = target.path();
    git(t, &["init", "-q"]);
    for (path, bytes) in base {
        write(t, path, bytes);
    }
    let patch_dir = tempfile::tempdir().unwrap();
    let patch = patch_dir.path().join("step.patch");
    std::fs::write(&patch, &out.stdout).unwrap();
    let patch_arg = patch.display().to_string();
    let mut check = vec!["apply", "--check"];
    check.extend_from_slice(apply_args);
    check.push(&patch_arg);
    git(t, &check);
    let mut apply = vec!["apply"];
    apply.extend_from_slice(apply_args);
    apply.push(&patch_arg);
    git(t, &apply);
    dir_files(t)
}

#[test]
fn git_apply_reproduces_the_step_snapshot_byte_for_byte() {
    let (dir, first, second) = recorded();
    let w = dir.path();
    let before = tree_files(w, &step_tree(w, &first));
    let after = tree_files(w, &step_tree(w, &second));
    assert!(after.contains_key("dir with space/file.txt") && after.contains_key("added-empty.txt"));
    assert!(before.contains_key("empty-gone.txt"));

    // One hash: against its parent, at several context sizes.
    assert_eq!(apply_patch(w, &before, &["diff", &second], &[]), after);
    assert_eq!(apply_patch(w, &before, &["diff", &second, "-U1"], &[]), after);
    assert_eq!(apply_patch(w, &before, &["diff", &second, "-U10"], &[]), after);
    assert_eq!(apply_patch(w, &before, &["diff", &second, "-U0"], &["--unidiff-zero"]), after);
    // Two hashes, both directions.
    assert_eq!(apply_patch(w, &before, &["diff", &first, &second], &[]), after);
    assert_eq!(apply_patch(w, &after, &["diff", &second, &first], &[]), before);
    // The whole session from the empty tree; the first step from nothing.
    assert_eq!(apply_patch(w, &BTreeMap::new(), &["diff", "--session", "codex/s1"], &[]), after);
    assert_eq!(apply_patch(w, &BTreeMap::new(), &["diff", &first[..12]], &[]), before);
    // `show --patch` carries the same patch after the step description.
    let diff = agit(w).args(["diff", &second]).output().unwrap().stdout;
    let show = agit(w).args(["show", &second, "--patch"]).output().unwrap().stdout;
    assert!(show.ends_with(&diff));
}

#[test]
fn diff_prints_git_style_hunks() {
    let (dir, _, second) = recorded();
    let w = dir.path();
    let out = agit(w).args(["diff", &second]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    // Blob hashes are content addresses, so the whole patch is deterministic.
    insta::assert_snapshot!("diff_patch", text.replace('\r', "<CR>"));
    // src/lib.rs has three hunks; eight other files one each; empty files none.
    assert_eq!(text.matches("\n@@ -").count(), 3 + 8, "{text}");
    assert!(text.contains("--- a/dir with space/file.txt\t\n+++ b/dir with space/file.txt\t\n"));
    assert!(text.contains("diff --git a/added-empty.txt b/added-empty.txt\nnew file mode 100644\nindex 000000000000..af1349b9f5f9\ndiff --git"));
    assert!(text.contains("-beta\n\\ No newline at end of file\n+gamma\n\\ No newline at end of file\n"));
    assert!(text.contains("-two\r\n+TWO\r\n"));

    // Colour only when asked for (NO_COLOR is set by the helper).
    assert!(!text.contains('\x1b'));
    let coloured = agit(w).args(["diff", &second, "--color", "always"]).output().unwrap().stdout;
    let coloured = String::from_utf8(coloured).unwrap();
    assert!(coloured.contains("\x1b[1mdiff --git a/README.md b/README.md\x1b[0m"));
    assert!(coloured.contains("\x1b[36m@@ -1,3 +1,3 @@\x1b[0m"));
    assert!(coloured.contains("\x1b[31m-Some text.\x1b[0m\n\x1b[32m+Some better text.\x1b[0m"));

    let stat = agit(w).args(["diff", &second, "--stat"]).output().unwrap();
    insta::assert_snapshot!("diff_stat", String::from_utf8(stat.stdout).unwrap());
    let names = agit(w).args(["diff", &second, "--name-only", "--", "src", "docs"]).output().unwrap();
    assert_eq!(String::from_utf8(names.stdout).unwrap(), "src/lib.rs\nsrc/new.rs\n");
    // Paths are relative to the current directory, like git's.
    let names = agit(&w.join("src")).args(["diff", &second, "--name-only", "--", "."]).output().unwrap();
    assert_eq!(String::from_utf8(names.stdout).unwrap(), "src/lib.rs\nsrc/new.rs\n");
    let names = agit(&w.join("src")).args(["diff", &second, "--name-only", "--", "../srcx"]).output().unwrap();
    assert_eq!(String::from_utf8(names.stdout).unwrap(), "srcx/other.rs\n");
    // A path captured in neither tree: a warning on stderr, still exit 0.
    let out = agit(w).args(["diff", &second, "--", "nowhere"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "No file changes captured in this diff.\n");
    assert!(String::from_utf8(out.stderr).unwrap().contains("Path `nowhere` was not captured in this diff."));
}

#[test]
fn diff_json_has_the_reference_keys_and_filters_changes_by_path() {
    let (dir, first, second) = recorded();
    let w = dir.path();
    let run = run_json(w, &["diff", &second]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let data = run.data();
    assert_eq!(data["baseline"], "parent_tree");
    assert_eq!(data["from"]["step"], first.as_str());
    assert_eq!(data["to"]["step"], second.as_str());
    assert_eq!(data["counts"], json!({"added": 2, "modified": 7, "deleted": 2, "unchanged": 1}));
    insta::assert_json_snapshot!("diff_json", normalize(run.envelope.clone(), w));
    // Keys in the reference order (the snapshot sorts them).
    let raw = String::from_utf8(agit(w).args(["diff", &second, "--json"]).output().unwrap().stdout).unwrap();
    assert!(raw.starts_with(r#"{"schema_version":"cli-json-v1","command":"diff","data":{"from":{"tree":""#), "{raw}");
    for keys in [
        r#"},"baseline":"parent_tree","origin":null,"session_id":null,"path":null,"paths":[],"redacted":false,"context":3,"counts":{"added":2,"modified":7,"deleted":2,"unchanged":1},"changes":[{"kind":"modified","path":"README.md","old_blob":""#,
        r#"","old_size":19,"new_size":26,"insertions":1,"deletions":1,"binary":false,"too_large":false},"#,
    ] {
        assert!(raw.contains(keys), "{raw}");
    }

    // Several directory-prefix filters; they filter `changes` and `counts` too.
    let run = run_json_paths(w, &["diff", &second], &["src", "docs/"]);
    let data = run.data();
    assert_eq!((data["path"].as_str(), &data["paths"]), (Some("src"), &json!(["src", "docs"])));
    let paths: Vec<&str> = data["changes"].as_array().unwrap().iter().map(|c| c["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["src/lib.rs", "src/new.rs"]);
    assert_eq!(data["counts"], json!({"added": 1, "modified": 1, "deleted": 0, "unchanged": 1}));
    let lib = &data["changes"][0];
    assert_eq!((lib["insertions"].as_u64(), lib["deletions"].as_u64()), (Some(4), Some(3)));

    // Two hashes and --session.
    let run = run_json(w, &["diff", &first[..10], &second[..10]]);
    assert_eq!(
        (run.data()["baseline"].as_str(), run.data()["from"]["step"].as_str()),
        (Some("step_tree"), Some(first.as_str()))
    );
    let run = run_json(w, &["diff", "--session", "s1"]);
    let data = run.data();
    assert_eq!(
        (data["baseline"].as_str(), data["origin"].as_str(), data["session_id"].as_str()),
        (Some("empty_tree"), Some("codex"), Some("s1"))
    );
    assert_eq!(data["from"], json!({"tree": null, "step": null}));
    assert_eq!(data["counts"]["added"], 10);
    let run = run_json(w, &["diff", &first]);
    assert_eq!((run.data()["baseline"].as_str(), &run.data()["from"]["tree"]), (Some("empty_tree"), &Value::Null));
}

#[test]
fn redaction_applies_to_blob_texts_before_diffing() {
    let (dir, _, second) = recorded();
    let w = dir.path();
    let full = agit(w).args(["diff", &second, "--full", "--", "settings.txt"]).output().unwrap().stdout;
    let full = String::from_utf8(full).unwrap();
    assert!(full.contains(&format!(" token={SECRET}\n")), "{full}");
    let redacted = agit(w).args(["diff", &second, "--redacted", "--", "settings.txt"]).output().unwrap().stdout;
    let redacted = String::from_utf8(redacted).unwrap();
    assert!(!redacted.contains(SECRET) && redacted.contains(" token=[REDACTED]\n"), "{redacted}");
    assert!(redacted.contains("-mode=1\n+mode=2\n"));
    assert_eq!(run_json(w, &["diff", &second, "--redacted"]).data()["redacted"], true);
    // The config default applies when neither flag is given.
    std::fs::write(w.join(".agit/config.json"), r#"{"version":1,"privacy":{"display":{"redacted_by_default":true}}}"#)
        .unwrap();
    let default = agit(w).args(["diff", &second, "--", "settings.txt"]).output().unwrap().stdout;
    assert!(!String::from_utf8(default).unwrap().contains(SECRET));
}

#[test]
fn binary_and_oversized_files_are_reported_not_printed() {
    let (dir, _, second) = recorded();
    let w = dir.path();
    // Oversized: the cap comes from AGIT_MAX_FILE_BYTES.
    let out = agit(w).args(["diff", &second, "--json"]).env("AGIT_MAX_FILE_BYTES", "100").output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lib = v["data"]["changes"].as_array().unwrap().iter().find(|c| c["path"] == "src/lib.rs").unwrap().clone();
    assert_eq!(
        (lib["too_large"].as_bool(), lib["binary"].as_bool(), &lib["insertions"]),
        (Some(true), Some(false), &Value::Null)
    );
    let readme = v["data"]["changes"].as_array().unwrap().iter().find(|c| c["path"] == "README.md").unwrap().clone();
    assert_eq!((readme["too_large"].as_bool(), readme["insertions"].as_u64()), (Some(false), Some(1)));
    let out = agit(w).args(["diff", &second, "--", "src/lib.rs"]).env("AGIT_MAX_FILE_BYTES", "100").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "Large files a/src/lib.rs and b/src/lib.rs differ (825 bytes; over the AGIT_MAX_FILE_BYTES limit of 100)"
        ),
        "{text}"
    );
    assert!(!text.contains("@@"));
    let out =
        agit(w).args(["diff", &second, "--stat", "--", "src"]).env("AGIT_MAX_FILE_BYTES", "100").output().unwrap();
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains(" src/lib.rs | not diffed (over the AGIT_MAX_FILE_BYTES limit)\n")
    );

    // Binary: snapshots never store binary files, so place a step by hand.
    let store = store(w);
    let put = |bytes: &[u8]| store.write_object(bytes).unwrap().0;
    let text_blob = put(b"plain\n");
    let old_bin = put(b"\0old");
    let new_bin = put(b"\0\x01new binary");
    let mk = |parent: Option<ObjectId>, entries: Vec<TreeEntry>, ts: i64| {
        let tree = put(&Tree::new(entries).encode());
        let step = Step {
            parent,
            tree,
            session_id: "bin".into(),
            origin: "codex".into(),
            model: None,
            turn_id: format!("t{ts}"),
            causes: vec![],
            timestamp: ts,
            messages: vec![],
            tool_calls: vec![],
            outcome: None,
            git_commit: None,
            git_branch: None,
            git_dirty: None,
        };
        put(&step.encode())
    };
    let a = mk(None, vec![TreeEntry::file("data.bin", old_bin, 4), TreeEntry::file("t.txt", text_blob, 6)], 1);
    let b = mk(Some(a), vec![TreeEntry::file("data.bin", new_bin, 12), TreeEntry::file("t.txt", text_blob, 6)], 2);
    let out = agit(w).args(["diff", &b.to_hex()]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        format!(
            "diff --git a/data.bin b/data.bin\nindex {}..{} 100644\nBinary files a/data.bin and b/data.bin differ\n",
            &old_bin.to_hex()[..12],
            &new_bin.to_hex()[..12]
        )
    );
    let run = run_json(w, &["diff", &b.to_hex()]);
    let change = &run.data()["changes"][0];
    assert_eq!((change["binary"].as_bool(), &change["deletions"]), (Some(true), &Value::Null));
    let out = agit(w).args(["diff", &a.to_hex()]).output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("Binary files /dev/null and b/data.bin differ\n"));
    let stat = agit(w).args(["diff", &b.to_hex(), "--stat"]).output().unwrap();
    assert_eq!(
        String::from_utf8(stat.stdout).unwrap(),
        " data.bin | Bin 4 -> 12 bytes\n 1 file changed, 0 insertions(+), 0 deletions(-)\n"
    );
}

#[test]
fn show_describes_the_step_with_trimmed_tool_output() {
    let (dir, _, second) = recorded();
    let w = dir.path();
    let filters = vec![
        (r"[0-9a-f]{64}", "[hash]"),
        (r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "[time]"),
        (r"main@[0-9a-f]{12}", "main@[commit]"),
    ];
    let out = agit(w).args(["show", &second[..12], "--full"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    insta::with_settings!({ filters => filters.clone() }, {
        insta::assert_snapshot!("show_human", text);
    });
    assert!(text.contains("      test t20 ... ok\n      … 10 more lines (use --full-output)\n"));
    assert!(!text.contains("t21 "));
    let full = agit(w).args(["show", &second[..12], "--full-output"]).output().unwrap().stdout;
    let full = String::from_utf8(full).unwrap();
    assert!(full.contains("      test t30 ... ok\n") && !full.contains("more lines"));

    let out = agit(w).args(["show", &second, "--files", "--stat"]).output().unwrap();
    insta::with_settings!({ filters => filters }, {
        insta::assert_snapshot!("show_files_stat", String::from_utf8(out.stdout).unwrap());
    });
}

#[test]
fn show_json_keeps_model_outcome_and_git_when_redacted() {
    let (dir, first, second) = recorded();
    let w = dir.path();
    let run = run_json(w, &["show", &second, "--files", "--stat", "--full"]);
    assert_eq!(run.code, 0);
    insta::assert_json_snapshot!("show_json", normalize(run.envelope.clone(), w));
    let data = run.data();
    assert_eq!(data["step"]["parent"], first.as_str());
    assert_eq!(data["patch"], Value::Null);
    assert!(data["step"]["messages"][0]["content"].as_str().unwrap().contains(SECRET));

    let run = run_json(w, &["show", &second, "--redacted", "--patch"]);
    let step = &run.data()["step"];
    assert!(!step.to_string().contains(SECRET));
    assert!(step["messages"][0]["content"].as_str().unwrap().contains("[REDACTED]"));
    assert_eq!((step["model"].as_str(), step["outcome"].as_str()), (Some("gpt-test"), Some("success")));
    assert_eq!((step["git_branch"].as_str(), step["git_dirty"].as_bool()), (Some("main"), Some(true)));
    assert_eq!(step["git_commit"].as_str().map(str::len), Some(40));
    assert_eq!((&run.data()["files"], &run.data()["stat"]), (&Value::Null, &Value::Null));
    let patch = run.data()["patch"].as_str().unwrap();
    assert!(patch.starts_with("diff --git a/README.md b/README.md\n") && !patch.contains(SECRET));
}

#[test]
fn show_and_diff_error_codes_and_exit_statuses() {
    let (dir, _, second) = recorded();
    let w = dir.path();
    let missing = "f".repeat(64);
    for cmd in ["show", "diff"] {
        let run = run_json(w, &[cmd, &missing]);
        assert_eq!((run.code, run.code_str()), (1, "object_not_found"), "{cmd}");
        // A blob is not a step.
        let blob = step_tree(w, &second).entries[0].blob.to_hex();
        let run = run_json(w, &[cmd, &blob[..16]]);
        assert_eq!((run.code, run.code_str()), (1, "invalid_step_object"), "{cmd}");
        assert_eq!(run.data()["diagnostic"]["message"], "Object is not a step.");
        assert_eq!(run.data()["diagnostic"]["hash"], blob.as_str());
    }
    // An ambiguous one-character prefix lists its candidates.
    let mut by_first: BTreeMap<char, usize> = BTreeMap::new();
    for entry in std::fs::read_dir(w.join(".agit/objects")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.len() == 2 {
            let n = std::fs::read_dir(w.join(".agit/objects").join(&name)).unwrap().count();
            *by_first.entry(name.chars().next().unwrap()).or_default() += n;
        }
    }
    let (prefix, _) = by_first.iter().find(|(_, n)| **n >= 2).expect("some shared first hex digit");
    let run = run_json(w, &["show", &prefix.to_string()]);
    assert_eq!((run.code, run.code_str()), (1, "ambiguous_hash_prefix"));
    assert!(run.data()["diagnostic"]["candidates"].as_array().unwrap().len() >= 2);
    let out = agit(w).args(["show", &prefix.to_string()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8(out.stderr).unwrap().contains("candidates:\n  - "));

    // Usage errors exit 2.
    let run = run_json(w, &["diff"]);
    assert_eq!((run.code, run.code_str()), (2, "missing_target"));
    let run = run_json(w, &["diff", &second, "--session", "s1"]);
    assert_eq!((run.code, run.code_str()), (2, "invalid_argument"));
    let run = run_json(w, &["diff", &second, &second, &second]);
    assert_eq!(run.code, 2);
    let run = run_json(w, &["show"]);
    assert_eq!(run.code, 2);
    let run = run_json_paths(w, &["diff", &second], &["../outside"]);
    assert_eq!((run.code, run.code_str()), (2, "invalid_argument"));

    // Sessions.
    let run = run_json(w, &["diff", "--session", "nope"]);
    assert_eq!((run.code, run.code_str()), (1, "session_not_found"));
    {
        let store = store(w);
        let index = agit_core::index::Index::open(&store).unwrap();
        index
            .conn()
            .execute(
                "insert into sessions(origin, session_id, head_hash, updated_at) values('codex', 'empty', null, 1)",
                [],
            )
            .unwrap();
    }
    let run = run_json(w, &["diff", "--session", "codex/empty"]);
    assert_eq!((run.code, run.code_str()), (1, "session_has_no_steps"));
    let out = agit(w).args(["diff", "--session", "codex/empty"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("error: Session codex/empty has no steps."));
}

#[test]
fn steps_json_follows_steps_v1() {
    let (dir, first, second) = recorded();
    let w = dir.path();
    let run = run_json(w, &["steps", "codex/s1"]);
    assert_eq!(run.code, 0);
    let steps = run.data()["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!((steps[0]["hash"].as_str(), steps[1]["hash"].as_str()), (Some(first.as_str()), Some(second.as_str())));
    for step in steps {
        let keys: Vec<&str> = step.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = vec![
            "hash",
            "turn_id",
            "timestamp",
            "model",
            "outcome",
            "git_commit",
            "git_branch",
            "git_dirty",
            "step",
            "diff",
        ];
        expected.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!((&step["step"], &step["diff"]), (&Value::Null, &Value::Null));
    }
    insta::assert_json_snapshot!("steps_json", normalize(run.envelope.clone(), w));
    let raw = String::from_utf8(agit(w).args(["steps", "codex/s1", "--json"]).output().unwrap().stdout).unwrap();
    assert!(raw.contains(&format!(r#""steps":[{{"hash":"{first}","turn_id":"agturn:1","timestamp":"#)), "{raw}");
    assert!(raw.contains(r#","model":"gpt-test","outcome":"success","git_commit":""#), "{raw}");
    assert!(raw.contains(r#"","git_branch":"main","git_dirty":true,"step":null,"diff":null}]}}"#), "{raw}");

    let run = run_json(w, &["steps", "--include-step-objects"]);
    assert_eq!(run.data()["session_id"], "s1", "default: the most recent session");
    let steps = run.data()["steps"].as_array().unwrap();
    assert_eq!(steps[1]["step"]["type"], "step");
    assert_eq!(steps[1]["step"]["parent"], first.as_str());
    assert_eq!(steps[0]["diff"]["counts"], json!({"added": 10, "modified": 0, "deleted": 0, "unchanged": 0}));
    assert_eq!(steps[1]["diff"]["counts"], json!({"added": 2, "modified": 7, "deleted": 2, "unchanged": 1}));
    let raw = String::from_utf8(agit(w).args(["steps", "--json", "--include-step-objects"]).output().unwrap().stdout)
        .unwrap();
    assert!(
        raw.contains(r#","diff":{"changes":[{"kind":"added","path":"README.md","old_blob":null,"new_blob":""#),
        "{raw}"
    );
    assert!(raw.contains(r#"],"counts":{"added":10,"modified":0,"deleted":0,"unchanged":0}}}"#), "{raw}");
    let change = &steps[1]["diff"]["changes"][0];
    let keys: Vec<&str> = change.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 6);
    assert_eq!(change["path"], "README.md");
    insta::assert_json_snapshot!("steps_json_objects", normalize(run.envelope.clone(), w));

    let run = run_json(w, &["steps", "s1", "--include-step-objects", "--no-diffs"]);
    let steps = run.data()["steps"].as_array().unwrap();
    assert!(steps[0]["step"].is_object() && steps[0]["diff"].is_null());

    let run = run_json(w, &["steps", "nope"]);
    assert_eq!((run.code, run.code_str()), (1, "session_not_found"));
}

#[test]
fn steps_without_json_is_an_error_with_a_nonzero_exit() {
    let (dir, ..) = recorded();
    let out = agit(dir.path()).args(["steps"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("error: The steps command requires --json."), "{stderr}");
    // The diagnostic code, as JSON would carry it, through a store-less run too.
    let empty = tempfile::tempdir().unwrap();
    let out = agit(empty.path()).args(["steps"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
