use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::*;
use crate::object::{Blame, BlameLine, Step, Tree, TreeEntry};
use crate::store::loose;
use crate::store::pack::{PackInput, write_pack};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::init(dir.path()).unwrap();
    (dir, store)
}

/// A step over one file `a.txt` with `content`, appended to session `s`.
fn step(store: &Store, session: &str, parent: Option<ObjectId>, content: &[u8], timestamp: i64) -> ObjectId {
    let (blob, _) = store.write_object(content).unwrap();
    let tree = Tree::new(vec![TreeEntry::file("a.txt", blob, content.len() as u64)]);
    let (tree, _) = store.write_object(&tree.encode()).unwrap();
    let step = Step { parent, timestamp, ..Step::new("claude", session, format!("t{timestamp}"), tree) };
    let id = store.write_object(&step.encode()).unwrap().0;
    store.refs().compare_and_swap(&SessionRef::new("claude", session), parent, id).unwrap();
    id
}

fn set_age(path: &Path, age: Duration) {
    let file = std::fs::File::open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

fn age_loose(store: &Store, id: &ObjectId, age: Duration) {
    set_age(&loose::object_path(&store.objects_dir(), id), age);
}

/// Build the index as a recorded store has it: blame objects and rows for every step.
fn index(store: &Store) {
    drop(Index::open(store).unwrap());
}

const OLD: Duration = Duration::from_secs(3 * 3600);

/// Every file under `.agit/` with its size (gc.lock and index files excluded: taking a
/// lock or opening the index may touch them).
fn listing(store: &Store) -> BTreeMap<PathBuf, u64> {
    let mut out = BTreeMap::new();
    let mut stack = vec![store.root().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if !entry.file_name().to_string_lossy().contains("lock") {
                out.insert(path.clone(), entry.metadata().unwrap().len());
            }
        }
    }
    out
}

fn loose_ids(store: &Store) -> Vec<ObjectId> {
    loose::all_ids(&store.objects_dir()).unwrap()
}

#[test]
fn packs_what_is_reachable_prunes_old_garbage_and_keeps_young() {
    let (_dir, store) = store();
    let first = step(&store, "s1", None, b"one\n", 1);
    let second = step(&store, "s1", Some(first), b"one\ntwo\n", 2);
    index(&store);
    let ix = Index::open(&store).unwrap();
    let reachable: Vec<ObjectId> = reachable_from_store(&store, Some(&ix)).unwrap().into_iter().map(|r| r.id).collect();
    drop(ix);
    assert_eq!(reachable.len(), 8, "2 steps, 2 trees, 2 blobs, 2 blames");
    let before: Vec<Vec<u8>> = reachable.iter().map(|id| store.read_object(id).unwrap()).collect();
    let old = store.write_object(b"old garbage").unwrap().0;
    age_loose(&store, &old, OLD);
    let young = store.write_object(b"young garbage").unwrap().0;
    // An old reachable object is kept whatever its age.
    age_loose(&store, &first, OLD);

    let report = gc(&store, &GcOptions::default()).unwrap();
    assert_eq!((report.objects_pruned, report.young_kept, report.reachable_objects), (1, 1, 8));
    assert_eq!(report.pruned[0].hash, old.to_hex());
    assert_eq!(report.pruned[0].location, "loose");
    let pack = report.pack.as_ref().unwrap();
    assert_eq!((pack.entries, pack.reused), (8, false));
    assert_eq!(report.objects_packed, 8);
    assert_eq!(report.loose_removed, 8);
    assert!(report.reindexed, "something was pruned");
    assert!(report.bytes_after.unwrap() > 0);
    assert_eq!(loose_ids(&store), vec![young], "only the young garbage stays loose");
    let fresh = Store::open(store.workspace()).unwrap();
    for (id, bytes) in reachable.iter().zip(&before) {
        assert_eq!(&fresh.read_object(id).unwrap(), bytes);
    }
    assert!(!fresh.has_object(&old));
    assert_eq!(fresh.refs().read(&SessionRef::new("claude", "s1")).unwrap(), Some(second));
    assert!(crate::fsck::fsck(&fresh).unwrap().healthy());
}

