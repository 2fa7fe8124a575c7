//! `agit export`: write selected sessions as a portable bundle (reference `remote.md`
//! §6.4): parse, load config, select, fsck, privacy gate, then write. Nothing is created
//! on disk unless every check before the write passed.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use agit_core::Store;
use agit_core::config::Config;
use agit_core::privacy::scan_sessions;
use agit_sync::bundle::{self, BundleError, ExportRequest, ExportTarget, RawFilters, Selection};

use crate::Context;
use crate::commands::preflight::require_healthy_store;
use crate::output::{CliError, Diagnostic, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Only export sessions recorded by the given origin.
    #[arg(long, value_name = "NAME")]
    pub origin: Option<String>,
    /// Only export one disambiguated session id.
    #[arg(long, value_name = "ORIGIN/SESSION-ID")]
    pub session: Option<String>,
    /// Only select sessions with at least one step on or after UTC midnight for the given date.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub since: Option<String>,
    /// Only select sessions with at least one step before UTC midnight after the given date.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub until: Option<String>,
    /// Allow plaintext export when privacy scan findings exist; writes a privacy report.
    #[arg(long)]
    pub allow_sensitive: bool,
    /// Write one zstd-compressed tar file (PATH, e.g. out.tar.zst) instead of a directory.
    #[arg(long)]
    pub archive: bool,
    /// The bundle directory (empty or absent), or the archive file with --archive.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
}

/// `data` of `agit export --json` (reference fields, plus `archive`).
#[derive(Debug, Serialize)]
pub struct ExportReport {
    path: String,
    bundle_id: String,
    exported_objects: usize,
    exported_refs: usize,
    privacy_findings: usize,
    /// Whether PATH is a `.tar.zst` archive rather than a directory.
    archive: bool,
}

pub fn run(args: &ExportArgs, ctx: &Context) -> Result<ExportReport, CliError> {
    // 1. Arguments (usage errors, exit 2).
    let raw = RawFilters {
        origin: args.origin.clone(),
        session: args.session.clone(),
        since: args.since.clone(),
        until: args.until.clone(),
    };
    let selection = Selection::parse(raw).map_err(usage)?;
    let shown = args.path.display().to_string();
    let target_path = ctx.cwd.join(&args.path);

    // 2. Store and config.
    let store = Store::discover(&ctx.cwd)?;
    let config = Config::load(&store.config_path())?;

    // 3. Selection.
    let sessions = match bundle::select_sessions(&store, &selection) {
        Ok(sessions) => sessions,
        // A ref or step that cannot be read while selecting is corruption: say so the
        // way the integrity check below would, rather than as a write failure.
        Err(e @ BundleError::Store(_)) => {
            require_healthy_store(&store, "Refusing to export from a corrupt local store.")?;
            return Err(failure(e, &shown));
        }
        Err(e) => return Err(failure(e, &shown)),
    };
    if sessions.is_empty() {
        return Err(failure(BundleError::NoMatchingSessions, &shown));
    }

    // 4. Integrity.
    require_healthy_store(&store, "Refusing to export from a corrupt local store.")?;

    // 5. Privacy gate over exactly what leaves the machine: every selected session,
    //    including those of origins capture no longer records (the reference skipped
    //    them, so they left unscanned).
    let mut privacy = config.privacy.clone();
    privacy.enabled_origins.clear();
    let report = scan_sessions(&store, &sessions, &privacy)?;
    let findings = report.findings.len();
    if findings > 0 && !args.allow_sensitive {
        return Err(CliError::new(
            Diagnostic::new("privacy_blocked", "Refusing to export sensitive plaintext bundle contents.")
                .hint("Rerun with --allow-sensitive to include a privacy report without secret values.")
                .path(shown),
        ));
    }

    // 6. Write.
    let request = ExportRequest {
        selection: &selection,
        sessions: &sessions,
        privacy: &report,
        include_privacy_report: args.allow_sensitive,
        created_at_ms: now_ms(),
    };
    let target = if args.archive { ExportTarget::Archive(&target_path) } else { ExportTarget::Directory(&target_path) };
    let summary = bundle::export(&store, &request, target).map_err(|e| failure(e, &shown))?;
    Ok(ExportReport {
        path: shown,
        bundle_id: summary.bundle_id,
        exported_objects: summary.exported_objects,
        exported_refs: summary.exported_refs,
        privacy_findings: summary.privacy_findings,
        archive: args.archive,
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A malformed filter: a usage error (exit 2) with the reference's message.
fn usage(e: BundleError) -> CliError {
    CliError::usage("invalid_argument", e.to_string()).with_hint("Run `agit help export` for usage.")
}

/// Any other export failure: its own code when it has one, else `export_failed` with the
/// reference error name as the hint.
fn failure(e: BundleError, path: &str) -> CliError {
    if let Some(code) = e.code() {
        let d = Diagnostic::new(code, e.to_string()).path(path);
        return CliError::new(match e {
            BundleError::NoMatchingSessions => d.hint("Run `agit sessions` to list what is recorded."),
            _ => d,
        });
    }
    let mut d = Diagnostic::new("export_failed", format!("Failed to write the portable bundle: {e}."))
        .hint(e.name())
        .path(path);
    if let Some(hash) = e.hash() {
        d = d.hash(hash);
    }
    CliError::new(d)
}

impl Report for ExportReport {
    fn human(&self, out: &mut dyn Write, _: &Style) -> io::Result<()> {
        writeln!(
            out,
            "export: path={} bundle={} exported_objects={} exported_refs={} privacy_findings={}",
            self.path,
            &self.bundle_id[..self.bundle_id.len().min(12)],
            self.exported_objects,
            self.exported_refs,
            self.privacy_findings
        )
    }

    fn pageable(&self) -> bool {
        false
    }

    fn warnings(&self) -> Vec<Diagnostic> {
        if self.privacy_findings == 0 {
            return Vec::new();
        }
        vec![
            Diagnostic::new(
                "privacy_findings_exported",
                format!("The bundle holds {} privacy finding(s) in plaintext.", self.privacy_findings),
            )
            .hint("privacy-report.json in the bundle lists where (no secret values); share it accordingly."),
        ]
    }
}
