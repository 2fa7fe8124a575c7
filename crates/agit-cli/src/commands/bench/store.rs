//! Store-size budget (DECISIONS §5): after `agit gc`, a 1,000-step history takes at most
//! 1.2× the `.git` of the same history after `git gc --aggressive`.
//!
//! A generated source tree (code-like text, file sizes like real source trees) is edited
//! a few files per step, and each step is recorded by the real recorder into a workspace
//! without git: the prompt, the tool calls an agent makes (read the first file, as
//! numbered lines; one edit per file; `cargo test` and its output), the answer; then
//! snapshot, step and blame. The same history goes into git through `git fast-import`:
//! one commit per step with the same file contents and the step object's exact JSON as
//! the commit message, so both sides hold the same information (agit also holds blame
//! objects, which git computes on demand). Then `agit gc` and
//! `git gc --aggressive --prune=now` run as processes.
//!
//! The budget line compares the object stores: `.agit/objects` and `refs` against
//! `.git/objects`, `refs` and `packed-refs`. A second line compares the whole
//! directories, where `.agit` includes its rebuildable query index (full-text search over
//! messages and file contents).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::Serialize;

use agit_capture::event::{EventKind, ToolCall};
use agit_capture::recorder::{RecordOutcome, Recorder, TurnEvent};
use agit_core::{Error, Store};

use crate::output::{CliError, Diagnostic};

/// Store size may be at most this multiple of git's.
const BUDGET: f64 = 1.2;

/// One size comparison.
#[derive(Debug, Clone, Serialize)]
pub struct SizeLine {
    pub name: String,
    /// Our size in bytes.
    pub ours_bytes: u64,
    /// The peer's size in bytes.
    pub peer_bytes: u64,
    pub peer: String,
    /// ours / peer.
    pub ratio: f64,
    /// `ratio <= 1.2`, or `none` for an informational line.
    pub budget: String,
    pub within_budget: bool,
    pub detail: String,
}

/// xorshift64*: deterministic, so runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words.get(self.below(words.len())).copied().unwrap_or("x")
    }
}

const NOUNS: [&str; 24] = [
    "header", "token", "session", "buffer", "config", "record", "index", "cursor", "payload", "schema", "entry",
    "request", "response", "cache", "digest", "parser", "writer", "reader", "limit", "offset", "window", "range",
    "table", "column",
];
const VERBS: [&str; 16] = [
    "parse", "load", "store", "encode", "decode", "merge", "split", "verify", "render", "flush", "open", "close",
    "resolve", "update", "insert", "remove",
];
const TYPES: [&str; 10] =
    ["u64", "usize", "String", "&str", "Vec<u8>", "bool", "Option<u32>", "i64", "Header", "Entry"];

/// A function of 4–9 lines of plausible Rust.
fn function(rng: &mut Rng, serial: usize) -> String {
    let (verb, noun, other) = (rng.pick(&VERBS), rng.pick(&NOUNS), rng.pick(&NOUNS));
    let (t1, t2) = (rng.pick(&TYPES), rng.pick(&TYPES));
    let mut text = format!("pub fn {verb}_{noun}_{serial}({other}: {t1}, limit: usize) -> Result<{t2}, Error> {{\n");
    for _ in 0..2 + rng.below(5) {
        let line = match rng.below(5) {
            0 => format!("    let {noun} = {other}.{}()?;\n", rng.pick(&VERBS)),
            1 => format!(
                "    if {noun}.len() > limit {{ return Err(Error::{}({})); }}\n",
                rng.pick(&NOUNS),
                rng.below(1000)
            ),
            2 => format!("    // {} the {} before the {}\n", rng.pick(&VERBS), rng.pick(&NOUNS), rng.pick(&NOUNS)),
            3 => format!("    let {} = {}::new({noun}, {});\n", rng.pick(&NOUNS), rng.pick(&TYPES), rng.below(4096)),
            _ => format!("    self.{}.{}(&{noun});\n", rng.pick(&NOUNS), rng.pick(&VERBS)),
        };
        text.push_str(&line);
    }
    text.push_str(&format!("    Ok({noun}.into())\n}}\n\n"));
    text
}

