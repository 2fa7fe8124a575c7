use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::*;

struct Repo {
    dir: tempfile::TempDir,
    store: Store,
    index: Index,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::init(dir.path()).unwrap();
        let index = Index::open(&store).unwrap();
        Repo { dir, store, index }
    }

    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    fn snap_with(&mut self, options: &SnapshotOptions<'_>) -> Snapshot {
        let snap = snapshot(&self.store, &mut self.index, options).unwrap();
        check_invariants(&self.store, &snap);
        snap
    }

    fn snap(&mut self) -> Snapshot {
        self.snap_with(&options(SnapshotCapture::Full))
    }
}

fn options(capture: SnapshotCapture<'_>) -> SnapshotOptions<'_> {
    SnapshotOptions { capture, max_file_bytes: rules::DEFAULT_MAX_FILE_BYTES, threads: 2 }
}

fn paths(snap: &Snapshot) -> Vec<&str> {
    snap.listing.entries.iter().map(|e| e.path.as_str()).collect()
}

fn content(repo: &Repo, snap: &Snapshot, path: &str) -> Vec<u8> {
    let entry = snap.listing.get(path).unwrap_or_else(|| panic!("{path} not in tree"));
    repo.store.read_object(&entry.blob).unwrap()
}

/// What must hold for every snapshot: the stored tree is the listing, every blob is
/// stored, and every file seen is accounted for exactly once.
fn check_invariants(store: &Store, snap: &Snapshot) {
    assert_eq!(store.read_tree(&snap.tree).unwrap(), snap.listing);
    assert_eq!(snap.entries, snap.listing.entries.len());
    assert_eq!(snap.tree_bytes_len, snap.listing.encode().len() as u64);
    for entry in &snap.listing.entries {
        assert!(store.has_object(&entry.blob), "{}", entry.path);
        assert_eq!(entry.mode, "file");
    }
    let s = snap.stats;
    if snap.entries > 0 || s.files_seen > 0 {
        assert_eq!(
            s.files_seen,
            snap.entries
                + s.skipped_binary
                + s.skipped_large
                + s.skipped_secret
                + s.skipped_ignored
                + s.skipped_symlink
                + s.skipped_special
                + s.skipped_unreadable
                + s.skipped_non_utf8,
            "{s:?}"
        );
        assert_eq!(s.files_hashed + s.files_from_cache, snap.entries + s.skipped_binary, "{s:?}");
    }
    let tree = snap.new_objects.iter().filter(|o| o.kind == ObjectKind::Tree).count();
    assert_eq!(tree, 1);
}

/// Let more than a coarse kernel clock tick pass, so files written before are strictly
/// older than the clock of a snapshot taken after: tests about something else then do
/// not trip over the racy-clean rule.
fn wait_tick() {
    std::thread::sleep(std::time::Duration::from_millis(30));
}

#[test]
fn defaults_skip_dirs_at_any_depth_and_paths_are_sorted_with_slashes() {
    let mut repo = Repo::new();
    repo.write("src/main.rs", "fn main() {}\n");
    repo.write("README.md", "hi\n");
    repo.write("B.txt", "upper\n");
    repo.write("a.b", "dot\n");
    for dir in rules::DEFAULT_SKIP_DIRS {
        repo.write(&format!("{dir}/x.txt"), "skipped\n");
        repo.write(&format!("pkg/{dir}/y.txt"), "skipped\n");
    }
    repo.write(".git/config", "[core]\n");
    repo.write("pkg/targets/kept.txt", "kept\n");
    let snap = repo.snap();
    assert_eq!(paths(&snap), ["B.txt", "README.md", "a.b", "pkg/targets/kept.txt", "src/main.rs"]);
    assert_eq!(content(&repo, &snap, "src/main.rs"), b"fn main() {}\n");
    assert_eq!(snap.listing.get("README.md").unwrap().size, 3);
    // 13 at the root (`.agit` is the store itself) + 13 under pkg/.
    assert_eq!(snap.stats.dirs_skipped, 26);
}

#[test]
fn secret_like_files_are_skipped() {
    let mut repo = Repo::new();
    for name in [".env", ".env.production", ".envrc", "id_rsa", "tls.key", "cert.pem", "backup.gpg", "sig.asc"] {
        repo.write(&format!("cfg/{name}"), "SECRET=1\n");
    }
    repo.write("cfg/id_rsa.pub", "ssh-rsa AAA\n");
    repo.write("cfg/app.toml", "x = 1\n");
    let snap = repo.snap();
    assert_eq!(paths(&snap), ["cfg/app.toml", "cfg/id_rsa.pub"]);
    assert_eq!(snap.stats.skipped_secret, 8);
}

#[test]
fn binary_files_are_skipped_by_a_nul_in_the_first_8192_bytes() {
    let mut repo = Repo::new();
    repo.write("bin.dat", b"abc\0def");
    let mut late = vec![b'x'; rules::BINARY_SNIFF_BYTES];
    late.push(0);
    repo.write("late-nul.txt", &late);
    let mut edge = vec![b'x'; rules::BINARY_SNIFF_BYTES];
    edge[rules::BINARY_SNIFF_BYTES - 1] = 0;
    repo.write("edge-nul.txt", &edge);
    wait_tick();
    let snap = repo.snap();
    assert_eq!(paths(&snap), ["late-nul.txt"]);
    assert_eq!(snap.stats.skipped_binary, 2);
    // The binary verdict is cached too.
    let again = repo.snap();
    assert_eq!(again.stats.skipped_binary, 2);
    assert_eq!(again.stats.files_hashed, 0);
    // Binary under metadata_only as well: tree membership does not depend on the level.
    let meta = repo.snap_with(&options(SnapshotCapture::MetadataOnly));
    assert_eq!(paths(&meta), ["late-nul.txt"]);
}

#[test]
fn size_cap_keeps_exactly_the_cap_and_skips_one_more() {
    let mut repo = Repo::new();
    repo.write("at-cap.txt", vec![b'a'; 100]);
    repo.write("over-cap.txt", vec![b'b'; 101]);
    repo.write("small.txt", "s");
    let opts = SnapshotOptions { max_file_bytes: 100, ..options(SnapshotCapture::Full) };
    let snap = repo.snap_with(&opts);
    assert_eq!(paths(&snap), ["at-cap.txt", "small.txt"]);
    assert_eq!(snap.listing.get("at-cap.txt").unwrap().size, 100);
    assert_eq!(snap.stats.skipped_large, 1);
    // Growing past the cap drops the file (and its cache row).
    wait_tick();
    repo.write("at-cap.txt", vec![b'a'; 150]);
    let snap = repo.snap_with(&opts);
    assert_eq!(paths(&snap), ["small.txt"]);
    assert!(!repo.index.load_stat_cache().unwrap().contains_key("at-cap.txt"));
}

#[test]
fn symlinks_are_never_followed_and_special_files_skipped() {
    let mut repo = Repo::new();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.txt"), "outside\n").unwrap();
    repo.write("real.txt", "real\n");
    std::os::unix::fs::symlink(repo.path("real.txt"), repo.path("link.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), repo.path("linkdir")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/target", repo.path("dangling")).unwrap();
    let fifo = std::ffi::CString::new(repo.path("pipe").as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let snap = repo.snap();
    assert_eq!(paths(&snap), ["real.txt"]);
    assert_eq!(snap.stats.skipped_symlink, 3);
    assert_eq!(snap.stats.skipped_special, 1);
}

#[test]
fn a_workspace_reached_through_a_symlink_is_still_walked() {
    let real = tempfile::tempdir().unwrap();
    let links = tempfile::tempdir().unwrap();
    let link = links.path().join("ws");
    std::os::unix::fs::symlink(real.path(), &link).unwrap();
    fs::write(real.path().join("a.txt"), "a\n").unwrap();
    let (store, _) = Store::init(&link).unwrap();
    let mut index = Index::open(&store).unwrap();
    let snap = snapshot(&store, &mut index, &options(SnapshotCapture::Full)).unwrap();
    assert_eq!(paths(&snap), ["a.txt"]);
}

#[test]
fn capture_levels() {
    let mut repo = Repo::new();
    repo.write("dir/a.txt", "token=abc123\n");
    repo.write("b.txt", "plain\n");
    wait_tick();

    let full = repo.snap();
    assert_eq!(content(&repo, &full, "dir/a.txt"), b"token=abc123\n");

    let meta = repo.snap_with(&options(SnapshotCapture::MetadataOnly));
    assert_eq!(content(&repo, &meta, "dir/a.txt"), b"[[agit snapshot metadata-only path=dir/a.txt bytes=13]]\n");
    assert_eq!(meta.listing.get("dir/a.txt").unwrap().size, 13);
    assert_eq!(meta.stats.files_hashed, 2, "a level change invalidates the cache");

    let redactor = FnRedactor::new("v1", |bytes: &[u8]| {
        String::from_utf8_lossy(bytes).replace("abc123", "[REDACTED]").into_bytes()
    });
    let red = repo.snap_with(&options(SnapshotCapture::Redacted(&redactor)));
    assert_eq!(content(&repo, &red, "dir/a.txt"), b"token=[REDACTED]\n");
    assert_eq!(red.listing.get("dir/a.txt").unwrap().size, 13, "size is the original size");
    assert_eq!(content(&repo, &red, "b.txt"), b"plain\n");
    assert_eq!(red.stats.files_hashed, 2);

    // A different redactor key invalidates cached redacted blobs; the same key reuses them.
    let same = repo.snap_with(&options(SnapshotCapture::Redacted(&redactor)));
    assert_eq!((same.stats.files_hashed, same.stats.files_from_cache), (0, 2));
    assert_eq!(same.tree, red.tree);
    let stricter = FnRedactor::new("v2", |_: &[u8]| b"[REDACTED]\n".to_vec());
    let red2 = repo.snap_with(&options(SnapshotCapture::Redacted(&stricter)));
    assert_eq!(red2.stats.files_hashed, 2);
    assert_eq!(content(&repo, &red2, "b.txt"), b"[REDACTED]\n");

    let rows_before = repo.index.load_stat_cache().unwrap();
    let disabled = repo.snap_with(&options(SnapshotCapture::Disabled));
    assert_eq!(disabled.tree.to_hex(), "7e67e313925975c3b563670cc6200965f166be637536d92cafa940761d02d65e");
    assert_eq!(disabled.entries, 0);
    assert_eq!(disabled.stats, SnapshotStats::default(), "no walk");
    assert_eq!(repo.index.load_stat_cache().unwrap(), rows_before, "cache untouched");
    assert_eq!(SnapshotCapture::from_level(CaptureLevel::Redacted, &redactor).level(), CaptureLevel::Redacted);
}

#[test]
fn agitignore_uses_gitignore_syntax_and_gitignore_is_not_consulted() {
    let mut repo = Repo::new();
    repo.write(".agitignore", "*.log\n!keep.log\n/anchored.txt\ndocs/**/draft.md\nout/\nlogs/\n!logs/important.log\n");
    repo.write(".gitignore", "*.txt\n");
    for rel in [
        "a.log",
        "sub/b.log",
        "keep.log",
        "sub/keep.log",
        "anchored.txt",
        "sub/anchored.txt",
        "docs/draft.md",
        "docs/x/y/draft.md",
        "docs/final.md",
        "out/gen.rs",
        "deep/out/gen.rs",
        "out.rs",
        "logs/important.log",
    ] {
        repo.write(rel, rel);
    }
    // A file named like a directory-only pattern is kept.
    fs::remove_dir_all(repo.path("deep")).unwrap();
    repo.write("deep/out", "a file, not a dir\n");
    let snap = repo.snap();
    assert_eq!(
        paths(&snap),
        [
            ".agitignore",
            ".gitignore",
            "deep/out",
            "docs/final.md",
            "keep.log",
            "out.rs",
            "sub/anchored.txt",
            "sub/keep.log"
        ]
    );
    // `logs/` is pruned, so `!logs/important.log` cannot re-include (as in git).
    assert_eq!(snap.stats.skipped_ignored, 5);
    assert_eq!(snap.stats.dirs_skipped, 3); // .agit, out, logs
}

#[test]
fn negation_cannot_re_include_defaults_or_secrets() {
    let mut repo = Repo::new();
    repo.write(".agitignore", "!.env\n!node_modules/\n");
    repo.write(".env", "A=1\n");
    repo.write("node_modules/m.js", "x\n");
    let snap = repo.snap();
    assert_eq!(paths(&snap), [".agitignore"]);
}

#[test]
fn stat_cache_hits_misses_and_deletions() {
    let mut repo = Repo::new();
    repo.write("a.txt", "aaaa\n");
    repo.write("b.txt", "bbbb\n");
    repo.write("c/d.txt", "dddd\n");
    wait_tick();
    let first = repo.snap();
    assert_eq!((first.stats.files_hashed, first.stats.files_from_cache), (3, 0));
    assert_eq!(first.stats.cache_rows_written, 3);

    wait_tick();
    let second = repo.snap();
    assert_eq!((second.stats.files_hashed, second.stats.files_from_cache), (0, 3));
    assert_eq!(second.tree, first.tree);
    assert_eq!(second.stats.cache_rows_written, 0);
    assert_eq!(second.new_objects.len(), 1, "only the (already stored) tree");

    // Same size, new content.
    repo.write("a.txt", "AAAA\n");
    // Same content, new mtime.
    let b = fs::File::options().write(true).open(repo.path("b.txt")).unwrap();
    b.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5)).unwrap();
    drop(b);
    // Deleted.
    fs::remove_file(repo.path("c/d.txt")).unwrap();
    wait_tick();
    let third = repo.snap();
    assert_eq!(content(&repo, &third, "a.txt"), b"AAAA\n");
    assert_eq!(third.listing.get("b.txt").unwrap().blob, first.listing.get("b.txt").unwrap().blob);
    assert_eq!((third.stats.files_hashed, third.stats.files_from_cache), (2, 0));
    assert_eq!(third.stats.blobs_created, 1);
    assert_eq!(third.stats.cache_rows_deleted, 1);
    let rows = repo.index.load_stat_cache().unwrap();
    let mut keys: Vec<_> = rows.keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["a.txt", "b.txt"]);

    // b.txt's mtime is in the future, so it stays racy until then; a.txt is cached.
    wait_tick();
    let fourth = repo.snap();
    assert_eq!(fourth.stats.files_from_cache, 1);
    assert_eq!(fourth.stats.racy_rehashed, 1);
    assert_eq!(fourth.tree, third.tree);

    // A file that became ignored loses its row.
    repo.write(".agitignore", "a.txt\n");
    let fifth = repo.snap();
    assert!(!repo.index.load_stat_cache().unwrap().contains_key("a.txt"));
    assert!(fifth.listing.get("a.txt").is_none());
}

