//! Git context of a step (commit, branch, dirty), from the real `git`.

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// What git says about the repository at finalize time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitContext {
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub dirty: Option<bool>,
}

/// The three git queries, started in parallel so they overlap with the snapshot.
pub struct PendingGitContext {
    commit: Option<Child>,
    branch: Option<Child>,
    status: Option<Child>,
}

fn spawn(root: &Path, args: &[&str]) -> Option<Child> {
    Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        // Never take git's index.lock: the user's own git commands must not collide with us.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

fn finish(child: Option<Child>) -> Option<String> {
    let output = child?.wait_with_output().ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

impl PendingGitContext {
    /// Start the queries in `root`; a missing git or a non-repository yields all nulls.
    pub fn start(root: &Path) -> PendingGitContext {
        PendingGitContext {
            commit: spawn(root, &["rev-parse", "--verify", "--quiet", "HEAD"]),
            branch: spawn(root, &["branch", "--show-current"]),
            status: spawn(root, &["status", "--porcelain=v1"]),
        }
    }

    /// Collect the answers. Branch and dirty are only meaningful when a commit exists.
    pub fn finish(self) -> GitContext {
        let commit = finish(self.commit).filter(|c| !c.is_empty());
        let branch = finish(self.branch).filter(|b| !b.is_empty());
        let status = finish(self.status);
        match commit {
            None => GitContext::default(),
            Some(commit) => GitContext { commit: Some(commit), branch, dirty: status.map(|s| !s.is_empty()) },
        }
    }
}
