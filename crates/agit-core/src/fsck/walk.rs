//! Reachability: refs → step chains → trees → blobs, blame and eval roots from the index,
//! and the unreferenced rest (the only objects whose kind is sniffed).

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use rusqlite::Connection;

use super::objects::Load;
use super::{Category, Check, Scan, Status, StepSummary};
use crate::hash::ObjectId;
use crate::json::contains;
use crate::object::{Blame, DecodeError, EvalObject, ObjectKind, Step, Tree, sniff_kind, top_level_type};
use crate::store::SessionRef;
use crate::store::refs::parse_ref_content;

const SCHEMA_HINT: &str =
    "The object is damaged or was written by an incompatible tool; restore it from a remote, a bundle or a backup.";
const LINK_HINT: &str = "Restore the missing object from a remote, a bundle or a backup.";
const REF_HINT: &str = "A session ref must hold exactly one 64-character step hash followed by a newline.";

/// Walk a step parent chain from `head`. `visit(id, child)` checks one step (`child` is
/// the step whose parent it is, `None` for the head) and returns its parent, or `None`
/// to stop. Returns the step at which the chain came back on itself, if it did.
///
/// Content addressing makes a real cycle a BLAKE3 fixpoint (a step would have to contain
/// its own hash, directly or through its ancestors), so no store can hold one; the guard
/// exists so that a hostile or broken reader can never make fsck loop. It is tested with
/// a stubbed reader.
pub(super) fn walk_chain(
    head: ObjectId,
    mut visit: impl FnMut(ObjectId, Option<ObjectId>) -> Option<Option<ObjectId>>,
) -> Option<ObjectId> {
    let mut seen = HashSet::new();
    let mut child = None;
    let mut cursor = Some(head);
    while let Some(id) = cursor {
        if !seen.insert(id) {
            return Some(id);
        }
        cursor = visit(id, child)?;
        child = Some(id);
    }
    None
}

fn capitalized(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Blob => "Blob",
        ObjectKind::Tree => "Tree",
        ObjectKind::Step => "Step",
        ObjectKind::Blame => "Blame",
        ObjectKind::Eval => "Eval",
    }
}

fn schema_message(error: &DecodeError) -> String {
    match error {
        DecodeError::Schema { kind, .. } => {
            format!("{} object does not match the supported schema.", capitalized(*kind))
        }
        DecodeError::TypeTag { kind, .. } => format!("{} object has an invalid type tag.", capitalized(*kind)),
    }
}

/// Whether bytes that failed to decode as `kind` at least claim to be one (then they are
/// an invalid object of that kind; otherwise they are some other object).
fn claims(bytes: &[u8], kind: ObjectKind) -> bool {
    top_level_type(bytes).is_some_and(|t| t == kind.as_str())
}

