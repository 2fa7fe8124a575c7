//! Pack benchmarks, run by hand (release build):
//!
//! ```text
//! cargo run --release -p agit-core --example pack_bench -- lookup  [--objects 1000000] [--lookups 10000]
//! cargo run --release -p agit-core --example pack_bench -- levels  [--corpus DIR]
//! cargo run --release -p agit-core --example pack_bench -- history [--files 500] [--steps 1000] [--corpus DIR] [--git] [--configs 3:0,19:10:d]
//! ```
//!
//! - `lookup`: DECISIONS §5 "object prefix lookup with 1,000,000 objects: under 1 ms".
//!   One pack of `bench-object-<i>` blobs (the reference's `bench-resolve-prefix` setup),
//!   then random 12-hex prefix lookups, absent prefixes, 2-hex prefixes limited to two
//!   matches, and full reads.
//! - `levels`: zstd level 1/3/9/15/19 per object kind (text blobs, tree, step and blame
//!   JSON), plus a trained dictionary vs deltas for step objects.
//! - `history`: a simulated history (files edited by steps, with trees, steps and blames),
//!   packed with several `level:max_depth[:d]` settings (`d`: with a dictionary trained on
//!   300 steps); sizes, write and read times. With `--git`
//!   the same file history (step JSON as commit message) goes into git and is measured
//!   after `git gc --aggressive`.
//!
//! The corpus for text is every `.rs` file under `--corpus` (default: the cargo registry
//! sources if present, else this workspace's `crates/`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use agit_core::ObjectId;
use agit_core::object::{Blame, BlameLine, Message, ObjectKind, Step, ToolCall, Tree, TreeEntry};
use agit_core::store::pack::{PackInput, PackOptions, PackSet, write_pack_with};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let num = |name: &str, default: usize| flag(name).and_then(|v| v.parse().ok()).unwrap_or(default);
    let corpus_dir = flag("--corpus").map(PathBuf::from).unwrap_or_else(default_corpus);
    match args.first().map(String::as_str) {
        Some("lookup") | None => lookup(num("--objects", 1_000_000), num("--lookups", 10_000)),
        Some("levels") => levels(&corpus(&corpus_dir, 3_000, 24 << 20)),
        Some("history") => history(
            &corpus(&corpus_dir, 3_000, 24 << 20),
            num("--files", 500),
            num("--steps", 1000),
            args.iter().any(|a| a == "--git"),
            &flag("--configs").unwrap_or_else(|| "3:0,3:10,9:10,9:10:d,19:10,19:10:d".into()),
        ),
        Some(other) => {
            eprintln!("unknown mode `{other}`; use lookup, levels or history");
            std::process::exit(2);
        }
    }
}

// ---- helpers ---------------------------------------------------------------------------

/// xorshift64: deterministic, so runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn default_corpus() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(src) = home.map(|h| h.join("registry/src")).filter(|p| p.is_dir()) {
        return src;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `(relative path, content)` of `.rs` files under `dir`, sorted, within the caps.
fn corpus(dir: &Path, max_files: usize, max_bytes: usize) -> Vec<(String, Vec<u8>)> {
    let mut paths = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                paths.push(p);
            }
        }
    }
    paths.sort();
    let mut out = Vec::new();
    let mut total = 0;
    for p in paths {
        if out.len() >= max_files || total >= max_bytes {
            break;
        }
        let Ok(bytes) = std::fs::read(&p) else { continue };
        if bytes.is_empty() || bytes.len() > 256 << 10 {
            continue;
        }
        total += bytes.len();
        let rel = p.strip_prefix(dir).unwrap_or(&p).to_string_lossy().into_owned();
        out.push((rel, bytes));
    }
    assert!(!out.is_empty(), "no .rs files under {}", dir.display());
    out
}

