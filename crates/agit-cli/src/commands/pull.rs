//! `agit pull`: fetch and verify what the remote's refs reach, fast-forward local refs,
//! reconcile the index (reference `remote.md` §2.6, §2.7).

use std::io::{self, Write};

use serde::Serialize;

use agit_core::Store;
use agit_sync::remote::{DEFAULT_JOBS, PullOptions, PullReport, pull};

use crate::Context;
use crate::commands::preflight::require_healthy_store;
use crate::commands::transfer::{Bars, Failure, conflict_diagnostic, resolve_remote, selected_remote};
use crate::output::{CliError, Diagnostic, EXIT_FAILURE, Report};
use crate::render::Style;

const CONFLICT_MESSAGE: &str = "Local ref diverged from the pulled remote ref.";
const FAILED: Failure =
    Failure { code: "pull_failed", message: "Failed to pull store data from the configured remote." };

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// Choose a configured remote by name.
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
    /// Concurrent transfers.
    #[arg(long, short = 'j', value_name = "N", default_value_t = DEFAULT_JOBS as u64,
          value_parser = clap::value_parser!(u64).range(1..=256))]
    pub jobs: u64,
    /// Ignore what this store recorded about the remote and walk every remote ref fully.
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Serialize)]
pub struct PullOutput {
    #[serde(flatten)]
    report: PullReport,
    /// The remote's name.
    remote: String,
    /// The first conflict as a reference-shaped diagnostic (all are in `conflicts`).
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnostic: Option<Diagnostic>,
}

pub fn run(args: &PullArgs, ctx: &Context) -> Result<PullOutput, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let (_, entry) = selected_remote(&store, args.remote.as_deref())?;
    require_healthy_store(&store, "Refusing to pull into a corrupt local store.")?;
    let remote = resolve_remote(&entry, &FAILED)?;
    let options = PullOptions { jobs: args.jobs as usize, full: args.full };
    let report = pull(&store, &remote, &options, &Bars::new(ctx)).map_err(|e| FAILED.error(&e))?;
    let diagnostic = report.conflicts.first().map(|c| conflict_diagnostic(CONFLICT_MESSAGE, c));
    Ok(PullOutput { report, remote: remote.name, diagnostic })
}

impl Report for PullOutput {
    fn human(&self, out: &mut dyn Write, _: &Style) -> io::Result<()> {
        let r = &self.report;
        writeln!(
            out,
            "pull: downloaded_objects={} skipped_objects={} created_refs={} updated_refs={} unchanged_refs={} encrypted={} reconciled={}",
            r.downloaded_objects,
            r.skipped_objects,
            r.created_refs,
            r.updated_refs,
            r.unchanged_refs,
            if r.encrypted { "yes" } else { "no" },
            r.reconcile.repaired
        )
    }

    fn exit_code(&self) -> u8 {
        if self.report.conflicts.is_empty() { 0 } else { EXIT_FAILURE }
    }

    fn errors(&self) -> Vec<Diagnostic> {
        self.report.conflicts.iter().map(|c| conflict_diagnostic(CONFLICT_MESSAGE, c)).collect()
    }
}
