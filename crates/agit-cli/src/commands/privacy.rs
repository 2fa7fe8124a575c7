//! `agit privacy scan`: scan everything the session refs reach for secrets, without
//! printing them (reference `remote.md` §4; sessions come from the refs, not the index).

use std::io::{self, Write};

use serde::Serialize;

use agit_core::Store;
use agit_core::config::Config;
use agit_core::privacy::{Finding, ScanStats, scan_sessions};
use agit_core::reach::session_heads;

use crate::Context;
use crate::output::{CliError, EXIT_FAILURE, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct PrivacyArgs {
    #[command(subcommand)]
    pub command: PrivacyCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PrivacyCommand {
    /// Scan reachable captured content for sensitive data without printing secret values.
    #[command(
        after_help = "Examples:\n  agit privacy scan\n  agit privacy scan --json\n\nEvery session ref is followed to its first step; each step's messages, tool\narguments and tool results and each distinct snapshot file are scanned once.\nSessions of origins missing from privacy.enabled_origins are skipped. Findings\nname the rule and where it matched, never the matched text. Exit 1 when there\nare findings."
    )]
    Scan,
}

/// `data` of `agit privacy scan --json`: `{clean, stats, findings}`.
#[derive(Debug, Serialize)]
pub struct PrivacyScanReport {
    clean: bool,
    stats: ScanStats,
    findings: Vec<Finding>,
}

pub fn run(args: &PrivacyArgs, ctx: &Context) -> Result<PrivacyScanReport, CliError> {
    match args.command {
        PrivacyCommand::Scan => scan(ctx),
    }
}

fn scan(ctx: &Context) -> Result<PrivacyScanReport, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let config = Config::load(&store.config_path())?;
    let heads = session_heads(&store)?;
    let report = scan_sessions(&store, &heads, &config.privacy)?;
    Ok(PrivacyScanReport { clean: report.findings.is_empty(), stats: report.stats, findings: report.findings })
}

impl Report for PrivacyScanReport {
    fn human(&self, out: &mut dyn Write, _: &Style) -> io::Result<()> {
        let s = &self.stats;
        if self.clean {
            return writeln!(
                out,
                "privacy scan: clean (sessions={} steps={} trees={} blobs={})",
                s.sessions, s.steps, s.trees, s.blobs
            );
        }
        writeln!(out, "privacy scan: {} finding(s) across {} session(s)", self.findings.len(), s.sessions)?;
        for finding in &self.findings {
            // `Finding`'s Display names rule, source and place only; never the secret.
            writeln!(out, "  - {finding}")?;
        }
        Ok(())
    }

    fn exit_code(&self) -> u8 {
        if self.clean { 0 } else { EXIT_FAILURE }
    }
}