#[test]
fn racy_clean_rows_are_re_hashed_and_then_trusted() {
    let mut repo = Repo::new();
    repo.write("f.txt", "v1\n");
    wait_tick();
    let first = repo.snap();
    let row = repo.index.load_stat_cache().unwrap()["f.txt"].clone();
    assert!(row.stat.changed_ns() < row.cached_at_ns);

    // Pretend the row was written in the same timestamp tick as the file's last change,
    // and (as a racing edit would leave it) holds a stale blob: it must not be trusted.
    let stale = repo.store.write_object(b"stale\n").unwrap().0;
    repo.index
        .write_stat_cache(
            &[("f.txt".into(), StatCacheRow { blob: Some(stale), cached_at_ns: row.stat.changed_ns(), ..row.clone() })],
            &[],
            &[ObjectRecord { id: stale, kind: ObjectKind::Blob, size: 6 }],
        )
        .unwrap();
    let second = repo.snap();
    assert_eq!(second.stats.racy_rehashed, 1);
    assert_eq!(second.tree, first.tree);
    assert_eq!(content(&repo, &second, "f.txt"), b"v1\n");

    // Re-hashed with a fresh clock, the row is now trusted.
    wait_tick();
    let third = repo.snap();
    assert_eq!((third.stats.files_from_cache, third.stats.racy_rehashed), (1, 0));

    // One ns older than the clock is trusted (strictly older is the rule).
    repo.index
        .write_stat_cache(
            &[(
                "f.txt".into(),
                StatCacheRow { blob: Some(stale), cached_at_ns: row.stat.changed_ns() + 1, ..row.clone() },
            )],
            &[],
            &[],
        )
        .unwrap();
    let fourth = repo.snap();
    assert_eq!(fourth.stats.files_from_cache, 1);
    assert_eq!(content(&repo, &fourth, "f.txt"), b"stale\n");
}