fn lines(text: &[u8]) -> Vec<Vec<u8>> {
    text.split_inclusive(|b| *b == b'\n').map(<[u8]>::to_vec).collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

fn input(kind: ObjectKind, bytes: Vec<u8>, hint: Option<ObjectId>) -> PackInput {
    PackInput { id: ObjectId::of(&bytes), kind, bytes, delta_base_hint: hint }
}

// ---- lookup ----------------------------------------------------------------------------

fn lookup(objects: usize, lookups: usize) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("pack");
    let start = Instant::now();
    let inputs = (0..objects).map(|i| input(ObjectKind::Blob, format!("bench-object-{i}").into_bytes(), None));
    let info = write_pack_with(&dir, inputs, &PackOptions { level: 3, max_depth: 0, ..PackOptions::default() })
        .expect("write pack");
    println!(
        "lookup: wrote {objects} objects in {:.0} ms: pack {} B, idx {} B",
        ms(start.elapsed()),
        info.pack_len,
        info.idx_len
    );
    let start = Instant::now();
    let set = PackSet::open(&dir).expect("open");
    println!("lookup: PackSet::open {:.3} ms", ms(start.elapsed()));

    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let ids: Vec<ObjectId> =
        (0..lookups).map(|_| ObjectId::of(format!("bench-object-{}", rng.below(objects)).as_bytes())).collect();

    let report = |label: &str, mut f: Box<dyn FnMut(usize) -> usize + '_>| {
        let mut times = Vec::with_capacity(lookups);
        let mut found = 0;
        for i in 0..lookups {
            let t = Instant::now();
            found += f(i);
            times.push(t.elapsed());
        }
        times.sort();
        let mean = times.iter().sum::<Duration>().as_secs_f64() * 1e6 / lookups as f64;
        println!(
            "lookup: {label:<36} mean {mean:7.2} µs  p50 {:7.2}  p99 {:7.2}  max {:8.2}  ({found} results)",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            percentile(&times, 1.0)
        );
    };
    report(
        "ids_with_prefix (12 hex, present)",
        Box::new(|i| set.ids_with_prefix(&ids[i].to_hex()[..12]).expect("lookup").len()),
    );
    let absent: Vec<String> = (0..lookups).map(|_| format!("{:012x}", rng.next() & 0xffff_ffff_ffff)).collect();
    report("ids_with_prefix (12 hex, random)", Box::new(|i| set.ids_with_prefix(&absent[i]).expect("lookup").len()));
    let short: Vec<String> = (0..lookups).map(|_| format!("{:02x}", rng.next() & 0xff)).collect();
    report(
        "ids_with_prefix_limited (2 hex, 2)",
        Box::new(|i| set.ids_with_prefix_limited(&short[i], 2).expect("lookup").len()),
    );
    report("contains", Box::new(|i| usize::from(set.contains(&ids[i]).expect("contains"))));
    report("get (read + verify)", Box::new(|i| set.get(&ids[i]).expect("get").map_or(0, |_| 1)));
}

// ---- levels ----------------------------------------------------------------------------

