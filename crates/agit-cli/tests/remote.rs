//! `agit remote`, `push` and `pull` through the real binary, against directory remotes
//! and a real SeaweedFS S3 server (SigV4 enforced, conditional writes) started on free
//! loopback ports: round trips, repeat pushes that send nothing, encryption, the privacy
//! gate, every conflict reported, a 16-writer ref race, and a server killed or hung
//! mid-push.

mod common;
#[path = "../src/commands/bench/seaweed.rs"]
mod seaweed;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{LazyLock, Mutex};

use common::{JsonRun, agit, hook_ok};
use seaweed::Seaweed;
use serde_json::Value;

const KEY_ENV: &str = "AGIT_TEST_S3_KEY";
const SECRET_ENV: &str = "AGIT_TEST_S3_SECRET";
const ENC_ENV: &str = "AGIT_TEST_ENCRYPTION";
const ENC_SECRET: &str = "correct horse battery staple";

/// One server per test binary; tests use their own key prefixes.
static SERVER: LazyLock<Mutex<Seaweed>> = LazyLock::new(|| {
    let weed = seaweed::find_weed()
        .expect("SeaweedFS not found: run scripts/test.sh (it installs .venv-s3) or set AGIT_TEST_WEED");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("seaweed-{}", std::process::id()));
    Mutex::new(Seaweed::start(&weed, &dir).unwrap_or_else(|e| panic!("{e}")))
});

fn endpoint() -> String {
    SERVER.lock().unwrap_or_else(|e| e.into_inner()).endpoint()
}

