//! `agit gc`: repack everything reachable into one pack and prune old unreachable objects
//! (reference `storage.md` §10; the library does the work, see `agit_core::gc`).

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use agit_core::Store;
use agit_core::gc::{GcError, GcOptions, GcReport, PackSummary, PrunedObject, RemovedFile, gc};

use crate::Context;
use crate::output::{CliError, Diagnostic, Report};
use crate::render::{Style, parse_date_ms};

#[derive(Debug, clap::Args)]
pub struct GcArgs {
    /// Keep unreachable objects younger than this many hours (default 2). 0 prunes every
    /// unreachable object now: use it only while no other agit command is writing
    /// (agent hooks, push, pull and import are safe; an `agit eval` or `agit reindex`
    /// running at the same moment may lose its new objects).
    #[arg(long, visible_alias = "grace-hours", value_name = "HOURS")]
    pub grace: Option<f64>,
    /// Drop sessions whose latest step is older than this day (UTC midnight), then prune
    /// their objects once they are past the grace period.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub prune_before: Option<String>,
    /// Show what would be pruned, packed and removed; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `data` of `agit gc --json`: the reference's fields first, then ours.
#[derive(Serialize)]
pub struct GcOutput {
    grace_hours: f64,
    prune_before: Option<String>,
    refs_pruned: usize,
    objects_pruned: u64,
    object_bytes_pruned: u64,
    tmp_files_pruned: usize,
    log_rotated: bool,
    reindexed: bool,
    /// The rebuilt index is a fresh file (the reference ran VACUUM/ANALYZE instead).
    optimized_index: bool,
    reachable_objects: u64,
    reachable_bytes: u64,
    total_objects_before: u64,
    total_bytes_before: u64,
    dry_run: bool,
    /// Sessions dropped by --prune-before (`origin/session-id`).
    sessions_pruned: Vec<String>,
    objects_kept: u64,
    young_kept: u64,
    objects_packed: u64,
    loose_objects_before: u64,
    loose_removed: u64,
    unpacked: u64,
    oversized_loose: u64,
    packs_before: u64,
    packs_removed: Vec<String>,
    pack: Option<PackSummary>,
    /// Object store bytes (loose + packs + idx) after gc; null in a dry run.
    total_bytes_after: Option<u64>,
    pruned: Vec<PrunedObject>,
    tmp_files: Vec<RemovedFile>,
    broken_packs: Vec<String>,
    reindex_problems: Vec<String>,
}

pub fn run(args: &GcArgs, ctx: &Context) -> Result<GcOutput, CliError> {
    let grace_hours = args.grace.unwrap_or(2.0);
    if !grace_hours.is_finite() || grace_hours < 0.0 {
        return Err(CliError::usage("invalid_argument", "--grace must be a number of hours, 0 or more."));
    }
    let grace = Duration::try_from_secs_f64(grace_hours * 3600.0)
        .map_err(|_| CliError::usage("invalid_argument", "--grace is too large."))?;
    let prune_before_ms = match &args.prune_before {
        Some(day) => Some(parse_date_ms(day).ok_or_else(|| {
            CliError::usage("invalid_argument", format!("Invalid --prune-before date `{day}`; use YYYY-MM-DD."))
        })?),
        None => None,
    };
    let store = Store::discover(&ctx.cwd)?;
    let options = GcOptions { grace, prune_before_ms, dry_run: args.dry_run, ..GcOptions::default() };
    let report = gc(&store, &options).map_err(gc_error)?;
    Ok(output(report, grace_hours, args.prune_before.clone()))
}

fn gc_error(error: GcError) -> CliError {
    match error {
        GcError::Store(e) => e.into(),
        e @ GcError::Mark { .. } => CliError::new(Diagnostic::new(e.code(), e.to_string()).hint(
            "Run `agit fsck` to find the damaged ref or object; gc prunes nothing until every history it keeps can be read.",
        )),
    }
}

fn output(r: GcReport, grace_hours: f64, prune_before: Option<String>) -> GcOutput {
    GcOutput {
        grace_hours,
        prune_before,
        refs_pruned: r.sessions_pruned.len(),
        objects_pruned: r.objects_pruned,
        object_bytes_pruned: r.object_bytes_pruned,
        tmp_files_pruned: r.tmp_files_pruned.len(),
        log_rotated: r.log_rotated,
        reindexed: r.reindexed,
        optimized_index: r.reindexed,
        reachable_objects: r.reachable_objects,
        reachable_bytes: r.reachable_bytes,
        total_objects_before: r.total_objects_before,
        total_bytes_before: r.bytes_before,
        dry_run: r.dry_run,
        sessions_pruned: r.sessions_pruned.iter().map(|s| s.display_name()).collect(),
        objects_kept: r.objects_kept,
        young_kept: r.young_kept,
        objects_packed: r.objects_packed,
        loose_objects_before: r.loose_objects_before,
        loose_removed: r.loose_removed,
        unpacked: r.unpacked,
        oversized_loose: r.oversized_loose,
        packs_before: r.packs_before,
        packs_removed: r.packs_removed,
        pack: r.pack,
        total_bytes_after: r.bytes_after,
        pruned: r.pruned,
        tmp_files: r.tmp_files_pruned,
        broken_packs: r.broken_packs,
        reindex_problems: r.reindex_problems,
    }
}

fn yes(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

impl Report for GcOutput {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        let would = if self.dry_run { "would " } else { "" };
        // The reference's summary line, so scripts reading it keep working.
        writeln!(
            out,
            "gc{}: refs_pruned={} objects_pruned={} bytes_pruned={} tmp_files_pruned={} log_rotated={} reindexed={}",
            if self.dry_run { " (dry run)" } else { "" },
            self.refs_pruned,
            self.objects_pruned,
            self.object_bytes_pruned,
            self.tmp_files_pruned,
            yes(self.log_rotated),
            yes(self.reindexed)
        )?;
        writeln!(
            out,
            "    reachable={}/{} objects bytes={}/{}",
            self.reachable_objects, self.total_objects_before, self.reachable_bytes, self.total_bytes_before
        )?;
        match (&self.pack, self.dry_run) {
            (Some(p), _) if p.reused => {
                writeln!(out, "    pack {}: already holds every reachable object ({} objects)", p.name, p.entries)?
            }
            (Some(p), _) => writeln!(
                out,
                "    packed {} objects into {} ({} deltas, {} + {} idx bytes)",
                p.entries, p.name, p.deltas, p.pack_bytes, p.idx_bytes
            )?,
            (None, true) if self.objects_packed > 0 => {
                writeln!(out, "    would pack {} objects into one new pack", self.objects_packed)?
            }
            (None, _) => writeln!(out, "    nothing reachable to pack")?,
        }
        writeln!(
            out,
            "    {would}remove {} loose copies and {} pack(s); {} young unreachable object(s) kept (grace {}h)",
            self.loose_removed,
            self.packs_removed.len(),
            self.young_kept,
            self.grace_hours
        )?;
        if let Some(after) = self.total_bytes_after {
            writeln!(out, "    object store: {} -> {} bytes", self.total_bytes_before, after)?;
        }
        for session in &self.sessions_pruned {
            writeln!(out, "    {would}drop session {session}")?;
        }
        for name in &self.packs_removed {
            writeln!(out, "    {would}remove pack {name}")?;
        }
        if self.dry_run {
            for p in &self.pruned {
                writeln!(out, "    would prune {} ({} bytes, {})", style.hash(&p.hash), p.size, p.location)?;
            }
        }
        for f in &self.tmp_files {
            writeln!(out, "    {would}remove stale {} ({} bytes)", f.path, f.size)?;
        }
        for name in &self.broken_packs {
            writeln!(out, "    ! left unreadable pack {name} alone (see `agit fsck`)")?;
        }
        for problem in &self.reindex_problems {
            writeln!(out, "    ! reindex: {problem}")?;
        }
        Ok(())
    }

    fn pageable(&self) -> bool {
        false
    }
}
