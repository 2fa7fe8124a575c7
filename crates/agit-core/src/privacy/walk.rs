//! Scanning recorded history for secrets, starting from session refs.
//!
//! The reference took its sessions from the SQLite index, so a stale index let refs be
//! pushed unscanned (`remote.md` §7.9). Here the caller passes the refs themselves
//! (usually [`crate::reach::session_heads`], or the selection of an export), and every
//! step, tree and blob those heads reach is scanned exactly once.

use std::collections::HashSet;

use super::{Detector, PrivacyReport, scan_blob, scan_step};
use crate::config::PrivacyConfig;
use crate::error::Result;
use crate::hash::ObjectId;
use crate::store::{SessionRef, Store};

/// Scan the sessions `sessions` (ref, head) for secrets (reference `remote.md` §4.1).
///
/// - Sessions of an origin not in `privacy.enabled_origins` are skipped (an empty list
///   enables every origin); `stats.sessions` counts the kept ones.
/// - Each chain is walked from its head through `parent`; a step already scanned (reached
///   through another session) ends the walk, so shared history is scanned once.
/// - Each step's messages and tool calls are scanned ([`scan_step`]); each distinct tree
///   once, and each distinct blob once in the whole scan ([`scan_blob`]), attributed to
///   the first step that reached it.
///
/// Findings carry rule names and locations, never secret text. A step or tree that
/// cannot be read or decoded is an error: a scan that silently skipped history would
/// let it through a push or export gate unscanned.
pub fn scan_sessions(
    store: &Store,
    sessions: &[(SessionRef, ObjectId)],
    privacy: &PrivacyConfig,
) -> Result<PrivacyReport> {
    let detector = Detector::from_config(privacy);
    let mut report = PrivacyReport::default();
    let mut steps_seen: HashSet<ObjectId> = HashSet::new();
    let mut trees_seen: HashSet<ObjectId> = HashSet::new();
    let mut blobs_seen: HashSet<ObjectId> = HashSet::new();
    for (session, head) in sessions {
        if !origin_enabled(privacy, &session.origin) {
            continue;
        }
        report.stats.sessions += 1;
        let mut cursor = Some(*head);
        while let Some(step_id) = cursor {
            // Also ends a (corrupt) parent cycle.
            if !steps_seen.insert(step_id) {
                break;
            }
            let step = store.read_step(&step_id)?;
            report.stats.steps += 1;
            report.findings.extend(scan_step(&step, &step_id, &detector));
            if trees_seen.insert(step.tree) {
                report.stats.trees += 1;
                let tree = store.read_tree(&step.tree)?;
                for entry in &tree.entries {
                    if !blobs_seen.insert(entry.blob) {
                        continue;
                    }
                    report.stats.blobs += 1;
                    let bytes = store.read_object(&entry.blob)?;
                    report.findings.extend(scan_blob(&step, &entry.path, &bytes, &entry.blob, &detector));
                }
            }
            cursor = step.parent;
        }
    }
    report.stats.findings = report.findings.len() as u64;
    Ok(report)
}

