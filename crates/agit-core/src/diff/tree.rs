//! Tree comparison and path filters.

use std::cmp::Ordering;

use serde::Serialize;

use crate::hash::ObjectId;
use crate::object::{Tree, TreeEntry};

/// How one path differs between two trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only in the new tree.
    Added,
    /// In both, with a different blob, mode or size.
    Modified,
    /// Only in the old tree.
    Deleted,
    /// In both, with the same blob, mode and size.
    Unchanged,
}

impl ChangeKind {
    /// The lowercase name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Modified => "modified",
            ChangeKind::Deleted => "deleted",
            ChangeKind::Unchanged => "unchanged",
        }
    }
}

/// One path of the union of two trees, with the entry on each side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    pub path: String,
    /// The entry in the old tree (`None` when added).
    pub old: Option<TreeEntry>,
    /// The entry in the new tree (`None` when deleted).
    pub new: Option<TreeEntry>,
}

impl Change {
    pub fn old_blob(&self) -> Option<ObjectId> {
        self.old.as_ref().map(|e| e.blob)
    }

    pub fn new_blob(&self) -> Option<ObjectId> {
        self.new.as_ref().map(|e| e.blob)
    }

    pub fn old_size(&self) -> Option<u64> {
        self.old.as_ref().map(|e| e.size)
    }

    pub fn new_size(&self) -> Option<u64> {
        self.new.as_ref().map(|e| e.size)
    }
}

/// How many paths of each kind (field order as in the reference JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ChangeCounts {
    pub added: usize,
    pub modified: usize,
    pub deleted: usize,
    pub unchanged: usize,
}

impl ChangeCounts {
    fn add(&mut self, kind: ChangeKind) {
        match kind {
            ChangeKind::Added => self.added += 1,
            ChangeKind::Modified => self.modified += 1,
            ChangeKind::Deleted => self.deleted += 1,
            ChangeKind::Unchanged => self.unchanged += 1,
        }
    }

    /// Paths that differ (everything but `unchanged`).
    pub fn changed(&self) -> usize {
        self.added + self.modified + self.deleted
    }
}

/// Every path of two trees, in bytewise path order, unchanged ones included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeDiff {
    pub entries: Vec<Change>,
}

impl TreeDiff {
    /// Counts over every entry.
    pub fn counts(&self) -> ChangeCounts {
        let mut counts = ChangeCounts::default();
        for change in &self.entries {
            counts.add(change.kind);
        }
        counts
    }

    /// The entries that differ, in path order.
    pub fn changes(&self) -> impl Iterator<Item = &Change> {
        self.entries.iter().filter(|c| c.kind != ChangeKind::Unchanged)
    }

    /// Keep only the paths `filter` matches.
    pub fn filtered(mut self, filter: &PathFilter) -> TreeDiff {
        if !filter.is_all() {
            self.entries.retain(|c| filter.matches(&c.path));
        }
        self
    }
}

/// Compare two trees by a merge-walk over their entries in bytewise path order: a path
/// only in `old` is deleted, only in `new` added, in both unchanged when blob, mode and
/// size are equal, else modified. Trees are sorted by format; unsorted input (written by
/// another tool) is sorted first rather than mis-walked.
pub fn compare_trees(old: &Tree, new: &Tree) -> TreeDiff {
    let old = sorted_entries(old);
    let new = sorted_entries(new);
    let mut entries = Vec::with_capacity(old.len().max(new.len()));
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        let order = match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) => a.path.as_bytes().cmp(b.path.as_bytes()),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        let change = match order {
            Ordering::Less => {
                i += 1;
                Change {
                    kind: ChangeKind::Deleted,
                    path: old[i - 1].path.clone(),
                    old: Some(old[i - 1].clone()),
                    new: None,
                }
            }
            Ordering::Greater => {
                j += 1;
                Change {
                    kind: ChangeKind::Added,
                    path: new[j - 1].path.clone(),
                    old: None,
                    new: Some(new[j - 1].clone()),
                }
            }
            Ordering::Equal => {
                let (a, b) = (old[i], new[j]);
                i += 1;
                j += 1;
                let same = a.blob == b.blob && a.mode == b.mode && a.size == b.size;
                let kind = if same { ChangeKind::Unchanged } else { ChangeKind::Modified };
                Change { kind, path: b.path.clone(), old: Some(a.clone()), new: Some(b.clone()) }
            }
        };
        entries.push(change);
    }
    TreeDiff { entries }
}

fn sorted_entries(tree: &Tree) -> Vec<&TreeEntry> {
    let mut entries: Vec<&TreeEntry> = tree.entries.iter().collect();
    if !entries.is_sorted_by(|a, b| a.path.as_bytes() <= b.path.as_bytes()) {
        entries.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    }
    entries
}

/// Directory-prefix path filters: a filter matches the path itself and everything below
/// it (`src` matches `src` and `src/a.rs`, not `srcx`). No filters, or a filter of `.`,
/// matches every path. Filters are workspace-relative; a leading `./` and trailing `/`
/// are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathFilter {
    prefixes: Vec<String>,
    all: bool,
}

impl PathFilter {
    /// A filter matching every path.
    pub fn all() -> PathFilter {
        PathFilter { prefixes: Vec::new(), all: true }
    }

    /// A filter of the given workspace-relative paths (none means every path).
    pub fn new<I, S>(paths: I) -> PathFilter
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut prefixes = Vec::new();
        let mut all = false;
        for path in paths {
            let normalized = normalize(path.as_ref());
            if normalized.is_empty() {
                all = true;
            } else if !prefixes.contains(&normalized) {
                prefixes.push(normalized);
            }
        }
        let all = all || prefixes.is_empty();
        PathFilter { prefixes, all }
    }

    /// Whether the filter lets every path through.
    pub fn is_all(&self) -> bool {
        self.all
    }

    /// The normalized prefixes, in the order given.
    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }

    /// Whether `path` is one of the prefixes or lies below one.
    pub fn matches(&self, path: &str) -> bool {
        self.all || self.prefixes.iter().any(|p| prefix_matches(p, path))
    }

    /// Whether `prefix` (one of [`PathFilter::prefixes`]) matches any path of `tree`.
    pub fn prefix_in_tree(prefix: &str, tree: &Tree) -> bool {
        tree.entries.iter().any(|e| prefix_matches(prefix, &e.path))
    }
}

fn prefix_matches(prefix: &str, path: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// Drop `./` segments, empty segments and trailing slashes (`./src//a/` → `src/a`).
fn normalize(path: &str) -> String {
    path.split('/').filter(|s| !s.is_empty() && *s != ".").collect::<Vec<_>>().join("/")
}