fn levels(corpus: &[(String, Vec<u8>)]) {
    let blobs: Vec<Vec<u8>> = corpus.iter().take(800).map(|(_, b)| b.clone()).collect();
    let trees: Vec<Vec<u8>> = corpus
        .chunks(500)
        .take(6)
        .map(|chunk| {
            Tree::new(chunk.iter().map(|(p, b)| TreeEntry::file(p.clone(), ObjectId::of(b), b.len() as u64)).collect())
                .encode()
        })
        .collect();
    let mut sim = Sim::new(corpus, 300, 7);
    let mut steps = Vec::new();
    let mut blames = Vec::new();
    for _ in 0..1000 {
        let out = sim.step();
        steps.push(out.step);
        blames.extend(out.blames.into_iter().map(|(_, b)| b));
    }
    blames.truncate(400);
    let sets: [(&str, &Vec<Vec<u8>>); 4] =
        [("text blobs", &blobs), ("tree json", &trees), ("step json", &steps), ("blame json", &blames)];
    for (name, objects) in sets {
        let raw: usize = objects.iter().map(Vec::len).sum();
        println!("levels: {name}: {} objects, {raw} B raw", objects.len());
        for level in [1, 3, 9, 15, 19] {
            let start = Instant::now();
            let packed: Vec<Vec<u8>> =
                objects.iter().map(|o| zstd::bulk::compress(o, level).expect("compress")).collect();
            let took = start.elapsed();
            let size: usize = packed.iter().map(Vec::len).sum();
            let start = Instant::now();
            for (p, o) in packed.iter().zip(objects.iter()) {
                let out = zstd::bulk::decompress(p, o.len()).expect("decompress");
                assert_eq!(out.len(), o.len());
            }
            println!(
                "levels:   level {level:2}: {size:9} B  ratio {:5.2}  compress {:8.1} ms ({:6.1} MB/s)  decompress {:6.1} ms",
                raw as f64 / size as f64,
                ms(took),
                raw as f64 / took.as_secs_f64() / 1e6,
                ms(start.elapsed())
            );
        }
    }

    // Dictionary vs delta for step objects (many small JSON documents).
    let (train, test) = steps.split_at(steps.len() / 2);
    let raw: usize = test.iter().map(Vec::len).sum();
    let plain: usize = test.iter().map(|s| zstd::bulk::compress(s, 19).expect("compress").len()).sum();
    for dict_size in [16 << 10, 64 << 10] {
        let dict = zstd::dict::from_samples(train, dict_size).expect("train");
        let mut c = zstd::bulk::Compressor::with_dictionary(19, &dict).expect("dict");
        let with: usize = test.iter().map(|s| c.compress(s).expect("compress").len()).sum();
        println!(
            "levels: step dict {} KiB: {raw} B raw -> {with} B with dict (+{} B dict) vs {plain} B without ({:+.1}%)",
            dict_size >> 10,
            dict.len(),
            (with as f64 + dict.len() as f64 - plain as f64) / plain as f64 * 100.0
        );
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut prev: Option<ObjectId> = None;
    let hinted: Vec<PackInput> = test
        .iter()
        .map(|s| {
            let i = input(ObjectKind::Step, s.clone(), prev);
            prev = Some(i.id);
            i
        })
        .collect();
    let delta = write_pack_with(&tmp.path().join("d"), hinted, &PackOptions::default()).expect("pack");
    let full = write_pack_with(
        &tmp.path().join("f"),
        test.iter().map(|s| input(ObjectKind::Step, s.clone(), None)),
        &PackOptions::default(),
    )
    .expect("pack");
    let payload = |info: &agit_core::store::pack::PackInfo| info.entries.iter().map(|e| e.packed_len).sum::<u64>();
    println!(
        "levels: step packs (level 19): {} B payload with deltas to the previous step vs {} B without",
        payload(&delta),
        payload(&full)
    );
}

// ---- simulated history -----------------------------------------------------------------

/// A workspace edited by a sequence of agent steps.
struct Sim<'a> {
    corpus: &'a [(String, Vec<u8>)],
    files: Vec<(String, Vec<Vec<u8>>)>,
    /// Per file, the step that last touched each line.
    blame: Vec<Vec<ObjectId>>,
    rng: Rng,
    parent: Option<ObjectId>,
    n: usize,
    per_session: usize,
}

struct StepOut {
    /// `(file index, new bytes)` for each changed file.
    changed: Vec<(usize, Vec<u8>)>,
    tree: Vec<u8>,
    step: Vec<u8>,
    blames: Vec<(usize, Vec<u8>)>,
}

impl<'a> Sim<'a> {
    fn new(corpus: &'a [(String, Vec<u8>)], files: usize, seed: u64) -> Self {
        let files: Vec<(String, Vec<Vec<u8>>)> =
            corpus.iter().take(files).map(|(p, b)| (p.clone(), lines(b))).collect();
        let root = ObjectId::of(b"initial");
        let blame = files.iter().map(|(_, l)| vec![root; l.len()]).collect();
        Sim { corpus, files, blame, rng: Rng(seed), parent: None, n: 0, per_session: 50 }
    }

    fn content(&self, i: usize) -> Vec<u8> {
        self.files[i].1.concat()
    }

    fn tree(&self) -> Vec<u8> {
        Tree::new(
            self.files
                .iter()
                .map(|(p, l)| {
                    let bytes = l.concat();
                    TreeEntry::file(p.clone(), ObjectId::of(&bytes), bytes.len() as u64)
                })
                .collect(),
        )
        .encode()
    }

    fn sentence(&mut self, len: usize) -> String {
        let (_, src) = &self.corpus[self.rng.below(self.corpus.len())];
        let start = self.rng.below(src.len().saturating_sub(len));
        String::from_utf8_lossy(&src[start..(start + len).min(src.len())]).into_owned()
    }

