//! `agit export` / `agit import` through the real binary (issue 6 items 6 and 7):
//! the reference sample bundle, round trips (directory and archive), the ref policy
//! (create, unchanged, fast-forward, replace, namespace), and every malformed bundle
//! being refused with its reference error name before anything is written.

mod common;
mod recorded;

use std::path::{Path, PathBuf};

use agit_core::{ObjectId, SessionRef, Store};
use common::{agit, run_json, vectors_dir};
use recorded::{clean_turn, empty_store, objects, refs, repo, tree};
use serde_json::{Value, json};

fn vector_bundle() -> PathBuf {
    vectors_dir().join("bundle")
}

fn head(w: &Path, session: &str) -> Option<ObjectId> {
    Store::open(w).unwrap().refs().read(&SessionRef::new("claude", session)).unwrap()
}

/// A recorded repository exported to `<tmp>/bundle`; returns (tmp, workspace, bundle).
fn exported(sessions: &[&str]) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (dir, w) = repo("source");
    for (i, s) in sessions.iter().enumerate() {
        std::fs::write(w.join("notes.txt"), format!("note {i}\n")).unwrap();
        clean_turn(&w, s, &format!("work on {s}"));
    }
    let bundle = dir.path().join("bundle");
    let run = run_json(&w, &["export", bundle.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.envelope);
    (dir, w, bundle)
}