/// The generated tree: path → content. Sizes follow real source trees: this repository's
/// `.rs` files have a median of 7.3 KB and a mean of 9.3 KB, crates.io sources 4 KB and
/// 16 KB (a long tail); here 6–36 functions per file, one file in seven four times that,
/// and a test module in half of them.
fn initial_tree(rng: &mut Rng, files: usize) -> BTreeMap<String, String> {
    let mut tree = BTreeMap::new();
    for i in 0..files {
        let path = format!("src/{}/{}_{i}.rs", rng.pick(&NOUNS), rng.pick(&VERBS));
        let mut text = format!("//! {} {} module.\n", rng.pick(&VERBS), rng.pick(&NOUNS));
        for _ in 0..2 + rng.below(8) {
            text.push_str(&format!(
                "//! The {} keeps its {} within the {}.\n",
                rng.pick(&NOUNS),
                rng.pick(&NOUNS),
                rng.pick(&NOUNS)
            ));
        }
        text.push_str("\nuse crate::error::Error;\n\n");
        let mut functions = 6 + rng.below(31);
        if rng.below(7) == 0 {
            functions *= 4;
        }
        for f in 0..functions {
            text.push_str(&function(rng, i * 1000 + f));
        }
        if rng.below(2) == 0 {
            text.push_str("#[cfg(test)]\nmod tests {\n    use super::*;\n\n");
            for t in 0..1 + rng.below(4) {
                let (verb, noun) = (rng.pick(&VERBS), rng.pick(&NOUNS));
                text.push_str(&format!(
                    "    #[test]\n    fn {verb}s_{noun}_{t}() {{\n        assert_eq!({verb}_{noun}(\"{}\", {}).unwrap(), {});\n    }}\n\n",
                    rng.pick(&NOUNS),
                    rng.below(64),
                    rng.below(9999)
                ));
            }
            text.push_str("}\n");
        }
        tree.insert(path, text);
    }
    tree
}

/// Edit one file the way an agent does: change a line, add a function, or drop a line.
/// Returns (old line, new line) for the Edit tool call.
fn edit(rng: &mut Rng, text: &mut String, step: usize) -> (String, String) {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let at = 4 + rng.below(lines.len().saturating_sub(4).max(1));
    let old = lines.get(at).cloned().unwrap_or_default();
    let new = match rng.below(4) {
        0 | 1 => {
            let new = format!("    let {} = {}; // step {step}", rng.pick(&NOUNS), rng.below(100_000));
            if at < lines.len() {
                lines[at] = new.clone();
            } else {
                lines.push(new.clone());
            }
            new
        }
        2 => {
            let f = function(rng, 1_000_000 + step);
            lines.insert(at.min(lines.len()), f.trim_end().to_owned());
            f
        }
        _ => {
            if at < lines.len() && lines.len() > 30 {
                lines.remove(at);
            }
            String::new()
        }
    };
    *text = lines.join("\n") + "\n";
    (old, new)
}

