//! Soak test (not part of the CI gate; run it on purpose):
//!
//! ```sh
//! AGIT_SOAK_SECS=1200 cargo test --release -p agit-cli --test soak -- --ignored --nocapture
//! ```
//!
//! Eight agent sessions record turns through the real hook commands while `agit gc`,
//! `agit push` to a SeaweedFS server and `agit pull` into a second store run in loops.
//! At the end both stores must pass `agit fsck`, every recorded turn must be present
//! exactly once in both, and the peak memory of gc, push and pull must stay flat relative
//! to the store (the last quarter's peak within 1.5× the first quarter's, scaled by how
//! much the store grew, + 16 MiB).

mod common;
#[path = "../src/commands/bench/seaweed.rs"]
mod seaweed;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use seaweed::Seaweed;

const SESSIONS: usize = 8;
const KEY_ENV: &str = "AGIT_SOAK_S3_KEY";
const SECRET_ENV: &str = "AGIT_SOAK_S3_SECRET";

fn agit_cmd(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agit"));
    cmd.args(args)
        .current_dir(dir)
        .env("HOME", common::isolated_home())
        .env("PATH", common::SYSTEM_PATH)
        .env(KEY_ENV, seaweed::ACCESS_KEY)
        .env(SECRET_ENV, seaweed::SECRET_KEY)
        .env("AGIT_LOCK_TIMEOUT_MS", "30000")
        .stdin(Stdio::null());
    cmd
}

/// Run to completion; returns (exit code, stdout, stderr, peak RSS in KiB).
fn run_measured(mut cmd: Command) -> (i32, String, String, i64) {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn agit");
    let pid = child.id() as libc::pid_t;
    let output = std::thread::spawn(move || {
        let mut child = child;
        let mut out = String::new();
        let mut err = String::new();
        use std::io::Read;
        if let Some(mut s) = child.stdout.take() {
            let _ = s.read_to_string(&mut out);
        }
        if let Some(mut s) = child.stderr.take() {
            let _ = s.read_to_string(&mut err);
        }
        std::mem::forget(child); // reaped by wait4 below
        (out, err)
    })
    .join()
    .unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: plain wait4 on the pid we spawned.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    (code, output.0, output.1, usage.ru_maxrss)
}

fn record_turn(dir: &Path, session: &str, prompt: &str) {
    let cwd = dir.display().to_string();
    std::fs::write(dir.join(format!("{session}.txt")), format!("{prompt}\n")).unwrap();
    for (route, payload) in [
        (
            "user",
            serde_json::json!({"session_id": session, "cwd": cwd, "hook_event_name": "UserPromptSubmit", "prompt": prompt}),
        ),
        (
            "assistant",
            serde_json::json!({"session_id": session, "cwd": cwd, "hook_event_name": "Stop", "last_assistant_message": "ok"}),
        ),
    ] {
        common::run_hook(
            dir,
            &["claude-hook", route],
            payload.to_string().as_bytes(),
            &[("AGIT_LOCK_TIMEOUT_MS", "30000")],
        );
    }
}

