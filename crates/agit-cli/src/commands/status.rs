//! `agit status`: the investigation dashboard.

use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use agit_capture::install::hook_status;
use agit_core::config::Config;
use agit_core::index::{Index, StepRow, ref_drift};
use agit_core::{Error, Store};

use super::filters::shown;
use super::step_line::short;
use crate::Context;
use crate::output::{CliError, Report};
use crate::render::Style;

/// Staging files older than this without their stop are reported as stale.
const STALE_STAGING: Duration = Duration::from_secs(2 * 3600);

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// How many recent sessions to show.
    #[arg(long, default_value_t = 5)]
    pub sessions: u32,
}

#[derive(Serialize)]
pub struct StatusReport {
    store_path: String,
    latest_capture: Option<Capture>,
    sessions: i64,
    steps: i64,
    objects: i64,
    warnings: Warnings,
    configured_agents: Vec<String>,
    configured_agents_error: Option<String>,
    privacy: Privacy,
    next_step: String,
    recent_sessions: Vec<RecentSession>,
    git: Option<GitState>,
    pending: Pending,
}

#[derive(Serialize)]
struct Capture {
    hash: String,
    origin: String,
    session_id: String,
    turn_id: String,
    timestamp: i64,
}

#[derive(Serialize, Default)]
struct Warnings {
    stale_staging_files: usize,
    quarantined_staging_files: usize,
    /// Lines in `.agit/log/hook-error.log` at level `error` from the last 24 hours.
    hook_errors: usize,
    total: usize,
}

#[derive(Serialize)]
struct Privacy {
    display_redacted_by_default: bool,
    config_error: Option<String>,
}

#[derive(Serialize)]
struct RecentSession {
    origin: String,
    session_id: String,
    steps: i64,
    last_step: Option<StepRow>,
}

#[derive(Serialize)]
struct GitState {
    branch: Option<String>,
    commit: Option<String>,
}

#[derive(Serialize, Default)]
struct Pending {
    /// Turns staged but not yet finalized (in progress or interrupted).
    staged_turns: usize,
    /// Sessions whose ref is ahead of the index (they are replayed on the next write).
    index_behind_refs: usize,
    /// Sessions the index knows whose ref file is gone.
    index_ahead_of_refs: usize,
}

pub fn run(args: &StatusArgs, ctx: &Context) -> Result<StatusReport, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let index = Index::open(&store)?;
    let sessions = index.count("select count(*) from sessions where head_hash is not null")?;
    let steps = index.count("select count(*) from steps")?;
    let objects = index.count("select count(*) from objects")?;
    let latest = index.timeline(&Default::default(), 1)?.into_iter().next();
    let config = Config::load(&store.config_path());
    let redacted_by_default = config.as_ref().map_or(true, |c| c.privacy.display.redacted_by_default);
    let detector = redacted_by_default.then(|| {
        agit_core::privacy::Detector::new(
            &config.as_ref().map(|c| c.privacy.custom_literals.clone()).unwrap_or_default(),
        )
    });

    let mut recent_sessions = Vec::new();
    for row in index.sessions(Some(args.sessions as usize))? {
        let mut last_step = match &row.head_hash {
            Some(h) => index.step_row(h)?,
            None => None,
        };
        if let Some(step) = &mut last_step {
            step.preview = step.preview.as_deref().map(|p| shown(p, detector.as_ref()));
        }
        let count = index
            .conn()
            .query_row(
                "select count(*) from steps where session_origin = ?1 and session_id = ?2",
                [&row.origin, &row.session_id],
                |r| r.get(0),
            )
            .map_err(Error::index("count session steps"))?;
        recent_sessions.push(RecentSession { origin: row.origin, session_id: row.session_id, steps: count, last_step });
    }

    let (staged_turns, stale, quarantined) = scan_tmp(&store);
    let hook_errors = count_hook_errors(&store.log_dir().join("hook-error.log"));
    let warnings = Warnings {
        stale_staging_files: stale,
        quarantined_staging_files: quarantined,
        hook_errors,
        total: stale + quarantined + hook_errors,
    };
    let drift = ref_drift(&store, &index)?;
    let (configured_agents, configured_agents_error) = match std::env::var_os("HOME") {
        Some(home) => {
            let exe = std::env::current_exe().ok();
            let agents = hook_status(Path::new(&home), exe.as_deref())
                .into_iter()
                .filter(|a| a.installed())
                .map(|a| a.agent.as_str().to_owned())
                .collect();
            (agents, None)
        }
        None => (Vec::new(), Some("HOME is not set".to_owned())),
    };
    let next_step = if warnings.total > 0 {
        "Run `agit doctor` to inspect stale staging or hook errors."
    } else if steps > 0 {
        "Run `agit timeline` to inspect recent recorded steps."
    } else if configured_agents.is_empty() {
        "Run `agit init` to configure hooks before capturing activity."
    } else {
        "Record some agent activity, then run `agit timeline`."
    };
    Ok(StatusReport {
        store_path: store.root().display().to_string(),
        latest_capture: latest.map(|r| Capture {
            hash: r.hash,
            origin: r.origin,
            session_id: r.session_id,
            turn_id: r.turn_id,
            timestamp: r.timestamp,
        }),
        sessions,
        steps,
        objects,
        warnings,
        configured_agents,
        configured_agents_error,
        privacy: Privacy {
            display_redacted_by_default: redacted_by_default,
            config_error: config.err().map(|e| e.to_string()),
        },
        next_step: next_step.to_owned(),
        recent_sessions,
        git: git_state(store.workspace()),
        pending: Pending {
            staged_turns,
            index_behind_refs: drift.index_behind_refs,
            index_ahead_of_refs: drift.index_ahead_of_refs,
        },
    })
}

