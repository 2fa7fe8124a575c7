//! `agit restore <hash> (--all | -- <path>...)`: write files of a recorded snapshot back
//! into the workspace (or `--to DIR`). The checks, the safety step and the writes live in
//! [`agit_core::restore`]; this module validates the scope, resolves the step and renders.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use agit_core::Store;
use agit_core::config::Config;
use agit_core::index::resolve_prefix;
use agit_core::restore::{
    ItemStatus, PathFilter, REPLACED, REPLACED_SYMLINK, RestoreItem, RestoreOptions, RestoreScope, SAFETY_ORIGIN,
    SAFETY_SESSION, restore_step,
};

use super::step_line::short;
use crate::Context;
use crate::output::{CliError, Diagnostic, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The step to restore files from (hash or unique prefix).
    #[arg(value_name = "HASH")]
    pub hash: Option<String>,
    /// Restore every file of the step's snapshot.
    #[arg(long)]
    pub all: bool,
    /// Overwrite existing files; a symlink is replaced by a regular file (its target is
    /// untouched). The overwritten content is first saved as a step that undoes it.
    #[arg(long)]
    pub force: bool,
    /// Show what would be restored; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Restore into this directory (created if missing) instead of the workspace.
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    /// Files or directories of the snapshot to restore (after `--`).
    #[arg(last = true, value_name = "PATH")]
    pub paths: Vec<String>,
}

/// Shown when display redaction is the default: restore writes what was recorded.
const RAW_BYTES_WARNING: &str = "restore writes raw captured bytes; display redaction is not applied";

#[derive(Serialize)]
pub struct RestoreReport {
    dry_run: bool,
    counts: Counts,
    items: Vec<RestoreItem>,
    warning: Option<String>,
    /// The restored step.
    hash: String,
    /// The `--to` directory (absolute), or null for the workspace.
    to: Option<String>,
    /// The step holding what `--force` overwrote, or null.
    safety_step: Option<SafetyStepReport>,
    #[serde(skip)]
    force: bool,
    #[serde(skip)]
    warnings: Vec<Diagnostic>,
}

#[derive(Serialize)]
struct Counts {
    restored: usize,
    skipped: usize,
    failed: usize,
}

#[derive(Serialize)]
struct SafetyStepReport {
    hash: String,
    origin: &'static str,
    session_id: &'static str,
    /// The overwritten files, relative to the restore root.
    paths: Vec<String>,
    /// The command that puts them back.
    undo: String,
}

pub fn run(args: &RestoreArgs, ctx: &Context) -> Result<RestoreReport, CliError> {
    let hint = "Use `agit restore <hash> -- path` or `agit restore --all <hash>`.";
    let Some(hash) = &args.hash else {
        return Err(CliError::usage("missing_hash", "Restore requires a step hash.").with_hint(hint));
    };
    let scope = match (args.all, args.paths.is_empty()) {
        (true, false) => {
            return Err(CliError::usage("invalid_restore_scope", "Use either --all or paths after --, not both.")
                .with_hint(hint));
        }
        (false, true) => {
            return Err(CliError::usage(
                "restore_scope_required",
                "Restore requires --all or one or more paths after --.",
            )
            .with_hint(hint));
        }
        (true, true) => RestoreScope::All,
        (false, false) => RestoreScope::Paths(PathFilter::parse_all(&args.paths).map_err(|unsafe_path| {
            CliError::new(
                Diagnostic::new("unsafe_path", "Requested restore path is not a safe workspace-relative path.")
                    .hint(unsafe_path.reason)
                    .path(unsafe_path.path),
            )
        })?),
    };
    let store = Store::discover(&ctx.cwd)?;
    let mut warnings = Vec::new();
    let root = match &args.to {
        Some(dir) => target_root(&store, &ctx.cwd.join(dir))?,
        None => store.workspace().to_path_buf(),
    };
    let id = {
        // Resolve from the files on disk when the index is unusable, as `cat` does. The
        // index is closed again before restoring (lock order: gc.lock before index.lock).
        let index = super::index_for_lookup(&store, &mut warnings)?;
        resolve_prefix(&store, index.as_ref(), hash)?
    };
    let warning = match Config::load(&store.config_path()) {
        Ok(config) if !config.privacy.display.redacted_by_default => None,
        // An unreadable config means redaction by default (fail closed), as for display.
        _ => Some(RAW_BYTES_WARNING.to_owned()),
    };
    if let Some(w) = &warning {
        warnings.push(Diagnostic::new("raw_bytes_restored", w.clone()));
    }
    let options = RestoreOptions { root: root.clone(), scope, force: args.force, dry_run: args.dry_run };
    let outcome = restore_step(&store, &id, &options).map_err(|e| {
        let error = CliError::from(e);
        if error.diagnostic.code == "invalid_step_object" {
            error.with_hint("Pass the hash of a step (see `agit log` or `agit timeline`).")
        } else {
            error
        }
    })?;
    let (restored, skipped, failed) = outcome.counts();
    let to = args.to.as_ref().map(|_| root.display().to_string());
    let safety_step = outcome.safety_step.map(|s| {
        let mut undo = format!("agit restore {} --force", s.id.short(12));
        if let Some(to) = &to {
            undo.push_str(&format!(" --to {}", shell_quote(to)));
        }
        undo.push_str(" --");
        for path in &s.paths {
            undo.push(' ');
            undo.push_str(&shell_quote(path));
        }
        SafetyStepReport {
            hash: s.id.to_hex(),
            origin: SAFETY_ORIGIN,
            session_id: SAFETY_SESSION,
            paths: s.paths,
            undo,
        }
    });
    Ok(RestoreReport {
        dry_run: args.dry_run,
        counts: Counts { restored, skipped, failed },
        items: outcome.items,
        warning,
        hash: id.to_hex(),
        to,
        safety_step,
        force: args.force,
        warnings,
    })
}