#[test]
fn a_second_gc_reuses_the_pack_and_changes_nothing() {
    let (_dir, store) = store();
    let first = step(&store, "s1", None, b"one\n", 1);
    step(&store, "s1", Some(first), b"two\n", 2);
    index(&store);
    gc(&store, &GcOptions::default()).unwrap();
    let before = listing(&store);
    let report = gc(&store, &GcOptions::default()).unwrap();
    let pack = report.pack.unwrap();
    assert!(pack.reused);
    assert_eq!((report.objects_packed, report.objects_pruned, report.loose_removed), (0, 0, 0));
    assert!(report.packs_removed.is_empty());
    assert!(!report.reindexed);
    assert_eq!(listing(&store), before);
}

#[test]
fn dry_run_reports_the_plan_and_changes_nothing() {
    let (_dir, store) = store();
    let head = step(&store, "s1", None, b"one\n", 1);
    let old = store.write_object(b"old garbage").unwrap().0;
    age_loose(&store, &old, OLD);
    std::fs::write(store.tmp_dir().join(".tmp-left"), b"x").unwrap();
    set_age(&store.tmp_dir().join(".tmp-left"), OLD);
    let before = listing(&store);
    let report = gc(&store, &GcOptions { dry_run: true, ..GcOptions::default() }).unwrap();
    assert_eq!(listing(&store), before);
    assert!(!store.gc_lock_path().exists() && !store.index_path().exists());
    assert!(report.dry_run);
    assert_eq!(report.objects_pruned, 1);
    assert_eq!(report.objects_packed, 3);
    assert_eq!(report.loose_removed, 3);
    assert_eq!(report.tmp_files_pruned.len(), 1);
    assert!(report.pack.is_none() && report.bytes_after.is_none());
    assert!(store.has_object(&old) && store.has_object(&head));
}

#[test]
fn objects_leaving_a_removed_pack_keep_their_age() {
    let (_dir, store) = store();
    step(&store, "s1", None, b"one\n", 1);
    // A pack (as an older gc or another tool left it) holding one unreachable object.
    let orphan = b"packed orphan".to_vec();
    let orphan_id = ObjectId::of(&orphan);
    let info = write_pack(
        &store.pack_dir(),
        [PackInput { id: orphan_id, kind: ObjectKind::Blob, bytes: orphan.clone(), delta_base_hint: None }],
    )
    .unwrap();
    set_age(&info.path, Duration::from_secs(3600));
    let report = gc(&store, &GcOptions::default()).unwrap();
    assert_eq!((report.unpacked, report.young_kept, report.objects_pruned), (1, 1, 0));
    assert_eq!(report.packs_removed, vec![info.name.clone()]);
    assert!(!info.path.exists() && !info.idx_path.exists());
    let path = loose::object_path(&store.objects_dir(), &orphan_id);
    let age = SystemTime::now().duration_since(std::fs::metadata(&path).unwrap().modified().unwrap()).unwrap();
    assert!(age >= Duration::from_secs(3590), "the pack's age carried over: {age:?}");
    // One more hour and it is old enough.
    set_age(&path, OLD);
    let report = gc(&store, &GcOptions::default()).unwrap();
    assert_eq!(report.objects_pruned, 1);
    assert!(!store.has_object(&orphan_id));
}

#[test]
fn old_packed_garbage_is_pruned_with_its_pack() {
    let (_dir, store) = store();
    let head = step(&store, "s1", None, b"one\n", 1);
    index(&store);
    let orphan = b"packed orphan".to_vec();
    let orphan_id = ObjectId::of(&orphan);
    let head_bytes = store.read_object(&head).unwrap();
    let info = write_pack(
        &store.pack_dir(),
        [
            PackInput { id: orphan_id, kind: ObjectKind::Blob, bytes: orphan, delta_base_hint: None },
            PackInput { id: head, kind: ObjectKind::Step, bytes: head_bytes.clone(), delta_base_hint: None },
        ],
    )
    .unwrap();
    set_age(&info.path, OLD);
    std::fs::remove_file(loose::object_path(&store.objects_dir(), &head)).unwrap();
    let report = gc(&store, &GcOptions::default()).unwrap();
    assert_eq!(report.objects_pruned, 1);
    assert_eq!(report.pruned[0].location, format!("pack {}", info.name));
    assert_eq!(report.unpacked, 0, "the reachable step went into the new pack");
    let fresh = Store::open(store.workspace()).unwrap();
    assert_eq!(fresh.read_object(&head).unwrap(), head_bytes);
    assert!(!fresh.has_object(&orphan_id));
    assert!(loose_ids(&fresh).is_empty());
}