    fn step(&mut self) -> StepOut {
        self.n += 1;
        if self.n % self.per_session == 1 {
            self.parent = None;
        }
        // The step id is only known at the end; blame rows name a placeholder per step.
        let marker = ObjectId::of(format!("step-{}", self.n).as_bytes());
        let mut changed = Vec::new();
        let mut tool_calls = Vec::new();
        for _ in 0..3 {
            let f = self.rng.below(self.files.len());
            let (donor_path, donor) = &self.corpus[self.rng.below(self.corpus.len())];
            let donor_lines = lines(donor);
            let len = self.files[f].1.len();
            let at = self.rng.below(len + 1);
            let del = self.rng.below(4).min(len - at);
            let ins_at = self.rng.below(donor_lines.len());
            let ins: Vec<Vec<u8>> = donor_lines.iter().skip(ins_at).take(1 + self.rng.below(6)).cloned().collect();
            let old: Vec<u8> = self.files[f].1[at..at + del].concat();
            let new: Vec<u8> = ins.concat();
            self.files[f].1.splice(at..at + del, ins.iter().cloned());
            self.blame[f].splice(at..at + del, std::iter::repeat_n(marker, ins.len()));
            let content = self.content(f);
            tool_calls.push(ToolCall {
                tool_name: "Read".into(),
                args: format!("{{\"file_path\":\"/repo/{}\"}}", self.files[f].0),
                result: Some(String::from_utf8_lossy(&content[..content.len().min(3000)]).into_owned()),
            });
            tool_calls.push(ToolCall {
                tool_name: "Edit".into(),
                args: serde_json::json!({
                    "file_path": format!("/repo/{}", self.files[f].0),
                    "old_string": String::from_utf8_lossy(&old),
                    "new_string": String::from_utf8_lossy(&new),
                })
                .to_string(),
                result: Some(format!("The file /repo/{} has been updated (from {donor_path}).", self.files[f].0)),
            });
            changed.push((f, content));
        }
        tool_calls.push(ToolCall {
            tool_name: "Bash".into(),
            args: "{\"command\":\"cargo test --workspace\"}".into(),
            result: Some(format!("running {} tests\ntest result: ok. {} passed; 0 failed", self.n % 90, self.n % 90)),
        });
        let tree = self.tree();
        let prompt = self.sentence(200);
        let answer = self.sentence(600);
        let step = Step {
            parent: self.parent,
            tree: ObjectId::of(&tree),
            session_id: format!("session-{}", self.n / self.per_session),
            origin: "claude".into(),
            model: Some("claude-sonnet-4".into()),
            turn_id: format!("agturn:{}", self.n),
            causes: Vec::new(),
            timestamp: 1_763_700_000_000 + self.n as i64 * 61_000,
            messages: vec![
                Message { role: "user".into(), content: prompt },
                Message { role: "assistant".into(), content: answer },
            ],
            tool_calls,
            outcome: Some("unknown".into()),
            git_commit: None,
            git_branch: Some("main".into()),
            git_dirty: Some(true),
        }
        .encode();
        self.parent = Some(ObjectId::of(&step));
        let mut blames: Vec<(usize, Vec<u8>)> = Vec::new();
        for (f, _) in &changed {
            if blames.iter().any(|(g, _)| g == f) {
                continue;
            }
            let lines = self.blame[*f].iter().map(|s| BlameLine { step: *s }).collect();
            blames.push((*f, Blame { path: self.files[*f].0.clone(), lines }.encode()));
        }
        StepOut { changed, tree, step, blames }
    }
}

