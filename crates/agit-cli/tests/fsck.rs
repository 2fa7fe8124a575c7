//! `agit fsck` through the real binary: each injected fault is detected with its code;
//! healthy stores (recorded through the real hook commands) are `fsck: ok`.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use agit_core::object::sniff_kind;
use agit_core::store::pack::{PackInput, write_pack};
use agit_core::{ObjectId, Store};
use common::{agit, normalize, place_object, place_ref, run_json};
use serde_json::Value;

/// A repository recorded by `agit demo` (the same hook commands Claude Code runs).
fn demo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    agit(dir.path()).args(["demo", "--dir"]).arg(&repo).assert().success();
    (dir, repo)
}

fn codes(run: &common::JsonRun) -> Vec<String> {
    run.data()["checks"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_owned()).collect()
}

fn check<'a>(run: &'a common::JsonRun, code: &str) -> &'a Value {
    run.data()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .unwrap_or_else(|| panic!("no `{code}` in {:#}", run.data()))
}

fn fsck_human(dir: &Path) -> (i32, String) {
    let out = agit(dir).arg("fsck").output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap())
}

/// Every loose object file, sorted.
fn loose_files(repo: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(repo.join(".agit/objects")).unwrap().flatten() {
        if shard.file_name() == "pack" {
            continue;
        }
        for f in std::fs::read_dir(shard.path()).unwrap().flatten() {
            out.push(f.path());
        }
    }
    out.sort();
    out
}

/// Objects are read-only (0444): make one writable before damaging it.
fn overwrite(path: &Path, bytes: &[u8]) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn step_json(tree: &str, parent: Option<&str>, origin: &str, session: &str, turn: &str) -> String {
    let parent = parent.map_or("null".to_owned(), |p| format!("\"{p}\""));
    format!(
        r#"{{"type":"step","parent":{parent},"tree":"{tree}","session_id":"{session}","origin":"{origin}","model":null,"turn_id":"{turn}","causes":[],"timestamp":5,"messages":[],"tool_calls":[],"outcome":null,"git_commit":null,"git_branch":null,"git_dirty":null}}"#
    )
}

fn tree_json(path: &str, blob: &str, size: usize) -> String {
    format!(r#"{{"type":"tree","entries":[{{"path":"{path}","blob":"{blob}","mode":"file","size":{size}}}]}}"#)
}

/// An initialized store with one session (codex/s1: step → tree → blob) placed by hand.
/// Returns (dir, blob, tree, step).
fn hand_store() -> (tempfile::TempDir, String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    agit(dir.path()).arg("init").arg("--no-hooks").assert().success();
    let blob = place_object(dir.path(), b"hello\n");
    let tree = place_object(dir.path(), tree_json("a.txt", &blob, 6).as_bytes());
    let step = place_object(dir.path(), step_json(&tree, None, "codex", "s1", "t1").as_bytes());
    place_ref(dir.path(), "codex", "s1", format!("{step}\n").as_bytes());
    agit(dir.path()).arg("reindex").assert().success();
    (dir, blob, tree, step)
}

fn object_path(dir: &Path, hex: &str) -> PathBuf {
    dir.join(".agit/objects").join(&hex[..2]).join(&hex[2..])
}

#[test]
fn a_recorded_store_is_ok_and_the_json_shape_is_stable() {
    let (_dir, repo) = demo();
    let (code, stdout) = fsck_human(&repo);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.lines().last().unwrap().starts_with("fsck: ok (objects="), "{stdout}");
    assert!(!stdout.contains('✗') && !stdout.contains(" ! "), "{stdout}");
    assert!(stdout.contains("  ✓ Validated"), "{stdout}");

    let run = run_json(&repo, &["fsck"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.data()["healthy"], true);
    assert_eq!(run.data()["repair"], Value::Null);
    assert_eq!(run.data()["stats"]["reachable_sessions"], 1);
    insta::assert_json_snapshot!("fsck_healthy_json", normalize(run.envelope.clone(), &repo));
}

#[test]
fn outside_a_store_is_store_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_json(dir.path(), &["fsck"]);
    assert_eq!((run.code, run.code_str()), (1, "store_not_found"));
}

