//! Snapshot benchmark against git (DECISIONS §5), run by hand:
//!
//! ```text
//! cargo run --release -p agit-core --example snapshot_bench -- [--files 10000] [--mb 100] [--reps 5] [--threads 0] [--quick-first]
//! AGIT_FSYNC=0 cargo run --release -p agit-core --example snapshot_bench
//! ```
//!
//! Generates a repository of `--files` text files totalling about `--mb` MB in a temp dir,
//! then times, on the same tree, side by side:
//! - first snapshot (fresh `.agit/`) vs `git add -A` into a fresh `.git/`;
//! - a snapshot with nothing changed vs `git add -A && git write-tree` with a warm index;
//! - a snapshot after 3 files changed vs the same git commands after the same change.
//!
//! agit is timed in process (index open + snapshot, as a finalize does); git is timed as
//! the commands a user runs (process start included). Medians of `--reps` runs.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use agit_core::Store;
use agit_core::index::Index;
use agit_core::snapshot::{self, Snapshot, SnapshotCapture, SnapshotOptions};

struct Args {
    files: usize,
    mb: usize,
    reps: usize,
    threads: usize,
    /// Time the first snapshot once instead of `reps` times (it dominates the run time).
    quick_first: bool,
}

fn parse_args() -> Args {
    let mut args = Args { files: 10_000, mb: 100, reps: 5, threads: 0, quick_first: false };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--quick-first" {
            args.quick_first = true;
            continue;
        }
        let value = it.next().and_then(|v| v.parse::<usize>().ok());
        match (flag.as_str(), value) {
            ("--files", Some(v)) => args.files = v,
            ("--mb", Some(v)) => args.mb = v,
            ("--reps", Some(v)) => args.reps = v.max(1),
            ("--threads", Some(v)) => args.threads = v,
            _ => {
                eprintln!("usage: snapshot_bench [--files N] [--mb N] [--reps N] [--threads N] [--quick-first]");
                std::process::exit(2);
            }
        }
    }
    args
}

/// Deterministic pseudo-random text (xorshift), so runs are comparable.
struct Text(u64);

impl Text {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn fill(&mut self, len: usize) -> Vec<u8> {
        const WORDS: [&str; 16] = [
            "fn", "let", "mut", "self", "impl", "match", "return", "struct", "snapshot", "index", "tree", "blob",
            "cache", "error", "result", "value",
        ];
        let mut out = Vec::with_capacity(len + 16);
        while out.len() < len {
            let r = self.next();
            out.extend_from_slice(WORDS[(r & 15) as usize].as_bytes());
            out.push(if r & 0x1f0 == 0 { b'\n' } else { b' ' });
        }
        out.truncate(len);
        out.push(b'\n');
        out
    }
}

fn generate(root: &Path, files: usize, total_bytes: usize) {
    let mut text = Text(0x9e37_79b9_7f4a_7c15);
    let mean = total_bytes / files.max(1);
    let per_dir = 100;
    for i in 0..files {
        let dir = root.join(format!("src/mod{:03}/sub{}", i / per_dir, (i / 10) % 3));
        std::fs::create_dir_all(&dir).unwrap();
        // Sizes spread between 0.2x and 1.8x the mean.
        let len = mean / 5 + (text.next() as usize % (mean * 8 / 5 + 1));
        std::fs::write(dir.join(format!("file{i:05}.rs")), text.fill(len)).unwrap();
    }
}

fn git(root: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run git");
    assert!(status.success(), "git {args:?} failed");
}

fn git_init(root: &Path) {
    let _ = std::fs::remove_dir_all(root.join(".git"));
    git(root, &["init", "-q"]);
    git(root, &["config", "gc.auto", "0"]);
    std::fs::write(root.join(".git/info/exclude"), ".agit/\n").unwrap();
}

