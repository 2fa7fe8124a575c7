//! Capture budgets (DECISIONS §5): prompt/tool hook latency, stop-hook finalize with 3
//! changed files vs `git add -A && git write-tree` (warm index), and the first snapshot
//! vs `git add -A` into a fresh index, on generated repositories.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agit_core::Error;

use super::{BenchLine, median_ms, repo};
use crate::Context;
use crate::output::{CliError, Diagnostic};

/// Repository sizes: (files, bytes per file). 10,000 × 10 KiB ≈ 100 MB is the budget's repo.
const FULL_SIZES: [(usize, usize); 3] = [(1_000, 10_240), (10_000, 10_240), (50_000, 2_048)];
const QUICK_SIZES: [(usize, usize); 1] = [(1_000, 10_240)];
/// Prompt and tool hooks must stay under this (absolute budget).
const HOOK_BUDGET_MS: f64 = 10.0;

pub fn run(base: &Path, quick: bool, repeat: usize, _ctx: &Context) -> Result<Vec<BenchLine>, CliError> {
    let exe = std::env::current_exe().map_err(|e| Error::io("locate", "agit", e))?;
    let sizes: &[(usize, usize)] = if quick { &QUICK_SIZES } else { &FULL_SIZES };
    let mut lines = Vec::new();
    for &(files, bytes) in sizes {
        let label = format!("{}k files", files / 1000);
        let ours = base.join(format!("agit-{files}"));
        let peer = base.join(format!("git-{files}"));
        repo::generate(&ours, files, bytes)?;
        repo::generate(&peer, files, bytes)?;
        git(&peer, &["init", "-q"])?;
        run_ok(Command::new(&exe).args(["init", "--no-hooks"]).current_dir(&ours))?;

        // First snapshot: a whole turn's stop hook on the untouched repo vs git add -A.
        hook(&exe, &ours, "UserPromptSubmit", "first")?;
        let first_agit = time(|| hook(&exe, &ours, "Stop", ""))?;
        let first_git = time(|| git(&peer, &["add", "-A"]))?;
        lines.push(line(
            format!("first snapshot ({label})"),
            first_agit,
            Some(first_git),
            "git add -A (fresh index)",
            1.0,
            format!("{files} files × {bytes} B, one run each"),
        ));
        git(&peer, &["write-tree"])?;

        let mut prompt = Vec::new();
        let mut tool = Vec::new();
        let mut stop = Vec::new();
        let mut peer_warm = Vec::new();
        for round in 0..repeat {
            for i in 0..3 {
                repo::touch(&ours, (i * 7919 + round) % files, round)?;
                repo::touch(&peer, (i * 7919 + round) % files, round)?;
            }
            prompt.push(timed(|| hook(&exe, &ours, "UserPromptSubmit", "change three files"))?);
            tool.push(timed(|| hook(&exe, &ours, "PostToolUse", ""))?);
            stop.push(timed(|| hook(&exe, &ours, "Stop", ""))?);
            peer_warm.push(timed(|| git(&peer, &["add", "-A"]).and_then(|()| git(&peer, &["write-tree"])))?);
        }
        let stop_ms = median_ms(&mut stop);
        let peer_ms = median_ms(&mut peer_warm);
        lines.push(line(
            format!("finalize, 3 changed files ({label})"),
            Duration::from_secs_f64(stop_ms / 1000.0),
            Some(Duration::from_secs_f64(peer_ms / 1000.0)),
            "git add -A && git write-tree (warm index)",
            1.0,
            format!("median of {repeat}; stop hook process end to end"),
        ));
        for (name, samples) in [("prompt hook", &mut prompt), ("tool hook", &mut tool)] {
            let ms = median_ms(samples);
            lines.push(BenchLine {
                name: format!("{name} ({label})"),
                ours_ms: ms,
                peer_ms: None,
                peer: format!("absolute budget {HOOK_BUDGET_MS} ms"),
                ratio: ms / HOOK_BUDGET_MS,
                budget: format!("< {HOOK_BUDGET_MS} ms"),
                within_budget: ms < HOOK_BUDGET_MS,
                detail: format!("median of {repeat}; hook process end to end"),
            });
        }
        // Free disk space before the next, larger size.
        let _ = std::fs::remove_dir_all(&ours);
        let _ = std::fs::remove_dir_all(&peer);
    }
    Ok(lines)
}

fn line(
    name: String,
    ours: Duration,
    peer: Option<Duration>,
    peer_name: &str,
    budget: f64,
    detail: String,
) -> BenchLine {
    let ours_ms = ours.as_secs_f64() * 1000.0;
    let peer_ms = peer.map(|p| p.as_secs_f64() * 1000.0);
    let ratio = peer_ms.map_or(0.0, |p| if p > 0.0 { ours_ms / p } else { f64::INFINITY });
    BenchLine {
        name,
        ours_ms,
        peer_ms,
        peer: peer_name.to_owned(),
        ratio,
        budget: format!("ratio <= {budget}"),
        within_budget: ratio <= budget,
        detail,
    }
}

fn time(f: impl FnOnce() -> Result<(), CliError>) -> Result<Duration, CliError> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed())
}

fn timed(f: impl FnOnce() -> Result<(), CliError>) -> Result<Duration, CliError> {
    time(f)
}

pub(super) fn hook(exe: &Path, dir: &Path, event: &str, prompt: &str) -> Result<(), CliError> {
    let cwd = dir.display();
    let payload = match event {
        "UserPromptSubmit" => {
            format!(r#"{{"session_id":"bench","cwd":"{cwd}","hook_event_name":"{event}","prompt":"{prompt}"}}"#)
        }
        "PostToolUse" => format!(
            r#"{{"session_id":"bench","cwd":"{cwd}","hook_event_name":"{event}","tool_name":"Edit","tool_input":{{"file_path":"x"}},"tool_response":"ok"}}"#
        ),
        _ => format!(
            r#"{{"session_id":"bench","cwd":"{cwd}","hook_event_name":"{event}","last_assistant_message":"done"}}"#
        ),
    };
    let mut child = Command::new(exe)
        .arg("codex-hook")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io("spawn", exe, e))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(payload.as_bytes()).map_err(|e| Error::io("write", "hook stdin", e))?;
    }
    let out = child.wait_with_output().map_err(|e| Error::io("wait", exe, e))?;
    if !out.stderr.is_empty() {
        return Err(CliError::new(Diagnostic::new(
            "bench_failed",
            format!("hook failed: {}", String::from_utf8_lossy(&out.stderr).trim()),
        )));
    }
    Ok(())
}

pub(super) fn git(dir: &Path, args: &[&str]) -> Result<(), CliError> {
    run_ok(Command::new("git").arg("-C").arg(dir).args(args))
}

pub(super) fn run_ok(cmd: &mut Command) -> Result<(), CliError> {
    let out = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).output().map_err(|e| Error::io("run", "command", e))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(CliError::new(Diagnostic::new(
            "bench_failed",
            format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr).trim()),
        )))
    }
}