fn unique_prefix(name: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{name}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Run agit with the test credentials (and `extra`) in the environment.
fn run(dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut cmd = agit(dir);
    cmd.env(KEY_ENV, seaweed::ACCESS_KEY).env(SECRET_ENV, seaweed::SECRET_KEY).args(args);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run agit");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn run_json(dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> JsonRun {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = run(dir, &all, extra);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "one JSON line expected, got {stdout:?}; stderr {}",
        String::from_utf8_lossy(&out.stderr)
    );
    JsonRun {
        code: out.status.code().unwrap(),
        envelope: serde_json::from_str(lines[0]).unwrap(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Value {
    let r = run_json(dir, args, extra);
    assert_eq!(r.code, 0, "{args:?}: {} {}", r.envelope, r.stderr);
    r.data().clone()
}

/// A store (no git) where each `(session, prompts)` is recorded through the Claude hooks;
/// every turn edits a file so snapshots differ.
fn recorded(sessions: &[(&str, &[&str])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    agit(dir.path()).args(["init", "--no-hooks"]).assert().success();
    record(dir.path(), sessions);
    dir
}

fn record(dir: &Path, sessions: &[(&str, &[&str])]) {
    let cwd = dir.display().to_string();
    for (session, prompts) in sessions {
        for prompt in *prompts {
            std::fs::write(dir.join("notes.txt"), format!("{session}: {prompt}\n")).unwrap();
            std::fs::write(dir.join(format!("{session}.txt")), format!("{prompt}\n")).unwrap();
            let user = serde_json::json!({"session_id": session, "cwd": cwd, "hook_event_name": "UserPromptSubmit", "prompt": prompt});
            hook_ok(dir, &["claude-hook", "user"], user.to_string().as_bytes(), &[]);
            let stop = serde_json::json!({"session_id": session, "cwd": cwd, "hook_event_name": "Stop", "last_assistant_message": format!("did {prompt}")});
            hook_ok(dir, &["claude-hook", "assistant"], stop.to_string().as_bytes(), &[]);
        }
    }
}

fn files_under(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                let rel = path.strip_prefix(base).unwrap().display().to_string();
                if !rel.ends_with(".lock") {
                    out.insert(rel, std::fs::read(&path).unwrap());
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Object files by path; temp files a killed writer left behind (`.tmp-*`, removed by
/// gc once old) are not objects.
fn objects(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = files_under(&dir.join(".agit/objects"));
    files.retain(|name, _| !name.contains("/.tmp-"));
    files
}

/// Same object files with the same bytes; on failure, name the differing files only.
fn assert_same_objects(a: &Path, b: &Path) {
    let (left, right) = (objects(a), objects(b));
    let only_left: Vec<&String> = left.keys().filter(|k| !right.contains_key(*k)).collect();
    let only_right: Vec<&String> = right.keys().filter(|k| !left.contains_key(*k)).collect();
    let differ: Vec<&String> =
        left.iter().filter(|(k, v)| right.get(*k).is_some_and(|w| w != *v)).map(|(k, _)| k).collect();
    assert!(
        only_left.is_empty() && only_right.is_empty() && differ.is_empty(),
        "objects differ: only in {}: {only_left:?}; only in {}: {only_right:?}; different bytes: {differ:?}",
        a.display(),
        b.display()
    );
}

fn session_refs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(&dir.join(".agit/refs/sessions"))
}

fn add_file_remote(dir: &Path, name: &str, target: &Path, extra: &[&str]) {
    let url = format!("file://{}", target.display());
    let mut args = vec!["remote", "add", name, url.as_str()];
    args.extend_from_slice(extra);
    ok(dir, &args, &[]);
}

fn add_s3_remote(dir: &Path, name: &str, prefix: &str, extra: &[&str]) {
    let url = format!("s3://{}/{prefix}", seaweed::BUCKET);
    let endpoint = endpoint();
    let mut args = vec![
        "remote",
        "add",
        name,
        &url,
        "--endpoint",
        &endpoint,
        "--access-key-env",
        KEY_ENV,
        "--secret-key-env",
        SECRET_ENV,
    ];
    args.extend_from_slice(extra);
    ok(dir, &args, &[]);
}

fn empty_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    agit(dir.path()).args(["init", "--no-hooks"]).assert().success();
    dir
}

#[test]
fn remote_add_list_remove_and_their_errors() {
    let w = empty_store();
    let d = w.path();
    assert_eq!(ok(d, &["remote", "list"], &[])["remotes"], serde_json::json!([]));
    add_file_remote(d, "backup", Path::new("/tmp/agit-backup"), &[]);
    ok(
        d,
        &[
            "remote",
            "add",
            "team",
            "s3://bucket/team/x",
            "--endpoint",
            "http://127.0.0.1:9000",
            "--region",
            "eu-west-1",
        ],
        &[],
    );
    let list = ok(d, &["remote", "list"], &[]);
    let remotes = list["remotes"].as_array().unwrap();
    assert_eq!(remotes.len(), 2);
    assert_eq!(remotes[1]["url"], "s3://bucket/team/x");
    assert_eq!(remotes[1]["region"], "eu-west-1");
    assert_eq!(remotes[1]["credential_env"], serde_json::json!(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]));
    // The config keeps the reference's fields for S3 remotes and never a credential.
    let config: Value = serde_json::from_slice(&std::fs::read(d.join(".agit/config.json")).unwrap()).unwrap();
    assert_eq!(config["remotes"][1]["bucket"], "bucket");
    assert_eq!(config["remotes"][1]["prefix"], "team/x");
    assert_eq!(config["remotes"][1]["access_key_env"], "AWS_ACCESS_KEY_ID");

    let dup = run_json(d, &["remote", "add", "backup", "file:///tmp/x"], &[]);
    assert_eq!((dup.code, dup.code_str()), (1, "remote_exists"));
    let insecure = run_json(d, &["remote", "add", "x", "s3://b", "--endpoint", "http://example.com"], &[]);
    assert_eq!((insecure.code, insecure.code_str()), (1, "remote_insecure_endpoint"));
    let bad_name = run_json(d, &["remote", "add", "../x", "file:///tmp/x"], &[]);
    assert_eq!(bad_name.code_str(), "remote_invalid_name");
    let bad_url = run_json(d, &["remote", "add", "x", "ftp://host/x"], &[]);
    assert_eq!(bad_url.code_str(), "remote_invalid_url");

    // Two remotes and no --remote: the reference's selection error.
    let push = run_json(d, &["push"], &[]);
    assert_eq!((push.code, push.code_str()), (1, "remote_selection_required"));
    let push = run_json(d, &["push", "--remote", "nope"], &[]);
    assert_eq!(push.code_str(), "remote_not_found");

    ok(d, &["remote", "remove", "backup"], &[]);
    assert_eq!(ok(d, &["remote", "list"], &[])["remotes"].as_array().unwrap().len(), 1);
    assert_eq!(run_json(d, &["remote", "remove", "backup"], &[]).code_str(), "remote_not_found");
    let none = empty_store();
    assert_eq!(run_json(none.path(), &["pull"], &[]).code_str(), "remote_not_configured");
}

/// Push, then pull into an empty store: identical objects (steps, trees, blobs, blame
/// maps rebuilt by the reconcile) and refs; a repeat push sends no object request.
fn round_trip(add_remote: &dyn Fn(&Path)) {
    let src = recorded(&[("s1", &["first", "second", "third"]), ("s2", &["other"])]);
    let s = src.path();
    add_remote(s);
    // A dry run reports the work and leaves the remote untouched.
    let dry = ok(s, &["push", "--dry-run"], &[]);
    assert_eq!(dry["dry_run"], true);
    assert!(dry["uploaded_objects"].as_u64().unwrap() > 10, "{dry}");
    assert_eq!(dry["uploaded_refs"], 2);
    let probe = empty_store();
    add_remote(probe.path());
    assert_eq!(ok(probe.path(), &["pull"], &[])["created_refs"], 0, "the dry run wrote nothing");
    let first = ok(s, &["push"], &[]);
    assert!(first["uploaded_objects"].as_u64().unwrap() > 10, "{first}");
    assert_eq!(first["uploaded_refs"], 2);
    let again = ok(s, &["push"], &[]);
    assert_eq!((again["uploaded_objects"].as_u64(), again["object_requests"].as_u64()), (Some(0), Some(0)), "{again}");
    assert_eq!(again["skipped_refs"], 2);

    let dst = empty_store();
    let d = dst.path();
    add_remote(d);
    let pulled = ok(d, &["pull"], &[]);
    assert_eq!(pulled["created_refs"], 2, "{pulled}");
    assert_eq!(pulled["reconcile"]["repaired"], 2);
    assert_eq!(session_refs(d), session_refs(s));
    assert_same_objects(d, s); // every step, tree, blob and blame object
    let log = ok(d, &["log", "claude/s1"], &[]);
    assert_eq!(log["steps"].as_array().unwrap().len(), 3);

    // New work on the source: only it travels.
    record(s, &[("s1", &["fourth"])]);
    let more = ok(s, &["push"], &[]);
    assert_eq!(more["uploaded_refs"], 1);
    assert!(more["uploaded_objects"].as_u64().unwrap() <= 6, "only the new step's objects: {more}");
    let pulled = ok(d, &["pull"], &[]);
    assert_eq!((pulled["updated_refs"].as_u64(), pulled["unchanged_refs"].as_u64()), (Some(1), Some(1)), "{pulled}");
    assert_same_objects(d, s);
    let again = ok(d, &["pull"], &[]);
    assert_eq!(again["downloaded_objects"], 0);
    assert_eq!(again["object_requests"], 0, "{again}");
}

#[test]
fn round_trip_through_a_directory_remote() {
    let remote = tempfile::tempdir().unwrap();
    let target = remote.path().join("agit");
    round_trip(&|d| add_file_remote(d, "backup", &target, &[]));
    // The directory uses the reference key layout.
    let files = files_under(&target);
    assert!(files.keys().any(|k| k.starts_with("refs/sessions/636c61756465/7331")));
    assert!(files.iter().filter(|(k, _)| k.starts_with("objects/")).all(|(_, v)| v.starts_with(b"AGITRM01\0")));
}

#[test]
fn round_trip_through_seaweedfs() {
    let prefix = unique_prefix("rt");
    round_trip(&|d| add_s3_remote(d, "origin", &prefix, &[]));
}

#[test]
fn encrypted_push_hides_content_and_a_wrong_secret_writes_nothing() {
    let marker = "zebra-unicorn-marker-7731";
    let src = recorded(&[("enc", &[marker])]);
    let s = src.path();
    let prefix = unique_prefix("enc");
    add_s3_remote(s, "origin", &prefix, &["--encryption-secret-env", ENC_ENV]);
    let pushed = ok(s, &["push"], &[(ENC_ENV, ENC_SECRET)]);
    assert_eq!(pushed["encrypted"], true);

    // Plaintext of the marker is nowhere in the server's storage...
    let data_dir = SERVER.lock().unwrap_or_else(|e| e.into_inner()).data_dir.clone();
    let contains_marker =
        |dir: &Path| files_under(dir).values().any(|v| v.windows(marker.len()).any(|w| w == marker.as_bytes()));
    assert!(!contains_marker(&data_dir), "plaintext reached the server");
    // ...while a plaintext push of the same content is visible there (the check works).
    let plain = recorded(&[("plain", &[marker])]);
    add_s3_remote(plain.path(), "origin", &unique_prefix("plain"), &[]);
    ok(plain.path(), &["push"], &[]);
    assert!(contains_marker(&data_dir), "the scan must see plaintext pushes");

    // Wrong secret: authentication fails and nothing is written.
    let dst = empty_store();
    let d = dst.path();
    add_s3_remote(d, "origin", &prefix, &["--encryption-secret-env", ENC_ENV]);
    let before = files_under(&d.join(".agit"));
    let wrong = run_json(d, &["pull"], &[(ENC_ENV, "a different secret of enough length")]);
    assert_eq!((wrong.code, wrong.code_str()), (1, "pull_failed"));
    let hint = wrong.data()["diagnostic"]["hint"].as_str().unwrap();
    assert!(hint.starts_with("AuthenticationFailed"), "{hint}");
    assert!(objects(d).is_empty() && session_refs(d).is_empty());
    let after: Vec<String> = files_under(&d.join(".agit")).into_keys().filter(|k| !before.contains_key(k)).collect();
    assert!(after.iter().all(|k| k.starts_with("remotes/")), "only the remote record may appear: {after:?}");
    // Missing and weak secrets are refused before anything is sent.
    assert!(
        run_json(d, &["pull"], &[]).data()["diagnostic"]["hint"]
            .as_str()
            .unwrap()
            .starts_with("MissingEncryptionSecret")
    );
    let weak = run_json(d, &["pull"], &[(ENC_ENV, "short")]);
    assert!(weak.data()["diagnostic"]["hint"].as_str().unwrap().starts_with("WeakEncryptionSecret"));
    // The right secret restores everything.
    ok(d, &["pull"], &[(ENC_ENV, ENC_SECRET)]);
    assert_same_objects(d, s);
}

#[test]
fn tampered_remote_objects_are_rejected_and_nothing_is_written() {
    let src = recorded(&[("t", &["one"])]);
    let remote = tempfile::tempdir().unwrap();
    add_file_remote(src.path(), "backup", remote.path(), &["--encryption-secret-env", ENC_ENV]);
    ok(src.path(), &["push"], &[(ENC_ENV, ENC_SECRET)]);
    // Flip one byte of the step object on the remote.
    let refs = files_under(&remote.path().join("refs"));
    let head = String::from_utf8(refs.values().next().unwrap().clone()).unwrap();
    let head = head.trim();
    let object = remote.path().join("objects").join(&head[..2]).join(&head[2..]);
    let mut bytes = std::fs::read(&object).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::set_permissions(&object, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::write(&object, bytes).unwrap();

    let dst = empty_store();
    add_file_remote(dst.path(), "backup", remote.path(), &["--encryption-secret-env", ENC_ENV]);
    let r = run_json(dst.path(), &["pull"], &[(ENC_ENV, ENC_SECRET)]);
    assert_eq!((r.code, r.code_str()), (1, "pull_failed"));
    assert!(r.data()["diagnostic"]["hint"].as_str().unwrap().starts_with("AuthenticationFailed"));
    assert!(objects(dst.path()).is_empty() && session_refs(dst.path()).is_empty());
}

#[test]
fn privacy_gate_blocks_plaintext_but_not_encryption_or_allow_sensitive() {
    let token = format!("ghp_{}", "a1B2c3D4e5".repeat(4));
    let prompt = format!("use token {token} for the API");
    let src = recorded(&[("p", &[prompt.as_str()])]);
    let s = src.path();
    let remote = tempfile::tempdir().unwrap();
    add_file_remote(s, "backup", &remote.path().join("plain"), &[]);
    let blocked = run_json(s, &["push"], &[]);
    assert_eq!((blocked.code, blocked.code_str()), (1, "privacy_blocked"));
    assert!(!blocked.envelope.to_string().contains(&token), "the secret is never printed");
    assert!(!remote.path().join("plain").exists(), "nothing uploaded");
    let human = run(s, &["push"], &[]);
    assert!(String::from_utf8_lossy(&human.stderr).contains("sensitive plaintext"));
    // The prompt, the assistant's echo and two snapshot files each hold the token.
    let findings = ok(s, &["push", "--allow-sensitive"], &[])["privacy_findings"].as_u64().unwrap();
    assert!(findings >= 2, "{findings}");

    add_file_remote(s, "secure", &remote.path().join("enc"), &["--encryption-secret-env", ENC_ENV]);
    // A blank secret does not count as encryption.
    let blank = run_json(s, &["push", "--remote", "secure"], &[(ENC_ENV, "   ")]);
    assert_eq!(blank.code_str(), "privacy_blocked");
    let pushed = ok(s, &["push", "--remote", "secure"], &[(ENC_ENV, ENC_SECRET)]);
    assert_eq!((pushed["encrypted"].as_bool(), pushed["privacy_findings"].as_u64()), (Some(true), Some(findings)));
}

#[test]
fn every_conflict_is_reported_and_the_rest_still_moves() {
    let remote = tempfile::tempdir().unwrap();
    let base = recorded(&[("a", &["a1"]), ("b", &["b1"]), ("c", &["c1"])]);
    add_file_remote(base.path(), "backup", remote.path(), &[]);
    ok(base.path(), &["push"], &[]);
    // A clone of the store diverges on a and b; the original advances a, b and c.
    let clone = tempfile::tempdir().unwrap();
    copy_dir(base.path(), clone.path());
    record(clone.path(), &[("a", &["a2-clone"]), ("b", &["b2-clone"])]);
    record(base.path(), &[("a", &["a2"]), ("b", &["b2"]), ("c", &["c2"])]);
    ok(base.path(), &["push"], &[]);

    let push = run_json(clone.path(), &["push"], &[]);
    assert_eq!((push.code, push.code_str()), (1, "remote_conflict"));
    // a and b diverged; c is behind the remote ("pull first", as the reference says).
    let conflicts = push.data()["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 3, "{}", push.envelope);
    assert!(push.data()["diagnostic"]["hint"].as_str().unwrap().contains(" local="));
    let human = run(clone.path(), &["push"], &[]);
    let stderr = String::from_utf8_lossy(&human.stderr);
    assert_eq!(stderr.matches("pull first").count(), 3, "{stderr}");

    let pull = run_json(clone.path(), &["pull"], &[]);
    assert_eq!((pull.code, pull.code_str()), (1, "remote_conflict"));
    assert_eq!(pull.data()["conflicts"].as_array().unwrap().len(), 2);
    assert_eq!(pull.data()["updated_refs"], 1, "c still fast-forwards: {}", pull.envelope);
    assert_eq!(ok(clone.path(), &["log", "claude/c"], &[])["steps"].as_array().unwrap().len(), 2);
}

fn copy_dir(from: &Path, to: &Path) {
    let status =
        std::process::Command::new("cp").arg("-a").arg(format!("{}/.", from.display())).arg(to).status().unwrap();
    assert!(status.success());
}

#[test]
fn a_corrupt_store_is_not_pushed() {
    let src = recorded(&[("c", &["x"])]);
    let remote = tempfile::tempdir().unwrap();
    add_file_remote(src.path(), "backup", remote.path(), &[]);
    let refs = session_refs(src.path());
    let head = String::from_utf8(refs.values().next().unwrap().clone()).unwrap();
    let head = head.trim();
    let path = src.path().join(".agit/objects").join(&head[..2]).join(&head[2..]);
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::write(&path, b"{\"type\":\"step\"}").unwrap();
    let r = run_json(src.path(), &["push"], &[]);
    assert_eq!((r.code, r.code_str()), (1, "fsck_failed"));
    assert!(!remote.path().join("objects").exists());
}

/// An unreadable index costs speed, not objects: the blame and eval roots it names are
/// re-derived from the store, so the remote gets the same objects as from a healthy store.
#[test]
fn an_unreadable_index_still_pushes_every_object() {
    let healthy = recorded(&[("i", &["one", "two"])]);
    let broken = tempfile::tempdir().unwrap();
    copy_dir(healthy.path(), broken.path());
    std::fs::write(broken.path().join(".agit/index.db"), b"this is not a database").unwrap();
    for f in ["index.db-wal", "index.db-shm"] {
        let _ = std::fs::remove_file(broken.path().join(".agit").join(f));
    }
    let (left, right) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    add_file_remote(healthy.path(), "backup", left.path(), &[]);
    add_file_remote(broken.path(), "backup", right.path(), &[]);
    let from_healthy = ok(healthy.path(), &["push"], &[]);
    let from_broken = ok(broken.path(), &["push"], &[]);
    assert_eq!(from_broken["uploaded_objects"], from_healthy["uploaded_objects"], "{from_broken}");
    let keys = |root: &Path| files_under(root).into_keys().collect::<Vec<_>>();
    assert_eq!(keys(right.path()), keys(left.path()));
    assert!(
        objects(broken.path()).values().any(|bytes| bytes.starts_with(b"{\"type\":\"blame\"")),
        "the history has blame objects, so the test covers re-derived roots"
    );
}

fn spawn_pull(dir: &Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_agit"))
        .arg("pull")
        .current_dir(dir)
        .env("HOME", common::isolated_home())
        .env("PATH", common::SYSTEM_PATH)
        .env("AGIT_FSYNC", "0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Every object file in `dir`'s store reads back whole: its bytes hash
/// to its name. Returns how many there are.
fn whole_objects(dir: &Path) -> usize {
    let store = agit_core::Store::open(dir).unwrap();
    let mut count = 0;
    for name in objects(dir).into_keys() {
        let Some((shard, rest)) = name.split_once('/') else { continue };
        let Some(id) = agit_core::ObjectId::parse(&format!("{shard}{rest}")) else { continue };
        store.read_object(&id).unwrap_or_else(|e| panic!("{name} is not whole after a killed pull: {e}"));
        count += 1;
    }
    count
}

/// A pull SIGKILLed at random points leaves only whole objects and no ref, and the next
/// pull completes the store exactly (children-first writes make a partial pull resumable).
#[test]
fn a_killed_pull_leaves_whole_objects_and_the_rerun_completes() {
    const ROUNDS: u64 = 12;
    let src = tempfile::tempdir().unwrap();
    let s = src.path();
    agit(s).args(["init", "--no-hooks"]).assert().success();
    std::fs::create_dir(s.join("src")).unwrap();
    for i in 0..3000 {
        std::fs::write(s.join(format!("src/f{i}.rs")), format!("pub fn f{i}() -> u32 {{ {i} }}\n")).unwrap();
    }
    record(s, &[("k", &["one", "two"])]);
    let remote = tempfile::tempdir().unwrap();
    add_file_remote(s, "backup", remote.path(), &[]);
    ok(s, &["push"], &[]);

    // How long an undisturbed pull takes, to spread the kills over it.
    let probe = empty_store();
    add_file_remote(probe.path(), "backup", remote.path(), &[]);
    let start = std::time::Instant::now();
    ok(probe.path(), &["pull"], &[]);
    let full = start.elapsed().as_micros() as u64;

    let mut mid_transfer = 0;
    for round in 0..ROUNDS {
        let dst = empty_store();
        let d = dst.path();
        add_file_remote(d, "backup", remote.path(), &[]);
        let mut child = spawn_pull(d);
        // Spread over 1.5× a full pull: some kills land before, during and after it.
        std::thread::sleep(std::time::Duration::from_micros((round * 2 + 1) * full * 3 / (ROUNDS * 4)));
        let running = child.try_wait().unwrap().is_none();
        let _ = child.kill();
        let _ = child.wait();
        let landed = whole_objects(d);
        // A ref that landed reaches only objects that landed before it.
        agit(d).arg("fsck").assert().success();
        mid_transfer += usize::from(running && landed > 0 && session_refs(d).is_empty());
        let pulled = ok(d, &["pull"], &[]);
        let refs = pulled["created_refs"].as_u64().unwrap() + pulled["unchanged_refs"].as_u64().unwrap();
        assert_eq!(refs, 1, "round {round}: {pulled}");
        assert_same_objects(d, s);
        assert_eq!(session_refs(d), session_refs(s));
        agit(d).arg("fsck").assert().success();
    }
    assert!(mid_transfer >= 2, "only {mid_transfer} of {ROUNDS} kills landed mid-transfer (full pull {full} µs)");
}

#[test]
fn insecure_endpoints_and_wrong_credentials_fail_clearly() {
    let src = recorded(&[("w", &["x"])]);
    let s = src.path();
    // Written by hand (add refuses it): plain http to a non-loopback host.
    let config = r#"{"version":1,"remotes":[{"name":"far","backend":"s3","endpoint":"http://example.com","bucket":"b","region":"us-east-1","prefix":"","access_key_env":"AGIT_TEST_S3_KEY","secret_key_env":"AGIT_TEST_S3_SECRET"}]}"#;
    std::fs::write(s.join(".agit/config.json"), config).unwrap();
    let r = run_json(s, &["push"], &[]);
    assert_eq!((r.code, r.code_str()), (1, "push_failed"));
    assert!(r.data()["diagnostic"]["hint"].as_str().unwrap().starts_with("InsecureRemoteEndpoint"));
    std::fs::write(s.join(".agit/config.json"), r#"{"version":1}"#).unwrap();

    add_s3_remote(s, "origin", &unique_prefix("auth"), &[]);
    let r = run_json(s, &["push"], &[(SECRET_ENV, "not-the-secret")]);
    assert_eq!((r.code, r.code_str()), (1, "push_failed"));
    let hint = r.data()["diagnostic"]["hint"].as_str().unwrap();
    assert!(hint.contains("refused the credentials") && hint.contains("403"), "{hint}");
    let r = run_json(s, &["push"], &[(KEY_ENV, "")]);
    assert!(r.data()["diagnostic"]["hint"].as_str().unwrap().starts_with("MissingRemoteCredential"));
}

/// 16 stores race to create the same remote ref, then 16 race to advance it from a
/// shared base: each time exactly one wins, the others get `remote_conflict`, and the
/// remote ends at the winner's head.
#[test]
fn sixteen_concurrent_pushes_one_winner_no_lost_update() {
    let prefix = unique_prefix("race");
    let base = recorded(&[("base", &["b"])]);
    add_s3_remote(base.path(), "origin", &prefix, &[]);
    let stores = diverging_copies(base.path(), "create");
    let winners = race(&stores);
    assert_eq!(winners.len(), 1, "exactly one create wins");
    let winner_head = head_of(stores[winners[0]].path(), "shared");
    assert_eq!(remote_head(&stores[winners[0]], "shared"), winner_head);

    // Advance: everyone pulls the winner's ref, then adds its own turn on top.
    ok(base.path(), &["pull"], &[]);
    let stores = diverging_copies(base.path(), "advance");
    let winners = race(&stores);
    assert_eq!(winners.len(), 1, "exactly one If-Match update wins");
    assert_eq!(remote_head(&stores[winners[0]], "shared"), head_of(stores[winners[0]].path(), "shared"));
}

/// 16 copies of `base`, each with its own new turn on session `shared`.
fn diverging_copies(base: &Path, label: &str) -> Vec<tempfile::TempDir> {
    (0..16)
        .map(|i| {
            let dir = tempfile::tempdir().unwrap();
            copy_dir(base, dir.path());
            record(dir.path(), &[("shared", &[format!("{label} {i}").as_str()])]);
            dir
        })
        .collect()
}

/// Push from every store at once; returns the indexes that succeeded. Losers must fail
/// with `remote_conflict` only.
fn race(stores: &[tempfile::TempDir]) -> Vec<usize> {
    let barrier = std::sync::Barrier::new(stores.len());
    let results: Vec<(usize, JsonRun)> = std::thread::scope(|scope| {
        let handles: Vec<_> = stores
            .iter()
            .enumerate()
            .map(|(i, dir)| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    (i, run_json(dir.path(), &["push"], &[]))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut winners = Vec::new();
    for (i, r) in results {
        if r.code == 0 {
            winners.push(i);
        } else {
            assert_eq!(r.code_str(), "remote_conflict", "{}", r.envelope);
        }
    }
    winners
}

fn head_of(dir: &Path, session: &str) -> String {
    let path = dir.join(".agit/refs/sessions").join(hex("claude")).join(hex(session));
    std::fs::read_to_string(path).unwrap().trim().to_owned()
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The remote's head as a fresh pull sees it.
fn remote_head(any_store: &tempfile::TempDir, session: &str) -> String {
    let probe = empty_store();
    let config = std::fs::read(any_store.path().join(".agit/config.json")).unwrap();
    std::fs::write(probe.path().join(".agit/config.json"), config).unwrap();
    ok(probe.path(), &["pull"], &[]);
    head_of(probe.path(), session)
}

/// A server killed mid-push, then restarted: the rerun completes and a pull gets an
/// identical store. A hung server (SIGSTOP) makes the push fail by timeout, not hang.
#[test]
fn killed_and_hung_servers_then_the_rerun_completes() {
    let weed = seaweed::find_weed().expect("SeaweedFS not found: run scripts/test.sh");
    let data = tempfile::tempdir().unwrap();
    let mut server = Seaweed::start(&weed, data.path()).unwrap_or_else(|e| panic!("{e}"));
    let src = empty_store();
    let s = src.path();
    for i in 0..1500 {
        std::fs::write(s.join(format!("file-{i:04}.txt")), format!("content of file {i}\n").repeat(20)).unwrap();
    }
    record(s, &[("big", &["many files"])]);
    let url = format!("s3://{}/faults", seaweed::BUCKET);
    let endpoint = server.endpoint();
    ok(
        s,
        &[
            "remote",
            "add",
            "origin",
            &url,
            "--endpoint",
            &endpoint,
            "--access-key-env",
            KEY_ENV,
            "--secret-key-env",
            SECRET_ENV,
        ],
        &[],
    );
    let fast_fail = [("AGIT_REMOTE_RETRIES", "0"), ("AGIT_REMOTE_TIMEOUT_MS", "3000")];

    // Start a push and kill the server once some objects are confirmed.
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_agit"))
        .args(["--json", "push", "--jobs", "2"])
        .current_dir(s)
        .env("HOME", common::isolated_home())
        .env("AGIT_FSYNC", "0")
        .env(KEY_ENV, seaweed::ACCESS_KEY)
        .env(SECRET_ENV, seaweed::SECRET_KEY)
        .envs(fast_fail)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let known = s.join(".agit/remotes/origin/known-objects");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::metadata(&known).map_or(0, |m| m.len()) < 32 * 256 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    server.kill();
    let out = child.wait_with_output().unwrap();
    let first: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "the push was cut off: {first}");
    assert_eq!(first["data"]["diagnostic"]["code"], "push_failed");
    assert!(session_refs_on_server_missing(&first));

    server.restart().unwrap_or_else(|e| panic!("{e}"));
    // Default retries and timeouts: a just-restarted server on a busy machine may be slow.
    let rerun = ok(s, &["push"], &[]);
    assert_eq!(rerun["uploaded_refs"], 1);
    // What the cut-off push confirmed (at least 256 objects) is not sent again.
    assert!(rerun["skipped_objects"].as_u64().unwrap() >= 256, "finished work is not redone: {rerun}");

    // Hung server: the push fails by timeout instead of hanging.
    record(s, &[("big", &["one more"])]);
    server.signal(libc::SIGSTOP);
    let started = std::time::Instant::now();
    let hung = run_json(s, &["push"], &[("AGIT_REMOTE_RETRIES", "0"), ("AGIT_REMOTE_TIMEOUT_MS", "1500")]);
    server.signal(libc::SIGCONT);
    assert_eq!(hung.code_str(), "push_failed", "{}", hung.envelope);
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    ok(s, &["push"], &[]);

    // The remote is consistent: a pull reproduces the store.
    let dst = empty_store();
    std::fs::write(dst.path().join(".agit/config.json"), std::fs::read(s.join(".agit/config.json")).unwrap()).unwrap();
    ok(dst.path(), &["pull"], &[]);
    assert_same_objects(dst.path(), s);
    assert_eq!(session_refs(dst.path()), session_refs(s));
}

fn session_refs_on_server_missing(first: &Value) -> bool {
    first["data"]["diagnostic"]["hint"].as_str().is_some_and(|h| h.starts_with("RemoteTransportFailed"))
}
