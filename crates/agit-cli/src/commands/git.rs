//! The real `git`, for commands that scope by git history (`between`, `eval`).

use std::path::Path;
use std::process::Command;

use crate::output::{CliError, Diagnostic};

/// Run git in `root`; `None` when git is missing or fails.
pub fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(root).args(args).env("GIT_OPTIONAL_LOCKS", "0").output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The commit a revision names.
pub fn resolve_commit(root: &Path, rev: &str) -> Option<String> {
    // `--end-of-options` keeps a revision starting with `-` from being read as an option.
    git(root, &["rev-parse", "--verify", "--quiet", "--end-of-options", &format!("{rev}^{{commit}}")])
        .filter(|s| !s.is_empty())
}

/// Commits in `from..to`, oldest first.
pub fn rev_list(root: &Path, from: &str, to: &str) -> Option<Vec<String>> {
    git(root, &["rev-list", "--reverse", &format!("{from}..{to}")])
        .map(|text| text.lines().map(str::to_owned).filter(|l| !l.is_empty()).collect())
}

/// A revision that git could not resolve.
pub fn revision_error(code: &str, rev: &str) -> CliError {
    CliError::new(
        Diagnostic::new(code, format!("Git revision `{rev}` could not be resolved."))
            .hint("Ensure this is a Git repository and the revision exists.")
            .path(rev),
    )
}
