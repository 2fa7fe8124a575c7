use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use super::*;
use crate::commit::{AppendOutcome, append_step};
use crate::index::Index;
use crate::object::Step;
use crate::store::SessionRef;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::init(dir.path()).unwrap();
        Fixture { _dir: dir, store }
    }

    fn ws(&self) -> &Path {
        self.store.workspace()
    }

    fn entry(&self, path: &str, content: &[u8]) -> TreeEntry {
        let (id, _) = self.store.write_object(content).unwrap();
        TreeEntry::file(path, id, content.len() as u64)
    }

    fn tree(&self, files: &[(&str, &[u8])]) -> Tree {
        Tree::new(files.iter().map(|(p, c)| self.entry(p, c)).collect())
    }

    fn options(&self, root: &Path, scope: RestoreScope, force: bool, dry_run: bool) -> RestoreOptions {
        RestoreOptions { root: root.to_path_buf(), scope, force, dry_run }
    }

    fn run(&self, tree: &Tree, root: &Path, force: bool) -> RestoreOutcome {
        restore(&self.store, tree, None, &self.options(root, RestoreScope::All, force, false)).unwrap()
    }

    fn set_config(&self, json: &str) {
        fs::write(self.store.config_path(), json).unwrap();
    }
}

fn item<'a>(outcome: &'a RestoreOutcome, path: &str) -> &'a RestoreItem {
    outcome.items.iter().find(|i| i.path == path).unwrap_or_else(|| panic!("no item {path}: {outcome:?}"))
}

fn status(outcome: &RestoreOutcome, path: &str) -> (ItemStatus, Option<&'static str>) {
    let i = item(outcome, path);
    (i.status, i.reason)
}