#[test]
fn a_flipped_byte_in_a_loose_object_is_a_hash_mismatch() {
    let (_dir, repo) = demo();
    let first = loose_files(&repo).remove(0);
    let mut bytes = std::fs::read(&first).unwrap();
    bytes[0] ^= 0x01;
    overwrite(&first, &bytes);
    let run = run_json(&repo, &["fsck"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.data()["healthy"], false);
    let c = check(&run, "object_hash_mismatch");
    assert_eq!(c["status"], "error");
    assert_eq!(c["message"], "Loose object content does not match its BLAKE3 path.");
    assert!(c["path"].as_str().unwrap().starts_with(".agit/objects/"), "{c}");
    // The reference e2e: the whole file replaced.
    overwrite(&first, b"corrupt-object");
    let (code, stdout) = fsck_human(&repo);
    assert_eq!(code, 1);
    assert!(stdout.contains("  ✗ Loose object content does not match its BLAKE3 path."), "{stdout}");
    assert!(stdout.contains("      path: .agit/objects/"), "{stdout}");
    assert!(stdout.lines().last().unwrap().starts_with("fsck: corrupt ("), "{stdout}");
}

/// Move every loose object of the demo store into one AGITPK2 pack (kinds as gc would
/// know them; sniffing is fine for this fixture) and delete the loose copies.
fn pack_everything(repo: &Path) -> PathBuf {
    let store = Store::open(repo).unwrap();
    let files = loose_files(repo);
    let inputs: Vec<PackInput> = files
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).unwrap();
            PackInput { id: ObjectId::of(&bytes), kind: sniff_kind(&bytes), bytes, delta_base_hint: None }
        })
        .collect();
    let info = write_pack(&store.pack_dir(), inputs).unwrap();
    for path in files {
        std::fs::remove_file(path).unwrap();
    }
    info.path
}

#[test]
fn packed_stores_are_verified_entry_by_entry() {
    let (_dir, repo) = demo();
    let pack = pack_everything(&repo);
    let run = run_json(&repo, &["fsck"]);
    assert_eq!(run.code, 0, "{:#}", run.data());
    assert_eq!(run.data()["stats"]["object_files"], 0);
    assert!(run.data()["stats"]["packed_objects"].as_u64().unwrap() > 0);

    // A flipped byte inside an entry (past the 16-byte header and the first entry header).
    let original = std::fs::read(&pack).unwrap();
    let mut bytes = original.clone();
    bytes[16 + 64 + 2] ^= 0x40;
    overwrite(&pack, &bytes);
    let run = run_json(&repo, &["fsck"]);
    assert_eq!(run.code, 1);
    let c = check(&run, "pack_read_failed");
    assert_eq!(c["status"], "error");
    assert!(c["message"].as_str().unwrap().starts_with("Packed object file could not be parsed: "), "{c}");
    assert!(c["path"].as_str().unwrap().starts_with(".agit/objects/pack/"), "{c}");
    assert!(c["hint"].as_str().is_some(), "{c}");

    // A truncated pack.
    overwrite(&pack, &original[..original.len() - 20]);
    let run = run_json(&repo, &["fsck"]);
    assert_eq!(run.code, 1);
    assert_eq!(check(&run, "pack_read_failed")["status"], "error");
}

#[test]
fn a_missing_blob_is_reported_and_the_json_is_stable() {
    let (dir, blob, tree, _step) = hand_store();
    std::fs::remove_file(object_path(dir.path(), &blob)).unwrap();
    let run = run_json(dir.path(), &["fsck"]);
    assert_eq!(run.code, 1);
    let c = check(&run, "tree_blob_missing");
    assert_eq!((c["status"].as_str(), c["hash"].as_str()), (Some("error"), Some(blob.as_str())));
    assert_eq!(c["message"], "Tree entry points at a missing blob object.");
    insta::assert_json_snapshot!("fsck_missing_blob_json", normalize(run.envelope.clone(), dir.path()));
    let (code, stdout) = fsck_human(dir.path());
    assert_eq!(code, 1);
    insta::assert_snapshot!("fsck_missing_blob_human", stdout.replace(&blob, "[blob]").replace(&tree, "[tree]"));
}

#[test]
fn a_dangling_parent_is_step_parent_missing() {
    let (dir, _blob, tree, _step) = hand_store();
    let ghost = "ab".repeat(32);
    let child = place_object(dir.path(), step_json(&tree, Some(&ghost), "codex", "s1", "t2").as_bytes());
    place_ref(dir.path(), "codex", "s1", format!("{child}\n").as_bytes());
    let run = run_json(dir.path(), &["fsck"]);
    assert_eq!(run.code, 1);
    let c = check(&run, "step_parent_missing");
    assert_eq!(c["hash"], ghost.as_str());
    assert_eq!(c["message"], "Step parent points at a missing object.");
}

