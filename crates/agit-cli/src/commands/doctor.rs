//! `agit doctor`: is recording healthy? Reports problems; repairs only with `--repair`.

mod self_test;

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use agit_capture::install::{find_in_path, hook_status};
use agit_capture::recorder::{Recorder, RepairReport};
use agit_core::Store;
use agit_core::index::schema::meta_keys;
use agit_core::index::{Index, reconcile_all, ref_drift};
use agit_core::store::lock::{self, LockRecord};

use crate::Context;
use crate::output::{CliError, EXIT_FAILURE, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// List lock files currently held, with their holder.
    #[arg(long)]
    pub locks: bool,
    /// Show finalize counters.
    #[arg(long)]
    pub stats: bool,
    /// Show the last line of .agit/log/hook-error.log.
    #[arg(long)]
    pub last_hook_error: bool,
    /// Replay refs the index is missing and finish staged turns whose stop was recorded.
    #[arg(long)]
    pub repair: bool,
    /// For each agent with agit hooks, run the prompt and stop hook commands from its
    /// config on a synthetic turn (recorded into a scratch store, never into this one)
    /// and check that a step was recorded.
    #[arg(long)]
    pub self_test: bool,
}

/// One check (the `cli-json-v1` check shape plus its status).
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    code: &'static str,
    status: &'static str,
    message: String,
    hint: Option<String>,
    path: Option<String>,
    hash: Option<String>,
}

fn check(code: &'static str, status: &'static str, message: impl Into<String>) -> Check {
    Check { code, status, message: message.into(), hint: None, path: None, hash: None }
}

impl Check {
    fn hint(mut self, hint: &str) -> Check {
        self.hint = Some(hint.to_owned());
        self
    }
}

#[derive(Serialize)]
pub struct HeldLock {
    path: String,
    holder: Option<LockRecord>,
}

#[derive(Serialize)]
pub struct DoctorStats {
    retries_total: u64,
    objects_written_total: u64,
}

#[derive(Serialize)]
pub struct RepairOut {
    sessions_repaired: usize,
    index_ahead: usize,
    staged: RepairReport,
}

#[derive(Serialize)]
pub struct DoctorReport {
    healthy: bool,
    checks: Vec<Check>,
    locks: Option<Vec<HeldLock>>,
    stats: Option<DoctorStats>,
    last_hook_error: Option<String>,
    repair: Option<RepairOut>,
    /// `--self-test` results per agent with hooks installed.
    self_test: Option<Vec<agit_capture::install::SelfTestResult>>,
}

pub fn run(args: &DoctorArgs, ctx: &Context) -> Result<DoctorReport, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let mut repair = None;
    if args.repair {
        let mut index = Index::open(&store)?;
        let reconciled = reconcile_all(&store, &mut index)?;
        drop(index);
        let staged = Recorder::open(store.clone())?.repair_staged()?;
        repair =
            Some(RepairOut { sessions_repaired: reconciled.repaired, index_ahead: reconciled.index_ahead, staged });
    }
    let mut checks = vec![check("store_ok", "ok", format!(".agit/ store: ok ({})", store.root().display()))];
    let index = match Index::open(&store) {
        Ok(index) => Some(index),
        Err(e) => {
            checks.push(check("index_unreadable", "error", format!("index: {e}")).hint("Run `agit reindex`."));
            None
        }
    };
    if let Some(index) = &index {
        checks.push(drift_check(&store, index)?);
        checks.push(object_index_check(&store, index)?);
    }
    checks.push(agitignore_check(store.workspace()));
    checks.extend(staging_checks(&store));
    let held = held_locks(store.root());
    checks.push(if held.is_empty() {
        check("locks_clear", "ok", ".agit locks: none held")
    } else {
        check("locks_present", "info", format!(".agit locks: {} held now (see --locks)", held.len()))
    });
    checks.extend(agent_checks());
    let self_test = if args.self_test {
        let (results, test_checks) = self_test::run(&store)?;
        checks.extend(test_checks);
        Some(results)
    } else {
        None
    };
    let last_hook_error = std::fs::read_to_string(store.log_dir().join("hook-error.log"))
        .ok()
        .and_then(|text| text.lines().rev().find(|l| !l.trim().is_empty()).map(str::to_owned));
    let stats = match (&index, args.stats) {
        (Some(index), true) => {
            let counter = |key| index.meta(key).ok().flatten().and_then(|v| v.parse().ok()).unwrap_or(0);
            Some(DoctorStats {
                retries_total: counter(meta_keys::RETRIES_TOTAL),
                objects_written_total: counter(meta_keys::OBJECTS_WRITTEN_TOTAL),
            })
        }
        _ => None,
    };
    Ok(DoctorReport {
        healthy: !checks.iter().any(|c| c.status == "error"),
        checks,
        locks: args.locks.then_some(held),
        stats,
        last_hook_error: if args.last_hook_error { last_hook_error } else { None },
        repair,
        self_test,
    })
}

fn drift_check(store: &Store, index: &Index) -> Result<Check, CliError> {
    let drift = ref_drift(store, index)?;
    let (behind, ahead) = (drift.index_behind_refs, drift.index_ahead_of_refs);
    Ok(if behind + ahead == 0 {
        check("ref_index_drift", "ok", "ref/index drift: none detected")
    } else {
        check(
            "ref_index_drift",
            "error",
            format!(
                "ref/index drift: {behind} session(s) ahead of the index, {ahead} indexed session(s) without a ref"
            ),
        )
        .hint("Run `agit doctor --repair` to replay refs into the index, or `agit reindex`.")
    })
}