pub fn run(base: &Path, quick: bool) -> Result<Vec<SizeLine>, CliError> {
    let (steps, files) = if quick { (200, 200) } else { (1_000, 500) };
    let exe = std::env::current_exe().map_err(|e| Error::io("locate", "agit", e))?;
    let ws = base.join("store-agit");
    let git_dir = base.join("store-git");
    for dir in [&ws, &git_dir] {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    }
    let mut rng = Rng(0x005e_ed0f_a917);
    let mut tree = initial_tree(&mut rng, files);
    write_tree(&ws, &tree, tree.keys())?;
    let (store, _) = Store::init(&ws)?;
    let recorder = Recorder::open(store.clone())?;

    let mut fast_import = Vec::new();
    let record_start = Instant::now();
    let paths: Vec<String> = tree.keys().cloned().collect();
    for step in 0..steps {
        // A few hot files get most edits, as in a real project.
        let mut changed = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let i = if rng.below(3) == 0 { rng.below(paths.len()) } else { rng.below(paths.len().min(25)) };
            if let Some(path) = paths.get(i)
                && !changed.contains(path)
            {
                changed.push(path.clone());
            }
        }
        // As agents do: read the file first (Claude's Read shows numbered lines, up to
        // 2,000 of them), edit, run the tests.
        let mut calls = Vec::new();
        if let Some(text) = changed.first().and_then(|p| tree.get(p)) {
            let numbered: String =
                text.lines().take(2000).enumerate().map(|(n, l)| format!("{:>6}\t{l}\n", n + 1)).collect();
            let args = serde_json::json!({"file_path": changed.first()});
            calls.push(ToolCall { tool_name: "Read".into(), args: args.to_string(), result: numbered });
        }
        for path in &changed {
            if let Some(text) = tree.get_mut(path) {
                let (old, new) = edit(&mut rng, text, step);
                let args = serde_json::json!({"file_path": path, "old_string": old, "new_string": new});
                calls.push(ToolCall { tool_name: "Edit".into(), args: args.to_string(), result: "ok".into() });
            }
        }
        let passed = 40 + rng.below(200);
        let mut output =
            format!("   Compiling bench v0.1.0\n    Finished test profile in {}.{}s\n", rng.below(40), rng.below(99));
        output.push_str(&format!("\nrunning {passed} tests\n"));
        for _ in 0..5 + rng.below(20) {
            output.push_str(&format!(
                "test {}::tests::{}s_{} ... ok\n",
                rng.pick(&NOUNS),
                rng.pick(&VERBS),
                rng.pick(&NOUNS)
            ));
        }
        output.push_str(&format!("\ntest result: ok. {passed} passed; 0 failed; finished in 0.{}s\n", rng.below(99)));
        calls.push(ToolCall { tool_name: "Bash".into(), args: r#"{"command":"cargo test"}"#.into(), result: output });
        write_tree(&ws, &tree, changed.iter())?;
        let noun = rng.pick(&NOUNS);
        let prompt = format!("Make the {noun} handling in {} stricter and keep the tests green", changed.join(", "));
        let answer = format!(
            "Updated {} file(s): the {noun} checks now reject oversized input before the {} is {}d, and the error names the {} that failed. `cargo test` passes ({passed} tests).",
            changed.len(),
            rng.pick(&NOUNS),
            rng.pick(&VERBS),
            rng.pick(&NOUNS)
        );
        let step_id = record_turn(&recorder, step, &prompt, calls, &answer)?;
        let step_bytes = store.read_object(&step_id)?;
        commit(&mut fast_import, step, &tree, if step == 0 { None } else { Some(&changed) }, &step_bytes);
    }
    let record_time = record_start.elapsed();

    super::capture::git(&git_dir, &["init", "-q"])?;
    import(&git_dir, &fast_import)?;
    let gc_start = Instant::now();
    super::capture::run_ok(Command::new(&exe).args(["gc", "--grace", "0"]).current_dir(&ws))?;
    let agit_gc = gc_start.elapsed();
    let gc_start = Instant::now();
    super::capture::git(&git_dir, &["gc", "-q", "--aggressive", "--prune=now"])?;
    let git_gc = gc_start.elapsed();

    let agit_root = ws.join(".agit");
    let git_root = git_dir.join(".git");
    let ours_store = dir_size(&agit_root.join("objects"))? + dir_size(&agit_root.join("refs"))?;
    let peer_store = dir_size(&git_root.join("objects"))?
        + dir_size(&git_root.join("refs"))?
        + std::fs::metadata(git_root.join("packed-refs")).map_or(0, |m| m.len());
    let ours_all = dir_size(&agit_root)?;
    let peer_all = dir_size(&git_root)?;
    let index_db = std::fs::metadata(agit_root.join("index.db")).map_or(0, |m| m.len());
    let detail = format!(
        "{steps} steps over {files} files ({} recorded in {:.1} s); agit gc {:.1} s, git gc --aggressive {:.1} s",
        raw_size(&tree),
        record_time.as_secs_f64(),
        agit_gc.as_secs_f64(),
        git_gc.as_secs_f64()
    );
    let line = |name: String, ours: u64, peer: u64, peer_name: &str, budget: bool, detail: String| {
        let ratio = if peer > 0 { ours as f64 / peer as f64 } else { f64::INFINITY };
        SizeLine {
            name,
            ours_bytes: ours,
            peer_bytes: peer,
            peer: peer_name.to_owned(),
            ratio,
            budget: if budget { format!("ratio <= {BUDGET}") } else { "none".into() },
            within_budget: !budget || ratio <= BUDGET,
            detail,
        }
    };
    Ok(vec![
        line(
            format!("store after gc, {steps} steps (objects + refs)"),
            ours_store,
            peer_store,
            ".git objects + refs after git gc --aggressive",
            true,
            detail,
        ),
        line(
            format!("whole .agit vs whole .git, {steps} steps"),
            ours_all,
            peer_all,
            ".git after git gc --aggressive",
            false,
            format!("informational: .agit includes index.db ({index_db} B), a rebuildable search cache"),
        ),
    ])
}

/// Record one turn (prompt, tool calls, stop) with the real recorder; returns the step.
fn record_turn(
    recorder: &Recorder,
    step: usize,
    prompt: &str,
    calls: Vec<ToolCall>,
    answer: &str,
) -> Result<agit_core::ObjectId, CliError> {
    let turn = format!("bench-turn-{step}");
    let prompt_kind = EventKind::UserPrompt { prompt: prompt.to_owned() };
    let tool_kind = EventKind::ToolUse { calls };
    let stop_kind = EventKind::Stop { assistant_text: answer.to_owned() };
    let mut last = None;
    for (kind, event_name) in [(&prompt_kind, "UserPromptSubmit"), (&tool_kind, "PostToolUse"), (&stop_kind, "Stop")] {
        last = Some(recorder.record(&TurnEvent {
            agent: "codex-hook",
            origin: "codex",
            session_id: "bench-store",
            event_name,
            preferred_turn_id: Some(&turn),
            model: Some("gpt-bench"),
            kind,
            source: None,
        })?);
    }
    match last {
        Some(RecordOutcome::Finalized(done)) => Ok(done.step),
        other => {
            Err(CliError::new(Diagnostic::new("bench_failed", format!("turn {step} was not recorded: {other:?}"))))
        }
    }
}

fn write_tree<'a>(
    root: &Path,
    tree: &BTreeMap<String, String>,
    paths: impl Iterator<Item = &'a String>,
) -> Result<(), CliError> {
    for path in paths {
        let target = root.join(path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        }
        let text = tree.get(path).map(String::as_str).unwrap_or_default();
        std::fs::write(&target, text).map_err(|e| Error::io("write", &target, e))?;
    }
    Ok(())
}

