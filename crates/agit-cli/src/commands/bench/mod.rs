//! `agit bench`: measure agit against its peers on generated data, side by side.
//!
//! Each measurement is repeated and reported as medians with the ratio against the
//! peer and whether it is inside its budget (DECISIONS §5). Timings never fail anything:
//! these machines are shared and noisy, so this is evidence, not a test.

mod blame;
mod capture;
mod prefix;
mod push;
mod repo;
pub mod seaweed;
mod store;

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use crate::Context;
use crate::output::{CliError, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Which measurements to run (default: all).
    #[arg(value_enum)]
    pub suites: Vec<Suite>,
    /// A small version that finishes quickly (fewer files and repetitions).
    #[arg(long)]
    pub quick: bool,
    /// Repetitions per measurement (default: 7, or 3 with --quick).
    #[arg(long)]
    pub repeat: Option<usize>,
    /// Keep the generated data (printed at the end).
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    Capture,
    Blame,
    Push,
    /// Store size after `agit gc` vs `.git` after `git gc --aggressive` (1,000 steps).
    Store,
    /// Hash prefix lookup among 1,000,000 packed objects.
    Prefix,
}

/// One budget line.
#[derive(Debug, Clone, Serialize)]
pub struct BenchLine {
    pub name: String,
    /// Our median, milliseconds.
    pub ours_ms: f64,
    /// The peer's median, milliseconds (null when the budget is absolute).
    pub peer_ms: Option<f64>,
    pub peer: String,
    /// ours / peer (or ours / absolute budget).
    pub ratio: f64,
    pub budget: String,
    pub within_budget: bool,
    pub detail: String,
}

#[derive(Serialize)]
pub struct BenchReport {
    pub lines: Vec<BenchLine>,
    /// Size comparisons (`bench store`).
    pub sizes: Vec<store::SizeLine>,
    pub data_dir: Option<String>,
}

pub fn run(args: &BenchArgs, ctx: &Context) -> Result<BenchReport, CliError> {
    let suites = if args.suites.is_empty() {
        vec![Suite::Capture, Suite::Blame, Suite::Push, Suite::Store, Suite::Prefix]
    } else {
        args.suites.clone()
    };
    let repeat = args.repeat.unwrap_or(if args.quick { 3 } else { 7 }).max(1);
    let dir = tempfile::Builder::new()
        .prefix("agit-bench-")
        .tempdir()
        .map_err(|e| agit_core::Error::io("create", "temp dir", e))?;
    let mut lines = Vec::new();
    let mut sizes = Vec::new();
    for suite in suites {
        match suite {
            Suite::Capture => lines.extend(capture::run(dir.path(), args.quick, repeat, ctx)?),
            Suite::Blame => lines.extend(blame::run(dir.path(), args.quick, repeat)?),
            Suite::Push => lines.extend(push::run(dir.path(), args.quick, repeat)?),
            Suite::Store => sizes.extend(store::run(dir.path(), args.quick)?),
            Suite::Prefix => lines.extend(prefix::run(dir.path(), args.quick, repeat)?),
        }
    }
    let data_dir = args.keep.then(|| dir.keep().display().to_string());
    Ok(BenchReport { lines, sizes, data_dir })
}

/// Median of durations in milliseconds.
pub fn median_ms(samples: &mut [Duration]) -> f64 {
    samples.sort();
    let mid = samples.len() / 2;
    let d = if samples.len() % 2 == 1 { samples[mid] } else { (samples[mid - 1] + samples[mid]) / 2 };
    d.as_secs_f64() * 1000.0
}

impl Report for BenchReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if !self.lines.is_empty() {
            writeln!(
                out,
                "{:<46} {:>10} {:>10}  {:>7}  {:<14} ok",
                "measurement", "agit ms", "peer ms", "ratio", "budget"
            )?;
        }
        for l in &self.lines {
            let peer = l.peer_ms.map_or("-".to_owned(), |p| format!("{p:.1}"));
            let ok = if l.within_budget { style.added("yes") } else { style.removed("NO") };
            writeln!(
                out,
                "{:<46} {:>10.1} {:>10}  {:>7.2}  {:<14} {}",
                l.name, l.ours_ms, peer, l.ratio, l.budget, ok
            )?;
            writeln!(out, "  {}", style.dim(&format!("vs {}; {}", l.peer, l.detail)))?;
        }
        if !self.sizes.is_empty() {
            writeln!(out, "{:<46} {:>10} {:>10}  {:>7}  {:<14} ok", "size", "agit MB", "peer MB", "ratio", "budget")?;
        }
        for l in &self.sizes {
            let ok = if l.within_budget { style.added("yes") } else { style.removed("NO") };
            writeln!(
                out,
                "{:<46} {:>10.2} {:>10.2}  {:>7.2}  {:<14} {}",
                l.name,
                l.ours_bytes as f64 / 1e6,
                l.peer_bytes as f64 / 1e6,
                l.ratio,
                l.budget,
                ok
            )?;
            writeln!(out, "  {}", style.dim(&format!("vs {}; {}", l.peer, l.detail)))?;
        }
        if let Some(dir) = &self.data_dir {
            writeln!(out, "data kept in {dir}")?;
        }
        Ok(())
    }

    fn pageable(&self) -> bool {
        false
    }
}
