//! `agit privacy scan` and the export privacy gate through the real binary, on sessions
//! recorded by the hook commands: findings name rules and places, never secret values.

mod common;
mod recorded;

use std::path::{Path, PathBuf};

use common::{agit, place_bundle_by_hand, run_json};
use recorded::{clean_turn, repo, turn};
use serde_json::Value;

const GITHUB_TOKEN: &str = "ghp_0123456789abcdefghijABCDEFGHIJklmnop";
const BEARER_SECRET: &str = "secret-token-123456";
const KEY_BODY: &str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj";

/// Every secret value planted by [`secret_repo`].
const SECRETS: [&str; 3] = [GITHUB_TOKEN, BEARER_SECRET, KEY_BODY];

/// A recorded session with a GitHub token in the prompt, a bearer token in a tool result
/// and a private key in a snapshotted file.
fn secret_repo() -> (tempfile::TempDir, PathBuf) {
    let (dir, w) = repo("secret");
    std::fs::create_dir_all(w.join("notes")).unwrap();
    std::fs::write(
        w.join("notes/setup.md"),
        format!(
            "deploy key:\n-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\n{KEY_BODY}\n-----END RSA PRIVATE KEY-----\n"
        ),
    )
    .unwrap();
    turn(
        &w,
        "s1",
        &format!("use {GITHUB_TOKEN} to clone"),
        &format!("curl -H 'Authorization: Bearer {BEARER_SECRET}' https://example.invalid"),
        "done",
    );
    (dir, w)
}

fn human(w: &Path, args: &[&str]) -> (i32, String, String) {
    let out = agit(w).args(args).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[track_caller]
fn assert_no_secrets(text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "secret {secret:?} leaked into:\n{text}");
    }
}