/// (staged turn files, of which stale, quarantined files).
fn scan_tmp(store: &Store) -> (usize, usize, usize) {
    let now = SystemTime::now();
    let mut staged = 0;
    let mut stale = 0;
    if let Ok(entries) = std::fs::read_dir(store.tmp_dir()) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && !name.starts_with('.') {
                staged += 1;
                let old = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| now.duration_since(t).ok())
                    .is_some_and(|age| age >= STALE_STAGING);
                stale += usize::from(old);
            }
        }
    }
    let quarantined = std::fs::read_dir(store.log_dir().join("corrupt-staging")).map_or(0, |e| e.count());
    (staged, stale, quarantined)
}

/// Hook errors logged in the last 24 hours (an old failure should not warn forever;
/// `agit doctor --last-hook-error` shows the latest whatever its age).
fn count_hook_errors(path: &Path) -> usize {
    #[derive(serde::Deserialize)]
    struct Line {
        ts: i64,
        level: String,
    }
    let since = agit_core::store::lock::now_ms() - 24 * 3600 * 1000;
    std::fs::read_to_string(path).map_or(0, |text| {
        text.lines()
            .filter_map(|l| serde_json::from_str::<Line>(l).ok())
            .filter(|l| l.level == "error" && l.ts >= since)
            .count()
    })
}

fn git_state(root: &Path) -> Option<GitState> {
    let run = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .env("GIT_OPTIONAL_LOCKS", "0")
            .output()
            .ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()).filter(|s| !s.is_empty())
    };
    let commit = run(&["rev-parse", "--verify", "--quiet", "HEAD"]);
    let branch = run(&["branch", "--show-current"]);
    if commit.is_none() && branch.is_none() && run(&["rev-parse", "--git-dir"]).is_none() {
        return None;
    }
    Some(GitState { branch, commit })
}

impl Report for StatusReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        writeln!(out, "Store path:      {}", self.store_path)?;
        match &self.latest_capture {
            Some(c) => writeln!(
                out,
                "Latest capture:  {}  {}/{}  turn {}  step {}",
                style.time(c.timestamp),
                c.origin,
                c.session_id,
                c.turn_id,
                style.hash(short(&c.hash, 12))
            )?,
            None => writeln!(out, "Latest capture:  (none)")?,
        }
        writeln!(out, "Sessions:        {}", self.sessions)?;
        writeln!(out, "Steps:           {}", self.steps)?;
        writeln!(out, "Objects:         {}", self.objects)?;
        if let Some(git) = &self.git {
            writeln!(
                out,
                "Git:             {}@{}",
                git.branch.as_deref().unwrap_or("(detached)"),
                git.commit.as_deref().map_or("(no commits)", |c| short(c, 12))
            )?;
        }
        let w = &self.warnings;
        if w.total == 0 {
            writeln!(out, "Warnings:        none")?;
        } else {
            writeln!(
                out,
                "Warnings:        {}",
                style.removed(&format!(
                    "stale staging={}, quarantined staging={}, hook errors={}",
                    w.stale_staging_files, w.quarantined_staging_files, w.hook_errors
                ))
            )?;
        }
        let p = &self.pending;
        if p.staged_turns + p.index_behind_refs + p.index_ahead_of_refs > 0 {
            writeln!(
                out,
                "Pending:         staged turns={}, index behind refs={}, index ahead of refs={}",
                p.staged_turns, p.index_behind_refs, p.index_ahead_of_refs
            )?;
        }
        match (&self.configured_agents_error, self.configured_agents.is_empty()) {
            (Some(e), _) => writeln!(out, "Configured agents: unavailable ({e})")?,
            (None, true) => writeln!(out, "Configured agents: (none)")?,
            (None, false) => writeln!(out, "Configured agents: {}", self.configured_agents.join(", "))?,
        }
        let display = if self.privacy.display_redacted_by_default { "redacted by default" } else { "full by default" };
        writeln!(out, "Privacy display: {display}")?;
        if !self.recent_sessions.is_empty() {
            writeln!(out, "\nRecent sessions:")?;
            for s in &self.recent_sessions {
                write!(out, "  {}  {} step(s)", style.bold(&format!("{}/{}", s.origin, s.session_id)), s.steps)?;
                if let Some(last) = &s.last_step {
                    write!(
                        out,
                        "  last {}  {}  {}",
                        style.time(last.timestamp),
                        style.hash(short(&last.hash, 12)),
                        style.outcome(last.outcome.as_deref().unwrap_or("unknown"))
                    )?;
                    writeln!(out)?;
                    writeln!(out, "    {}", last.preview.as_deref().unwrap_or("(no preview)"))?;
                } else {
                    writeln!(out)?;
                }
            }
        }
        writeln!(out, "\nNext step:       {}", self.next_step)
    }
}
