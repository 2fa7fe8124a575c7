use std::collections::HashMap;

use super::walk::walk_chain;
use super::*;
use crate::object::{Step, Tree, TreeEntry};

fn id(n: u8) -> ObjectId {
    ObjectId::from_bytes([n; 32])
}

/// A real cycle needs a BLAKE3 fixpoint (a step containing its own hash, directly or via
/// its ancestors), so it cannot be written to a store; the guard is tested with a stub
/// reader whose steps point at each other.
#[test]
fn the_chain_walk_stops_on_a_cycle() {
    let parents: HashMap<ObjectId, Option<ObjectId>> =
        [(id(1), Some(id(2))), (id(2), Some(id(3))), (id(3), Some(id(2)))].into_iter().collect();
    let mut visited = Vec::new();
    let cycle = walk_chain(id(1), |step, child| {
        visited.push((step, child));
        parents.get(&step).copied()
    });
    assert_eq!(cycle, Some(id(2)));
    assert_eq!(visited, vec![(id(1), None), (id(2), Some(id(1))), (id(3), Some(id(2)))]);

    // A parent pointing at itself, and a clean chain ending at a root.
    let selfish: HashMap<ObjectId, Option<ObjectId>> = [(id(7), Some(id(7)))].into_iter().collect();
    assert_eq!(walk_chain(id(7), |s, _| selfish.get(&s).copied()), Some(id(7)));
    let clean: HashMap<ObjectId, Option<ObjectId>> = [(id(1), Some(id(2))), (id(2), None)].into_iter().collect();
    assert_eq!(walk_chain(id(1), |s, _| clean.get(&s).copied()), None);
    // A reader that stops the walk (missing or bad step).
    assert_eq!(walk_chain(id(9), |_, _| None), None);
}

fn listing(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u64, Option<std::time::SystemTime>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            }
            out.push((e.path(), meta.len(), meta.modified().ok()));
        }
    }
    out.sort();
    out
}

#[test]
fn a_recorded_store_is_healthy_and_the_scan_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::init(dir.path()).unwrap();
    let (blob, _) = store.write_object(b"hello\n").unwrap();
    let (tree, _) = store.write_object(&Tree::new(vec![TreeEntry::file("a.txt", blob, 6)]).encode()).unwrap();
    let step = Step { timestamp: 1, ..Step::new("codex", "s", "t1", tree) };
    let (step_id, _) = store.write_object(&step.encode()).unwrap();
    let session = crate::store::SessionRef::new("codex", "s");
    store.refs().compare_and_swap(&session, None, step_id).unwrap();
    crate::index::rebuild(&store).unwrap();

    let before = listing(store.root());
    let report = fsck(&store).unwrap();
    assert!(report.healthy(), "{report:#?}");
    assert!(report.checks.iter().all(|c| c.status == Status::Ok), "{report:#?}");
    assert_eq!((report.stats.reachable_sessions, report.stats.reachable_steps), (1, 1));
    assert_eq!(listing(store.root()), before, "fsck must not create or modify anything");
}
