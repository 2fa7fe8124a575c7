//! `agit fsck`: a read-only integrity scan of the store (reference `storage.md` §11).
//!
//! The scan never creates or modifies anything: objects and refs are read, packs are
//! verified end to end ([`crate::store::pack::verify_pack`]), `index.db` is opened with
//! `SQLITE_OPEN_READ_ONLY`, and lock files are probed through a read-only descriptor.
//!
//! Kinds come from context, never from content, when they are known (DECISIONS §2,
//! improvement 1): ref → step → parent step / tree → blob, blame rows → blame, eval rows
//! → eval. Only objects reached as tree/step/blame/eval are schema-checked; a blob is a
//! blob whatever its bytes look like. Content sniffing is used only for objects nothing
//! references (`object_unknown_type`, and the kind the index is expected to record), and
//! to word a diagnostic ("not a step" vs "an invalid step").
//!
//! Checks, in report order: loose objects, packs, schema, links, refs, unknown types,
//! index, mutable area (staging and locks); each category that found nothing gets an
//! `*_ok` summary.

mod index;
mod mutable;
mod objects;
mod walk;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::error::Result;
use crate::hash::ObjectId;
use crate::object::ObjectKind;
use crate::store::Store;
use crate::store::pack::PackSet;

/// Hint attached to every index finding.
pub const INDEX_HINT: &str = "Run `agit fsck --reindex` or `agit reindex` to rebuild the query index.";

/// Severity of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Info,
    Warn,
    Error,
}

impl Status {
    /// The lowercase name (`ok`, `info`, `warn`, `error`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Info => "info",
            Status::Warn => "warn",
            Status::Error => "error",
        }
    }
}

/// One finding, in the `cli-json-v1` check shape (`code,status,message,hint,path,hash`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub code: String,
    pub status: Status,
    pub message: String,
    pub hint: Option<String>,
    /// Store-relative path (`.agit/...`), packed objects as `.agit/objects/pack/<name>@<offset>`.
    pub path: Option<String>,
    pub hash: Option<String>,
}

impl Check {
    fn new(code: &str, status: Status, message: impl Into<String>) -> Check {
        Check { code: code.into(), status, message: message.into(), hint: None, path: None, hash: None }
    }

    fn hint(mut self, hint: impl Into<String>) -> Check {
        self.hint = Some(hint.into());
        self
    }

    fn path(mut self, path: Option<String>) -> Check {
        self.path = path;
        self
    }

    fn hash(mut self, id: &ObjectId) -> Check {
        self.hash = Some(id.to_hex());
        self
    }
}

/// Counts reported with the findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FsckStats {
    /// Loose object files (well-formed paths).
    pub object_files: u64,
    /// Entries of the packs that could be opened.
    pub packed_objects: u64,
    /// Session ref files (lock and temp files excluded).
    pub ref_files: u64,
    /// Refs whose head is a readable step.
    pub reachable_sessions: u64,
    /// Distinct steps reachable from refs.
    pub reachable_steps: u64,
    pub warnings: u64,
    pub errors: u64,
}

/// The result of a scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FsckReport {
    pub checks: Vec<Check>,
    pub stats: FsckStats,
}

impl FsckReport {
    /// No error finding.
    pub fn healthy(&self) -> bool {
        self.stats.errors == 0
    }

    /// Whether a finding with this code was reported.
    pub fn has(&self, code: &str) -> bool {
        self.checks.iter().any(|c| c.code == code)
    }
}

/// Report order of the categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Category {
    Objects,
    Packs,
    Schema,
    Links,
    Refs,
    UnknownType,
    Index,
    Mutable,
}

/// A reachable step, as much as the index checks need.
#[derive(Debug, Clone)]
struct StepSummary {
    origin: String,
    session_id: String,
    turn_id: String,
    parent: Option<ObjectId>,
    tree: ObjectId,
    timestamp: i64,
    messages: usize,
    tool_calls: usize,
}

/// Where an object is stored.
#[derive(Debug, Clone)]
enum Loc {
    Loose(std::path::PathBuf),
    Packed { pack: Arc<str>, offset: u64 },
}