fn agit_snapshot(root: &Path, threads: usize) -> (Duration, Snapshot) {
    let start = Instant::now();
    let store = Store::open(root).unwrap();
    let mut index = Index::open(&store).unwrap();
    let options = SnapshotOptions { threads, ..SnapshotOptions::new(SnapshotCapture::Full) };
    let snap = snapshot::snapshot(&store, &mut index, &options).unwrap();
    (start.elapsed(), snap)
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// Median and minimum (the minimum is the least disturbed by other load on the machine).
fn stats(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[0])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(label: &str, agit: Vec<Duration>, git: Vec<Duration>) {
    let ((agit, agit_min), (git, git_min)) = (stats(agit), stats(git));
    println!(
        "{label:<34} median: agit {:>8.1} ms  git {:>8.1} ms  ratio {:>4.2}  | min: agit {:>8.1} ms  git {:>8.1} ms  ratio {:>4.2}",
        ms(agit),
        ms(git),
        agit.as_secs_f64() / git.as_secs_f64(),
        ms(agit_min),
        ms(git_min),
        agit_min.as_secs_f64() / git_min.as_secs_f64()
    );
}

fn main() {
    let args = parse_args();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(&root).unwrap();
    generate(&root, args.files, args.mb * 1_000_000);
    println!(
        "repo: {} files, ~{} MB, reps {}, AGIT_FSYNC={}, git {}",
        args.files,
        args.mb,
        args.reps,
        std::env::var("AGIT_FSYNC").unwrap_or_else(|_| "(unset: fsync on)".into()),
        String::from_utf8_lossy(&Command::new("git").arg("--version").output().unwrap().stdout).trim()
    );

    // First snapshot vs `git add -A` into a fresh repository, each from scratch every rep.
    let (mut agit_first, mut git_first) = (Vec::new(), Vec::new());
    for _ in 0..if args.quick_first { 1 } else { args.reps } {
        let _ = std::fs::remove_dir_all(root.join(".agit"));
        Store::init(&root).unwrap();
        let (t, snap) = agit_snapshot(&root, args.threads);
        assert_eq!(snap.entries, args.files);
        agit_first.push(t);
        git_init(&root);
        git_first.push(timed(|| git(&root, &["add", "-A"])));
    }
    report("first snapshot / git add -A fresh", agit_first, git_first);

    // Let the racy-clean window of the files written above pass, warm both caches.
    std::thread::sleep(Duration::from_millis(50));
    agit_snapshot(&root, args.threads);
    git(&root, &["add", "-A"]);
    git(&root, &["write-tree"]);

    let (mut agit_same, mut git_same) = (Vec::new(), Vec::new());
    for _ in 0..args.reps {
        let (t, snap) = agit_snapshot(&root, args.threads);
        assert_eq!(snap.stats.files_hashed, 0, "{:?}", snap.stats);
        agit_same.push(t);
        git_same.push(timed(|| {
            git(&root, &["add", "-A"]);
            git(&root, &["write-tree"]);
        }));
    }
    report("no change / add -A && write-tree", agit_same, git_same);

    let (mut agit_three, mut git_three) = (Vec::new(), Vec::new());
    let mut text = Text(42);
    for rep in 0..args.reps {
        for k in 0..3 {
            let i = (rep * 3 + k) * 997 % args.files;
            let path = root.join(format!("src/mod{:03}/sub{}/file{i:05}.rs", i / 100, (i / 10) % 3));
            let mut bytes = std::fs::read(&path).unwrap();
            bytes.extend_from_slice(&text.fill(64));
            std::fs::write(&path, bytes).unwrap();
        }
        let (t, snap) = agit_snapshot(&root, args.threads);
        assert!(snap.stats.files_hashed >= 3, "{:?}", snap.stats);
        agit_three.push(t);
        git_three.push(timed(|| {
            git(&root, &["add", "-A"]);
            git(&root, &["write-tree"]);
        }));
        // Keep the next rep at exactly 3 changed files on both sides (edits are racy once).
        std::thread::sleep(Duration::from_millis(50));
        agit_snapshot(&root, args.threads);
        git(&root, &["add", "-A"]);
    }
    report("3 changed / add -A && write-tree", agit_three, git_three);
}
