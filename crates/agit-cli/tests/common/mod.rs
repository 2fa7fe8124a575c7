//! Helpers for black-box tests of the `agit` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// An empty HOME and a PATH without agent binaries, so `agit init` never touches a real
/// agent config from a test.
pub fn isolated_home() -> PathBuf {
    let home = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("empty-home");
    std::fs::create_dir_all(&home).expect("create test HOME");
    home
}

/// The PATH tests run agit with: system tools (git) only.
pub const SYSTEM_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// `agit` run in `dir` with a clean, fast environment.
pub fn agit(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("agit").expect("agit binary");
    cmd.current_dir(dir)
        .env("HOME", isolated_home())
        .env("PATH", SYSTEM_PATH)
        .env("AGIT_FSYNC", "0")
        .env("AGIT_LOCK_TIMEOUT_MS", "5000")
        .env("NO_COLOR", "1")
        .env_remove("AGIT_PAGER");
    cmd
}

/// Output of a `--json` run: exactly one envelope line on stdout, nothing else.
pub struct JsonRun {
    pub code: i32,
    pub envelope: Value,
    pub stderr: String,
}

/// `--json` goes first: after `--`, every word is a path.
pub fn run_json(dir: &Path, args: &[&str]) -> JsonRun {
    let output = agit(dir).arg("--json").args(args).output().expect("run agit");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "agit panicked: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "JSON mode prints exactly one line on stdout, got: {stdout:?}");
    let envelope: Value = serde_json::from_str(lines[0]).expect("stdout is JSON");
    assert_eq!(envelope["schema_version"], "cli-json-v1");
    JsonRun { code: output.status.code().expect("exit code"), envelope, stderr }
}

impl JsonRun {
    pub fn data(&self) -> &Value {
        &self.envelope["data"]
    }

    /// The diagnostic code of a failed run.
    pub fn code_str(&self) -> &str {
        self.envelope["data"]["diagnostic"]["code"].as_str().unwrap_or("")
    }
}

/// The shared spec vectors directory.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/vectors")
}

/// Copy the sample bundle's objects and refs by hand into `workspace/.agit/`, the way
/// another tool would write them (no `agit init`, no index).
pub fn place_bundle_by_hand(workspace: &Path) {
    let bundle = vectors_dir().join("bundle");
    let store = workspace.join(".agit");
    for sub in ["objects", "refs"] {
        copy_tree(&bundle.join(sub), &store.join(sub));
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Write a loose object by hand; returns its hex id.
pub fn place_object(workspace: &Path, bytes: &[u8]) -> String {
    let id = blake3::hash(bytes).to_hex().to_string();
    let dir = workspace.join(".agit/objects").join(&id[..2]);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(&id[2..]), bytes).unwrap();
    id
}

/// Write a session ref by hand.
pub fn place_ref(workspace: &Path, origin: &str, session: &str, content: &[u8]) -> PathBuf {
    let dir = workspace.join(".agit/refs/sessions").join(hex::encode(origin));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(hex::encode(session));
    std::fs::write(&path, content).unwrap();
    path
}

/// Replace what changes between runs (hashes, commits, times, temp paths) so JSON can
/// be snapshotted: 64-hex → `[hash]`, 40-hex → `[commit]`, epoch-like integers under
/// time keys → 0, strings containing `root` → `[root]…`.
pub fn normalize(value: Value, root: &Path) -> Value {
    let root = root.display().to_string();
    fn walk(v: Value, key: Option<&str>, root: &str) -> Value {
        match v {
            Value::String(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => "[hash]".into(),
            Value::String(s) if s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()) => "[commit]".into(),
            Value::String(s) if s.contains(root) => s.replace(root, "[root]").into(),
            Value::Number(n)
                if matches!(key, Some("timestamp" | "updated_at" | "last_timestamp" | "rowid" | "evaluated_at")) =>
            {
                let _ = n;
                0.into()
            }
            Value::Array(items) => Value::Array(items.into_iter().map(|i| walk(i, key, root)).collect()),
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let w = walk(v, Some(&k), root);
                        (k, w)
                    })
                    .collect(),
            ),
            other => other,
        }
    }
    walk(value, None, &root)
}

/// Human output made stable for snapshots: hex ids (12+ chars) → `[hash]`, times →
/// `[time]`, the temp root → `[root]`.
pub fn normalize_text(text: &str, root: &Path) -> String {
    let text = text.replace(&root.display().to_string(), "[root]");
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // YYYY-MM-DD HH:MM:SS
        if i + 19 <= bytes.len() && is_time(&bytes[i..i + 19]) {
            out.push_str("[time]");
            i += 19;
            continue;
        }
        let run = bytes[i..].iter().take_while(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()).count();
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if run >= 12 && boundary && bytes.get(i + run).is_none_or(|b| !b.is_ascii_alphanumeric()) {
            out.push_str("[hash]");
            i += run;
            continue;
        }
        let ch = text[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

fn is_time(b: &[u8]) -> bool {
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    digits.iter().all(|&k| b[k].is_ascii_digit())
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':'
}

/// Run git with a test identity in `dir`; panics on failure; returns trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", isolated_home())
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("git output is UTF-8").trim().to_owned()
}

/// Run a hook command with `payload` on stdin (plus `envs`); hooks must exit 0 and never
/// panic. Returns stderr.
pub fn run_hook(dir: &Path, args: &[&str], payload: &[u8], envs: &[(&str, &str)]) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agit"));
    cmd.args(args)
        .current_dir(dir)
        .env("AGIT_FSYNC", "0")
        .env("HOME", isolated_home())
        .env("PATH", SYSTEM_PATH)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn agit");
    // A hook may exit before reading stdin (e.g. a bad subcommand): ignore EPIPE.
    let _ = child.stdin.take().expect("stdin").write_all(payload);
    let out = child.wait_with_output().expect("wait for agit");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "hook {args:?} must exit 0; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// [`run_hook`] that must also record without complaint (empty stderr).
pub fn hook_ok(dir: &Path, args: &[&str], payload: &[u8], envs: &[(&str, &str)]) {
    let stderr = run_hook(dir, args, payload, envs);
    assert!(stderr.is_empty(), "hook {args:?}: {stderr}");
}
