//! `agit fsck [--reindex]`: read-only integrity scan (reference `storage.md` §11).

use std::io::{self, Write};

use serde::Serialize;

use agit_core::Store;
use agit_core::fsck::{Check, FsckReport, FsckStats, Status, fsck};
use agit_core::index::rebuild;

use crate::Context;
use crate::output::{CliError, EXIT_FAILURE, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct FsckArgs {
    /// Rebuild index.db after a scan that found no errors, then scan again.
    #[arg(long)]
    pub reindex: bool,
}

/// What `--reindex` rebuilt.
#[derive(Debug, Serialize)]
pub struct Repair {
    sessions: usize,
    steps: usize,
}

#[derive(Debug, Serialize)]
pub struct FsckOutput {
    healthy: bool,
    checks: Vec<Check>,
    stats: FsckStats,
    repair: Option<Repair>,
}

pub fn run(args: &FsckArgs, ctx: &Context) -> Result<FsckOutput, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let mut report = fsck(&store)?;
    let mut repair = None;
    if args.reindex {
        if report.healthy() {
            let stats = rebuild(&store)?;
            repair = Some(Repair { sessions: stats.sessions, steps: stats.steps });
            report = fsck(&store)?;
        } else {
            report.checks.push(Check {
                code: "reindex_skipped".into(),
                status: Status::Info,
                message: "Index rebuild skipped: the scan found corruption.".into(),
                hint: Some("Repair or restore the damaged objects and refs, then run `agit fsck --reindex`.".into()),
                path: None,
                hash: None,
            });
        }
    }
    Ok(output(report, repair))
}

fn output(report: FsckReport, repair: Option<Repair>) -> FsckOutput {
    FsckOutput { healthy: report.healthy(), checks: report.checks, stats: report.stats, repair }
}

fn sigil(status: Status) -> &'static str {
    match status {
        Status::Ok => "✓",
        Status::Info => "-",
        Status::Warn => "!",
        Status::Error => "✗",
    }
}

impl Report for FsckOutput {
    fn human(&self, out: &mut dyn Write, _: &Style) -> io::Result<()> {
        for check in &self.checks {
            writeln!(out, "  {} {}", sigil(check.status), check.message)?;
            for (label, value) in [("path", &check.path), ("hash", &check.hash), ("hint", &check.hint)] {
                if let Some(value) = value {
                    writeln!(out, "      {label}: {value}")?;
                }
            }
        }
        if let Some(repair) = &self.repair {
            writeln!(out, "reindexed: {} session(s), {} step(s)", repair.sessions, repair.steps)?;
        }
        let verdict = if !self.healthy {
            "corrupt"
        } else if self.stats.warnings > 0 {
            "warnings"
        } else {
            "ok"
        };
        let s = &self.stats;
        writeln!(
            out,
            "fsck: {verdict} (objects={} refs={} reachable_sessions={} reachable_steps={})",
            s.object_files + s.packed_objects,
            s.ref_files,
            s.reachable_sessions,
            s.reachable_steps
        )
    }

    fn pageable(&self) -> bool {
        false
    }

    fn exit_code(&self) -> u8 {
        if self.healthy { 0 } else { EXIT_FAILURE }
    }
}