fn name_of(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn sorted_entries(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = fs::read_dir(dir).map(|rd| rd.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    out.sort();
    out
}

fn hex_utf8(component: &str) -> bool {
    hex::decode(component).ok().and_then(|b| String::from_utf8(b).ok()).is_some_and(|s| !s.is_empty())
}

impl Scan<'_> {
    fn schema_invalid(&mut self, id: &ObjectId, error: &DecodeError) {
        let path = self.location(id);
        self.push(
            Category::Schema,
            Check::new("object_schema_invalid", Status::Error, schema_message(error))
                .hint(SCHEMA_HINT)
                .path(path)
                .hash(id),
        );
    }

    fn link(&mut self, code: &str, message: &str, from: &ObjectId, to: &ObjectId) {
        let path = self.location(from);
        self.push(Category::Links, Check::new(code, Status::Error, message).hint(LINK_HINT).path(path).hash(to));
    }

    fn bad_ref(&mut self, code: &str, message: &str, path: &Path, hint: &str) -> Check {
        Check::new(code, Status::Error, message).hint(hint).path(Some(self.display(path)))
    }

    /// Walk `refs/sessions`: path layout, content, and each ref's chain.
    pub(super) fn walk_refs(&mut self) {
        let sessions_dir = self.store.root().join("refs").join("sessions");
        for origin_path in sorted_entries(&sessions_dir) {
            let origin_name = name_of(&origin_path);
            if origin_name.ends_with(".lock") || origin_name.starts_with(".tmp-") {
                continue;
            }
            if !origin_path.is_dir() {
                self.stats.ref_files += 1;
                let c = self.bad_ref(
                    "ref_path_invalid",
                    "Session ref path does not use refs/sessions/<origin-hex>/<session-hex> layout.",
                    &origin_path,
                    "Move or remove this file.",
                );
                self.push(Category::Refs, c);
                continue;
            }
            for ref_path in sorted_entries(&origin_path) {
                let name = name_of(&ref_path);
                if name.ends_with(".lock") || name.starts_with(".tmp-") {
                    continue;
                }
                let invalid = |scan: &mut Self, message: &str| {
                    let c = scan.bad_ref("ref_path_invalid", message, &ref_path, "Move or remove this entry.");
                    scan.push(Category::Refs, c);
                };
                if ref_path.is_dir() {
                    invalid(self, "Session ref path has unexpected nested segments.");
                    continue;
                }
                self.stats.ref_files += 1;
                if !hex_utf8(&origin_name) {
                    invalid(self, "Session ref origin path component is not valid hex.");
                    continue;
                }
                let Some(session) = SessionRef::from_hex_components(&origin_name, &name) else {
                    invalid(self, "Session ref id path component is not valid hex.");
                    continue;
                };
                self.check_ref(&ref_path, &session);
            }
        }
    }

    fn check_ref(&mut self, path: &Path, session: &SessionRef) {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                let c = self.bad_ref("ref_unreadable", "Session ref could not be read.", path, &e.to_string());
                self.push(Category::Refs, c);
                return;
            }
        };
        let Some(head) = parse_ref_content(&bytes) else {
            let c = self.bad_ref(
                "ref_invalid_hash",
                "Session ref must contain exactly one 64-character hash.",
                path,
                REF_HINT,
            );
            self.push(Category::Refs, c);
            return;
        };
        if let Some(at) = walk_chain(head, |id, child| self.visit_step(id, child, path)) {
            let c = self
                .bad_ref(
                    "step_chain_cycle",
                    "Step parent chain contains a cycle.",
                    path,
                    "The session history is corrupt; restore the ref or its steps from a backup.",
                )
                .hash(&at);
            self.push(Category::Refs, c);
        }
        let Some(step) = self.steps.get(&head) else { return };
        let mismatch = step.origin != session.origin || step.session_id != session.session_id;
        self.stats.reachable_sessions += 1;
        self.sessions.insert((session.origin.clone(), session.session_id.clone()), head);
        if mismatch {
            let c = self
                .bad_ref(
                    "ref_session_mismatch",
                    "Session ref points at a step from a different origin/session.",
                    path,
                    "The ref was copied or renamed by hand; move it back to the path of its session.",
                )
                .hash(&head);
            self.push(Category::Refs, c);
        }
    }

    /// Check one step of a chain; returns its parent (or `None` to stop the walk).
    fn visit_step(&mut self, id: ObjectId, child: Option<ObjectId>, ref_path: &Path) -> Option<Option<ObjectId>> {
        if let Some(known) = self.steps.get(&id) {
            return Some(known.parent);
        }
        let bytes = match self.load(&id) {
            Load::Bytes(b) => b,
            Load::Corrupt => {
                self.note_kind(id, ObjectKind::Step);
                return None;
            }
            Load::Missing => {
                match child {
                    None => {
                        let c = self
                            .bad_ref(
                                "ref_missing_object",
                                "Session ref points at a missing object.",
                                ref_path,
                                LINK_HINT,
                            )
                            .hash(&id);
                        self.push(Category::Refs, c);
                    }
                    Some(child) => {
                        self.link("step_parent_missing", "Step parent points at a missing object.", &child, &id);
                    }
                }
                return None;
            }
        };
        self.note_kind(id, ObjectKind::Step);
        let step = match Step::decode(&bytes) {
            Ok(step) => step,
            Err(error) => {
                if claims(&bytes, ObjectKind::Step) {
                    self.schema_invalid(&id, &error);
                } else {
                    match child {
                        None => {
                            let c = self
                                .bad_ref("ref_not_step", "Session ref points at a non-step object.", ref_path, REF_HINT)
                                .hash(&id);
                            self.push(Category::Refs, c);
                        }
                        Some(child) => {
                            self.link("step_parent_not_step", "Step parent points at a non-step object.", &child, &id)
                        }
                    }
                }
                return None;
            }
        };
        self.check_tree(step.tree, id);
        self.steps.insert(
            id,
            StepSummary {
                origin: step.origin,
                session_id: step.session_id,
                turn_id: step.turn_id,
                parent: step.parent,
                tree: step.tree,
                timestamp: step.timestamp,
                messages: step.messages.len(),
                tool_calls: step.tool_calls.len(),
            },
        );
        Some(step.parent)
    }

    fn check_tree(&mut self, tree: ObjectId, step: ObjectId) {
        if !self.trees.insert(tree) {
            return;
        }
        let bytes = match self.load(&tree) {
            Load::Bytes(b) => b,
            Load::Corrupt => {
                self.note_kind(tree, ObjectKind::Tree);
                return;
            }
            Load::Missing => {
                self.link("step_tree_missing", "Step snapshot points at a missing tree object.", &step, &tree);
                return;
            }
        };
        self.note_kind(tree, ObjectKind::Tree);
        match Tree::decode(&bytes) {
            Ok(decoded) => {
                for entry in &decoded.entries {
                    // A blob is a blob whatever its bytes look like: never sniffed.
                    if self.exists(&entry.blob) {
                        self.note_kind(entry.blob, ObjectKind::Blob);
                    } else {
                        self.link(
                            "tree_blob_missing",
                            "Tree entry points at a missing blob object.",
                            &tree,
                            &entry.blob,
                        );
                    }
                }
            }
            Err(error) if claims(&bytes, ObjectKind::Tree) => self.schema_invalid(&tree, &error),
            Err(_) => self.link("step_tree_not_tree", "Step snapshot points at a non-tree object.", &step, &tree),
        }
    }

    /// Blame and eval objects have their roots in the index (blame rows, eval rows).
    pub(super) fn walk_index_roots(&mut self, conn: &Connection) {
        let blames = query_ids(conn, "select distinct blame_hash from blame_maps");
        let mut checked_steps: HashSet<ObjectId> = HashSet::new();
        for id in blames {
            if !self.exists(&id) {
                continue; // a stale blame row: index state, not object corruption
            }
            self.note_kind(id, ObjectKind::Blame);
            let Load::Bytes(bytes) = self.load(&id) else { continue };
            let blame = match Blame::decode(&bytes) {
                Ok(b) => b,
                Err(error) => {
                    self.schema_invalid(&id, &error);
                    continue;
                }
            };
            let mut steps: Vec<ObjectId> = blame.lines.iter().map(|l| l.step).collect();
            steps.sort();
            steps.dedup();
            for step in steps {
                if self.steps.contains_key(&step) || !checked_steps.insert(step) {
                    continue;
                }
                match self.load(&step) {
                    Load::Missing => {
                        self.link("blame_step_missing", "Blame map points at a missing step object.", &id, &step)
                    }
                    Load::Bytes(b) if Step::decode(&b).is_err() => {
                        self.link("blame_step_not_step", "Blame map points at a non-step object.", &id, &step)
                    }
                    Load::Bytes(_) | Load::Corrupt => {}
                }
            }
        }
        for id in query_ids(conn, "select hash from evaluations") {
            if !self.exists(&id) {
                continue;
            }
            self.note_kind(id, ObjectKind::Eval);
            if let Load::Bytes(bytes) = self.load(&id)
                && let Err(error) = EvalObject::decode(&bytes)
            {
                self.schema_invalid(&id, &error);
            }
        }
    }

    /// Objects nothing references: the only ones whose kind is sniffed.
    pub(super) fn scan_unreferenced(&mut self) {
        let ids: Vec<ObjectId> = self.stored.keys().filter(|id| !self.kinds.contains_key(id)).copied().collect();
        for id in ids {
            let Load::Bytes(bytes) = self.load(&id) else { continue };
            let kind = sniff_kind(&bytes);
            self.sniffed.insert(id, kind);
            if kind == ObjectKind::Blob
                && contains(&bytes, br#""type":""#)
                && let Some(tag) = top_level_type(&bytes)
                && !matches!(tag.as_str(), "tree" | "step" | "blame" | "eval")
            {
                let path = self.location(&id);
                self.push(
                    Category::UnknownType,
                    Check::new(
                        "object_unknown_type",
                        Status::Warn,
                        format!("Loose JSON object declares unsupported type `{tag}`."),
                    )
                    .hint("Nothing references this object; it may come from a newer agit or another tool.")
                    .path(path)
                    .hash(&id),
                );
            }
        }
    }
}

fn query_ids(conn: &Connection, sql: &str) -> Vec<ObjectId> {
    let Ok(mut stmt) = conn.prepare(sql) else { return Vec::new() };
    stmt.query_map([], |r| r.get::<_, String>(0))
        .map(|rows| rows.flatten().filter_map(|h| ObjectId::parse(&h)).collect())
        .unwrap_or_default()
}
