//! `agit push`: integrity check, privacy scan and gate, then upload objects and move the
//! remote session refs by compare-and-swap (reference `remote.md` §2.5, §2.7).

use std::io::{self, Write};

use serde::Serialize;

use agit_core::Store;
use agit_core::privacy::scan_sessions;
use agit_core::reach::session_heads;
use agit_sync::remote::resolve::encryption_configured;
use agit_sync::remote::{DEFAULT_JOBS, PushOptions, PushReport, push};

use crate::Context;
use crate::commands::preflight::require_healthy_store;
use crate::commands::transfer::{Bars, Failure, conflict_diagnostic, env_var, resolve_remote, selected_remote};
use crate::output::{CliError, Diagnostic, EXIT_FAILURE, Report};
use crate::render::Style;

const CONFLICT_MESSAGE: &str = "Remote ref is not an ancestor of the local ref; pull first.";
const FAILED: Failure = Failure { code: "push_failed", message: "Failed to push store data to the configured remote." };

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// Choose a configured remote by name.
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
    /// Allow plaintext uploads even when privacy scan findings exist.
    #[arg(long)]
    pub allow_sensitive: bool,
    /// Report what would be uploaded without changing the remote.
    #[arg(long)]
    pub dry_run: bool,
    /// Concurrent transfers.
    #[arg(long, short = 'j', value_name = "N", default_value_t = DEFAULT_JOBS as u64,
          value_parser = clap::value_parser!(u64).range(1..=256))]
    pub jobs: u64,
    /// Ignore what this store recorded about the remote and check every object again
    /// (after the remote was emptied or restored from a backup).
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Serialize)]
pub struct PushOutput {
    #[serde(flatten)]
    report: PushReport,
    /// Privacy scan findings (the push went ahead because of encryption or
    /// `--allow-sensitive`).
    privacy_findings: u64,
    /// The remote's name.
    remote: String,
    /// The first conflict as a reference-shaped diagnostic (all are in `conflicts`).
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnostic: Option<Diagnostic>,
}

pub fn run(args: &PushArgs, ctx: &Context) -> Result<PushOutput, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let (config, entry) = selected_remote(&store, args.remote.as_deref())?;
    require_healthy_store(&store, "Refusing to push from a corrupt local store.")?;

    // Everything a push can upload is scanned, whatever `enabled_origins` says.
    let mut privacy = config.privacy.clone();
    privacy.enabled_origins.clear();
    let heads = session_heads(&store)?;
    let scan = scan_sessions(&store, &heads, &privacy)?;
    let findings = scan.findings.len() as u64;
    if findings > 0 && !args.allow_sensitive && !encryption_configured(&entry, &env_var) {
        let rules: Vec<String> = {
            let mut r: Vec<String> = scan.findings.iter().map(|f| f.rule.to_string()).collect();
            r.sort();
            r.dedup();
            r
        };
        return Err(CliError::new(
            Diagnostic::new("privacy_blocked", "Refusing to upload sensitive plaintext store data.")
                .hint(format!(
                    "Configure encryption_secret_env for the remote or rerun with --allow-sensitive. \
                     {findings} finding(s): {}; see `agit privacy scan`.",
                    rules.join(", ")
                ))
                .path(".agit"),
        ));
    }

    let remote = resolve_remote(&entry, &FAILED)?;
    let options = PushOptions { jobs: args.jobs as usize, dry_run: args.dry_run, full: args.full };
    let report = push(&store, &remote, &options, &Bars::new(ctx)).map_err(|e| FAILED.error(&e))?;
    let diagnostic = report.conflicts.first().map(|c| conflict_diagnostic(CONFLICT_MESSAGE, c));
    Ok(PushOutput { report, privacy_findings: findings, remote: remote.name, diagnostic })
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

impl Report for PushOutput {
    fn human(&self, out: &mut dyn Write, _: &Style) -> io::Result<()> {
        let r = &self.report;
        writeln!(
            out,
            "push{}: uploaded_objects={} skipped_objects={} uploaded_refs={} skipped_refs={} encrypted={}",
            if r.dry_run { " (dry run)" } else { "" },
            r.uploaded_objects,
            r.skipped_objects,
            r.uploaded_refs,
            r.skipped_refs,
            yes_no(r.encrypted)
        )
    }

    fn exit_code(&self) -> u8 {
        if self.report.conflicts.is_empty() { 0 } else { EXIT_FAILURE }
    }

    fn errors(&self) -> Vec<Diagnostic> {
        self.report.conflicts.iter().map(|c| conflict_diagnostic(CONFLICT_MESSAGE, c)).collect()
    }
}