#[test]
fn bad_refs_are_reported_with_their_codes() {
    let (dir, blob, _tree, step) = hand_store();
    place_ref(dir.path(), "codex", "bad", b"not-a-hash\n");
    let run = run_json(dir.path(), &["fsck"]);
    assert_eq!(run.code, 1);
    let c = check(&run, "ref_invalid_hash");
    assert_eq!(c["message"], "Session ref must contain exactly one 64-character hash.");
    assert_eq!(c["path"], format!(".agit/refs/sessions/{}/{}", hex::encode("codex"), hex::encode("bad")).as_str());

    place_ref(dir.path(), "codex", "bad", format!("{blob}\n").as_bytes());
    assert_eq!(check(&run_json(dir.path(), &["fsck"]), "ref_not_step")["hash"], blob.as_str());
    place_ref(dir.path(), "codex", "bad", format!("{}\n", "cd".repeat(32)).as_bytes());
    check(&run_json(dir.path(), &["fsck"]), "ref_missing_object");
    place_ref(dir.path(), "codex", "bad", format!("{step}\n").as_bytes());
    check(&run_json(dir.path(), &["fsck"]), "ref_session_mismatch");
    std::fs::remove_file(dir.path().join(".agit/refs/sessions").join(hex::encode("codex")).join(hex::encode("bad")))
        .unwrap();
    std::fs::write(dir.path().join(".agit/refs/sessions/stray"), b"x").unwrap();
    let run = run_json(dir.path(), &["fsck"]);
    assert_eq!(
        check(&run, "ref_path_invalid")["message"],
        "Session ref path does not use refs/sessions/<origin-hex>/<session-hex> layout."
    );
}

/// A step chain cycle would need two steps whose parents name each other, i.e. a BLAKE3
/// fixpoint (each step's bytes contain the other's hash, which depends on its own bytes);
/// a step naming itself as parent is impossible for the same reason, and every read
/// verifies the hash, so no file placed by hand can fake one. What is testable here: a
/// chain that reaches a step another ref already walked is not a cycle. The cycle guard
/// itself is tested in `agit-core` (`fsck::tests::the_chain_walk_stops_on_a_cycle`) with
/// a stubbed reader.
#[test]
fn shared_history_is_not_a_cycle() {
    let (dir, _blob, tree, step) = hand_store();
    let child = place_object(dir.path(), step_json(&tree, Some(&step), "codex", "s1", "t2").as_bytes());
    place_ref(dir.path(), "codex", "s1", format!("{child}\n").as_bytes());
    agit(dir.path()).arg("reindex").assert().success();
    let run = run_json(dir.path(), &["fsck"]);
    assert_eq!(run.code, 0, "{:#}", run.data());
    assert!(!codes(&run).contains(&"step_chain_cycle".to_owned()));
    assert_eq!(run.data()["stats"]["reachable_steps"], 2);
}

#[test]
fn a_stale_index_is_drift_and_reindex_repairs_it() {
    let (_dir, repo) = demo();
    {
        let store = Store::open(&repo).unwrap();
        let index = agit_core::index::Index::open_existing(&store).unwrap().unwrap();
        index.conn().execute_batch("pragma foreign_keys=off; delete from steps").unwrap();
    }
    let run = run_json(&repo, &["fsck"]);
    assert_eq!(run.code, 0, "warnings alone exit 0");
    let c = check(&run, "index_steps_drift");
    assert_eq!(c["status"], "warn");
    assert!(c["message"].as_str().unwrap().starts_with("Step index drift detected: missing=3 extra=0"), "{c}");
    assert_eq!(c["hint"], "Run `agit fsck --reindex` or `agit reindex` to rebuild the query index.");
    let (code, stdout) = fsck_human(&repo);
    assert_eq!(code, 0);
    assert!(stdout.contains("  ! Step index drift detected"), "{stdout}");
    assert!(stdout.lines().last().unwrap().starts_with("fsck: warnings ("), "{stdout}");

    let run = run_json(&repo, &["fsck", "--reindex"]);
    assert_eq!(run.code, 0);
    assert_eq!(check(&run, "index_ok")["status"], "ok");
    assert_eq!(run.data()["repair"], serde_json::json!({"sessions": 1, "steps": 3}));
    assert!(!codes(&run).contains(&"index_steps_drift".to_owned()));
}