/// Append one commit to a `git fast-import` stream: the changed files (all on the first
/// commit) and the step's JSON as the message.
fn commit(out: &mut Vec<u8>, step: usize, tree: &BTreeMap<String, String>, changed: Option<&[String]>, message: &[u8]) {
    let mark = step + 1;
    let _ = write!(
        out,
        "commit refs/heads/main\nmark :{mark}\ncommitter bench <bench@example.invalid> {} +0000\n",
        1_700_000_000 + step
    );
    let _ = writeln!(out, "data {}", message.len());
    out.extend_from_slice(message);
    out.push(b'\n');
    if step > 0 {
        let _ = writeln!(out, "from :{step}");
    }
    let paths: Vec<&String> = match changed {
        Some(changed) => changed.iter().collect(),
        None => tree.keys().collect(),
    };
    for path in paths {
        let text = tree.get(path).map(String::as_str).unwrap_or_default();
        let _ = write!(out, "M 100644 inline {path}\ndata {}\n{text}\n", text.len());
    }
    out.push(b'\n');
}

fn import(git_dir: &Path, stream: &[u8]) -> Result<(), CliError> {
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(git_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io("spawn", "git fast-import", e))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(stream).map_err(|e| Error::io("write", "git fast-import", e))?;
    }
    let out = child.wait_with_output().map_err(|e| Error::io("wait", "git fast-import", e))?;
    if !out.status.success() {
        return Err(CliError::new(Diagnostic::new(
            "bench_failed",
            format!("git fast-import failed: {}", String::from_utf8_lossy(&out.stderr).trim()),
        )));
    }
    super::capture::git(git_dir, &["reset", "-q", "--hard", "main"])
}

fn raw_size(tree: &BTreeMap<String, String>) -> String {
    let bytes: usize = tree.values().map(String::len).sum();
    format!("tree now {:.1} MB", bytes as f64 / 1e6)
}

/// Apparent size of every file under `dir`.
fn dir_size(dir: &Path) -> Result<u64, CliError> {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("list", &d, e).into()),
        };
        for entry in entries.flatten() {
            let meta = entry.metadata().map_err(|e| Error::io("stat", entry.path(), e))?;
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    Ok(total)
}
