//! `agit init`: create the store (agent hooks are installed by the capture commands).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use agit_core::config::Config;
use agit_core::index::Index;
use agit_core::store::durable;
use agit_core::{Error, Store};

use crate::Context;
use crate::cli::InitArgs;
use crate::output::{CliError, Report};

#[derive(Serialize)]
pub struct InitReport {
    /// The `.agit/` directory.
    path: String,
    /// False when the store already existed.
    created: bool,
    config_written: bool,
    /// The git exclude file `.agit/` was added to, when inside a git work tree.
    git_exclude: Option<String>,
}

pub fn run(_args: &InitArgs, ctx: &Context) -> Result<InitReport, CliError> {
    let workspace = git_toplevel(&ctx.cwd).unwrap_or_else(|| ctx.cwd.clone());
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
    })
}

impl Report for InitReport {
    fn human(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.created {
            writeln!(out, "Initialized agit store in {}", self.path)?;
        } else {
            writeln!(out, "agit store already exists in {} (left as is)", self.path)?;
        }
        if let Some(exclude) = &self.git_exclude {
            writeln!(out, "git ignores .agit/ through {exclude}")?;
        }
        Ok(())
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