#[test]
fn reindex_is_skipped_when_the_store_is_corrupt() {
    let (dir, blob, _tree, _step) = hand_store();
    std::fs::remove_file(object_path(dir.path(), &blob)).unwrap();
    let run = run_json(dir.path(), &["fsck", "--reindex"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.data()["repair"], Value::Null);
    check(&run, "reindex_skipped");
}

#[test]
fn a_workspace_file_that_looks_like_a_step_stays_a_blob() {
    let dir = tempfile::tempdir().unwrap();
    agit(dir.path()).arg("init").arg("--no-hooks").assert().success();
    // Minified, `"type":"step"` at top level, but not a valid step: sniffing would call it
    // an invalid step (the reference's false `object_schema_invalid`).
    let fake = r#"{"type":"step","note":"a fixture file in the user's repository"}"#;
    let blob = place_object(dir.path(), fake.as_bytes());
    let tree = place_object(dir.path(), tree_json("fixture.json", &blob, fake.len()).as_bytes());
    let step = place_object(dir.path(), step_json(&tree, None, "codex", "s1", "t1").as_bytes());
    place_ref(dir.path(), "codex", "s1", format!("{step}\n").as_bytes());
    agit(dir.path()).arg("reindex").assert().success();
    let run = run_json(dir.path(), &["fsck"]);
    assert_eq!(run.code, 0, "{:#}", run.data());
    let codes = codes(&run);
    for bad in ["object_schema_invalid", "tree_blob_not_blob", "object_unknown_type", "index_objects_drift"] {
        assert!(!codes.contains(&bad.to_owned()), "{bad} in {codes:?}");
    }
}

#[test]
fn unreferenced_objects_are_sniffed_and_evals_are_known() {
    let (dir, ..) = hand_store();
    let widget = place_object(dir.path(), br#"{"type":"widget","x":1}"#);
    place_object(dir.path(), br#"{"type":"eval","x":1}"#);
    // Reindex records both objects (and reports that the eval does not decode).
    agit(dir.path()).arg("reindex").assert().code(1);
    let run = run_json(dir.path(), &["fsck"]);
    assert_eq!(run.code, 0, "warnings alone exit 0");
    let c = check(&run, "object_unknown_type");
    assert_eq!((c["status"].as_str(), c["hash"].as_str()), (Some("warn"), Some(widget.as_str())));
    assert_eq!(c["message"], "Loose JSON object declares unsupported type `widget`.");
    assert_eq!(codes(&run).iter().filter(|c| *c == "object_unknown_type").count(), 1, "eval is a known kind");
    assert!(!codes(&run).contains(&"index_objects_drift".to_owned()));
}

#[test]
fn staging_quarantine_and_locks() {
    let (dir, ..) = hand_store();
    let agit_dir = dir.path().join(".agit");
    std::fs::write(agit_dir.join("tmp/aa.json"), b"{\"op\":\"message\",\"role\":\"user\",\"content\":\"hi\"}\n")
        .unwrap();
    let run = run_json(dir.path(), &["fsck"]);
    assert_eq!(run.code, 0);
    assert_eq!(check(&run, "staging_pending")["status"], "info");
    assert!(!codes(&run).contains(&"mutable_area_ok".to_owned()));

    std::fs::write(agit_dir.join("tmp/bb.json"), b"{\"op\":\"message\"}\n{torn").unwrap();
    std::fs::create_dir_all(agit_dir.join("log/corrupt-staging")).unwrap();
    std::fs::write(agit_dir.join("log/corrupt-staging/cc.json"), b"x").unwrap();
    let run = run_json(dir.path(), &["fsck"]);
    assert_eq!(run.code, 0, "warnings alone exit 0");
    assert_eq!(
        check(&run, "staging_corrupt")["message"],
        "Mutable staging area contains 1 corrupt JSON file(s) and 0 unreadable file(s)."
    );
    assert_eq!(check(&run, "staging_quarantined")["status"], "warn");

    // A released lock file (even one with a leftover record) is normal; a held one is reported.
    let lock_path = agit_dir.join("gc.lock");
    std::fs::write(&lock_path, b"{\"pid\":1,\"started_at\":0,\"exe_path\":\"x\",\"hostname\":\"h\"}\n").unwrap();
    let run = run_json(dir.path(), &["fsck"]);
    assert!(!codes(&run).iter().any(|c| c.starts_with("lock_")), "{:?}", codes(&run));
    let held = agit_core::store::lock::acquire(
        &lock_path,
        agit_core::store::LockMode::Exclusive,
        std::time::Duration::from_secs(1),
    )
    .unwrap();
    let run = run_json(dir.path(), &["fsck"]);
    let c = check(&run, "lock_present");
    assert_eq!(c["status"], "info");
    assert!(c["message"].as_str().unwrap().contains(&format!("pid={}", std::process::id())), "{c}");
    assert_eq!(c["path"], ".agit/gc.lock");
    drop(held);
}

#[test]
fn the_scan_creates_and_modifies_nothing() {
    let (_dir, repo) = demo();
    let listing = |root: &Path| {
        let mut out = Vec::new();
        let mut stack = vec![root.join(".agit")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let meta = e.metadata().unwrap();
                if meta.is_dir() {
                    stack.push(e.path());
                }
                out.push((e.path(), meta.len(), meta.modified().unwrap()));
            }
        }
        out.sort();
        out
    };
    let before = listing(&repo);
    agit(&repo).arg("fsck").assert().success();
    assert_eq!(listing(&repo), before);
}
