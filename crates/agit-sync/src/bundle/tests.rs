//! Library tests: the reference vector, export → import round trips, the ref policy,
//! all-or-nothing validation, and properties of the manifest parser.

use std::fs;
use std::path::{Path, PathBuf};

use agit_core::object::{Message, Step, Tree, TreeEntry};
use agit_core::privacy::PrivacyReport;
use agit_core::{ObjectId, SessionRef, Store};
use proptest::prelude::*;

use super::*;

fn vector_bundle() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/vectors/bundle")
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().join("work");
    fs::create_dir_all(&workspace).unwrap();
    let (store, _) = Store::init(&workspace).unwrap();
    (dir, store)
}

fn step(store: &Store, session: &str, parent: Option<ObjectId>, file: &str, ts: i64) -> ObjectId {
    let (blob, _) = store.write_object(file.as_bytes()).unwrap();
    let tree = Tree::new(vec![TreeEntry::file("f.txt", blob, file.len() as u64)]);
    let (tree, _) = store.write_object(&tree.encode()).unwrap();
    let step = Step {
        parent,
        tree,
        session_id: session.into(),
        origin: "claude".into(),
        model: Some("claude-sonnet-4".into()),
        turn_id: format!("turn-{ts}"),
        causes: vec![],
        timestamp: ts,
        messages: vec![Message { role: "user".into(), content: format!("prompt {ts}") }],
        tool_calls: vec![],
        outcome: Some("success".into()),
        git_commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        git_branch: Some("main".into()),
        git_dirty: Some(true),
    };
    store.write_object(&step.encode()).unwrap().0
}

fn set_ref(store: &Store, session: &str, head: ObjectId) {
    let s = SessionRef::new("claude", session);
    let old = store.refs().read(&s).unwrap();
    store.refs().compare_and_swap(&s, old, head).unwrap();
}

fn export_all(store: &Store, target: ExportTarget<'_>) -> ExportSummary {
    let selection = Selection::parse(RawFilters::default()).unwrap();
    let sessions = select_sessions(store, &selection).unwrap();
    let privacy = PrivacyReport::default();
    let request = ExportRequest {
        selection: &selection,
        sessions: &sessions,
        privacy: &privacy,
        include_privacy_report: false,
        created_at_ms: 1_763_700_001_000,
    };
    export(store, &request, target).unwrap()
}