fn object_index_check(store: &Store, index: &Index) -> Result<Check, CliError> {
    let on_disk = store.all_object_ids()?.len() as i64;
    let indexed = index.count("select count(*) from objects")?;
    Ok(if on_disk == indexed {
        check("object_index_ok", "ok", format!("object index: in sync ({on_disk} objects)"))
    } else {
        check("object_index_drift", "error", format!("object index: disk={on_disk} indexed={indexed}"))
            .hint("Run `agit reindex` to rebuild the index from objects and refs.")
    })
}

fn agitignore_check(workspace: &Path) -> Check {
    let path = workspace.join(".agitignore");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let rules = text.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).count();
            check("agitignore_readable", "ok", format!(".agitignore: readable ({rules} custom rule(s))"))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            check("agitignore_missing", "info", ".agitignore: not present (using default snapshot skips)")
        }
        Err(e) => check("agitignore_unreadable", "error", format!(".agitignore: unreadable ({e})")),
    }
}

fn staging_checks(store: &Store) -> Vec<Check> {
    let mut pending = 0;
    let mut stranded = 0;
    let mut corrupt = 0;
    if let Ok(entries) = std::fs::read_dir(store.tmp_dir()) {
        for path in entries.flatten().map(|e| e.path()) {
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let staged = agit_capture::recorder::staging::parse(&std::fs::read(&path).unwrap_or_default());
            pending += 1;
            stranded += usize::from(staged.stop.is_some());
            corrupt += usize::from(staged.corrupt_lines > 0);
        }
    }
    let quarantined = std::fs::read_dir(store.log_dir().join("corrupt-staging")).map_or(0, |e| e.count());
    let mut checks = Vec::new();
    if corrupt > 0 {
        checks.push(
            check("staging_corrupt", "warn", format!(".agit/tmp staging: {corrupt} file(s) with unparseable lines"))
                .hint("The parseable lines are recorded at finalize; inspect .agit/log/hook-error.log."),
        );
    }
    if quarantined > 0 {
        checks.push(check(
            "staging_quarantined",
            "warn",
            format!(".agit/log/corrupt-staging: {quarantined} quarantined copy(ies) of damaged staging files"),
        ));
    }
    if stranded > 0 {
        checks.push(
            check(
                "staging_stranded",
                "warn",
                format!(".agit/tmp staging: {stranded} finished turn(s) not yet committed"),
            )
            .hint("Run `agit doctor --repair` to commit them (the next event of their session would too)."),
        );
    }
    if pending > stranded {
        checks.push(check(
            "staging_pending",
            "info",
            format!(".agit/tmp staging: {} turn(s) in progress", pending - stranded),
        ));
    }
    if checks.is_empty() {
        checks.push(check("staging_ok", "ok", ".agit/tmp staging: ok"));
    }
    checks
}

fn held_locks(root: &Path) -> Vec<HeldLock> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() && !path.ends_with("objects") {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "lock") && lock::is_held(&path).unwrap_or(false) {
                out.push(HeldLock { holder: lock::read_record(&path), path: path.display().to_string() });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn agent_checks() -> Vec<Check> {
    let Some(home) = std::env::var_os("HOME") else {
        return vec![check("agent_config_unreadable", "warn", "agents: HOME is not set")];
    };
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    let exe = std::env::current_exe().ok();
    hook_status(Path::new(&home), exe.as_deref())
        .into_iter()
        .map(|status| {
            let on_path = find_in_path(status.agent.binary_name(), &path_var).is_some();
            let name = status.display_name;
            match (on_path, status.installed()) {
                (_, true) => check("agent_hooks_configured", "ok", format!("{name}: hooks configured")),
                (true, false) => check(
                    "agent_not_initialized",
                    "warn",
                    format!("{name}: installed, but agit hooks are not configured"),
                )
                .hint(&format!("Run `agit init --agent {}`.", status.agent.as_str())),
                (false, false) => check("agent_not_installed", "info", format!("{name}: not installed")),
            }
        })
        .collect()
}

impl Report for DoctorReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if let Some(r) = &self.repair {
            writeln!(
                out,
                "repair: {} session(s) replayed into the index, {} staged turn(s) committed, {} in progress",
                r.sessions_repaired, r.staged.finalized, r.staged.in_progress
            )?;
            for failure in &r.staged.failed {
                writeln!(out, "  ✗ {failure}")?;
            }
        }
        for c in &self.checks {
            let sigil = match c.status {
                "ok" => style.added("✓"),
                "error" => style.removed("✗"),
                "warn" => style.removed("!"),
                _ => "-".to_owned(),
            };
            writeln!(out, "  {sigil} {}", c.message)?;
            if let Some(hint) = &c.hint {
                writeln!(out, "      hint: {hint}")?;
            }
        }
        if let Some(locks) = &self.locks {
            for l in locks {
                match &l.holder {
                    Some(h) => writeln!(
                        out,
                        "  - lock {}: pid={} exe={} since {}",
                        l.path,
                        h.pid,
                        h.exe_path,
                        style.time(h.started_at)
                    )?,
                    None => writeln!(out, "  - lock {}: held (shared, or no record)", l.path)?,
                }
            }
        }
        if let Some(s) = &self.stats {
            writeln!(
                out,
                "  - finalize stats: retries_total={} objects_written_total={}",
                s.retries_total, s.objects_written_total
            )?;
        }
        if let Some(line) = &self.last_hook_error {
            let pretty = serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| line.clone());
            writeln!(out, "  - last hook error:\n{pretty}")?;
        }
        Ok(())
    }

    fn exit_code(&self) -> u8 {
        if self.healthy { 0 } else { EXIT_FAILURE }
    }
}