#[test]
fn grace_zero_prunes_everything_unreachable() {
    let (_dir, store) = store();
    step(&store, "s1", None, b"one\n", 1);
    store.write_object(b"fresh garbage").unwrap();
    let report = gc(&store, &GcOptions { grace: Duration::ZERO, ..GcOptions::default() }).unwrap();
    assert_eq!((report.objects_pruned, report.young_kept), (1, 0));
}

#[test]
fn blame_and_eval_roots_survive_without_an_index() {
    let (_dir, store) = store();
    let head = step(&store, "s1", None, b"one\n", 1);
    let blame = Blame { path: "a.txt".into(), lines: vec![BlameLine { step: head }] };
    let (blame_id, _) = store.write_object(&blame.encode()).unwrap();
    let eval = br#"{"type":"eval","assessment":{}}"#;
    let (eval_id, _) = store.write_object(eval).unwrap();
    for id in [&blame_id, &eval_id] {
        age_loose(&store, id, OLD);
    }
    let report = gc(&store, &GcOptions { grace: Duration::ZERO, ..GcOptions::default() }).unwrap();
    assert_eq!(report.objects_pruned, 0);
    assert_eq!(report.reachable_objects, 5);
    assert!(store.has_object(&blame_id) && store.has_object(&eval_id));
}

#[test]
fn prune_before_drops_old_sessions_and_their_objects() {
    let (_dir, store) = store();
    let keep = step(&store, "recent", None, b"recent\n", 2_000);
    let drop_head = step(&store, "ancient", None, b"ancient\n", 1_000);
    let options = GcOptions { grace: Duration::ZERO, prune_before_ms: Some(1_500), ..GcOptions::default() };
    let dry = gc(&store, &GcOptions { dry_run: true, ..options.clone() }).unwrap();
    assert_eq!(dry.sessions_pruned, vec![SessionRef::new("claude", "ancient")]);
    assert_eq!(dry.objects_pruned, 3);
    assert!(store.refs().read(&SessionRef::new("claude", "ancient")).unwrap().is_some());
    let report = gc(&store, &options).unwrap();
    assert_eq!(report.sessions_pruned, vec![SessionRef::new("claude", "ancient")]);
    assert_eq!(report.objects_pruned, 3);
    assert!(report.reindexed);
    assert_eq!(store.refs().read(&SessionRef::new("claude", "ancient")).unwrap(), None);
    assert!(!store.has_object(&drop_head));
    assert!(store.has_object(&keep));
}

#[test]
fn stale_temp_files_go_young_ones_stay() {
    let (_dir, store) = store();
    step(&store, "s1", None, b"one\n", 1);
    let pack_tmp = store.pack_dir().join(".tmp-pack-crashed");
    let old_tmp = store.tmp_dir().join(".tmp-old");
    let young_tmp = store.tmp_dir().join(".tmp-young");
    let rebuild_tmp = store.root().join("index.db.rebuild-x");
    let stray_idx = store.pack_dir().join(format!("{}.idx", "ab".repeat(32)));
    for path in [&pack_tmp, &old_tmp, &young_tmp, &rebuild_tmp, &stray_idx] {
        std::fs::write(path, b"partial").unwrap();
    }
    set_age(&old_tmp, OLD);
    set_age(&rebuild_tmp, OLD);
    // Even with no grace at all, a temp file of a write in progress is left alone.
    let report = gc(&store, &GcOptions { grace: Duration::ZERO, ..GcOptions::default() }).unwrap();
    let mut removed: Vec<&str> = report.tmp_files_pruned.iter().map(|f| f.path.as_str()).collect();
    removed.sort();
    let stray = format!(".agit/objects/pack/{}.idx", "ab".repeat(32));
    assert_eq!(
        removed,
        [".agit/index.db.rebuild-x", ".agit/objects/pack/.tmp-pack-crashed", stray.as_str(), ".agit/tmp/.tmp-old"]
    );
    assert!(young_tmp.exists() && !pack_tmp.exists() && !old_tmp.exists() && !stray_idx.exists());
    let pack = report.pack.unwrap();
    assert!(store.pack_dir().join(format!("{}.idx", pack.name)).exists(), "the kept pack's idx stays");
}

#[test]
fn an_unwalkable_history_prunes_nothing() {
    let (_dir, store) = store();
    step(&store, "s1", None, b"one\n", 1);
    let missing = ObjectId::of(b"not stored");
    store.refs().compare_and_swap(&SessionRef::new("claude", "broken"), None, missing).unwrap();
    let old = store.write_object(b"old garbage").unwrap().0;
    age_loose(&store, &old, OLD);
    let err = gc(&store, &GcOptions::default()).unwrap_err();
    assert_eq!(err.code(), "gc_mark_failed");
    assert!(store.has_object(&old));
    assert!(std::fs::read_dir(store.pack_dir()).unwrap().next().is_none(), "no pack written");
}

