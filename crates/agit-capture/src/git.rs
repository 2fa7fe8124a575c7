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

/// A running `git status`, started early so it overlaps with the snapshot.
pub struct PendingGitContext {
    status: Option<Child>,
}

impl PendingGitContext {
    /// Start `git status --porcelain=v2 --branch` in `root`: one process answers commit,
    /// branch and dirtiness. A missing git or a non-repository yields all nulls.
    pub fn start(root: &Path) -> PendingGitContext {
        let status = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["status", "--porcelain=v2", "--branch"])
            // Never take git's index.lock: the user's own git commands must not collide with us.
            .env("GIT_OPTIONAL_LOCKS", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        PendingGitContext { status }
    }

    /// Collect the answer. Branch and dirty are only meaningful when a commit exists.
    pub fn finish(self) -> GitContext {
        let Some(output) = self.status.and_then(|c| c.wait_with_output().ok()) else {
            return GitContext::default();
        };
        if !output.status.success() {
            return GitContext::default();
        }
        parse_status(&String::from_utf8_lossy(&output.stdout))
    }
}

/// Parse `git status --porcelain=v2 --branch`: `# branch.oid <sha>|(initial)`,
/// `# branch.head <name>|(detached)`, then one line per changed or untracked path.
pub fn parse_status(text: &str) -> GitContext {
    let mut commit = None;
    let mut branch = None;
    let mut dirty = false;
    for line in text.lines() {
        if let Some(oid) = line.strip_prefix("# branch.oid ") {
            commit = (oid != "(initial)").then(|| oid.to_owned());
        } else if let Some(head) = line.strip_prefix("# branch.head ") {
            branch = (head != "(detached)").then(|| head.to_owned());
        } else if !line.starts_with('#') && !line.is_empty() {
            dirty = true;
        }
    }
    match commit {
        None => GitContext::default(),
        Some(commit) => GitContext { commit: Some(commit), branch, dirty: Some(dirty) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_v2_branch_headers() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let clean = format!("# branch.oid {sha}\n# branch.head main\n");
        assert_eq!(
            parse_status(&clean),
            GitContext { commit: Some(sha.into()), branch: Some("main".into()), dirty: Some(false) }
        );
        let detached = format!("# branch.oid {sha}\n# branch.head (detached)\n? new.txt\n");
        assert_eq!(parse_status(&detached), GitContext { commit: Some(sha.into()), branch: None, dirty: Some(true) });
        assert_eq!(parse_status("# branch.oid (initial)\n# branch.head main\n? a\n"), GitContext::default());
        assert_eq!(parse_status(""), GitContext::default());
    }
}