/// Every file under `root`, relative path → bytes.
fn files(root: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

fn store_objects(store: &Store) -> Vec<(String, Vec<u8>)> {
    files(&store.objects_dir()).into_iter().filter(|(p, _)| !p.starts_with("pack")).collect()
}

#[test]
fn the_reference_bundle_id_rule_reproduces_the_vector() {
    let manifest = Manifest::parse(&fs::read(vector_bundle().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(bundle_id(manifest.created_at_ms, &manifest.refs), manifest.bundle_id);
    // Our writer reproduces the reference's bytes exactly.
    assert_eq!(manifest.to_json(), fs::read(vector_bundle().join("manifest.json")).unwrap());
}

#[test]
fn the_vector_imports_and_reexports_byte_for_byte() {
    let (_dir, store) = store();
    let summary = import(&store, &vector_bundle(), &ImportOptions::default()).unwrap();
    assert_eq!((summary.imported_objects, summary.created_refs), (9, 1));
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("again");
    let exported = export_all(&store, ExportTarget::Directory(&target));
    let original = Manifest::parse(&fs::read(vector_bundle().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(exported.manifest.objects, original.objects);
    assert_eq!(exported.manifest.refs, original.refs);
    let theirs: Vec<_> = files(&vector_bundle()).into_iter().filter(|(p, _)| p != MANIFEST_FILE).collect();
    let ours: Vec<_> = files(&target).into_iter().filter(|(p, _)| p != MANIFEST_FILE).collect();
    assert_eq!(ours, theirs);
}

#[test]
fn archive_and_directory_round_trips_give_identical_stores() {
    let (_a, source) = store();
    let first = step(&source, "s1", None, "one", 10);
    let second = step(&source, "s1", Some(first), "two", 20);
    set_ref(&source, "s1", second);
    set_ref(&source, "s2", step(&source, "s2", None, "other", 30));
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("bundle");
    let archive = out.path().join("b.tar.zst");
    let a = export_all(&source, ExportTarget::Directory(&dir));
    let b = export_all(&source, ExportTarget::Archive(&archive));
    assert_eq!(a.manifest, b.manifest);
    assert_eq!((a.exported_objects, a.exported_refs), (9, 2));
    for path in [&dir, &archive] {
        let (_t, target) = store();
        let summary = import(&target, path, &ImportOptions::default()).unwrap();
        assert_eq!((summary.imported_objects, summary.created_refs), (9, 2));
        assert_eq!(store_objects(&target), store_objects(&source));
        assert_eq!(
            agit_core::reach::session_heads(&target).unwrap(),
            agit_core::reach::session_heads(&source).unwrap()
        );
        let again = import(&target, path, &ImportOptions::default()).unwrap();
        assert_eq!((again.imported_objects, again.skipped_objects, again.unchanged_refs), (0, 9, 2));
        assert!(!again.changed());
    }
    // Archives are recognised by content, not by name.
    let renamed = out.path().join("bundle.bin");
    fs::copy(&archive, &renamed).unwrap();
    let (_t, target) = store();
    import(&target, &renamed, &ImportOptions::default()).unwrap();
}

#[test]
fn an_archive_is_one_tar_stream_with_the_manifest_last() {
    let (_a, source) = store();
    set_ref(&source, "s1", step(&source, "s1", None, "one", 10));
    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("b.tar.zst");
    let summary = export_all(&source, ExportTarget::Archive(&archive));
    let bytes = zstd::decode_all(&fs::read(&archive).unwrap()[..]).unwrap();
    let mut tar = tar::Archive::new(&bytes[..]);
    let mut names = Vec::new();
    for entry in tar.entries().unwrap() {
        let entry = entry.unwrap();
        assert!(entry.header().entry_type().is_file());
        assert_eq!(entry.header().mode().unwrap(), 0o644);
        names.push(entry.path().unwrap().to_string_lossy().into_owned());
    }
    assert_eq!(names.last().map(String::as_str), Some(MANIFEST_FILE));
    assert_eq!(names.len(), summary.exported_objects + summary.exported_refs + 1);
    // Only the archive itself is left in the directory (no temp file).
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 1);
}

#[test]
fn exports_refuse_non_empty_targets_and_existing_archives() {
    let (_a, source) = store();
    set_ref(&source, "s1", step(&source, "s1", None, "one", 10));
    let out = tempfile::tempdir().unwrap();
    fs::write(out.path().join("file"), b"x").unwrap();
    let selection = Selection::parse(RawFilters::default()).unwrap();
    let sessions = select_sessions(&source, &selection).unwrap();
    let privacy = PrivacyReport::default();
    let request = ExportRequest {
        selection: &selection,
        sessions: &sessions,
        privacy: &privacy,
        include_privacy_report: false,
        created_at_ms: 1,
    };
    let err = export(&source, &request, ExportTarget::Directory(out.path())).unwrap_err();
    assert_eq!(err.name(), "BundlePathNotEmpty");
    let err = export(&source, &request, ExportTarget::Archive(&out.path().join("file"))).unwrap_err();
    assert_eq!(err.name(), "PathAlreadyExists");
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 1);
    let empty = ExportRequest { sessions: &[], ..request };
    assert_eq!(
        export(&source, &empty, ExportTarget::Directory(&out.path().join("n"))).unwrap_err().code(),
        Some("no_matching_sessions")
    );
}

#[test]
fn ref_policy_fast_forward_contained_replace_and_namespace() {
    let (_a, source) = store();
    let base = step(&source, "s1", None, "base", 10);
    let ahead = step(&source, "s1", Some(base), "ahead", 20);
    set_ref(&source, "s1", ahead);
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("b");
    export_all(&source, ExportTarget::Directory(&bundle));

    // Local is behind: fast-forward.
    let (_t, target) = store();
    let local_base = step(&target, "s1", None, "base", 10);
    assert_eq!(local_base, base);
    set_ref(&target, "s1", base);
    let s = import(&target, &bundle, &ImportOptions::default()).unwrap();
    assert_eq!((s.fast_forwarded_refs, s.namespaced_refs, s.cloned_steps), (1, 0, 0));
    assert_eq!(s.refs[0].action, RefAction::FastForwarded);
    assert_eq!(target.refs().read(&SessionRef::new("claude", "s1")).unwrap(), Some(ahead));

    // Local is ahead: nothing to do.
    let beyond = step(&target, "s1", Some(ahead), "beyond", 30);
    set_ref(&target, "s1", beyond);
    let s = import(&target, &bundle, &ImportOptions::default()).unwrap();
    assert_eq!((s.unchanged_refs, s.refs[0].action), (1, RefAction::AlreadyContained));
    assert_eq!(target.refs().read(&SessionRef::new("claude", "s1")).unwrap(), Some(beyond));

    // Diverged: namespaced clone keeping model, outcome and git fields.
    let (_u, diverged) = store();
    set_ref(&diverged, "s1", step(&diverged, "s1", None, "mine", 5));
    let s = import(&diverged, &bundle, &ImportOptions::default()).unwrap();
    assert_eq!((s.namespaced_refs, s.cloned_steps), (1, 2));
    let clone_ref = &s.refs[0].target;
    assert_eq!(clone_ref.session_id, format!("s1@import-{}", &s.bundle_id[..12]));
    let clone = diverged.read_step(&s.refs[0].target_head).unwrap();
    let original = source.read_step(&ahead).unwrap();
    assert_eq!(clone.session_id, clone_ref.session_id);
    assert_eq!(
        (
            &clone.model,
            &clone.outcome,
            &clone.git_commit,
            &clone.git_branch,
            clone.git_dirty,
            clone.tree,
            clone.timestamp
        ),
        (
            &original.model,
            &original.outcome,
            &original.git_commit,
            &original.git_branch,
            original.git_dirty,
            original.tree,
            original.timestamp
        )
    );
    let clone_parent = diverged.read_step(&clone.parent.unwrap()).unwrap();
    assert_eq!((clone_parent.session_id.as_str(), clone_parent.parent), (clone_ref.session_id.as_str(), None));
    // Re-import: the clone is already there.
    let again = import(&diverged, &bundle, &ImportOptions::default()).unwrap();
    assert_eq!(
        (again.unchanged_refs, again.cloned_steps, again.refs[0].action),
        (1, 0, RefAction::NamespacedUnchanged)
    );

    // --replace-ref overwrites instead.
    let replace = ImportOptions { replace_refs: vec![SessionRef::new("claude", "s1")] };
    let s = import(&diverged, &bundle, &replace).unwrap();
    assert_eq!(s.replaced_refs, 1);
    assert_eq!(diverged.refs().read(&SessionRef::new("claude", "s1")).unwrap(), Some(ahead));
}

#[test]
fn a_snapshot_file_identical_to_an_older_step_does_not_cut_the_chain() {
    // A workspace that holds a copy of an exported bundle: its object files are blobs in
    // later snapshots, byte-identical to steps of the same chain.
    let (_a, source) = store();
    let first = step(&source, "s1", None, "one", 10);
    let first_bytes = source.read_object(&first).unwrap();
    let (blob, _) = source.write_object(&first_bytes).unwrap();
    assert_eq!(blob, first);
    let tree = Tree::new(vec![TreeEntry::file("dist/bundle/objects/x", blob, first_bytes.len() as u64)]);
    let (tree, _) = source.write_object(&tree.encode()).unwrap();
    let mut second = source.read_step(&first).unwrap();
    second.parent = Some(first);
    second.tree = tree;
    second.timestamp = 20;
    let (second, _) = source.write_object(&second.encode()).unwrap();
    set_ref(&source, "s1", second);
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("b");
    let exported = export_all(&source, ExportTarget::Directory(&bundle));
    // Both steps, both trees, and the first step's blob.
    assert_eq!(exported.exported_objects, 5, "{:?}", exported.manifest.objects);
    let (_t, target) = store();
    import(&target, &bundle, &ImportOptions::default()).unwrap();
}

/// A bundle of every object of `store` and all its refs, written without `export` (as
/// another producer might), kinds by the reference's content rule.
fn hand_bundle(store: &Store, dir: &Path) {
    let mut objects = Vec::new();
    for id in store.all_object_ids().unwrap() {
        let bytes = store.read_object(&id).unwrap();
        let hash = id.to_hex();
        let path = manifest::object_path(&hash);
        fs::create_dir_all(dir.join(&path).parent().unwrap()).unwrap();
        fs::write(dir.join(&path), &bytes).unwrap();
        let kind = agit_core::object::sniff_kind(&bytes).as_str().to_owned();
        objects.push(manifest::ManifestObject { hash, kind, size: bytes.len() as u64, path });
    }
    let refs: Vec<manifest::ManifestRef> = agit_core::reach::session_heads(store)
        .unwrap()
        .into_iter()
        .map(|(s, head)| manifest::ManifestRef {
            path: s.relative_path(),
            origin: s.origin,
            session_id: s.session_id,
            head_hash: head.to_hex(),
        })
        .collect();
    let m = Manifest {
        bundle_format: BUNDLE_FORMAT.into(),
        bundle_id: bundle_id(7, &refs),
        producer_version: "test".into(),
        created_at_ms: 7,
        repository_hint: None,
        filters: RawFilters::default(),
        object_schema_versions: None,
        refs,
        objects,
        privacy: manifest::ManifestPrivacy { clean: true, findings: 0, report_path: None },
        encryption: None,
    };
    fs::write(dir.join(MANIFEST_FILE), m.to_json()).unwrap();
}

#[test]
fn import_walks_a_step_even_when_its_bytes_were_first_met_as_a_snapshot_file() {
    let (_a, source) = store();
    let older = step(&source, "s1", None, "one", 10);
    let newer = step(&source, "s1", Some(older), "two", 20);
    set_ref(&source, "s1", newer);
    // Session "a" (walked first: its ref path sorts first) has a snapshot file whose
    // bytes are the step `older`; the older step's own tree must still be checked.
    let older_bytes = source.read_object(&older).unwrap();
    let tree = Tree::new(vec![TreeEntry::file("copy/of/a/step", older, older_bytes.len() as u64)]);
    let (tree, _) = source.write_object(&tree.encode()).unwrap();
    let mut other = source.read_step(&older).unwrap();
    other.session_id = "a".into();
    other.tree = tree;
    let (other, _) = source.write_object(&other.encode()).unwrap();
    set_ref(&source, "a", other);
    assert!(SessionRef::new("claude", "a").relative_path() < SessionRef::new("claude", "s1").relative_path());

    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("b");
    hand_bundle(&source, &bundle);
    let (_t, target) = store();
    let summary = import(&target, &bundle, &ImportOptions::default()).unwrap();
    assert_eq!(summary.created_refs, 2);

    // Without the older step's tree the bundle is incomplete, and that is noticed.
    let older_tree = source.read_step(&older).unwrap().tree.to_hex();
    let mut m = Manifest::parse(&fs::read(bundle.join(MANIFEST_FILE)).unwrap()).unwrap();
    m.objects.retain(|o| o.hash != older_tree);
    fs::write(bundle.join(MANIFEST_FILE), m.to_json()).unwrap();
    let (_u, fresh) = store();
    let err = import(&fresh, &bundle, &ImportOptions::default()).unwrap_err();
    assert_eq!(err.name(), "BundleReachabilityMissingObject");
    assert!(fresh.all_object_ids().unwrap().is_empty());
}

#[test]
fn a_namespaced_ref_conflict_is_found_before_anything_is_written() {
    let (_a, source) = store();
    set_ref(&source, "s1", step(&source, "s1", None, "theirs", 10));
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("b");
    let exported = export_all(&source, ExportTarget::Directory(&bundle));
    let (_t, target) = store();
    set_ref(&target, "s1", step(&target, "s1", None, "mine", 5));
    let taken = format!("s1@import-{}", &exported.bundle_id[..12]);
    set_ref(&target, &taken, step(&target, &taken, None, "squatter", 6));
    let before = store_objects(&target);
    let err = import(&target, &bundle, &ImportOptions::default()).unwrap_err();
    assert_eq!(err.name(), "BundleRefConflict");
    assert_eq!(store_objects(&target), before);
}

#[test]
fn filters_select_whole_sessions_by_any_step_in_the_window() {
    let (_a, source) = store();
    let day = 86_400_000;
    let old = step(&source, "s1", None, "old", 20_000 * day);
    set_ref(&source, "s1", step(&source, "s1", Some(old), "new", 20_010 * day));
    set_ref(&source, "s2", step(&source, "s2", None, "x", 19_000 * day));
    // 20000 days after the epoch is 2024-10-04.
    let pick = |since: Option<&str>, until: Option<&str>| {
        let raw = RawFilters { since: since.map(Into::into), until: until.map(Into::into), ..RawFilters::default() };
        select_sessions(&source, &Selection::parse(raw).unwrap())
            .unwrap()
            .into_iter()
            .map(|(s, _)| s.session_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(pick(Some("2024-10-04"), Some("2024-10-04")), ["s1"]);
    assert_eq!(pick(None, Some("2024-10-03")), ["s2"]);
    assert_eq!(pick(Some("2030-01-01"), None), Vec::<String>::new());
    let raw = RawFilters { origin: Some("codex".into()), ..RawFilters::default() };
    assert!(select_sessions(&source, &Selection::parse(raw).unwrap()).unwrap().is_empty());
    let raw = RawFilters { session: Some("claude/s2".into()), ..RawFilters::default() };
    assert_eq!(select_sessions(&source, &Selection::parse(raw).unwrap()).unwrap().len(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The manifest parser never panics on arbitrary bytes.
    #[test]
    fn manifest_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Manifest::parse(&bytes);
    }

    /// Any manifest we write parses back to itself, and the bytes are stable.
    #[test]
    fn manifests_round_trip(
        created in any::<i64>(),
        hint in proptest::option::of("[ -~]{0,12}|é✓"),
        sessions in proptest::collection::vec(("[a-z]{1,6}", "[ -~]{1,10}", any::<[u8; 32]>()), 1..4),
        size in any::<u64>(),
    ) {
        let refs: Vec<manifest::ManifestRef> = sessions
            .iter()
            .map(|(origin, session, head)| manifest::ManifestRef {
                path: SessionRef::new(origin.clone(), session.clone()).relative_path(),
                origin: origin.clone(),
                session_id: session.clone(),
                head_hash: ObjectId::from_bytes(*head).to_hex(),
            })
            .collect();
        let hash = ObjectId::of(&size.to_le_bytes()).to_hex();
        let m = Manifest {
            bundle_format: BUNDLE_FORMAT.into(),
            bundle_id: bundle_id(created, &refs),
            producer_version: "0.1.0".into(),
            created_at_ms: created,
            repository_hint: hint,
            filters: RawFilters::default(),
            object_schema_versions: Some(manifest::SchemaVersions::CURRENT),
            refs,
            objects: vec![manifest::ManifestObject { path: manifest::object_path(&hash), hash, kind: "blob".into(), size }],
            privacy: manifest::ManifestPrivacy { clean: true, findings: 0, report_path: None },
            encryption: None,
        };
        let bytes = m.to_json();
        let back = Manifest::parse(&bytes).unwrap();
        prop_assert_eq!(&back, &m);
        prop_assert_eq!(back.to_json(), bytes);
    }
}