#[test]
fn an_edit_right_after_a_snapshot_is_always_seen() {
    // No sleeps: whatever the timestamp granularity, a same-size rewrite straight after a
    // snapshot must show up in the next one (either the stat changed, or the row is racy).
    let mut repo = Repo::new();
    for round in 0..20u32 {
        let text = format!("round {round:04}\n");
        repo.write("hot.txt", &text);
        let snap = repo.snap();
        assert_eq!(content(&repo, &snap, "hot.txt"), text.as_bytes(), "round {round}");
    }
}

#[test]
fn after_gc_clears_the_cache_a_pruned_blob_is_recreated() {
    let mut repo = Repo::new();
    repo.write("a.txt", "a\n");
    wait_tick();
    let first = repo.snap();
    let blob = first.listing.get("a.txt").unwrap().blob;
    // What gc does to an unreachable blob: remove it, and clear the stat cache.
    let path = crate::store::loose::object_path(&repo.store.objects_dir(), &blob);
    fs::remove_file(path).unwrap();
    repo.index.conn().execute("delete from objects where hash=?1", [blob.to_hex()]).unwrap();
    repo.index.clear_stat_cache().unwrap();
    let second = repo.snap();
    assert_eq!(second.stats.files_hashed, 1);
    assert_eq!(second.stats.blobs_created, 1);
    assert!(repo.store.has_object(&blob));
}