#[test]
fn a_clean_store_scans_clean_with_exit_0() {
    let (_d, w) = repo("clean");
    clean_turn(&w, "s1", "fix the bug");
    clean_turn(&w, "s1", "and the test");
    let (code, stdout, stderr) = human(&w, &["privacy", "scan"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(stdout, "privacy scan: clean (sessions=1 steps=2 trees=1 blobs=1)\n");
    let run = run_json(&w, &["privacy", "scan"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.envelope["command"], "privacy");
    assert_eq!(
        run.data(),
        &serde_json::json!({"clean": true, "stats": {"sessions": 1, "steps": 2, "trees": 1, "blobs": 1, "findings": 0}, "findings": []})
    );
}

#[test]
fn findings_name_rules_and_places_and_never_the_secret() {
    let (_d, w) = secret_repo();
    let (code, stdout, stderr) = human(&w, &["privacy", "scan"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_no_secrets(&stdout);
    assert_no_secrets(&stderr);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], format!("privacy scan: {} finding(s) across 1 session(s)", lines.len() - 1));
    let has = |prefix: &str, suffix: &str| {
        lines.iter().any(|l| l.starts_with(prefix) && l.contains("(claude/s1 turn ") && l.ends_with(suffix))
    };
    assert!(has("  - [error] github_token in user ", ")"), "{stdout}");
    assert!(has("  - [error] bearer_token in tool_result ", ")"), "{stdout}");
    assert!(has("  - [error] private_key_block in snapshot_blob ", " path=notes/setup.md"), "{stdout}");

    let run = run_json(&w, &["privacy", "scan"]);
    assert_eq!(run.code, 1, "JSON mode also exits 1 on findings");
    let text = run.envelope.to_string();
    assert_no_secrets(&text);
    assert_no_secrets(&run.stderr);
    let data = run.data();
    assert_eq!(data["clean"], false);
    let findings = data["findings"].as_array().unwrap();
    assert_eq!(data["stats"]["findings"].as_u64(), Some(findings.len() as u64));
    assert_eq!(data["stats"]["sessions"], 1);
    for f in findings {
        let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = vec!["severity", "rule", "source", "origin", "session_id", "turn_id", "path", "hash"];
        sorted.sort();
        assert_eq!(keys, sorted, "{f}");
        assert_eq!(f["hash"].as_str().unwrap().len(), 64);
    }
    let key = findings.iter().find(|f| f["rule"] == "private_key_block").unwrap();
    assert_eq!((key["severity"].as_str(), key["path"].as_str()), (Some("error"), Some("notes/setup.md")));
    let token = findings.iter().find(|f| f["rule"] == "github_token").unwrap();
    assert_eq!((token["source"].as_str(), token["path"].clone()), (Some("user"), Value::Null));
    // Key order on the wire is the reference's (the parsed envelope has sorted keys).
    let (_, wire, _) = human(&w, &["--json", "privacy", "scan"]);
    let raw = wire.split(r#""findings":["#).nth(1).unwrap();
    let order: Vec<usize> = [
        "\"severity\"",
        "\"rule\"",
        "\"source\"",
        "\"origin\"",
        "\"session_id\"",
        "\"turn_id\"",
        "\"path\"",
        "\"hash\"",
    ]
    .iter()
    .map(|k| raw.find(k).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{raw}");
}

#[test]
fn disabled_origins_are_skipped_by_the_scan_but_not_by_the_export_gate() {
    let (dir, w) = secret_repo();
    std::fs::write(w.join(".agit/config.json"), r#"{"version":1,"privacy":{"enabled_origins":["codex"]}}"#).unwrap();
    let (code, stdout, _) = human(&w, &["privacy", "scan"]);
    assert_eq!((code, stdout.as_str()), (0, "privacy scan: clean (sessions=0 steps=0 trees=0 blobs=0)\n"));
    // What leaves the machine is scanned whatever capture records today.
    let target = dir.path().join("bundle");
    let run = run_json(&w, &["export", target.to_str().unwrap()]);
    assert_eq!((run.code, run.code_str()), (1, "privacy_blocked"));
    assert!(!target.exists());
}

#[test]
fn an_invalid_config_is_invalid_config() {
    let (_d, w) = repo("badconfig");
    std::fs::write(w.join(".agit/config.json"), "{").unwrap();
    let run = run_json(&w, &["privacy", "scan"]);
    assert_eq!((run.code, run.code_str()), (1, "invalid_config"));
    let run = run_json(&w, &["export", "out"]);
    assert_eq!((run.code, run.code_str()), (1, "invalid_config"));
}

#[test]
fn the_scan_follows_refs_even_without_an_index() {
    let dir = tempfile::tempdir().unwrap();
    place_bundle_by_hand(dir.path());
    assert!(!dir.path().join(".agit/index.db").exists());
    let (code, stdout, _) = human(dir.path(), &["privacy", "scan"]);
    assert_eq!((code, stdout.as_str()), (0, "privacy scan: clean (sessions=1 steps=2 trees=2 blobs=5)\n"));
}

#[test]
fn privacy_usage_errors_exit_2() {
    let (_d, w) = repo("usage");
    for args in
        [&["privacy"][..], &["privacy", "bogus"], &["privacy", "scan", "--bogus"], &["privacy", "scan", "extra"]]
    {
        let (code, _, _) = human(&w, args);
        assert_eq!(code, 2, "{args:?}");
    }
    let (code, stdout, _) = human(&w, &["privacy", "scan", "--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("agit privacy scan --json"), "{stdout}");
}

#[test]
fn export_is_blocked_without_allow_sensitive_and_reports_without_secrets_with_it() {
    let (dir, w) = secret_repo();
    let target = dir.path().join("dist/bundle");
    let (code, stdout, stderr) = human(&w, &["export", target.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert!(stderr.contains("error: Refusing to export sensitive plaintext bundle contents."), "{stderr}");
    assert!(stderr.contains("hint: Rerun with --allow-sensitive to include a privacy report without secret values."));
    assert_no_secrets(&stderr);
    assert!(!dir.path().join("dist").exists(), "nothing may be created when privacy blocks");
    let archive = dir.path().join("dist.tar.zst");
    let run = run_json(&w, &["export", "--archive", archive.to_str().unwrap()]);
    assert_eq!(run.code_str(), "privacy_blocked");
    assert!(!archive.exists());

    let run = run_json(&w, &["export", "--allow-sensitive", target.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.envelope);
    let findings = run.data()["privacy_findings"].as_u64().unwrap();
    assert!(findings >= 3);
    let report_bytes = std::fs::read(target.join("privacy-report.json")).unwrap();
    let report_text = String::from_utf8(report_bytes).unwrap();
    assert_no_secrets(&report_text);
    let report: Value = serde_json::from_str(&report_text).unwrap();
    assert_eq!(report["stats"]["findings"].as_u64(), Some(findings));
    assert_eq!(report["findings"].as_array().unwrap().len() as u64, findings);
    let manifest: Value = serde_json::from_slice(&std::fs::read(target.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["privacy"],
        serde_json::json!({"clean": false, "findings": findings, "report_path": "privacy-report.json"})
    );
    // In human mode the plaintext findings are called out on stderr.
    let again = dir.path().join("again");
    let (code, stdout, stderr) = human(&w, &["export", "--allow-sensitive", again.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with(&format!("export: path={} bundle=", again.display())), "{stdout}");
    assert!(stdout.ends_with(&format!(" privacy_findings={findings}\n")), "{stdout}");
    assert!(
        stderr.contains(&format!("warning: The bundle holds {findings} privacy finding(s) in plaintext.")),
        "{stderr}"
    );
    assert_no_secrets(&stderr);
    // The bundle (with its report) imports.
    let (_t, other) = recorded::empty_store("other");
    let run = run_json(&other, &["import", target.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.envelope);

    // A clean export carries no report.
    let (_c, clean) = repo("clean");
    clean_turn(&clean, "s1", "nothing secret");
    let plain = dir.path().join("plain");
    let run = run_json(&clean, &["export", "--allow-sensitive", plain.to_str().unwrap()]);
    assert_eq!(run.code, 0);
    assert!(!plain.join("privacy-report.json").exists());
    let manifest: Value = serde_json::from_slice(&std::fs::read(plain.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["privacy"], serde_json::json!({"clean": true, "findings": 0, "report_path": null}));
}
