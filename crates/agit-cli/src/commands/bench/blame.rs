//! Blame budget (DECISIONS §5): `agit blame` of a file with many recorded revisions must
//! take at most a tenth of `git blame` on the equivalent git history. The same directory
//! is both the agit workspace and the git repository: every revision is recorded as a
//! turn through the real hook commands and committed to git.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agit_core::Error;

use super::capture::{git, hook};
use super::{BenchLine, median_ms};
use crate::output::CliError;

const LINES: usize = 2_000;

pub fn run(base: &Path, quick: bool, repeat: usize) -> Result<Vec<BenchLine>, CliError> {
    let revisions = if quick { 100 } else { 500 };
    let exe = std::env::current_exe().map_err(|e| Error::io("locate", "agit", e))?;
    let dir = base.join("blame");
    std::fs::create_dir_all(dir.join("src")).map_err(|e| Error::io("create", &dir, e))?;
    git(&dir, &["init", "-q"])?;
    super::capture::run_ok(Command::new(&exe).args(["init", "--no-hooks"]).current_dir(&dir))?;
    let mut lines: Vec<String> = (0..LINES).map(|i| format!("let value_{i} = {i};")).collect();
    for rev in 0..revisions {
        // A few edits and an insertion per revision, spread over the file.
        for k in 0..3 {
            let at = (rev * 37 + k * 613) % lines.len();
            lines[at] = format!("let value_{at} = {rev}; // revision {rev}");
        }
        lines.insert((rev * 101) % lines.len(), format!("// added in revision {rev}"));
        let path = dir.join("src/big.rs");
        std::fs::write(&path, lines.join("\n") + "\n").map_err(|e| Error::io("write", &path, e))?;
        hook(&exe, &dir, "UserPromptSubmit", "edit big.rs")?;
        hook(&exe, &dir, "Stop", "")?;
        git(&dir, &["add", "-A"])?;
        git(&dir, &["-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "commit", "-qm", "rev"])?;
    }
    let mut ours = Vec::new();
    let mut peer = Vec::new();
    for _ in 0..repeat {
        ours.push(time(
            Command::new(&exe).args(["blame", "src/big.rs", "--no-pager", "--color", "never"]).current_dir(&dir),
        )?);
        peer.push(time(Command::new("git").args(["blame", "src/big.rs"]).current_dir(&dir))?);
    }
    let ours_ms = median_ms(&mut ours);
    let peer_ms = median_ms(&mut peer);
    let ratio = if peer_ms > 0.0 { ours_ms / peer_ms } else { f64::INFINITY };
    Ok(vec![BenchLine {
        name: format!("blame, {revisions} revisions of a {LINES}-line file"),
        ours_ms,
        peer_ms: Some(peer_ms),
        peer: "git blame on the same history".into(),
        ratio,
        budget: "ratio <= 0.1".into(),
        within_budget: ratio <= 0.1,
        detail: format!("median of {repeat}; both as processes; revisions recorded through the hook commands"),
    }])
}

fn time(cmd: &mut Command) -> Result<Duration, CliError> {
    let start = Instant::now();
    super::capture::run_ok(cmd.stdout(Stdio::null()))?;
    Ok(start.elapsed())
}