#[test]
fn a_garbled_cache_row_is_not_trusted() {
    let mut repo = Repo::new();
    repo.write("a.txt", "a\n");
    wait_tick();
    let first = repo.snap();
    repo.index.conn().execute("update snapshot_stat_cache set blob_id='not an id'", []).unwrap();
    let second = repo.snap();
    assert_eq!((second.stats.files_hashed, second.stats.files_from_cache), (1, 0));
    assert_eq!(second.tree, first.tree);
    assert_eq!(repo.index.load_stat_cache().unwrap()["a.txt"].blob, Some(first.listing.entries[0].blob));
}

#[test]
fn non_utf8_names_are_skipped() {
    let mut repo = Repo::new();
    repo.write("ok.txt", "ok\n");
    let bad_file = repo.dir.path().join(std::ffi::OsStr::from_bytes(b"bad\xff.txt"));
    fs::write(bad_file, "x\n").unwrap();
    let bad_dir = repo.dir.path().join(std::ffi::OsStr::from_bytes(b"dir\xfe"));
    fs::create_dir(&bad_dir).unwrap();
    fs::write(bad_dir.join("inner.txt"), "y\n").unwrap();
    let snap = repo.snap();
    assert_eq!(paths(&snap), ["ok.txt"]);
    assert_eq!(snap.stats.skipped_non_utf8, 1);
    assert_eq!(snap.stats.dirs_skipped, 2); // .agit and dir\xfe
}