fn files_under(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for e in entries {
            let e = e.unwrap();
            let path = e.path();
            let rel = path.strip_prefix(base).unwrap().display().to_string();
            if rel == ".agit" {
                continue;
            }
            out.push(rel);
            if e.file_type().unwrap().is_dir() {
                walk(&path, base, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

#[test]
fn restores_every_file_with_its_bytes_into_a_new_root() {
    let fx = Fixture::new();
    let tree = fx.tree(&[("README.md", b"# hi\n"), ("src/a/b.rs", b"fn b() {}\n"), ("empty", b"")]);
    let root = fx.ws().join("out/deeper");
    let outcome = fx.run(&tree, &root, false);
    assert_eq!(outcome.counts(), (3, 0, 0), "{outcome:?}");
    assert_eq!(fs::read(root.join("README.md")).unwrap(), b"# hi\n");
    assert_eq!(fs::read(root.join("src/a/b.rs")).unwrap(), b"fn b() {}\n");
    assert_eq!(fs::read(root.join("empty")).unwrap(), b"");
    assert_eq!(item(&outcome, "src/a/b.rs").bytes, Some(10));
    assert_eq!(item(&outcome, "src/a/b.rs").reason, None);
    assert!(outcome.safety_step.is_none());
    assert_eq!(files_under(&root), ["README.md", "empty", "src", "src/a", "src/a/b.rs"]);
}

#[test]
fn existing_files_are_skipped_unless_forced_and_identical_ones_are_unchanged() {
    let fx = Fixture::new();
    let tree = fx.tree(&[("a.txt", b"recorded\n"), ("same.txt", b"same\n")]);
    fs::write(fx.ws().join("a.txt"), b"local edit\n").unwrap();
    fs::write(fx.ws().join("same.txt"), b"same\n").unwrap();
    let outcome = fx.run(&tree, fx.ws(), false);
    assert_eq!(status(&outcome, "a.txt"), (ItemStatus::Skipped, Some(EXISTS)));
    assert_eq!(status(&outcome, "same.txt"), (ItemStatus::Skipped, Some(UNCHANGED)));
    assert_eq!(item(&outcome, "a.txt").bytes, None);
    assert!(!outcome.has_failures());
    assert_eq!(fs::read(fx.ws().join("a.txt")).unwrap(), b"local edit\n");
    assert!(outcome.safety_step.is_none());
}

#[test]
fn force_replaces_after_a_safety_step_that_undoes_it() {
    let fx = Fixture::new();
    let step_tree = fx.tree(&[("a.txt", b"recorded\n"), ("dir/b.txt", b"recorded b\n"), ("new.txt", b"new\n")]);
    fs::write(fx.ws().join("a.txt"), b"local edit\n").unwrap();
    fs::create_dir(fx.ws().join("dir")).unwrap();
    fs::write(fx.ws().join("dir/b.txt"), b"local b\n").unwrap();
    let outcome = fx.run(&step_tree, fx.ws(), true);
    assert_eq!(outcome.counts(), (3, 0, 0), "{outcome:?}");
    assert_eq!(status(&outcome, "a.txt"), (ItemStatus::Restored, Some(REPLACED)));
    assert_eq!(status(&outcome, "new.txt"), (ItemStatus::Restored, None));
    assert_eq!(fs::read(fx.ws().join("a.txt")).unwrap(), b"recorded\n");
    assert_eq!(fs::read(fx.ws().join("dir/b.txt")).unwrap(), b"recorded b\n");

    let safety = outcome.safety_step.clone().expect("safety step");
    assert_eq!(safety.paths, ["a.txt", "dir/b.txt"]);
    let step = fx.store.read_step(&safety.id).unwrap();
    assert_eq!((step.origin.as_str(), step.session_id.as_str()), (SAFETY_ORIGIN, SAFETY_SESSION));
    assert!(step.turn_id.starts_with("restore:"));
    let head = fx.store.refs().read(&SessionRef::new(SAFETY_ORIGIN, SAFETY_SESSION)).unwrap();
    assert_eq!(head, Some(safety.id));
    let index = Index::open(&fx.store).unwrap();
    assert!(index.has_step(&safety.id).unwrap());
    let kind: String =
        index.conn().query_row("select kind from objects where hash=?1", [step.tree.to_hex()], |r| r.get(0)).unwrap();
    assert_eq!(kind, "tree");
    drop(index);

    // Undo: restoring the safety step with force brings the local edits back.
    let undo = RestoreOptions {
        root: fx.ws().to_path_buf(),
        scope: RestoreScope::Paths(PathFilter::parse_all(&safety.paths).unwrap()),
        force: true,
        dry_run: false,
    };
    let undone = restore_step(&fx.store, &safety.id, &undo).unwrap();
    assert_eq!(undone.counts(), (2, 0, 0), "{undone:?}");
    assert_eq!(fs::read(fx.ws().join("a.txt")).unwrap(), b"local edit\n");
    assert_eq!(fs::read(fx.ws().join("dir/b.txt")).unwrap(), b"local b\n");
    // The undo saved the restored content in turn, as the next step of the same session.
    let redo = undone.safety_step.expect("the undo has its own safety step");
    assert_eq!(fx.store.read_step(&redo.id).unwrap().parent, Some(safety.id));
}

#[test]
fn a_symlink_target_is_never_followed() {
    let fx = Fixture::new();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    fs::write(&victim, b"outside\n").unwrap();
    symlink(&victim, fx.ws().join("link.txt")).unwrap();
    let tree = fx.tree(&[("link.txt", b"recorded\n")]);

    let outcome = fx.run(&tree, fx.ws(), false);
    assert_eq!(status(&outcome, "link.txt"), (ItemStatus::Skipped, Some(EXISTS)));
    assert_eq!(fs::read(&victim).unwrap(), b"outside\n");
    assert!(fs::symlink_metadata(fx.ws().join("link.txt")).unwrap().file_type().is_symlink());

    let dry = restore(&fx.store, &tree, None, &fx.options(fx.ws(), RestoreScope::All, true, true)).unwrap();
    assert_eq!(status(&dry, "link.txt"), (ItemStatus::Planned, Some(REPLACED_SYMLINK)));
    assert!(fs::symlink_metadata(fx.ws().join("link.txt")).unwrap().file_type().is_symlink());

    let forced = fx.run(&tree, fx.ws(), true);
    assert_eq!(status(&forced, "link.txt"), (ItemStatus::Restored, Some(REPLACED_SYMLINK)));
    assert!(item(&forced, "link.txt").detail.as_deref().unwrap().contains("victim.txt"));
    // The link itself was replaced by a regular file; what it pointed to is untouched.
    let meta = fs::symlink_metadata(fx.ws().join("link.txt")).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(fs::read(fx.ws().join("link.txt")).unwrap(), b"recorded\n");
    assert_eq!(fs::read(&victim).unwrap(), b"outside\n");
    // A symlink cannot be saved in a tree: no safety step for it.
    assert!(forced.safety_step.is_none());
}

#[test]
fn a_dangling_symlink_is_not_written_through() {
    let fx = Fixture::new();
    let outside = tempfile::tempdir().unwrap();
    let would_be = outside.path().join("created.txt");
    symlink(&would_be, fx.ws().join("dangling")).unwrap();
    let tree = fx.tree(&[("dangling", b"x")]);
    let outcome = fx.run(&tree, fx.ws(), false);
    assert_eq!(status(&outcome, "dangling"), (ItemStatus::Skipped, Some(EXISTS)));
    assert!(!would_be.exists());
    let forced = fx.run(&tree, fx.ws(), true);
    assert_eq!(status(&forced, "dangling"), (ItemStatus::Restored, Some(REPLACED_SYMLINK)));
    assert!(!would_be.exists());
}

#[test]
fn parents_must_be_real_directories() {
    let fx = Fixture::new();
    let outside = tempfile::tempdir().unwrap();
    fs::write(fx.ws().join("file"), b"i am a file").unwrap();
    symlink(outside.path(), fx.ws().join("linkdir")).unwrap();
    let tree = fx.tree(&[("file/child.txt", b"x"), ("linkdir/escape.txt", b"x"), ("ok/fine.txt", b"fine")]);
    for force in [false, true] {
        let outcome = fx.run(&tree, fx.ws(), force);
        assert_eq!(status(&outcome, "file/child.txt"), (ItemStatus::Failed, Some("ParentNotDirectory")));
        assert_eq!(status(&outcome, "linkdir/escape.txt"), (ItemStatus::Failed, Some("ParentNotDirectory")));
        assert!(item(&outcome, "linkdir/escape.txt").detail.as_deref().unwrap().contains("symlink"));
        // The second run finds the file it wrote the first time.
        let fine = if force { (ItemStatus::Skipped, Some(UNCHANGED)) } else { (ItemStatus::Restored, None) };
        assert_eq!(status(&outcome, "ok/fine.txt"), fine);
        assert!(outcome.has_failures());
    }
    assert_eq!(fs::read(fx.ws().join("file")).unwrap(), b"i am a file");
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    assert_eq!(fs::read(fx.ws().join("ok/fine.txt")).unwrap(), b"fine");
}

#[test]
fn dry_run_writes_nothing() {
    let fx = Fixture::new();
    let tree = fx.tree(&[("a.txt", b"recorded\n"), ("d/e/f.txt", b"f"), ("same", b"s")]);
    fs::write(fx.ws().join("a.txt"), b"local\n").unwrap();
    fs::write(fx.ws().join("same"), b"s").unwrap();
    let before = files_under(fx.ws());
    let objects_before = fx.store.all_object_ids().unwrap();

    let outcome = restore(&fx.store, &tree, None, &fx.options(fx.ws(), RestoreScope::All, true, true)).unwrap();
    assert_eq!(status(&outcome, "a.txt"), (ItemStatus::Planned, Some(REPLACED)));
    assert_eq!(status(&outcome, "d/e/f.txt"), (ItemStatus::Planned, None));
    assert_eq!(status(&outcome, "same"), (ItemStatus::Skipped, Some(UNCHANGED)));
    assert_eq!(item(&outcome, "d/e/f.txt").bytes, Some(1));
    assert!(outcome.safety_step.is_none());
    assert_eq!(files_under(fx.ws()), before);
    assert_eq!(fs::read(fx.ws().join("a.txt")).unwrap(), b"local\n");
    assert_eq!(fx.store.all_object_ids().unwrap(), objects_before, "no safety objects in a dry run");

    // A missing --to root is not created either.
    let to = fx.ws().join("elsewhere/new");
    let outcome = restore(&fx.store, &tree, None, &fx.options(&to, RestoreScope::All, false, true)).unwrap();
    assert_eq!(outcome.counts(), (3, 0, 0));
    assert!(!fx.ws().join("elsewhere").exists());
}

#[test]
fn one_bad_entry_never_blocks_the_others() {
    let fx = Fixture::new();
    let good = fx.entry("good.txt", b"good\n");
    let blob = good.blob;
    let placeholder = b"[[agit snapshot metadata-only path=meta.txt bytes=99]]\n";
    let mut entries = vec![
        good,
        TreeEntry::file("../evil", blob, 5),
        TreeEntry::file("/abs", blob, 5),
        TreeEntry::file(".agit/config.json", blob, 5),
        TreeEntry::file(".git/hooks/pre-commit", blob, 5),
        TreeEntry::file("sub/.GIT/config", blob, 5),
        TreeEntry::file("a//b", blob, 5),
        TreeEntry { path: "exec.sh".into(), blob, mode: "executable".into(), size: 5 },
        TreeEntry::file("meta.txt", fx.store.write_object(placeholder).unwrap().0, 99),
        TreeEntry::file("missing.txt", ObjectId::of(b"never stored"), 3),
    ];
    // A real file that merely starts like a placeholder is restored.
    entries.push(fx.entry("doc.txt", b"[[agit snapshot metadata-only path=x bytes=1]]\n"));
    let tree = Tree::new(entries);
    let outcome = fx.run(&tree, fx.ws(), false);
    let expect = [
        ("good.txt", ItemStatus::Restored, None),
        ("doc.txt", ItemStatus::Restored, None),
        ("../evil", ItemStatus::Failed, Some("ParentSegment")),
        ("/abs", ItemStatus::Failed, Some("AbsolutePath")),
        (".agit/config.json", ItemStatus::Failed, Some("StorePath")),
        (".git/hooks/pre-commit", ItemStatus::Failed, Some("GitPath")),
        ("sub/.GIT/config", ItemStatus::Failed, Some("GitPath")),
        ("a//b", ItemStatus::Failed, Some("EmptySegment")),
        ("exec.sh", ItemStatus::Failed, Some("unsupported_mode")),
        ("meta.txt", ItemStatus::Failed, Some("metadata_only_blob")),
        ("missing.txt", ItemStatus::Failed, Some("object_not_found")),
    ];
    for (path, st, reason) in expect {
        assert_eq!(status(&outcome, path), (st, reason), "{path}");
    }
    assert_eq!(fs::read(fx.ws().join("good.txt")).unwrap(), b"good\n");
    assert!(!fx.ws().parent().unwrap().join("evil").exists());
    assert!(!fx.ws().join(".git").exists());
    assert_eq!(files_under(fx.ws()), ["doc.txt", "good.txt"]);
}

#[test]
fn directories_and_special_files_are_not_replaced() {
    let fx = Fixture::new();
    fs::create_dir(fx.ws().join("adir")).unwrap();
    let fifo = fx.ws().join("fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let tree = fx.tree(&[("adir", b"x"), ("fifo", b"y")]);
    let outcome = fx.run(&tree, fx.ws(), true);
    assert_eq!(status(&outcome, "adir"), (ItemStatus::Failed, Some("is_directory")));
    assert_eq!(status(&outcome, "fifo"), (ItemStatus::Failed, Some("unsupported_target_type")));
    use std::os::unix::fs::FileTypeExt;
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn filters_select_exact_paths_and_directories() {
    let fx = Fixture::new();
    let tree = fx.tree(&[("src/a.rs", b"a"), ("src/b/c.rs", b"c"), ("srcx", b"x"), ("top", b"t")]);
    let filters = PathFilter::parse_all(&["src", "top", "nothing/here", "top/"]).unwrap();
    let root = fx.ws().join("out");
    let outcome =
        restore(&fx.store, &tree, None, &fx.options(&root, RestoreScope::Paths(filters), false, false)).unwrap();
    let paths: Vec<_> = outcome.items.iter().map(|i| (i.path.as_str(), i.status, i.reason)).collect();
    assert_eq!(
        paths,
        [
            ("src/a.rs", ItemStatus::Restored, None),
            ("src/b/c.rs", ItemStatus::Restored, None),
            ("top", ItemStatus::Restored, None),
            ("nothing/here", ItemStatus::Failed, Some("not_in_tree")),
            // `top/` selects only entries under a directory `top`.
            ("top/", ItemStatus::Failed, Some("not_in_tree")),
        ]
    );
    assert!(!root.join("srcx").exists());

    let f = PathFilter::parse("src/").unwrap();
    assert!(f.matches("src/a") && !f.matches("src") && !f.matches("srcx"));
    let f = PathFilter::parse("src").unwrap();
    assert!(f.matches("src/a") && f.matches("src") && !f.matches("srcx") && !f.matches("sr"));
    for (bad, reason) in [
        ("../x", "ParentSegment"),
        ("/etc", "AbsolutePath"),
        (".agit/x", "StorePath"),
        ("/", "AbsolutePath"),
        ("a//", "EmptySegment"),
        (".git", "GitPath"),
        ("", "EmptyPath"),
    ] {
        assert_eq!(PathFilter::parse(bad), Err(UnsafeFilter { path: bad.into(), reason }), "{bad}");
    }
}

#[test]
fn no_safety_copy_means_no_overwrite() {
    let fx = Fixture::new();
    let tree = fx.tree(&[("a.txt", b"recorded\n"), ("new.txt", b"n")]);
    fs::write(fx.ws().join("a.txt"), b"local\n").unwrap();

    fx.set_config(r#"{"version":1,"privacy":{"capture":{"snapshots":"metadata_only"}}}"#);
    let outcome = fx.run(&tree, fx.ws(), true);
    assert_eq!(status(&outcome, "a.txt"), (ItemStatus::Failed, Some("safety_copy_unavailable")));
    assert!(item(&outcome, "a.txt").detail.as_deref().unwrap().contains("metadata_only"));
    assert_eq!(status(&outcome, "new.txt"), (ItemStatus::Restored, None));
    assert_eq!(fs::read(fx.ws().join("a.txt")).unwrap(), b"local\n");
    assert!(outcome.safety_step.is_none());

    // Redacted capture keeps a safety copy only of files it would not redact.
    fx.set_config(r#"{"version":1,"privacy":{"capture":{"snapshots":"redacted"},"custom_literals":["hunter2"]}}"#);
    let tree = fx.tree(&[("a.txt", b"recorded\n"), ("clean.txt", b"recorded clean\n")]);
    fs::write(fx.ws().join("a.txt"), b"password hunter2\n").unwrap();
    fs::write(fx.ws().join("clean.txt"), b"local clean\n").unwrap();
    let outcome = fx.run(&tree, fx.ws(), true);
    assert_eq!(status(&outcome, "a.txt"), (ItemStatus::Failed, Some("safety_copy_unavailable")));
    assert_eq!(status(&outcome, "clean.txt"), (ItemStatus::Restored, Some(REPLACED)));
    assert_eq!(fs::read(fx.ws().join("a.txt")).unwrap(), b"password hunter2\n");
    assert_eq!(outcome.safety_step.unwrap().paths, ["clean.txt"]);

    // An unreadable config keeps nothing (fail closed).
    fx.set_config("{not json");
    fs::write(fx.ws().join("clean.txt"), b"edited again\n").unwrap();
    let outcome = fx.run(&tree, fx.ws(), true);
    assert_eq!(status(&outcome, "clean.txt"), (ItemStatus::Failed, Some("safety_copy_unavailable")));
}

thread_local! {
    /// Paths whose write fails (fault injection; root ignores permission bits).
    pub(super) static FAIL_WRITES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[test]
fn the_safety_step_is_committed_before_a_failing_overwrite() {
    let fx = Fixture::new();
    let tree = fx.tree(&[("a.txt", b"recorded a\n"), ("b.txt", b"recorded b\n"), ("c.txt", b"recorded c\n")]);
    for name in ["a", "b", "c"] {
        fs::write(fx.ws().join(format!("{name}.txt")), format!("local {name}\n")).unwrap();
    }
    FAIL_WRITES.with(|f| *f.borrow_mut() = vec!["b.txt".into()]);
    let outcome = fx.run(&tree, fx.ws(), true);
    FAIL_WRITES.with(|f| f.borrow_mut().clear());
    assert_eq!(status(&outcome, "a.txt"), (ItemStatus::Restored, Some(REPLACED)));
    assert_eq!(status(&outcome, "b.txt"), (ItemStatus::Failed, Some("io_error")));
    assert_eq!(status(&outcome, "c.txt"), (ItemStatus::Restored, Some(REPLACED)));
    assert_eq!(fs::read(fx.ws().join("b.txt")).unwrap(), b"local b\n");
    let safety = outcome.safety_step.expect("committed before the first overwrite");
    assert_eq!(safety.paths, ["a.txt", "b.txt", "c.txt"]);
    // Undo brings back the overwritten files; the one that failed is already as it was.
    let undo = RestoreOptions {
        root: fx.ws().to_path_buf(),
        scope: RestoreScope::Paths(PathFilter::parse_all(&safety.paths).unwrap()),
        force: true,
        dry_run: false,
    };
    let undone = restore_step(&fx.store, &safety.id, &undo).unwrap();
    assert_eq!(status(&undone, "b.txt"), (ItemStatus::Skipped, Some(UNCHANGED)));
    for name in ["a", "b", "c"] {
        assert_eq!(fs::read_to_string(fx.ws().join(format!("{name}.txt"))).unwrap(), format!("local {name}\n"));
    }
}

#[test]
fn restore_step_reads_the_steps_tree() {
    let fx = Fixture::new();
    let tree = fx.tree(&[("f.txt", b"from a step\n")]);
    let (tree_id, _) = fx.store.write_object(&tree.encode()).unwrap();
    let mut index = Index::open(&fx.store).unwrap();
    let step = Step { timestamp: 1, ..Step::new("test", "s", "1", tree_id) };
    let AppendOutcome::Committed { id, .. } = append_step(&fx.store, &mut index, step, &[]).unwrap() else {
        panic!("not committed")
    };
    drop(index);
    let root: PathBuf = fx.ws().join("to");
    let outcome = restore_step(&fx.store, &id, &fx.options(&root, RestoreScope::All, false, false)).unwrap();
    assert_eq!(outcome.counts(), (1, 0, 0));
    assert_eq!(fs::read(root.join("f.txt")).unwrap(), b"from a step\n");
    // A tree id is not a step.
    let err = restore_step(&fx.store, &tree_id, &fx.options(&root, RestoreScope::All, false, false)).unwrap_err();
    assert_eq!(err.code(), "invalid_step_object");
}

#[test]
fn nothing_is_overwritten_when_the_safety_step_cannot_be_committed() {
    let fx = Fixture::new();
    let tree = fx.tree(&[("a.txt", b"recorded\n"), ("new.txt", b"new\n")]);
    fs::write(fx.ws().join("a.txt"), b"local\n").unwrap();
    // A directory where the safety session's ref file belongs makes the commit fail.
    let ref_path = fx.store.refs().path(&SessionRef::new(SAFETY_ORIGIN, SAFETY_SESSION));
    fs::create_dir_all(&ref_path).unwrap();
    let outcome = fx.run(&tree, fx.ws(), true);
    assert_eq!(status(&outcome, "a.txt"), (ItemStatus::Failed, Some("safety_snapshot_failed")), "{outcome:?}");
    assert_eq!(fs::read(fx.ws().join("a.txt")).unwrap(), b"local\n");
    // Files that overwrite nothing need no safety copy.
    assert_eq!(status(&outcome, "new.txt"), (ItemStatus::Restored, None));
    assert!(outcome.safety_step.is_none());
}
