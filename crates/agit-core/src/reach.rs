//! Reachability: which objects a set of roots keeps alive, each with the kind its
//! referrer gives it (never sniffed).
//!
//! Roots are session heads (step → parent chain, step → tree → entry blobs), blame
//! objects (and the steps their lines name) and eval objects. Push uploads what this
//! reaches, `gc` keeps it, export bundles the step/tree/blob part. Blobs are never read.

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::hash::ObjectId;
use crate::index::Index;
use crate::object::{Blame, ObjectKind, sniff_kind};
use crate::store::{SessionRef, Store};

/// An object reached from a root, with the kind its referrer says it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reached {
    /// The object id.
    pub id: ObjectId,
    /// Its kind, from context.
    pub kind: ObjectKind,
}

/// Walks from roots, remembering what it reached. Reusable across many roots: an object
/// reached once is not walked again.
pub struct Walker<'a> {
    store: &'a Store,
    kinds: HashMap<ObjectId, ObjectKind>,
    order: Vec<ObjectId>,
    /// Steps whose whole history is known not to matter (e.g. already on a remote).
    stop: HashSet<ObjectId>,
    /// Steps and trees walked. Kept apart from `kinds`: a snapshot file can be
    /// byte-identical to a step or tree (a copy of a bundle in the workspace), and being
    /// reached as a blob first must not stop the walk of that step's history.
    walked_steps: HashSet<ObjectId>,
    walked_trees: HashSet<ObjectId>,
}