/// Whether `origin` is recorded and scanned under `privacy` (empty list = every origin).
pub fn origin_enabled(privacy: &PrivacyConfig, origin: &str) -> bool {
    privacy.enabled_origins.is_empty() || privacy.enabled_origins.iter().any(|o| o == origin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{Message, Step, ToolCall, Tree, TreeEntry};
    use crate::privacy::Rule;

    const GH: &str = "ghp_0123456789abcdefghijABCDEFGHIJklmnop";

    struct Fixture {
        _dir: tempfile::TempDir,
        store: Store,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::init(dir.path()).unwrap();
        Fixture { _dir: dir, store }
    }

    fn write_step(
        store: &Store,
        origin: &str,
        session: &str,
        parent: Option<ObjectId>,
        files: &[(&str, &[u8])],
        prompt: &str,
    ) -> ObjectId {
        let entries = files
            .iter()
            .map(|(path, bytes)| {
                let (blob, _) = store.write_object(bytes).unwrap();
                TreeEntry::file(*path, blob, bytes.len() as u64)
            })
            .collect();
        let (tree, _) = store.write_object(&Tree::new(entries).encode()).unwrap();
        let step = Step {
            parent,
            tree,
            session_id: session.into(),
            origin: origin.into(),
            model: None,
            turn_id: format!("turn-{}", prompt.len()),
            causes: vec![],
            timestamp: 1,
            messages: vec![Message { role: "user".into(), content: prompt.into() }],
            tool_calls: vec![ToolCall { tool_name: "Bash".into(), args: "ls".into(), result: Some(String::new()) }],
            outcome: None,
            git_commit: None,
            git_branch: None,
            git_dirty: None,
        };
        store.write_object(&step.encode()).unwrap().0
    }

    fn all_text(report: &PrivacyReport) -> String {
        String::from_utf8(report.to_json()).unwrap()
    }

    #[test]
    fn clean_history_counts_every_distinct_object_once() {
        let f = fixture();
        let first = write_step(&f.store, "claude", "s1", None, &[("a.txt", b"one"), ("b.txt", b"same")], "hi");
        let second = write_step(&f.store, "claude", "s1", Some(first), &[("a.txt", b"two"), ("b.txt", b"same")], "x");
        // A second session sharing the first step: the shared history is scanned once.
        let other = write_step(&f.store, "claude", "s2", Some(first), &[("a.txt", b"one"), ("b.txt", b"same")], "y");
        let sessions = vec![(SessionRef::new("claude", "s1"), second), (SessionRef::new("claude", "s2"), other)];
        let report = scan_sessions(&f.store, &sessions, &PrivacyConfig::default()).unwrap();
        assert!(report.findings.is_empty());
        assert_eq!(report.stats.sessions, 2);
        assert_eq!(report.stats.steps, 3);
        // `other` has the same files as `first`, hence the same tree.
        assert_eq!(report.stats.trees, 2);
        assert_eq!(report.stats.blobs, 3);
        assert_eq!(report.stats.findings, 0);
    }

    #[test]
    fn findings_name_rule_and_place_but_never_the_secret() {
        let f = fixture();
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n";
        let first = write_step(&f.store, "codex", "s1", None, &[("id_ed25519", key.as_bytes())], "clean");
        let head = write_step(&f.store, "codex", "s1", Some(first), &[("id_ed25519", key.as_bytes())], GH);
        let report =
            scan_sessions(&f.store, &[(SessionRef::new("codex", "s1"), head)], &PrivacyConfig::default()).unwrap();
        let rules: Vec<(Rule, &str)> = report.findings.iter().map(|x| (x.rule, x.source.as_str())).collect();
        assert_eq!(rules, vec![(Rule::GithubToken, "user"), (Rule::PrivateKeyBlock, "snapshot_blob")]);
        // The snapshot finding belongs to the first step reaching the tree (the head here).
        let blob = &report.findings[1];
        assert_eq!(blob.turn_id, format!("turn-{}", GH.len()));
        assert_eq!(blob.path.as_deref(), Some("id_ed25519"));
        assert_eq!(report.findings[0].hash, head);
        assert_eq!(report.stats.findings, 2);
        let json = all_text(&report);
        assert!(!json.contains("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUA"));
        assert!(!json.contains(GH));
        for finding in &report.findings {
            assert!(!finding.to_string().contains("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUA"));
        }
    }

    #[test]
    fn disabled_origins_are_skipped_and_custom_literals_apply() {
        let f = fixture();
        let a = write_step(&f.store, "claude", "s1", None, &[], "my hunter2 password");
        let b = write_step(&f.store, "gemini", "s1", None, &[], GH);
        let sessions = vec![(SessionRef::new("claude", "s1"), a), (SessionRef::new("gemini", "s1"), b)];
        let privacy = PrivacyConfig {
            enabled_origins: vec!["claude".into()],
            custom_literals: vec!["hunter2".into()],
            ..PrivacyConfig::default()
        };
        let report = scan_sessions(&f.store, &sessions, &privacy).unwrap();
        assert_eq!(report.stats.sessions, 1);
        assert_eq!(report.stats.steps, 1);
        let rules: Vec<Rule> = report.findings.iter().map(|x| x.rule).collect();
        assert_eq!(rules, vec![Rule::CustomLiteral]);
        assert!(!all_text(&report).contains("hunter2"));
    }

    #[test]
    fn a_missing_tree_is_an_error_not_a_silent_skip() {
        let f = fixture();
        let head = write_step(&f.store, "claude", "s1", None, &[("a", b"x")], "hi");
        let step = f.store.read_step(&head).unwrap();
        let tree_path = crate::store::loose::object_path(&f.store.objects_dir(), &step.tree);
        std::fs::remove_file(tree_path).unwrap();
        let err =
            scan_sessions(&f.store, &[(SessionRef::new("claude", "s1"), head)], &PrivacyConfig::default()).unwrap_err();
        assert_eq!(err.code(), "object_not_found");
    }

    #[test]
    fn parent_cycles_terminate() {
        // A step cannot name itself as parent by hash, but a scan list may repeat heads.
        let f = fixture();
        let head = write_step(&f.store, "claude", "s1", None, &[], "hi");
        let sessions = vec![(SessionRef::new("claude", "s1"), head), (SessionRef::new("claude", "s2"), head)];
        let report = scan_sessions(&f.store, &sessions, &PrivacyConfig::default()).unwrap();
        assert_eq!((report.stats.sessions, report.stats.steps), (2, 1));
    }
}