#[test]
fn a_json_file_that_looks_like_a_step_stays_a_blob() {
    let mut repo = Repo::new();
    let json = r#"{"type":"step","parent":null,"tree":"00","session_id":"s"}"#;
    repo.write("fixture.json", json);
    let snap = repo.snap();
    let blob = snap.listing.get("fixture.json").unwrap().blob;
    let record = snap.new_objects.iter().find(|o| o.id == blob).unwrap();
    assert_eq!(record.kind, ObjectKind::Blob);
    let kind: String =
        repo.index.conn().query_row("select kind from objects where hash=?1", [blob.to_hex()], |r| r.get(0)).unwrap();
    assert_eq!(kind, "blob");
    let tree_kind: String = repo
        .index
        .conn()
        .query_row("select kind from objects where hash=?1", [snap.tree.to_hex()], |r| r.get(0))
        .unwrap();
    assert_eq!(tree_kind, "tree");
}

#[test]
fn unreadable_files_are_skipped() {
    if unsafe { libc::geteuid() } == 0 {
        return; // root reads everything
    }
    let mut repo = Repo::new();
    repo.write("locked.txt", "x\n");
    repo.write("open.txt", "y\n");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(repo.path("locked.txt"), fs::Permissions::from_mode(0o000)).unwrap();
    let snap = repo.snap();
    assert_eq!(paths(&snap), ["open.txt"]);
    assert_eq!(snap.stats.skipped_unreadable, 1);
}