fn prompts_of(dir: &Path, session: &str) -> Vec<String> {
    let out = agit_cmd(dir, &["--json", "log", &format!("claude/{session}"), "--limit", "100000"]).output().unwrap();
    assert!(out.status.success(), "log {session}: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["data"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["preview"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[derive(Default)]
struct Peaks {
    /// (seconds since start, command, peak RSS KiB)
    samples: Vec<(f64, &'static str, i64)>,
    /// (seconds since start, objects in the recording store) as each gc saw it.
    store_objects: Vec<(f64, u64)>,
    failures: Vec<String>,
}

#[test]
#[ignore = "soak test: minutes long; run with --ignored (see the module docs)"]
fn soak_sessions_gc_push_pull() {
    let secs: u64 = std::env::var("AGIT_SOAK_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(1200);
    let weed = seaweed::find_weed().expect("SeaweedFS not found: run scripts/test.sh first");
    let root = tempfile::tempdir().unwrap();
    let server = Seaweed::start(&weed, &root.path().join("seaweed")).unwrap_or_else(|e| panic!("{e}"));
    let work = root.path().join("work");
    let mirror = root.path().join("mirror");
    for dir in [&work, &mirror] {
        std::fs::create_dir_all(dir).unwrap();
        assert!(agit_cmd(dir, &["init", "--no-hooks"]).status().unwrap().success());
        let url = format!("s3://{}/soak", seaweed::BUCKET);
        let endpoint = server.endpoint();
        let add = [
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
        ];
        assert!(agit_cmd(dir, &add).status().unwrap().success());
    }
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let stop = AtomicBool::new(false);
    let peaks = Mutex::new(Peaks::default());
    let recorded: Mutex<BTreeMap<String, Vec<String>>> = Mutex::new(BTreeMap::new());

    std::thread::scope(|scope| {
        for i in 0..SESSIONS {
            let (work, recorded) = (&work, &recorded);
            scope.spawn(move || {
                let session = format!("soak{i}");
                let mut n = 0;
                while Instant::now() < deadline {
                    let prompt = format!("{session} turn {n}");
                    record_turn(work, &session, &prompt);
                    recorded.lock().unwrap().entry(session.clone()).or_default().push(prompt);
                    n += 1;
                }
            });
        }
        let loops: [(&'static str, &Path, &[&str], u64); 3] = [
            ("gc", &work, &["--json", "gc", "--grace", "0"], 5),
            ("push", &work, &["--json", "push"], 2),
            ("pull", &mirror, &["--json", "pull"], 2),
        ];
        for (name, dir, args, pause) in loops {
            let (stop, peaks) = (&stop, &peaks);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (code, out, err, rss) = run_measured(agit_cmd(dir, args));
                    let mut p = peaks.lock().unwrap();
                    let now = start.elapsed().as_secs_f64();
                    p.samples.push((now, name, rss));
                    if name == "gc"
                        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&out)
                        && let Some(n) = v["data"]["total_objects_before"].as_u64()
                    {
                        p.store_objects.push((now, n));
                    }
                    // A push racing new turns may find its ref moved; anything else is a failure.
                    if code != 0 && !out.contains("remote_conflict") && !out.contains("lock_timeout") {
                        p.failures.push(format!("{name} exit {code}: {out} {err}"));
                    }
                    drop(p);
                    std::thread::sleep(Duration::from_secs(pause));
                }
            });
        }
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
        }
        // Sessions stop at the deadline; the loops run until they have.
        std::thread::sleep(Duration::from_secs(1));
        stop.store(true, Ordering::Relaxed);
    });

    // Settle: finish stranded turns, one last gc, push and pull.
    for (dir, args) in [
        (&work, vec!["doctor", "--repair"]),
        (&work, vec!["gc", "--grace", "0"]),
        (&work, vec!["push"]),
        (&mirror, vec!["pull"]),
    ] {
        let out = agit_cmd(dir, &args).output().unwrap();
        assert!(out.status.success() || args[0] == "doctor", "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    for dir in [&work, &mirror] {
        let out = agit_cmd(dir, &["fsck"]).output().unwrap();
        assert!(out.status.success(), "fsck {}: {}", dir.display(), String::from_utf8_lossy(&out.stdout));
    }
    let recorded = recorded.into_inner().unwrap();
    let mut total = 0;
    for (session, prompts) in &recorded {
        total += prompts.len();
        for dir in [&work, &mirror] {
            let mut found = prompts_of(dir, session);
            found.sort();
            let mut expected = prompts.clone();
            expected.sort();
            assert_eq!(found, expected, "{session} in {}: every turn exactly once", dir.display());
        }
    }

    let peaks = peaks.into_inner().unwrap();
    assert!(peaks.failures.is_empty(), "{:#?}", peaks.failures);
    // gc, push and pull are per-run processes whose work (mark sets, scans) grows with
    // the store, so "flat" means: peak memory grows no faster than the store does.
    let quarter = secs as f64 / 4.0;
    let objects_in = |from: f64, to: f64| {
        peaks.store_objects.iter().filter(|(t, _)| *t >= from && *t < to).map(|s| s.1).max().unwrap_or(1).max(1)
    };
    let (objects_first, objects_last) = (objects_in(0.0, quarter), objects_in(3.0 * quarter, f64::MAX));
    let growth = (objects_last as f64 / objects_first as f64).max(1.0);
    let mut report =
        vec![format!("store: {objects_first} objects in the first quarter, {objects_last} in the last ({growth:.1}x)")];
    for name in ["gc", "push", "pull"] {
        let of = |from: f64, to: f64| {
            peaks.samples.iter().filter(|(t, n, _)| *n == name && *t >= from && *t < to).map(|s| s.2).max().unwrap_or(0)
        };
        let (first, last) = (of(0.0, quarter), of(3.0 * quarter, f64::MAX));
        let runs = peaks.samples.iter().filter(|s| s.1 == name).count();
        report.push(format!(
            "{name}: {runs} runs, peak RSS first quarter {first} KiB ({:.1} KiB per 1,000 objects), last quarter {last} KiB ({:.1})",
            first as f64 * 1000.0 / objects_first as f64,
            last as f64 * 1000.0 / objects_last as f64
        ));
        assert!(
            last as f64 <= first as f64 * 1.5 * growth + 16_384.0,
            "{name} memory grew faster than the store: {first} -> {last} KiB while objects grew {growth:.1}x"
        );
    }
    eprintln!(
        "soak: {secs} s, {total} turns in {} sessions, both stores fsck clean, every turn once in both\n{}",
        recorded.len(),
        report.join("\n")
    );
}