/// The objects the session refs of `w` reach (steps, trees, blobs): what a bundle of
/// every session carries. Blame objects are derived data and stay behind.
fn reachable(w: &Path) -> Vec<(String, Vec<u8>)> {
    let store = Store::open(w).unwrap();
    let mut walker = agit_core::reach::Walker::new(&store);
    for (_, head) in agit_core::reach::session_heads(&store).unwrap() {
        walker.add_chain(head).unwrap();
    }
    let mut out: Vec<(String, Vec<u8>)> = walker
        .into_reached()
        .into_iter()
        .map(|r| {
            let hex = r.id.to_hex();
            (format!("{}/{}", &hex[..2], &hex[2..]), store.read_object(&r.id).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn import_json(w: &Path, args: &[&str]) -> common::JsonRun {
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    run_json(w, &all)
}

fn counters(run: &common::JsonRun) -> [u64; 8] {
    let d = run.data();
    [
        "imported_objects",
        "skipped_objects",
        "cloned_steps",
        "created_refs",
        "replaced_refs",
        "namespaced_refs",
        "unchanged_refs",
        "fast_forwarded_refs",
    ]
    .map(|k| d[k].as_u64().unwrap_or_else(|| panic!("no {k} in {d}")))
}

#[test]
fn the_reference_sample_bundle_imports_and_reexports_identical_objects() {
    let (_d, w) = empty_store("target");
    let run = import_json(&w, &[vector_bundle().to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.envelope);
    assert_eq!(run.data()["bundle_id"], "616b885a25e1a7ec36daffbb94cd5ca8f8cd64c5bf98685915be1a8c01e7cd8c");
    assert_eq!(counters(&run), [9, 0, 0, 1, 0, 0, 0, 0]);
    assert_eq!(run.data()["reconcile"]["repaired"], 1);
    agit(&w).arg("fsck").assert().success();
    let sessions = run_json(&w, &["sessions"]);
    assert!(sessions.envelope.to_string().contains("sess-public"), "{}", sessions.envelope);

    let out = tempfile::tempdir().unwrap();
    let again = out.path().join("again");
    let run = run_json(&w, &["export", again.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.envelope);
    let without_manifest =
        |root: &Path| tree(root).into_iter().filter(|(p, _)| p != "manifest.json").collect::<Vec<_>>();
    assert_eq!(without_manifest(&again), without_manifest(&vector_bundle()));
    let theirs: Value = serde_json::from_slice(&std::fs::read(vector_bundle().join("manifest.json")).unwrap()).unwrap();
    let ours: Value = serde_json::from_slice(&std::fs::read(again.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(ours["objects"], theirs["objects"]);
    assert_eq!(ours["refs"], theirs["refs"]);
    // Field order as the reference writes it (serde_json::Value would sort the keys).
    let text = String::from_utf8(std::fs::read(again.join("manifest.json")).unwrap()).unwrap();
    let positions: Vec<usize> = [
        "bundle_format",
        "bundle_id",
        "producer_version",
        "created_at_ms",
        "repository_hint",
        "filters",
        "object_schema_versions",
        "refs",
        "objects",
        "privacy",
        "encryption",
    ]
    .iter()
    .map(|k| text.find(&format!("\"{k}\":")).unwrap_or_else(|| panic!("{k} missing in {text}")))
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(text.ends_with(r#""privacy":{"clean":true,"findings":0,"report_path":null},"encryption":null}"#), "{text}");
    assert_eq!(ours["repository_hint"], "target");
    assert_eq!(ours["encryption"], Value::Null);
}

#[test]
fn round_trip_into_an_empty_store_is_identical_and_idempotent() {
    let (_d, source, bundle) = exported(&["s1", "s2"]);
    let manifest: Value = serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["refs"].as_array().unwrap().len(), 2);
    // Exactly what the refs reach (blame objects are derived and rebuilt on import).
    assert_eq!(tree(&bundle.join("objects")), reachable(&source));
    let (_t, target) = empty_store("target");

    let out = agit(&target).arg("import").arg(&bundle).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(line.starts_with(&format!("import: path={} bundle=", bundle.display())), "{line}");
    assert!(line.contains(" created_refs=2 ") && line.contains(" reconciled=2"), "{line}");
    assert_eq!(objects(&target), objects(&source), "the same objects, blame (rebuilt) included");
    assert_eq!(refs(&target), refs(&source));
    agit(&target).arg("fsck").assert().success();
    // Blame was rebuilt for the imported steps.
    let blame = run_json(&target, &["blame", "notes.txt"]);
    assert_eq!(blame.code, 0, "{}", blame.envelope);
    assert_eq!(blame.envelope, run_json(&source, &["blame", "notes.txt"]).envelope);

    let again = import_json(&target, &[bundle.to_str().unwrap()]);
    assert_eq!(again.code, 0);
    let [imported, skipped, .., unchanged, _] = counters(&again);
    assert_eq!((imported, unchanged), (0, 2));
    assert!(skipped > 0);
    assert_eq!(objects(&target), objects(&source), "the same objects, blame (rebuilt) included");
}

#[test]
fn a_single_session_bundle_imports_twice_with_unchanged_refs_1() {
    let (_d, _source, bundle) = exported(&["only"]);
    let (_t, target) = empty_store("target");
    assert_eq!(import_json(&target, &[bundle.to_str().unwrap()]).code, 0);
    let again = import_json(&target, &[bundle.to_str().unwrap()]);
    let [imported, skipped, cloned, created, replaced, namespaced, unchanged, ff] = counters(&again);
    assert_eq!((imported, cloned, created, replaced, namespaced, unchanged, ff), (0, 0, 0, 0, 0, 1, 0));
    assert!(skipped > 0);
}

#[test]
fn a_diverged_session_is_namespaced_and_the_clone_keeps_model_outcome_and_git_fields() {
    let (_d, source, bundle) = exported(&["shared-session"]);
    let (_t, target) = repo("target");
    clean_turn(&target, "shared-session", "my own work");
    let mine = head(&target, "shared-session").unwrap();

    let run = import_json(&target, &[bundle.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.envelope);
    let [_, _, cloned, created, _, namespaced, _, ff] = counters(&run);
    assert_eq!((cloned, created, namespaced, ff), (1, 0, 1, 0));
    let short = &run.data()["bundle_id"].as_str().unwrap()[..12];
    let clone_id = format!("shared-session@import-{short}");
    assert_eq!(run.data()["refs"][0]["action"], "namespaced");
    assert_eq!(run.data()["refs"][0]["target_session_id"], clone_id.as_str());
    // The local session is untouched; both are listed.
    assert_eq!(head(&target, "shared-session"), Some(mine));
    let listed = run_json(&target, &["sessions"]).envelope.to_string();
    assert!(listed.contains("\"shared-session\""), "{listed}");
    assert!(listed.contains(&format!("\"{clone_id}\"")), "{listed}");

    let store = Store::open(&target).unwrap();
    let clone = store.read_step(&head(&target, &clone_id).unwrap()).unwrap();
    let original = Store::open(&source).unwrap().read_step(&head(&source, "shared-session").unwrap()).unwrap();
    assert!(original.model.is_some() && original.git_commit.is_some() && original.outcome.is_some(), "{original:?}");
    assert_eq!(clone.session_id, clone_id);
    assert_eq!(
        (&clone.model, &clone.outcome, &clone.git_commit, &clone.git_branch, clone.git_dirty),
        (&original.model, &original.outcome, &original.git_commit, &original.git_branch, original.git_dirty)
    );
    assert_eq!(
        (&clone.messages, &clone.tool_calls, clone.tree),
        (&original.messages, &original.tool_calls, original.tree)
    );
    agit(&target).arg("fsck").assert().success();

    // Importing again finds the clone in place.
    let again = import_json(&target, &[bundle.to_str().unwrap()]);
    let [imported, _, cloned, _, _, namespaced, unchanged, _] = counters(&again);
    assert_eq!((imported, cloned, namespaced, unchanged), (0, 0, 0, 1));
}

#[test]
fn a_local_ref_behind_the_bundle_is_fast_forwarded() {
    let (dir, source) = repo("source");
    clean_turn(&source, "s1", "first");
    let first = dir.path().join("first");
    assert_eq!(run_json(&source, &["export", first.to_str().unwrap()]).code, 0);
    let (_t, target) = empty_store("target");
    assert_eq!(import_json(&target, &[first.to_str().unwrap()]).code, 0);

    std::fs::write(source.join("more.txt"), "more\n").unwrap();
    clean_turn(&source, "s1", "second");
    let second = dir.path().join("second");
    assert_eq!(run_json(&source, &["export", second.to_str().unwrap()]).code, 0);
    let run = import_json(&target, &[second.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.envelope);
    let [_, _, cloned, _, _, namespaced, _, ff] = counters(&run);
    assert_eq!((cloned, namespaced, ff), (0, 0, 1));
    assert_eq!(run.data()["refs"][0]["action"], "fast_forwarded");
    assert_eq!(head(&target, "s1"), head(&source, "s1"));
    let human = agit(&target).arg("import").arg(&first).output().unwrap();
    // The older bundle is contained in the local history now: nothing changes.
    assert!(String::from_utf8(human.stdout).unwrap().contains(" unchanged_refs=1 "));
    assert_eq!(head(&target, "s1"), head(&source, "s1"));
    let log = run_json(&target, &["log", "claude/s1"]);
    assert_eq!(log.code, 0);
    assert_eq!(log.envelope.to_string().matches("\"turn_id\"").count(), 2, "{}", log.envelope);
}

#[test]
fn replace_ref_overwrites_a_diverged_session() {
    let (_d, source, bundle) = exported(&["s1"]);
    let (_t, target) = repo("target");
    clean_turn(&target, "s1", "mine");
    let run = import_json(&target, &["--replace-ref", "claude/s1", bundle.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.envelope);
    let [_, _, cloned, _, replaced, namespaced, _, _] = counters(&run);
    assert_eq!((cloned, replaced, namespaced), (0, 1, 0));
    assert_eq!(head(&target, "s1"), head(&source, "s1"));

    for bad in ["claude", "/s1", "claude/"] {
        let run = import_json(&target, &["--replace-ref", bad, bundle.to_str().unwrap()]);
        assert_eq!((run.code, run.code_str()), (2, "invalid_argument"));
        assert_eq!(run.data()["diagnostic"]["message"], "Invalid --replace-ref value; use origin/session-id.");
    }
}

/// A copy of `bundle` with its manifest rewritten by `edit` (and any file changes made by
/// `files`), imported into a fresh store with one session: the import must fail with
/// `import_failed`, hint `name`, and leave the store exactly as it was.
fn refused(bundle: &Path, name: &str, edit: impl FnOnce(&mut Value), files: impl FnOnce(&Path)) {
    let work = tempfile::tempdir().unwrap();
    let copy = work.path().join("copy");
    for (rel, bytes) in tree(bundle) {
        let path = copy.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let mut manifest: Value = serde_json::from_slice(&std::fs::read(copy.join("manifest.json")).unwrap()).unwrap();
    edit(&mut manifest);
    std::fs::write(copy.join("manifest.json"), serde_json::to_vec(&manifest).unwrap()).unwrap();
    files(&copy);

    let (_t, target) = repo("target");
    clean_turn(&target, "local", "local work");
    let (objects_before, refs_before) = (objects(&target), refs(&target));
    let run = import_json(&target, &[copy.to_str().unwrap()]);
    assert_eq!((run.code, run.code_str()), (1, "import_failed"), "{name}: {}", run.envelope);
    let d = &run.data()["diagnostic"];
    assert_eq!(d["hint"], name, "{}", run.envelope);
    assert_eq!(d["path"], copy.to_str().unwrap());
    assert!(d["message"].as_str().unwrap().starts_with("Failed to import the portable bundle"));
    assert_eq!(objects(&target), objects_before, "{name}: objects were written");
    assert_eq!(refs(&target), refs_before, "{name}: refs were written");
}

fn index_of_kind(m: &Value, kind: &str) -> usize {
    m["objects"].as_array().unwrap().iter().position(|o| o["kind"] == kind).unwrap()
}

fn object_file(m: &Value, i: usize) -> String {
    m["objects"][i]["path"].as_str().unwrap().to_owned()
}

#[test]
fn every_malformed_bundle_is_refused_before_anything_is_written() {
    let (_d, _source, bundle) = exported(&["s1", "s2"]);
    let manifest: Value = serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    let blob = index_of_kind(&manifest, "blob");
    let tree_at = index_of_kind(&manifest, "tree");
    let nothing = |_: &Path| {};

    refused(&bundle, "BundlePathInvalid", |m| m["objects"][0]["path"] = json!("objects/../../../etc/passwd"), nothing);
    refused(&bundle, "BundlePathInvalid", |m| m["objects"][0]["path"] = json!("/etc/passwd"), nothing);
    refused(&bundle, "BundlePathInvalid", |m| m["refs"][0]["path"] = json!("refs/../../x"), nothing);
    refused(&bundle, "BundleRefPathInvalid", |m| m["refs"][0]["session_id"] = json!("other"), nothing);
    refused(&bundle, "BundleObjectPathInvalid", |m| m["objects"][0]["path"] = json!("objects/00/elsewhere"), nothing);
    refused(
        &bundle,
        "BundleObjectSizeMismatch",
        |m| m["objects"][blob]["size"] = json!(m["objects"][blob]["size"].as_u64().unwrap() + 1),
        nothing,
    );
    let blob_file = object_file(&manifest, blob);
    refused(
        &bundle,
        "BundleHashMismatch",
        |_| {},
        |copy| {
            let path = copy.join(&blob_file);
            let mut bytes = std::fs::read(&path).unwrap();
            bytes[0] ^= 0x20;
            std::fs::write(path, bytes).unwrap();
        },
    );
    refused(&bundle, "BundleKindMismatch", |m| m["objects"][tree_at]["kind"] = json!("blob"), nothing);
    refused(&bundle, "BundleKindMismatch", |m| m["objects"][blob]["kind"] = json!("tree"), nothing);
    refused(&bundle, "BundleKindMismatch", |m| m["objects"][blob]["kind"] = json!("sock"), nothing);
    refused(
        &bundle,
        "BundleReachabilityMissingObject",
        |m| {
            m["objects"].as_array_mut().unwrap().remove(blob);
        },
        nothing,
    );
    refused(
        &bundle,
        "BundleDuplicateObject",
        |m| {
            let first = m["objects"][0].clone();
            m["objects"].as_array_mut().unwrap().push(first);
        },
        nothing,
    );
    refused(
        &bundle,
        "BundleDuplicateRef",
        |m| {
            let first = m["refs"][0].clone();
            m["refs"].as_array_mut().unwrap().push(first);
        },
        nothing,
    );
    refused(
        &bundle,
        "BundleMissingHeadObject",
        |m| m["refs"][0]["head_hash"] = json!(ObjectId::of(b"absent").to_hex()),
        nothing,
    );
    refused(&bundle, "InvalidHash", |m| m["refs"][0]["head_hash"] = json!("xyz"), nothing);
    refused(&bundle, "InvalidHash", |m| m["bundle_id"] = json!("not-hex"), nothing);
    refused(&bundle, "UnsupportedBundleFormat", |m| m["bundle_format"] = json!("agit-bundle-v2"), nothing);
    refused(&bundle, "UnsupportedBundleEncryption", |m| m["encryption"] = json!({}), nothing);
    refused(&bundle, "UnknownField", |m| m["extra"] = json!(1), nothing);
    refused(
        &bundle,
        "MissingField",
        |m| {
            m.as_object_mut().unwrap().remove("refs");
        },
        nothing,
    );
    refused(&bundle, "BundleMissingRefs", |m| m["refs"] = json!([]), nothing);
    refused(&bundle, "FileNotFound", |_| {}, |copy| std::fs::remove_file(copy.join(&blob_file)).unwrap());
    refused(&bundle, "FileNotFound", |_| {}, |copy| std::fs::remove_file(copy.join("manifest.json")).unwrap());
    refused(&bundle, "FileNotFound", |m| m["privacy"]["report_path"] = json!("privacy-report.json"), nothing);
    // A symlink in place of an object (to a file with the right content) is refused too.
    refused(
        &bundle,
        "BundlePathInvalid",
        |_| {},
        |copy| {
            let path = copy.join(&blob_file);
            let real = copy.join("real");
            std::fs::rename(&path, &real).unwrap();
            std::os::unix::fs::symlink(&real, &path).unwrap();
        },
    );
}

#[test]
fn a_namespaced_ref_conflict_is_refused_before_anything_is_written() {
    let (_d, _source, bundle) = exported(&["s1"]);
    let manifest: Value = serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    let short = &manifest["bundle_id"].as_str().unwrap()[..12];
    let (_t, target) = repo("target");
    clean_turn(&target, "s1", "mine");
    clean_turn(&target, &format!("s1@import-{short}"), "squatting the namespaced id");
    let (objects_before, refs_before) = (objects(&target), refs(&target));
    let run = import_json(&target, &[bundle.to_str().unwrap()]);
    assert_eq!((run.code, run.code_str()), (1, "import_failed"));
    assert_eq!(run.data()["diagnostic"]["hint"], "BundleRefConflict");
    assert_eq!((objects(&target), refs(&target)), (objects_before, refs_before));
}

#[test]
fn import_usage_and_missing_paths() {
    let (_t, target) = empty_store("target");
    let out = agit(&target).arg("import").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let run = import_json(&target, &["does-not-exist"]);
    assert_eq!((run.code, run.code_str()), (1, "import_failed"));
    assert_eq!(run.data()["diagnostic"]["hint"], "FileNotFound");
    let not_bundle = target.join("plain.txt");
    std::fs::write(&not_bundle, "hello").unwrap();
    let run = import_json(&target, &["plain.txt"]);
    assert_eq!(run.data()["diagnostic"]["hint"], "BundleArchiveInvalid");
}

#[test]
fn export_arguments_selection_and_target_checks() {
    let (dir, w) = repo("source");
    clean_turn(&w, "s1", "one");
    let out = dir.path().join("out");
    let target = out.to_str().unwrap();
    for (args, message) in [
        (vec!["--since", "2026-02-30"], "Invalid --since date; use YYYY-MM-DD."),
        (vec!["--until", "26-01-01"], "Invalid --until date; use YYYY-MM-DD."),
        (
            vec!["--since", "2026-05-02", "--until", "2026-05-01"],
            "--since must be earlier than --until (the --until date is exclusive).",
        ),
        (vec!["--session", "nosuchslash"], "Invalid --session value; use origin/session-id."),
    ] {
        let mut all = vec!["export"];
        all.extend(args);
        all.push(target);
        let run = run_json(&w, &all);
        assert_eq!((run.code, run.code_str()), (2, "invalid_argument"), "{}", run.envelope);
        assert_eq!(run.data()["diagnostic"]["message"], message);
    }
    for filter in [vec!["--origin", "codex"], vec!["--session", "claude/other"], vec!["--since", "2999-01-01"]] {
        let mut all = vec!["export"];
        all.extend(filter);
        all.push(target);
        let run = run_json(&w, &all);
        assert_eq!((run.code, run.code_str()), (1, "no_matching_sessions"));
    }
    assert!(!out.exists());
    // --session and a date window that includes today select the session.
    let run = run_json(&w, &["export", "--session", "claude/s1", "--since", "2000-01-01", target]);
    assert_eq!(run.code, 0, "{}", run.envelope);
    assert_eq!((run.data()["exported_refs"].as_u64(), run.data()["archive"].as_bool()), (Some(1), Some(false)));
    let manifest: Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["filters"],
        json!({"origin": null, "session": "claude/s1", "since": "2000-01-01", "until": null})
    );
    // Not empty any more.
    let run = run_json(&w, &["export", target]);
    assert_eq!((run.code, run.code_str()), (1, "export_failed"));
    assert_eq!(run.data()["diagnostic"]["hint"], "BundlePathNotEmpty");
}

#[test]
fn export_refuses_a_corrupt_store_and_ignores_stale_lock_files() {
    let (dir, w) = repo("source");
    clean_turn(&w, "s1", "one");
    // A lock file left under refs/sessions (the reference aborted on it).
    let session_dir = w.join(".agit/refs/sessions").join(hex::encode("claude"));
    std::fs::write(session_dir.join(format!("{}.lock", hex::encode("s1"))), b"").unwrap();
    let ok = dir.path().join("ok");
    assert_eq!(run_json(&w, &["export", ok.to_str().unwrap()]).code, 0);

    // Corrupt one object: fsck fails and nothing is created.
    let (file, _) = objects(&w).into_iter().next().unwrap();
    let path = w.join(".agit/objects").join(file);
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::write(&path, b"garbage").unwrap();
    let bad = dir.path().join("bad");
    let run = run_json(&w, &["export", bad.to_str().unwrap()]);
    assert_eq!((run.code, run.code_str()), (1, "fsck_failed"));
    assert_eq!(run.data()["diagnostic"]["message"], "Refusing to export from a corrupt local store.");
    assert!(
        run.data()["diagnostic"]["hint"]
            .as_str()
            .unwrap()
            .starts_with("Run `agit fsck` to inspect integrity findings before retrying.")
    );
    assert!(!bad.exists());

    // A corrupt ref met while selecting by date is reported the same way.
    let ref_file = session_dir.join(hex::encode("s1"));
    std::fs::write(&ref_file, b"not a hash\n").unwrap();
    let run = run_json(&w, &["export", "--since", "2000-01-01", bad.to_str().unwrap()]);
    assert_eq!((run.code, run.code_str()), (1, "fsck_failed"), "{}", run.envelope);
    assert!(!bad.exists());
}

#[test]
fn archives_round_trip_and_are_recognised_by_content() {
    let (dir, source) = repo("source");
    clean_turn(&source, "s1", "one");
    clean_turn(&source, "a-much-longer-session-identifier-0123456789abcdef-0123456789abcdef", "two");
    let archive = dir.path().join("dist/history.tar.zst");
    let run = run_json(&source, &["export", "--archive", archive.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.envelope);
    assert_eq!(run.data()["archive"], true);
    assert_eq!(&std::fs::read(&archive).unwrap()[..4], &[0x28, 0xB5, 0x2F, 0xFD]);
    // An archive is never overwritten.
    let run = run_json(&source, &["export", "--archive", archive.to_str().unwrap()]);
    assert_eq!(run.data()["diagnostic"]["hint"], "PathAlreadyExists");

    let (_t, target) = empty_store("target");
    let renamed = dir.path().join("history.bin");
    std::fs::copy(&archive, &renamed).unwrap();
    let run = import_json(&target, &[renamed.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.envelope);
    assert_eq!(counters(&run)[3], 2);
    assert_eq!(objects(&target), objects(&source), "the same objects, blame (rebuilt) included");
    assert_eq!(refs(&target), refs(&source));
}

/// A ustar entry with a raw name (as a hostile producer would write it).
fn tar_entry(name: &str, kind: u8, data: &[u8]) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[148..156].copy_from_slice(b"        ");
    h[156] = kind;
    if kind == b'2' {
        h[157..168].copy_from_slice(b"/etc/passwd");
    }
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

/// A zstd frame of raw (stored) blocks: valid zstd that any decoder reads.
fn zstd_stored(data: &[u8]) -> Vec<u8> {
    const BLOCK: usize = 128 * 1024;
    // Magic, frame header descriptor (no size, no checksum), window 128 KiB.
    let mut out = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38];
    let chunks: Vec<&[u8]> = if data.is_empty() { vec![&[][..]] } else { data.chunks(BLOCK).collect() };
    for (i, chunk) in chunks.iter().enumerate() {
        let last = u32::from(i + 1 == chunks.len());
        let header = ((chunk.len() as u32) << 3) | last;
        out.extend_from_slice(&header.to_le_bytes()[..3]);
        out.extend_from_slice(chunk);
    }
    out
}

#[test]
fn a_malicious_archive_is_refused_and_writes_nothing_anywhere() {
    let (_d, _source, bundle) = exported(&["s1"]);
    let manifest = std::fs::read(bundle.join("manifest.json")).unwrap();
    let (_t, target) = empty_store("target");
    let scratch = tempfile::tempdir().unwrap();
    for (name, kind, what) in [
        ("../evil", b'0', "`..`"),
        ("objects/../../evil", b'0', "`..`"),
        ("/tmp/evil-agit-test", b'0', "absolute"),
        ("evil-link", b'2', "Symlink"),
        ("evil-fifo", b'6', "Fifo"),
    ] {
        let mut tar = tar_entry("manifest.json", b'0', &manifest);
        tar.extend(tar_entry(name, kind, b"pwned"));
        tar.extend([0u8; 1024]);
        let archive = scratch.path().join("evil.tar.zst");
        std::fs::write(&archive, zstd_stored(&tar)).unwrap();
        let tmp = scratch.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let out = agit(&target).env("TMPDIR", &tmp).args(["--json", "import"]).arg(&archive).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let envelope: Value = serde_json::from_slice(&out.stdout).unwrap();
        let d = &envelope["data"]["diagnostic"];
        assert_eq!(
            (d["code"].as_str(), d["hint"].as_str()),
            (Some("import_failed"), Some("BundleArchiveInvalid")),
            "{name}"
        );
        assert!(d["message"].as_str().unwrap().contains(what), "{name}: {d}");
        assert!(objects(&target).is_empty() && refs(&target).is_empty());
        // Nothing escaped the unpack directory, and the unpack directory is gone.
        assert!(!tmp.join("evil").exists() && !scratch.path().join("evil").exists());
        assert!(!Path::new("/tmp/evil-agit-test").exists());
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "{name}: temp directory left behind");
    }
    // The same hand-made container with only the bundle's files imports fine.
    let mut tar = Vec::new();
    for (rel, bytes) in tree(&bundle) {
        if rel != "manifest.json" {
            tar.extend(tar_entry(&rel, b'0', &bytes));
        }
    }
    tar.extend(tar_entry("manifest.json", b'0', &manifest));
    tar.extend([0u8; 1024]);
    let archive = scratch.path().join("good.tar.zst");
    std::fs::write(&archive, zstd_stored(&tar)).unwrap();
    let run = import_json(&target, &[archive.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.envelope);
}