#[test]
fn parallel_and_serial_hashing_agree() {
    const FILES: usize = 300;
    let mut repo = Repo::new();
    for i in 0..FILES {
        repo.write(&format!("d{}/f{i}.txt", i % 7), format!("file {i}\n").repeat(i % 13 + 1));
    }
    repo.write("dup1.txt", "same\n");
    repo.write("dup2.txt", "same\n");
    wait_tick();
    let parallel = repo.snap_with(&SnapshotOptions { threads: 4, ..options(SnapshotCapture::Full) });
    let other = Repo::new();
    for entry in &parallel.listing.entries {
        other.write(&entry.path, fs::read(repo.path(&entry.path)).unwrap());
    }
    let mut other = other;
    let serial = other.snap_with(&SnapshotOptions { threads: 1, ..options(SnapshotCapture::Full) });
    assert_eq!(parallel.tree, serial.tree);
    assert_eq!(parallel.entries, FILES + 2);
    // The duplicate blob is listed once.
    let blobs = parallel.new_objects.iter().filter(|o| o.kind == ObjectKind::Blob).count();
    assert_eq!(blobs, FILES + 1);
    assert_eq!(parallel.stats.blobs_created, FILES + 1);
    // A few changed files (hashed on this thread).
    wait_tick();
    repo.write("d0/f0.txt", "changed\n");
    repo.write("new.txt", "same\n");
    let small = repo.snap();
    assert_eq!((small.stats.files_hashed, small.stats.blobs_created), (2, 1));
    assert_eq!(content(&repo, &small, "d0/f0.txt"), b"changed\n");
    assert_eq!(small.new_objects.len(), 3, "two blobs (one already stored) and the tree");
}

#[test]
fn an_unreadable_root_is_an_error() {
    let repo = Repo::new();
    let store = repo.store.clone();
    let mut index = repo.index;
    // Remove the workspace under the store: the snapshot must fail, not be empty.
    let gone = Path::new(store.workspace()).to_path_buf();
    drop(repo.dir);
    assert!(!gone.exists());
    let err = snapshot(&store, &mut index, &options(SnapshotCapture::Full)).unwrap_err();
    assert_eq!(err.code(), "io_error");
}

#[test]
fn files_that_change_between_the_walk_and_the_read_are_skipped() {
    // What `prepare` sees when a walked file vanished, became a link or a FIFO, or grew.
    let repo = Repo::new();
    let full = SnapshotCapture::Full;
    repo.write("grown.txt", "12345");
    repo.write("target.txt", "t");
    std::os::unix::fs::symlink(repo.path("target.txt"), repo.path("link")).unwrap();
    let fifo = std::ffi::CString::new(repo.path("fifo").as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let prepare = |rel: &str, cap: u64| blob::prepare(&repo.path(rel), rel, &full, cap);
    assert!(matches!(prepare("gone.txt", 100), Prepared::Unreadable));
    assert!(matches!(prepare("link", 100), Prepared::Unreadable), "O_NOFOLLOW");
    assert!(matches!(prepare("fifo", 100), Prepared::Unreadable), "opened without blocking, then refused");
    assert!(matches!(prepare("grown.txt", 4), Prepared::Large));
    assert!(matches!(prepare("grown.txt", 5), Prepared::Blob { size: 5, .. }));
    let meta = blob::prepare(&repo.path("grown.txt"), "grown.txt", &SnapshotCapture::MetadataOnly, 4);
    assert!(matches!(meta, Prepared::Large));
}