/// Run the scan.
pub fn fsck(store: &Store) -> Result<FsckReport> {
    let mut scan = Scan::new(store);
    scan.scan_loose();
    scan.scan_packs();
    let index = index::IndexView::open(store);
    scan.walk_refs();
    if let index::IndexView::Open(conn) = &index {
        scan.walk_index_roots(conn);
    }
    scan.scan_unreferenced();
    scan.check_index(&index);
    drop(index);
    scan.scan_mutable();
    Ok(scan.finish())
}

struct Scan<'a> {
    store: &'a Store,
    packs: Arc<PackSet>,
    findings: Vec<(Category, Check)>,
    stats: FsckStats,
    /// Every stored object (loose with a valid path, or listed by an open pack).
    stored: BTreeMap<ObjectId, Loc>,
    /// Kinds each object was reached as (context, never sniffed).
    kinds: HashMap<ObjectId, BTreeSet<ObjectKind>>,
    /// Reachable steps that decoded.
    steps: BTreeMap<ObjectId, StepSummary>,
    /// Trees already checked.
    trees: HashSet<ObjectId>,
    /// Refs with a readable head step: (origin, session) → head.
    sessions: BTreeMap<(String, String), ObjectId>,
    /// Kinds the index is expected to record, for unreferenced objects (sniffed).
    sniffed: HashMap<ObjectId, ObjectKind>,
}

impl<'a> Scan<'a> {
    fn new(store: &'a Store) -> Scan<'a> {
        let packs = Arc::new(PackSet::open(&store.pack_dir()).unwrap_or_else(|_| PackSet::empty()));
        Scan {
            store,
            packs,
            findings: Vec::new(),
            stats: FsckStats::default(),
            stored: BTreeMap::new(),
            kinds: HashMap::new(),
            steps: BTreeMap::new(),
            trees: HashSet::new(),
            sessions: BTreeMap::new(),
            sniffed: HashMap::new(),
        }
    }

    fn push(&mut self, category: Category, check: Check) {
        self.findings.push((category, check));
    }

    fn any_in(&self, categories: &[Category], at_least: Status) -> bool {
        self.findings.iter().any(|(c, k)| categories.contains(c) && k.status >= at_least)
    }

    fn display(&self, path: &Path) -> String {
        self.store.display_path(path)
    }

    /// Display location of a stored object.
    fn location(&self, id: &ObjectId) -> Option<String> {
        self.stored.get(id).map(|loc| match loc {
            Loc::Loose(path) => self.display(path),
            Loc::Packed { pack, offset } => {
                format!("{}@{offset}", self.display(&self.store.pack_dir().join(&**pack)))
            }
        })
    }

    fn note_kind(&mut self, id: ObjectId, kind: ObjectKind) {
        self.kinds.entry(id).or_default().insert(kind);
    }

    fn finish(mut self) -> FsckReport {
        // OK summaries for categories that found nothing.
        let total = self.stats.object_files + self.stats.packed_objects;
        if !self.any_in(&[Category::Objects, Category::Packs], Status::Warn) {
            let check = Check::new("object_integrity_ok", Status::Ok, format!("Validated {total} stored object(s)."));
            self.push(Category::Objects, check);
        }
        if !self.any_in(&[Category::Schema, Category::Links], Status::Warn) {
            self.push(Category::Links, Check::new("reachability_ok", Status::Ok, "No broken object links detected."));
        }
        if !self.any_in(&[Category::Refs], Status::Warn) {
            let n = self.stats.ref_files;
            self.push(Category::Refs, Check::new("refs_ok", Status::Ok, format!("Validated {n} session ref file(s).")));
        }
        if !self.any_in(&[Category::Index], Status::Info) {
            self.push(
                Category::Index,
                Check::new("index_ok", Status::Ok, "index.db matches reachable object/ref state."),
            );
        }
        if !self.any_in(&[Category::Mutable], Status::Info) {
            self.push(
                Category::Mutable,
                Check::new("mutable_area_ok", Status::Ok, "Mutable staging and lock areas are clean."),
            );
        }
        self.findings.sort_by_key(|(c, _)| *c);
        let checks: Vec<Check> = self.findings.into_iter().map(|(_, c)| c).collect();
        self.stats.warnings = checks.iter().filter(|c| c.status == Status::Warn).count() as u64;
        self.stats.errors = checks.iter().filter(|c| c.status == Status::Error).count() as u64;
        self.stats.reachable_steps = self.steps.len() as u64;
        FsckReport { checks, stats: self.stats }
    }
}

#[cfg(test)]
mod tests;