impl<'a> Walker<'a> {
    /// An empty walk over `store`.
    pub fn new(store: &'a Store) -> Walker<'a> {
        Walker {
            store,
            kinds: HashMap::new(),
            order: Vec::new(),
            stop: HashSet::new(),
            walked_steps: HashSet::new(),
            walked_trees: HashSet::new(),
        }
    }

    /// Do not walk into these steps nor anything below them: a caller that knows a step
    /// and its whole history are already handled (present on a remote) saves the reads.
    pub fn stop_at(&mut self, steps: impl IntoIterator<Item = ObjectId>) {
        self.stop.extend(steps);
    }

    fn mark(&mut self, id: ObjectId, kind: ObjectKind) -> bool {
        if self.kinds.contains_key(&id) {
            return false;
        }
        self.kinds.insert(id, kind);
        self.order.push(id);
        true
    }

    /// Walk one step chain from `head`: every step, its tree and the tree's blobs. Stops
    /// at a step already reached or listed in [`Walker::stop_at`]. A missing or invalid
    /// step or tree is an error (fsck reports such stores before anything walks them).
    pub fn add_chain(&mut self, head: ObjectId) -> Result<()> {
        let mut cursor = Some(head);
        while let Some(id) = cursor {
            if self.stop.contains(&id) || !self.walked_steps.insert(id) {
                break;
            }
            self.mark(id, ObjectKind::Step);
            let step = self.store.read_step(&id)?;
            self.mark(step.tree, ObjectKind::Tree);
            if self.walked_trees.insert(step.tree) {
                let tree = self.store.read_tree(&step.tree)?;
                for entry in tree.entries {
                    self.mark(entry.blob, ObjectKind::Blob);
                }
            }
            cursor = step.parent;
        }
        Ok(())
    }

    /// A blame object and the chains of every step its lines name.
    pub fn add_blame(&mut self, id: ObjectId) -> Result<()> {
        if !self.mark(id, ObjectKind::Blame) {
            return Ok(());
        }
        let bytes = self.store.read_object(&id)?;
        let blame = Blame::decode(&bytes).map_err(|source| Error::InvalidObject { id, source })?;
        let mut steps: Vec<ObjectId> = blame.lines.iter().map(|l| l.step).collect();
        steps.sort();
        steps.dedup();
        for step in steps {
            self.add_chain(step)?;
        }
        Ok(())
    }

    /// An eval object (a leaf: what it evaluated is named by key, not by object id).
    pub fn add_eval(&mut self, id: ObjectId) {
        self.mark(id, ObjectKind::Eval);
    }

    /// Whether `id` has been reached.
    pub fn contains(&self, id: &ObjectId) -> bool {
        self.kinds.contains_key(id)
    }

    /// How many objects have been reached.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether nothing has been reached.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Everything reached, in the order it was first reached (heads before their parents).
    pub fn into_reached(self) -> Vec<Reached> {
        let kinds = self.kinds;
        self.order.into_iter().map(|id| Reached { id, kind: kinds[&id] }).collect()
    }
}

/// Every session ref with its head, sorted by ref path. Refs that do not decode or are
/// empty are skipped (fsck reports them).
pub fn session_heads(store: &Store) -> Result<Vec<(SessionRef, ObjectId)>> {
    let mut heads = Vec::new();
    for entry in store.refs().list()? {
        let Ok(session) = entry else { continue };
        if let Some(head) = store.refs().read(&session)? {
            heads.push((session, head));
        }
    }
    heads.sort_by_key(|(session, _)| session.relative_path());
    Ok(heads)
}

/// The index to take blame and eval roots from: `None` when it is missing or unreadable
/// (roots are then re-derived from the objects: slower, same answer). Any other failure
/// is returned, so a walk never quietly loses roots.
pub fn roots_index(store: &Store) -> Result<Option<Index>> {
    match Index::open_existing(store) {
        Ok(index) => Ok(index),
        Err(Error::IndexUnreadable { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The blame and eval objects the index names (`blame_maps`, `evaluations`), limited
/// to those stored. Without an index they are re-derived from the objects themselves:
/// every stored object that decodes as blame or eval.
pub fn index_roots(store: &Store, index: Option<&Index>) -> Result<Vec<Reached>> {
    let mut out = Vec::new();
    match index {
        Some(index) => {
            for (sql, kind) in [
                ("select distinct blame_hash from blame_maps", ObjectKind::Blame),
                ("select hash from evaluations", ObjectKind::Eval),
            ] {
                for id in query_ids(index.conn(), sql)? {
                    if store.has_object(&id) {
                        out.push(Reached { id, kind });
                    }
                }
            }
        }
        None => {
            for id in store.all_object_ids()? {
                let bytes = store.read_object(&id)?;
                let kind = sniff_kind(&bytes);
                if matches!(kind, ObjectKind::Blame | ObjectKind::Eval) {
                    out.push(Reached { id, kind });
                }
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn query_ids(conn: &Connection, sql: &str) -> Result<Vec<ObjectId>> {
    let mut stmt = conn.prepare(sql).map_err(Error::index("read index roots"))?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(Error::index("read index roots"))?;
    let mut ids = Vec::new();
    for row in rows {
        let hex = row.map_err(Error::index("read index roots"))?;
        if let Some(id) = ObjectId::parse(&hex) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Everything reachable from every session ref and from the index's blame and eval roots.
pub fn reachable_from_store(store: &Store, index: Option<&Index>) -> Result<Vec<Reached>> {
    let mut walker = Walker::new(store);
    for (_, head) in session_heads(store)? {
        walker.add_chain(head)?;
    }
    for root in index_roots(store, index)? {
        match root.kind {
            ObjectKind::Blame => walker.add_blame(root.id)?,
            _ => walker.add_eval(root.id),
        }
    }
    Ok(walker.into_reached())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{Step, Tree, TreeEntry};

    fn step(store: &Store, parent: Option<ObjectId>, file: &[u8]) -> ObjectId {
        let (blob, _) = store.write_object(file).unwrap();
        let tree = Tree::new(vec![TreeEntry::file("a.txt", blob, file.len() as u64)]);
        let (tree, _) = store.write_object(&tree.encode()).unwrap();
        let step = Step { parent, timestamp: 1, ..Step::new("claude", "s1", "t", tree) };
        store.write_object(&step.encode()).unwrap().0
    }

    #[test]
    fn chain_reaches_steps_trees_and_blobs_with_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::init(dir.path()).unwrap();
        let first = step(&store, None, b"one");
        let second = step(&store, Some(first), b"two");
        let mut walker = Walker::new(&store);
        walker.add_chain(second).unwrap();
        let reached = walker.into_reached();
        let steps = reached.iter().filter(|r| r.kind == ObjectKind::Step).count();
        let trees = reached.iter().filter(|r| r.kind == ObjectKind::Tree).count();
        let blobs = reached.iter().filter(|r| r.kind == ObjectKind::Blob).count();
        assert_eq!((steps, trees, blobs), (2, 2, 2));
        assert_eq!(reached[0].id, second);
    }

    #[test]
    fn stop_at_skips_known_history() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::init(dir.path()).unwrap();
        let first = step(&store, None, b"one");
        let second = step(&store, Some(first), b"two");
        let mut walker = Walker::new(&store);
        walker.stop_at([first]);
        walker.add_chain(second).unwrap();
        assert!(walker.contains(&second));
        assert!(!walker.contains(&first));
        assert_eq!(walker.len(), 3);
    }

    #[test]
    fn a_snapshot_file_identical_to_a_step_does_not_cut_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::init(dir.path()).unwrap();
        let first = step(&store, None, b"one");
        let first_bytes = store.read_object(&first).unwrap();
        // The second snapshot holds a file whose bytes are exactly the first step.
        let second = step(&store, Some(first), &first_bytes);
        let mut walker = Walker::new(&store);
        walker.add_chain(second).unwrap();
        let reached = walker.into_reached();
        let first_tree = store.read_step(&first).unwrap().tree;
        assert!(reached.iter().any(|r| r.id == first_tree), "the first step's tree is still reached");
        assert!(reached.iter().any(|r| r.id == ObjectId::of(b"one")));
    }

    #[test]
    fn store_walk_follows_refs() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::init(dir.path()).unwrap();
        let head = step(&store, None, b"x");
        let session = SessionRef::new("claude", "s1");
        store.refs().compare_and_swap(&session, None, head).unwrap();
        let reached = reachable_from_store(&store, None).unwrap();
        assert_eq!(reached.len(), 3);
        assert_eq!(session_heads(&store).unwrap(), vec![(session, head)]);
    }
}