/// The absolute `--to` directory, refused when it lies inside the store. Existing parts
/// are resolved through symlinks; the rest (not created yet) is normalized lexically, the
/// way creating it will resolve it.
fn target_root(store: &Store, dir: &Path) -> Result<PathBuf, CliError> {
    let mut root = dir.to_path_buf();
    for ancestor in dir.ancestors() {
        let Ok(canonical) = ancestor.canonicalize() else { continue };
        root = canonical;
        for part in dir.strip_prefix(ancestor).map(Path::components).into_iter().flatten() {
            match part {
                Component::ParentDir => {
                    root.pop();
                }
                Component::Normal(name) => root.push(name),
                Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            }
        }
        break;
    }
    let store_root = store.root().canonicalize().unwrap_or_else(|_| store.root().to_path_buf());
    if root.starts_with(&store_root) {
        return Err(CliError::new(
            Diagnostic::new("invalid_restore_target", "The restore target is inside the .agit store.")
                .hint("Pass a --to directory outside .agit/.")
                .path(root.display().to_string()),
        ));
    }
    Ok(root)
}

/// Quote a word for a POSIX shell when it needs it.
fn shell_quote(word: &str) -> Cow<'_, str> {
    let plain = !word.is_empty()
        && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-./+=:,@%".contains(&b))
        && !word.starts_with('-');
    if plain { Cow::Borrowed(word) } else { Cow::Owned(format!("'{}'", word.replace('\'', r"'\''"))) }
}

/// A path with control characters escaped, so a hostile tree cannot drive the terminal.
fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars().map(|c| if c.is_control() { format!("\\u{{{:x}}}", c as u32) } else { c.to_string() }).collect(),
    )
}

impl Report for RestoreReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        for item in &self.items {
            let path = printable(&item.path);
            let bytes = item.bytes.unwrap_or(0);
            let how = match item.reason {
                Some(REPLACED) if self.dry_run => ", replacing the existing file".to_owned(),
                Some(REPLACED) => ", replaced the existing file".to_owned(),
                Some(REPLACED_SYMLINK) if self.dry_run => {
                    ", replacing a symlink; its target stays untouched".to_owned()
                }
                Some(REPLACED_SYMLINK) => format!("; {}", printable(item.detail.as_deref().unwrap_or("was a symlink"))),
                _ => String::new(),
            };
            match item.status {
                ItemStatus::Restored => writeln!(out, "{} {path} ({bytes} bytes{how})", style.added("restored"))?,
                ItemStatus::Planned => writeln!(out, "{} {path} ({bytes} bytes{how})", style.added("would restore"))?,
                ItemStatus::Skipped => {
                    writeln!(out, "{} {path}: {}", style.dim("skipped"), item.reason.unwrap_or("exists"))?
                }
                ItemStatus::Failed => {
                    let reason = item.reason.unwrap_or("failed");
                    match &item.detail {
                        Some(detail) => {
                            writeln!(out, "{} {path}: {reason} ({})", style.removed("failed"), printable(detail))?
                        }
                        None => writeln!(out, "{} {path}: {reason}", style.removed("failed"))?,
                    }
                }
            }
        }
        if !self.items.is_empty() {
            writeln!(out)?;
        }
        let Counts { restored, skipped, failed } = self.counts;
        if self.dry_run {
            writeln!(out, "Dry run summary: would restore {restored}, skipped {skipped}, failed {failed}.")?;
        } else {
            writeln!(out, "Restore summary: restored {restored}, skipped {skipped}, failed {failed}.")?;
        }
        let exists =
            self.items.iter().filter(|i| i.status == ItemStatus::Skipped && i.reason == Some("exists")).count();
        if exists > 0 && !self.force {
            writeln!(
                out,
                "hint: {exists} existing file(s) were left as they are; rerun with --force to overwrite them (their current content is saved as a step first)."
            )?;
        }
        let replacing = self.items.iter().filter(|i| i.reason == Some(REPLACED)).count();
        if self.dry_run && replacing > 0 {
            writeln!(
                out,
                "The current content of {replacing} file(s) would be saved as a safety step before they are overwritten."
            )?;
        }
        if let Some(safety) = &self.safety_step {
            writeln!(
                out,
                "Saved the overwritten content of {} file(s) as step {} ({}/{}).",
                safety.paths.len(),
                style.hash(short(&safety.hash, 12)),
                safety.origin,
                safety.session_id
            )?;
            writeln!(out, "To undo: {}", printable(&safety.undo))?;
        }
        Ok(())
    }

    fn pageable(&self) -> bool {
        false
    }

    fn exit_code(&self) -> u8 {
        if self.counts.failed > 0 { crate::output::EXIT_FAILURE } else { 0 }
    }

    fn warnings(&self) -> Vec<Diagnostic> {
        self.warnings.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_escaping() {
        assert_eq!(shell_quote("src/a.rs"), "src/a.rs");
        assert_eq!(shell_quote("my file"), "'my file'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("-rf"), "'-rf'");
        assert_eq!(printable("a\x1b[31mb\n"), "a\\u{1b}[31mb\\u{a}");
        assert_eq!(printable("plain é"), "plain é");
    }
}
