//! `agit import`: validate a portable bundle completely, then write its objects and refs,
//! reconcile the index and rebuild blame (reference `remote.md` §6.5, with fast-forward
//! and conflict detection before any write).

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use agit_core::Store;
use agit_core::index::{Index, ReconcileReport};
use agit_sync::bundle::{self, BundleError, ImportOptions, RefOutcome, parse_session_arg};

use crate::Context;
use crate::output::{CliError, Diagnostic, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Overwrite a named canonical session ref instead of namespacing conflicts. Can be repeated.
    #[arg(long = "replace-ref", value_name = "ORIGIN/SESSION-ID")]
    pub replace_ref: Vec<String>,
    /// The bundle directory, or a .tar.zst bundle archive.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
}

/// Reconcile counters (reference names; `drifted` counts sessions that could not be
/// reconciled).
#[derive(Debug, Default, Serialize)]
pub struct ReconcileOut {
    sessions_checked: usize,
    in_sync: usize,
    repaired: usize,
    drifted: usize,
    index_ahead: usize,
}

impl From<&ReconcileReport> for ReconcileOut {
    fn from(r: &ReconcileReport) -> Self {
        ReconcileOut {
            sessions_checked: r.sessions_checked,
            in_sync: r.in_sync,
            repaired: r.repaired,
            drifted: r.problems.len(),
            index_ahead: r.index_ahead,
        }
    }
}

/// One bundle ref and what happened to it (new in our output).
#[derive(Debug, Serialize)]
pub struct RefOut {
    origin: String,
    session_id: String,
    action: &'static str,
    bundle_head: String,
    previous_head: Option<String>,
    /// The session now holding the bundle's history (`<id>@import-<bundle>` when namespaced).
    target_session_id: String,
    target_head: String,
}

impl From<&RefOutcome> for RefOut {
    fn from(o: &RefOutcome) -> Self {
        RefOut {
            origin: o.session.origin.clone(),
            session_id: o.session.session_id.clone(),
            action: o.action.as_str(),
            bundle_head: o.bundle_head.to_hex(),
            previous_head: o.previous.map(|p| p.to_hex()),
            target_session_id: o.target.session_id.clone(),
            target_head: o.target_head.to_hex(),
        }
    }
}

/// `data` of `agit import --json`: the reference fields, then `fast_forwarded_refs` and
/// `refs`.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    path: String,
    bundle_id: String,
    imported_objects: usize,
    skipped_objects: usize,
    cloned_steps: usize,
    created_refs: usize,
    replaced_refs: usize,
    namespaced_refs: usize,
    unchanged_refs: usize,
    reconcile: ReconcileOut,
    fast_forwarded_refs: usize,
    refs: Vec<RefOut>,
}

pub fn run(args: &ImportArgs, ctx: &Context) -> Result<ImportReport, CliError> {
    let mut replace_refs = Vec::with_capacity(args.replace_ref.len());
    for value in &args.replace_ref {
        let session = parse_session_arg(value, "--replace-ref").map_err(|e| {
            CliError::usage("invalid_argument", e.to_string()).with_hint("Run `agit help import` for usage.")
        })?;
        replace_refs.push(session);
    }
    let shown = args.path.display().to_string();
    let store = Store::discover(&ctx.cwd)?;
    let summary = bundle::import(&store, &ctx.cwd.join(&args.path), &ImportOptions { replace_refs })
        .map_err(|e| failure(e, &shown))?;
    // The reference reconciled always; the index then lists the imported sessions.
    let mut index = Index::open(&store)?;
    let reconciled = agit_core::blame::reconcile_arrivals(&store, &mut index)?;
    let reconcile = ReconcileOut::from(&reconciled);
    Ok(ImportReport {
        path: shown,
        bundle_id: summary.bundle_id.clone(),
        imported_objects: summary.imported_objects,
        skipped_objects: summary.skipped_objects,
        cloned_steps: summary.cloned_steps,
        created_refs: summary.created_refs,
        replaced_refs: summary.replaced_refs,
        namespaced_refs: summary.namespaced_refs,
        unchanged_refs: summary.unchanged_refs,
        reconcile,
        fast_forwarded_refs: summary.fast_forwarded_refs,
        refs: summary.refs.iter().map(RefOut::from).collect(),
    })
}

/// `import_failed` with the reference error name as the hint (store errors such as a
/// lock timeout keep their own code).
fn failure(e: BundleError, path: &str) -> CliError {
    if let BundleError::Store(inner @ (agit_core::Error::LockTimeout { .. } | agit_core::Error::CasConflict { .. })) =
        &e
    {
        return CliError::new(crate::output::diagnostic_for(inner));
    }
    let mut d = Diagnostic::new("import_failed", format!("Failed to import the portable bundle: {e}."))
        .hint(e.name())
        .path(path);
    if let Some(hash) = e.hash() {
        d = d.hash(hash);
    }
    CliError::new(d)
}

impl Report for ImportReport {
    fn human(&self, out: &mut dyn Write, _: &Style) -> io::Result<()> {
        writeln!(
            out,
            "import: path={} bundle={} imported_objects={} skipped_objects={} cloned_steps={} created_refs={} replaced_refs={} namespaced_refs={} unchanged_refs={} fast_forwarded_refs={} reconciled={}",
            self.path,
            &self.bundle_id[..self.bundle_id.len().min(12)],
            self.imported_objects,
            self.skipped_objects,
            self.cloned_steps,
            self.created_refs,
            self.replaced_refs,
            self.namespaced_refs,
            self.unchanged_refs,
            self.fast_forwarded_refs,
            self.reconcile.repaired
        )?;
        for r in self.refs.iter().filter(|r| r.action == "namespaced") {
            writeln!(
                out,
                "  {}/{} diverged from the local session; imported as {}/{}",
                r.origin, r.session_id, r.origin, r.target_session_id
            )?;
        }
        Ok(())
    }

    fn pageable(&self) -> bool {
        false
    }
}