#[test]
fn writing_a_packed_object_again_does_not_duplicate_it_loose() {
    let (_dir, store) = store();
    step(&store, "s1", None, b"one\n", 1);
    index(&store);
    gc(&store, &GcOptions::default()).unwrap();
    assert!(loose_ids(&store).is_empty());
    // What a snapshot after gc does (its stat cache was cleared): write every file again.
    let fresh = Store::open(store.workspace()).unwrap();
    let (id, created) = fresh.write_object(b"one\n").unwrap();
    assert!(!created);
    assert!(fresh.has_object(&id));
    assert!(loose_ids(&fresh).is_empty());
    // New content is still written loose.
    assert!(fresh.write_object(b"two\n").unwrap().1);
    assert_eq!(loose_ids(&fresh).len(), 1);
}

#[test]
fn index_rows_left_by_an_interrupted_gc_are_rebuilt() {
    let (_dir, store) = store();
    step(&store, "s1", None, b"one\n", 1);
    index(&store);
    gc(&store, &GcOptions::default()).unwrap();
    // As if a gc had pruned this object and been killed before its rebuild.
    let gone = ObjectId::of(b"pruned before a crash");
    let ix = Index::open(&store).unwrap();
    ix.conn().execute("insert into objects(hash, kind, size) values (?1, 'blob', 3)", [gone.to_hex()]).unwrap();
    drop(ix);
    let report = gc(&store, &GcOptions::default()).unwrap();
    assert_eq!(report.objects_pruned, 0);
    assert!(report.reindexed);
    assert!(crate::fsck::fsck(&store).unwrap().checks.iter().all(|c| c.status != crate::fsck::Status::Warn));
}

#[test]
fn a_step_recorded_between_the_phases_stays_loose_and_nothing_is_unpacked() {
    let (_dir, store) = store();
    let first = step(&store, "s1", None, b"one\n", 1);
    index(&store);
    gc(&store, &GcOptions::default()).unwrap();
    // Phase 1 finds the only pack holding exactly what is reachable…
    let packed = pack_phase(&store, &GcOptions::default()).unwrap();
    assert!(packed.written.is_none() && packed.reused.is_some());
    // …then a finalize commits before phase 2 takes the lock exclusively.
    let second = step(&store, "s1", Some(first), b"two\n", 2);
    let mut report = GcReport::default();
    sweep_phase(&store, &GcOptions::default(), packed, &mut report).unwrap();
    assert_eq!((report.unpacked, report.objects_pruned), (0, 0));
    assert!(report.packs_removed.is_empty(), "the reused pack stays");
    assert!(report.pack.unwrap().reused);
    // The new step, tree and blob stay loose, and so does the blame the index rebuild
    // computed for the step (the index did not know it: it was written by hand here).
    assert_eq!(loose_ids(&store).len(), 4);
    assert!(loose_ids(&store).contains(&second));
    assert!(store.has_object(&second) && store.has_object(&first));
    // The next gc packs them.
    let report = gc(&store, &GcOptions::default()).unwrap();
    assert!(!report.pack.unwrap().reused);
    assert!(loose_ids(&store).is_empty());
}

#[test]
fn a_step_recorded_while_the_pack_is_written_is_kept() {
    let (_dir, store) = store();
    let first = step(&store, "s1", None, b"one\n", 1);
    let packed = pack_phase(&store, &GcOptions::default()).unwrap();
    assert!(packed.written.is_some());
    // A finalize reusing an old unreachable blob commits while the pack is written.
    let reused = store.write_object(b"two\n").unwrap().0;
    age_loose(&store, &reused, OLD);
    let second = step(&store, "s1", Some(first), b"two\n", 2);
    let mut report = GcReport::default();
    sweep_phase(&store, &GcOptions { grace: Duration::ZERO, ..GcOptions::default() }, packed, &mut report).unwrap();
    assert_eq!(report.objects_pruned, 0, "{:?}", report.pruned);
    let fresh = Store::open(store.workspace()).unwrap();
    for id in reachable_from_store(&fresh, None).unwrap() {
        fresh.read_object(&id.id).unwrap();
    }
    assert!(fresh.has_object(&reused) && fresh.has_object(&second));
}