fn history(corpus: &[(String, Vec<u8>)], files: usize, steps: usize, git: bool, configs: &str) {
    let mut sim = Sim::new(corpus, files, 0x1234_5678_9abc_def1);
    let files = sim.files.len();
    let mut inputs: Vec<PackInput> = Vec::new();
    let mut by_kind: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut add = |inputs: &mut Vec<PackInput>, kind: ObjectKind, bytes: Vec<u8>, hint: Option<ObjectId>| {
        let e = by_kind.entry(kind.as_str()).or_default();
        e.0 += 1;
        e.1 += bytes.len();
        inputs.push(input(kind, bytes, hint));
    };
    let mut last_blob: Vec<ObjectId> = Vec::new();
    for i in 0..files {
        let bytes = sim.content(i);
        last_blob.push(ObjectId::of(&bytes));
        add(&mut inputs, ObjectKind::Blob, bytes, None);
    }
    let git_dir = tempfile::tempdir().expect("temp dir");
    let work = git_dir.path().join("repo");
    let run_git = |args: &[&str]| {
        let ok = Command::new("git").arg("-C").arg(&work).args(args).output().map(|o| o.status.success());
        assert!(matches!(ok, Ok(true)), "git {args:?} failed");
    };
    if git {
        std::fs::create_dir_all(&work).expect("mkdir");
        run_git(&["init", "-q"]);
        for i in 0..files {
            let p = work.join(&sim.files[i].0);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, sim.content(i)).expect("write");
        }
        run_git(&["add", "-A"]);
        run_git(&["commit", "-q", "-m", "initial"]);
    }
    let mut last_tree = None;
    let mut last_step: Option<ObjectId> = None;
    let mut last_blame: HashMap<usize, ObjectId> = HashMap::new();
    for _ in 0..steps {
        let out = sim.step();
        for (f, bytes) in &out.changed {
            let id = ObjectId::of(bytes);
            let prev = last_blob[*f];
            last_blob[*f] = id;
            add(&mut inputs, ObjectKind::Blob, bytes.clone(), Some(prev));
            if git {
                std::fs::write(work.join(&sim.files[*f].0), bytes).expect("write");
            }
        }
        let tree_id = ObjectId::of(&out.tree);
        add(&mut inputs, ObjectKind::Tree, out.tree, last_tree);
        last_tree = Some(tree_id);
        let step_id = ObjectId::of(&out.step);
        if git {
            let msg = git_dir.path().join("msg");
            std::fs::write(&msg, &out.step).expect("write");
            run_git(&["commit", "-q", "-a", "-F", msg.to_str().expect("utf-8 path")]);
        }
        add(&mut inputs, ObjectKind::Step, out.step, last_step);
        last_step = Some(step_id);
        for (f, bytes) in out.blames {
            let id = ObjectId::of(&bytes);
            let prev = last_blame.insert(f, id);
            add(&mut inputs, ObjectKind::Blame, bytes, prev);
        }
    }
    let raw: usize = inputs.iter().map(|i| i.bytes.len()).sum();
    println!("history: {files} files, {steps} steps, {} objects, {raw} B raw", inputs.len());
    let mut kinds: Vec<_> = by_kind.into_iter().collect();
    kinds.sort();
    for (kind, (n, bytes)) in kinds {
        println!("history:   {kind:<5} {n:6} objects {bytes:11} B");
    }
    // `level:depth` or `level:depth:d` (with a dictionary trained on the first 300 steps).
    let configs: Vec<(i32, u16, bool)> = configs
        .split(',')
        .filter_map(|c| {
            let mut parts = c.split(':');
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next() == Some("d")))
        })
        .collect();
    let start = Instant::now();
    let samples = inputs.iter().filter(|i| i.kind == ObjectKind::Step).take(300).map(|i| i.bytes.as_slice());
    let dictionary = agit_core::store::pack::train_dictionary(samples, 64 << 10).expect("train");
    println!("history: trained a {} B dictionary on 300 steps in {:.0} ms", dictionary.len(), ms(start.elapsed()));
    for (level, depth, dict) in configs {
        let tmp = tempfile::tempdir().expect("temp dir");
        let options = PackOptions {
            level,
            max_depth: depth,
            dictionary: dict.then(|| dictionary.clone()),
            ..PackOptions::default()
        };
        let start = Instant::now();
        let info = write_pack_with(tmp.path(), inputs.iter().cloned(), &options).expect("pack");
        let write = start.elapsed();
        let set = PackSet::open(tmp.path()).expect("open");
        let start = Instant::now();
        let mut slowest = Duration::ZERO;
        for e in &info.entries {
            let t = Instant::now();
            set.get(&e.id).expect("get").expect("present");
            slowest = slowest.max(t.elapsed());
        }
        let read = start.elapsed();
        let mut per_kind: HashMap<&str, u64> = HashMap::new();
        for e in &info.entries {
            *per_kind.entry(e.kind.as_str()).or_default() += e.packed_len + 64;
        }
        let mut per_kind: Vec<_> = per_kind.into_iter().collect();
        per_kind.sort();
        println!(
            "history: level {level:2} depth {depth:2} dict {dict:5}: pack {:9} B + idx {:7} B (ratio {:5.1}), write {:7.0} ms, read all {:6.0} ms (slowest {:5.2} ms) {per_kind:?}",
            info.pack_len,
            info.idx_len,
            raw as f64 / (info.pack_len + info.idx_len) as f64,
            ms(write),
            ms(read),
            ms(slowest)
        );
    }
    if git {
        let start = Instant::now();
        run_git(&["gc", "-q", "--aggressive", "--prune=now"]);
        let gc = start.elapsed();
        let mut size = 0u64;
        let mut stack = vec![work.join(".git/objects")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("read dir").flatten() {
                let m = e.metadata().expect("stat");
                if m.is_dir() {
                    stack.push(e.path());
                } else {
                    size += m.len();
                }
            }
        }
        println!(
            "history: git gc --aggressive ({:.0} ms): .git/objects {size} B (same file history, step JSON as commit messages, no blame)",
            ms(gc)
        );
    }
}
