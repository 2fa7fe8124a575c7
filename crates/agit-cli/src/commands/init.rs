//! `agit init`: create the store and install hooks for the agents on PATH.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use agit_capture::install::{InstallReport, InstallRequest, InstallStatus, install};
use agit_core::config::Config;
use agit_core::index::Index;
use agit_core::store::durable;
use agit_core::{Error, Store};

use super::agents::{install_env, install_error};
use crate::Context;
use crate::cli::InitArgs;
use crate::output::{CliError, EXIT_FAILURE, Report};
use crate::render::Style;

#[derive(Serialize)]
pub struct InitReport {
    /// The `.agit/` directory.
    path: String,
    /// False when the store already existed.
    created: bool,
    config_written: bool,
    /// The git exclude file `.agit/` was added to, when inside a git work tree.
    git_exclude: Option<String>,
    /// Agent hook installation (null with `--no-hooks`).
    hooks: Option<InstallReport>,
}

pub fn run(args: &InitArgs, ctx: &Context) -> Result<InitReport, CliError> {
    let workspace = git_toplevel(&ctx.cwd).unwrap_or_else(|| ctx.cwd.clone());
    let hooks = |dry_run: bool| -> Result<Option<InstallReport>, CliError> {
        if args.no_hooks {
            return Ok(None);
        }
        let request = InstallRequest { agents: args.agents.clone(), force: args.force, dry_run };
        install(&install_env()?, &request).map(Some).map_err(install_error)
    };
    if args.dry_run {
        let root = workspace.join(agit_core::store::STORE_DIR);
        return Ok(InitReport {
            created: !root.is_dir(),
            path: root.display().to_string(),
            config_written: false,
            git_exclude: None,
            hooks: hooks(true)?,
        });
    }
    let (store, created) = Store::init(&workspace)?;
    let config_path = store.config_path();
    let config_written = if config_path.exists() {
        // An existing config is kept, but it must be valid: hooks would otherwise fail closed.
        Config::load(&config_path)?;
        false
    } else {
        durable::write_new(&config_path, Config::default().to_pretty_json().as_bytes())?
    };
    let git_exclude = add_git_exclude(&workspace)?;
    Index::open(&store)?;
    Ok(InitReport {
        path: store.root().display().to_string(),
        created,
        config_written,
        git_exclude: git_exclude.map(|p| p.display().to_string()),
        hooks: hooks(false)?,
    })
}

impl Report for InitReport {
    fn human(&self, out: &mut dyn Write, _: &Style) -> io::Result<()> {
        let dry = self.hooks.as_ref().is_some_and(|h| h.dry_run);
        match (dry, self.created) {
            (true, true) => writeln!(out, "Would create the agit store {}", self.path)?,
            (true, false) => writeln!(out, "The agit store {} exists (left as is)", self.path)?,
            (false, true) => writeln!(out, "Initialized agit store in {}", self.path)?,
            (false, false) => writeln!(out, "agit store already exists in {} (left as is)", self.path)?,
        }
        if let Some(exclude) = &self.git_exclude {
            writeln!(out, "git ignores .agit/ through {exclude}")?;
        }
        let Some(hooks) = &self.hooks else { return Ok(()) };
        for agent in &hooks.agents {
            let name = agent.display_name;
            let path = agent.config_path.display();
            let why = agent.problem.as_ref().map_or(String::new(), |p| p.message.clone());
            match agent.status {
                InstallStatus::Installed => {
                    write!(out, "agit init: wrote {name} hooks to {path}")?;
                    match &agent.backup_path {
                        Some(backup) => writeln!(out, " (previous file kept as {})", backup.display())?,
                        None => writeln!(out)?,
                    }
                }
                InstallStatus::Unchanged => writeln!(out, "agit init: {name} hooks already installed in {path}")?,
                InstallStatus::WouldInstall => writeln!(out, "agit init: would write {name} hooks to {path}")?,
                InstallStatus::Skipped => writeln!(out, "  - {name}: skipped ({why})")?,
                InstallStatus::Refused => {
                    writeln!(out, "  ✗ {name}: refusing to change {path}: {why}. Fix it or rerun with --force.")?
                }
                InstallStatus::Failed => writeln!(out, "  ✗ {name}: {why}")?,
            }
        }
        if hooks.configured().next().is_none() {
            writeln!(
                out,
                "No agent was found on PATH, so no hooks were installed. Install one (claude, codex, gemini,\ncopilot, pi) and rerun `agit init`, or record transcripts with `agit observe`."
            )?;
        } else if !dry {
            writeln!(out, "Next: use your agent as usual in this repository; `agit status` shows what was recorded.")?;
        }
        Ok(())
    }

    fn exit_code(&self) -> u8 {
        if self.hooks.as_ref().is_none_or(InstallReport::is_success) { 0 } else { EXIT_FAILURE }
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn git_toplevel(dir: &Path) -> Option<PathBuf> {
    git(dir, &["rev-parse", "--show-toplevel"]).map(PathBuf::from)
}

/// Make git ignore `.agit/` without touching tracked files: append it to the
/// repository's `info/exclude` unless a line already covers it.
fn add_git_exclude(workspace: &Path) -> Result<Option<PathBuf>, Error> {
    let Some(rel) = git(workspace, &["rev-parse", "--git-path", "info/exclude"]) else {
        return Ok(None);
    };
    let path = workspace.join(rel);
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    if existing.lines().any(|l| matches!(l.trim(), ".agit" | ".agit/" | "/.agit" | "/.agit/")) {
        return Ok(Some(path));
    }
    if let Some(dir) = path.parent() {
        durable::create_dir_durable(dir)?;
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("/.agit/\n");
    durable::replace(&path, text.as_bytes())?;
    Ok(Some(path))
}
