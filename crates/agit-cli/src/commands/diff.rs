//! `agit diff`: a `git diff`-style unified patch between two recorded snapshots.
//!
//! Also the shared pieces of `show` and `steps`: resolving a step by hash prefix,
//! reading a step's parent tree, per-file content diffs, and the patch, stat and
//! name-only renderers.

use std::io::{self, Write};
use std::path::{Component, Path};

use serde::Serialize;

use agit_core::diff::{
    Change, ChangeCounts, ChangeKind, FileDiffOptions, FilePatch, Hunk, LineKind, PathFilter, TreeDiff, compare_trees,
    diff_change,
};
use agit_core::index::{Index, resolve_prefix};
use agit_core::object::{Step, Tree};
use agit_core::snapshot::rules::max_file_bytes_from_env;
use agit_core::{Error, ObjectId, Store};

use super::filters::RedactionArgs;
use crate::Context;
use crate::output::{CliError, Diagnostic, Report, diagnostic_for};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// One step (compared with its parent), or two steps (from the first to the second).
    #[arg(value_name = "HASH", num_args = 1..=2)]
    pub hashes: Vec<String>,
    /// Compare a whole session: the first step's parent tree to the last step's tree.
    #[arg(long, value_name = "SESSION", conflicts_with = "hashes")]
    pub session: Option<String>,
    /// Lines of context around each change.
    #[arg(short = 'U', long = "unified", value_name = "N", default_value_t = agit_core::diff::DEFAULT_CONTEXT)]
    pub unified: usize,
    /// Show a per-file summary of inserted and deleted lines instead of the patch.
    #[arg(long, conflicts_with = "name_only")]
    pub stat: bool,
    /// Show only the paths of changed files.
    #[arg(long)]
    pub name_only: bool,
    #[command(flatten)]
    pub redaction: RedactionArgs,
    /// Only these paths: files, or directories and everything below them.
    #[arg(last = true, value_name = "PATH")]
    pub paths: Vec<String>,
}

/// One end of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    /// The tree compared (null for the empty baseline).
    tree: Option<String>,
    /// The step whose tree it is (null for the empty baseline).
    step: Option<String>,
}

#[derive(Serialize)]
pub struct DiffReport {
    from: Endpoint,
    to: Endpoint,
    /// `parent_tree`, `empty_tree` or `step_tree`.
    baseline: &'static str,
    origin: Option<String>,
    session_id: Option<String>,
    /// The first path filter, or null (reference field).
    path: Option<String>,
    /// Every path filter, workspace-relative.
    paths: Vec<String>,
    redacted: bool,
    /// Lines of context of the hunks.
    context: usize,
    /// Over the filtered paths, unchanged ones included.
    counts: ChangeCounts,
    /// Changed files of the filtered paths, in path order.
    changes: Vec<FileChange>,
    #[serde(skip)]
    view: View,
    #[serde(skip)]
    warnings: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Patch,
    Stat,
    NameOnly,
}

/// A changed file with its line counts (and hunks, when a patch was asked for).
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    pub kind: ChangeKind,
    pub path: String,
    pub old_blob: Option<String>,
    pub new_blob: Option<String>,
    pub old_size: Option<u64>,
    pub new_size: Option<u64>,
    /// Added lines (null when not diffed: binary or too large).
    pub insertions: Option<usize>,
    /// Removed lines (null when not diffed).
    pub deletions: Option<usize>,
    /// A side has a NUL byte in its first 8 KiB.
    pub binary: bool,
    /// A side is larger than AGIT_MAX_FILE_BYTES.
    pub too_large: bool,
    #[serde(skip)]
    pub hunks: Vec<Hunk>,
}

pub fn run(args: &DiffArgs, ctx: &Context) -> Result<DiffReport, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let filter_paths = workspace_paths(&args.paths, &ctx.cwd, store.workspace())?;
    let filter = PathFilter::new(&filter_paths);
    let (index, mut warnings) = open_index(&store, args.session.is_some())?;
    let ends = match (&args.session, args.hashes.as_slice()) {
        (Some(session), _) => {
            let index = index
                .as_ref()
                .ok_or_else(|| CliError::new(Diagnostic::new("index_unreadable", "The index is unavailable.")))?;
            session_ends(&store, index, session)?
        }
        (None, [one]) => {
            let (id, step) = resolve_step(&store, index.as_ref(), one)?;
            let (from, from_tree) = parent_endpoint(read_parent(&store, &step)?);
            Ends {
                from,
                from_tree,
                to: Endpoint { tree: Some(step.tree.to_hex()), step: Some(id.to_hex()) },
                to_tree: read_tree(&store, &step.tree)?,
                baseline: if step.parent.is_some() { "parent_tree" } else { "empty_tree" },
                origin: None,
                session_id: None,
            }
        }
        (None, [a, b]) => {
            let (a_id, a_step) = resolve_step(&store, index.as_ref(), a)?;
            let (b_id, b_step) = resolve_step(&store, index.as_ref(), b)?;
            Ends {
                from: Endpoint { tree: Some(a_step.tree.to_hex()), step: Some(a_id.to_hex()) },
                from_tree: read_tree(&store, &a_step.tree)?,
                to: Endpoint { tree: Some(b_step.tree.to_hex()), step: Some(b_id.to_hex()) },
                to_tree: read_tree(&store, &b_step.tree)?,
                baseline: "step_tree",
                origin: None,
                session_id: None,
            }
        }
        _ => {
            return Err(CliError::usage("missing_target", "Give a step hash, two step hashes, or --session <id>.")
                .with_hint("Run `agit log` to find step hashes, e.g. `agit diff 3fa9c01b`."));
        }
    };
    for prefix in filter.prefixes() {
        if !PathFilter::prefix_in_tree(prefix, &ends.from_tree) && !PathFilter::prefix_in_tree(prefix, &ends.to_tree) {
            warnings.push(
                Diagnostic::new("path_not_captured", format!("Path `{prefix}` was not captured in this diff."))
                    .path(prefix.clone()),
            );
        }
    }
    let tree_diff = compare_trees(&ends.from_tree, &ends.to_tree).filtered(&filter);
    let detector = args.redaction.detector(&store)?;
    let view = if args.name_only {
        View::NameOnly
    } else if args.stat {
        View::Stat
    } else {
        View::Patch
    };
    let options = FileDiffOptions {
        context: args.unified,
        max_bytes: max_file_bytes_from_env(),
        redact: detector.as_ref(),
        // JSON and --stat need only the counts; the patch needs hunks.
        hunks: view == View::Patch && !ctx.json,
    };
    // Names alone need no blob reads; JSON always carries the line counts.
    let changes = if view == View::NameOnly && !ctx.json {
        tree_diff.changes().map(FileChange::unread).collect()
    } else {
        file_changes(&store, &tree_diff, &options)?
    };
    Ok(DiffReport {
        from: ends.from,
        to: ends.to,
        baseline: ends.baseline,
        origin: ends.origin,
        session_id: ends.session_id,
        path: filter.prefixes().first().cloned(),
        paths: filter.prefixes().to_vec(),
        redacted: detector.is_some(),
        context: args.unified,
        counts: tree_diff.counts(),
        changes,
        view,
        warnings,
    })
}

struct Ends {
    from: Endpoint,
    from_tree: Tree,
    to: Endpoint,
    to_tree: Tree,
    baseline: &'static str,
    origin: Option<String>,
    session_id: Option<String>,
}

/// The parent as the `from` end (null tree and step, and the empty tree, for none).
fn parent_endpoint(parent: Option<Parent>) -> (Endpoint, Tree) {
    match parent {
        Some(p) => (Endpoint { tree: Some(p.tree_id.to_hex()), step: Some(p.step.to_hex()) }, p.tree),
        None => (Endpoint { tree: None, step: None }, Tree::default()),
    }
}

/// `--session`: from the first step's parent tree (or empty) to the last step's tree.
fn session_ends(store: &Store, index: &Index, arg: &str) -> Result<Ends, CliError> {
    let session = index.resolve_session(Some(arg))?;
    let rows = index.session_steps(&session, None)?;
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Err(CliError::new(
            Diagnostic::new(
                "session_has_no_steps",
                format!("Session {}/{} has no steps.", session.origin, session.session_id),
            )
            .hint("Record a turn in this session first, or pick another with `agit sessions`."),
        ));
    };
    let first_id = parse_hash(&first.hash)?;
    let first_step = store.read_step(&first_id).map_err(|e| read_failed("step_read_failed", &first.hash, &e))?;
    let (from, from_tree) = parent_endpoint(read_parent(store, &first_step)?);
    let last_tree = ObjectId::parse(&last.tree_hash).ok_or_else(|| {
        CliError::new(
            Diagnostic::new("invalid_tree_hash", "The index holds an invalid tree hash.").hash(last.tree_hash.clone()),
        )
    })?;
    Ok(Ends {
        from,
        from_tree,
        to: Endpoint { tree: Some(last.tree_hash.clone()), step: Some(last.hash.clone()) },
        to_tree: read_tree(store, &last_tree)?,
        baseline: if first_step.parent.is_some() { "parent_tree" } else { "empty_tree" },
        origin: Some(session.origin),
        session_id: Some(session.session_id),
    })
}

fn parse_hash(hash: &str) -> Result<ObjectId, CliError> {
    ObjectId::parse(hash).ok_or_else(|| {
        CliError::new(Diagnostic::new("invalid_hash", "The index holds an invalid step hash.").hash(hash.to_owned()))
    })
}

/// Open the index for prefix lookups. Hash lookups still work from the objects on disk
/// when the index is unreadable (with a warning); `required` makes that an error.
pub(crate) fn open_index(store: &Store, required: bool) -> Result<(Option<Index>, Vec<Diagnostic>), CliError> {
    match Index::open(store) {
        Ok(index) => Ok((Some(index), Vec::new())),
        Err(e @ Error::IndexUnreadable { .. }) if !required => Ok((None, vec![diagnostic_for(&e)])),
        Err(e) => Err(e.into()),
    }
}

/// Resolve a hash prefix to a step object (`invalid_step_object` when the object is
/// something else).
pub(crate) fn resolve_step(store: &Store, index: Option<&Index>, prefix: &str) -> Result<(ObjectId, Step), CliError> {
    let id = resolve_prefix(store, index, prefix)?;
    match store.read_step(&id) {
        Ok(step) => Ok((id, step)),
        Err(Error::InvalidObject { .. }) => Err(CliError::new(
            Diagnostic::new("invalid_step_object", "Object is not a step.")
                .hint("Pass the hash of a step; `agit log` lists them.")
                .hash(id.to_hex()),
        )),
        Err(e) => Err(e.into()),
    }
}

/// A step's parent step and its tree.
pub(crate) struct Parent {
    pub step: ObjectId,
    pub tree_id: ObjectId,
    pub tree: Tree,
}

/// Read a step's parent and its tree (`None` for a first step).
pub(crate) fn read_parent(store: &Store, step: &Step) -> Result<Option<Parent>, CliError> {
    let Some(parent) = step.parent else { return Ok(None) };
    let parent_step =
        store.read_step(&parent).map_err(|e| read_failed("parent_step_read_failed", &parent.to_hex(), &e))?;
    let tree = read_tree(store, &parent_step.tree)?;
    Ok(Some(Parent { step: parent, tree_id: parent_step.tree, tree }))
}

/// Read a tree (`tree_read_failed` on any error).
pub(crate) fn read_tree(store: &Store, id: &ObjectId) -> Result<Tree, CliError> {
    store.read_tree(id).map_err(|e| read_failed("tree_read_failed", &id.to_hex(), &e))
}

fn read_failed(code: &str, hash: &str, error: &Error) -> CliError {
    let base = diagnostic_for(error);
    CliError::new(Diagnostic {
        code: code.to_owned(),
        message: format!("Cannot read object {hash}: {}", base.message),
        hint: Some("Run `agit fsck` to check the store.".to_owned()),
        hash: Some(hash.to_owned()),
        ..base
    })
}

impl FileChange {
    /// The entry without its contents read (no counts).
    fn unread(change: &Change) -> FileChange {
        FileChange {
            kind: change.kind,
            path: change.path.clone(),
            old_blob: change.old_blob().map(|b| b.to_hex()),
            new_blob: change.new_blob().map(|b| b.to_hex()),
            old_size: change.old_size(),
            new_size: change.new_size(),
            insertions: None,
            deletions: None,
            binary: false,
            too_large: false,
            hunks: Vec::new(),
        }
    }
}

/// Per-file content diffs of the changed entries of `diff`.
pub(crate) fn file_changes(
    store: &Store,
    diff: &TreeDiff,
    options: &FileDiffOptions<'_>,
) -> Result<Vec<FileChange>, CliError> {
    let mut out = Vec::new();
    for change in diff.changes() {
        let patch = diff_change(store, change, options).map_err(|e| {
            let blob = change.new_blob().or(change.old_blob()).map(|b| b.to_hex()).unwrap_or_default();
            let mut err = read_failed("blob_read_failed", &blob, &e);
            err.diagnostic.path = Some(change.path.clone());
            err
        })?;
        let (insertions, deletions, binary, too_large, hunks) = match patch {
            FilePatch::Text(d) => (Some(d.insertions), Some(d.deletions), false, false, d.hunks),
            FilePatch::Binary => (None, None, true, false, Vec::new()),
            FilePatch::TooLarge { .. } => (None, None, false, true, Vec::new()),
        };
        out.push(FileChange { insertions, deletions, binary, too_large, hunks, ..FileChange::unread(change) });
    }
    Ok(out)
}

/// Path arguments as workspace-relative paths: relative ones are taken from the current
/// directory (as git does), absolute ones must lie inside the workspace.
pub(crate) fn workspace_paths(args: &[String], cwd: &Path, workspace: &Path) -> Result<Vec<String>, CliError> {
    let base: Vec<String> = match cwd.strip_prefix(workspace) {
        Ok(rel) => rel.components().filter_map(|c| c.as_os_str().to_str().map(str::to_owned)).collect(),
        Err(_) => Vec::new(),
    };
    args.iter()
        .map(|arg| {
            let path = Path::new(arg);
            let mut parts: Vec<String> = if path.is_absolute() { Vec::new() } else { base.clone() };
            let rel = if path.is_absolute() { path.strip_prefix(workspace).map_err(|_| outside(arg))? } else { path };
            for component in rel.components() {
                match component {
                    Component::Normal(name) => parts.push(name.to_string_lossy().into_owned()),
                    Component::ParentDir => {
                        parts.pop().ok_or_else(|| outside(arg))?;
                    }
                    _ => {}
                }
            }
            Ok(parts.join("/"))
        })
        .collect()
}

fn outside(arg: &str) -> CliError {
    CliError::usage("invalid_argument", format!("Path `{arg}` is outside the recorded workspace."))
        .with_hint("Paths are taken from the current directory and must lie inside the workspace.")
}

impl Report for DiffReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if self.changes.is_empty() {
            return writeln!(out, "No file changes captured in this diff.");
        }
        match self.view {
            View::Patch => write_patch(out, style, &self.changes),
            View::Stat => write_stat(out, style, &self.changes),
            View::NameOnly => {
                for change in &self.changes {
                    writeln!(out, "{}", change.path)?;
                }
                Ok(())
            }
        }
    }

    fn warnings(&self) -> Vec<Diagnostic> {
        self.warnings.clone()
    }
}

/// The mode git shows for the (only) tree mode, `file`.
const GIT_FILE_MODE: &str = "100644";

/// The changes as a `git diff` patch (`git apply` accepts the text files' parts).
pub(crate) fn write_patch(out: &mut dyn Write, style: &Style, changes: &[FileChange]) -> io::Result<()> {
    for change in changes {
        let text_unchanged = !change.binary && !change.too_large && change.hunks.is_empty();
        // A modified entry whose text is equal (same bytes at another recorded size, or a
        // change hidden by redaction) has nothing to patch.
        if text_unchanged && change.kind == ChangeKind::Modified {
            continue;
        }
        let a = quote_path("a/", &change.path);
        let b = quote_path("b/", &change.path);
        let header = |out: &mut dyn Write, line: String| writeln!(out, "{}", style.bold(&line));
        header(out, format!("diff --git {a} {b}"))?;
        let short = |blob: &Option<String>| blob.as_deref().map_or("000000000000".to_owned(), |h| h[..12].to_owned());
        let index = format!("index {}..{}", short(&change.old_blob), short(&change.new_blob));
        match change.kind {
            ChangeKind::Added => {
                header(out, format!("new file mode {GIT_FILE_MODE}"))?;
                header(out, index)?;
            }
            ChangeKind::Deleted => {
                header(out, format!("deleted file mode {GIT_FILE_MODE}"))?;
                header(out, index)?;
            }
            _ => header(out, format!("{index} {GIT_FILE_MODE}"))?,
        }
        let old_name = if change.kind == ChangeKind::Added { "/dev/null".to_owned() } else { a.clone() };
        let new_name = if change.kind == ChangeKind::Deleted { "/dev/null".to_owned() } else { b.clone() };
        if change.binary {
            writeln!(out, "Binary files {old_name} and {new_name} differ")?;
            continue;
        }
        if change.too_large {
            let size = change.old_size.unwrap_or(0).max(change.new_size.unwrap_or(0));
            writeln!(
                out,
                "Large files {old_name} and {new_name} differ ({size} bytes; over the AGIT_MAX_FILE_BYTES limit of {})",
                max_file_bytes_from_env()
            )?;
            continue;
        }
        if change.hunks.is_empty() {
            // An added or deleted empty file: git writes no ---/+++ lines either.
            continue;
        }
        header(out, format!("--- {}", tab_if_space(&old_name)))?;
        header(out, format!("+++ {}", tab_if_space(&new_name)))?;
        write_hunks(out, style, &change.hunks)?;
    }
    Ok(())
}

/// git ends a `---`/`+++` name containing a space with a tab, so it can tell where the
/// name ends.
fn tab_if_space(name: &str) -> String {
    if name.contains(' ') { format!("{name}\t") } else { name.to_owned() }
}

fn write_hunks(out: &mut dyn Write, style: &Style, hunks: &[Hunk]) -> io::Result<()> {
    for hunk in hunks {
        writeln!(out, "{}", style.meta(&hunk.header()))?;
        for line in &hunk.lines {
            let mut bytes = Vec::with_capacity(line.text.len() + 1);
            bytes.push(line.kind.prefix());
            bytes.extend_from_slice(&line.text);
            if style.color {
                let text = String::from_utf8_lossy(&bytes);
                let painted = match line.kind {
                    LineKind::Added => style.added(&text),
                    LineKind::Removed => style.removed(&text),
                    LineKind::Context => text.into_owned(),
                };
                out.write_all(painted.as_bytes())?;
            } else {
                // Raw bytes: a patch must reproduce the file exactly (CR, non-UTF-8).
                out.write_all(&bytes)?;
            }
            out.write_all(b"\n")?;
            if line.no_newline {
                writeln!(out, "{}", style.dim(agit_core::diff::text::NO_NEWLINE_MARKER))?;
            }
        }
    }
    Ok(())
}

/// `git diff --stat`: one line per file, then the totals.
pub(crate) fn write_stat(out: &mut dyn Write, style: &Style, changes: &[FileChange]) -> io::Result<()> {
    const MAX_BAR: usize = 50;
    let name_width = changes.iter().map(|c| c.path.chars().count()).max().unwrap_or(0);
    let total = |c: &FileChange| c.insertions.unwrap_or(0) + c.deletions.unwrap_or(0);
    let max_total = changes.iter().map(total).max().unwrap_or(0);
    let number_width = max_total.to_string().len();
    let (mut insertions, mut deletions) = (0, 0);
    for change in changes {
        let pad = name_width - change.path.chars().count();
        write!(out, " {}{} | ", change.path, " ".repeat(pad))?;
        if change.binary {
            let size = |s: Option<u64>| s.unwrap_or(0);
            writeln!(out, "Bin {} -> {} bytes", size(change.old_size), size(change.new_size))?;
            continue;
        }
        if change.too_large {
            writeln!(out, "not diffed (over the AGIT_MAX_FILE_BYTES limit)")?;
            continue;
        }
        let (ins, del) = (change.insertions.unwrap_or(0), change.deletions.unwrap_or(0));
        insertions += ins;
        deletions += del;
        // Scale like git: every non-zero count gets at least one mark.
        let scale = |n: usize| {
            if max_total <= MAX_BAR || n == 0 { n } else { 1 + n * (MAX_BAR - 1) / max_total }
        };
        let bar = if ins + del == 0 {
            String::new()
        } else {
            format!(" {}{}", style.added(&"+".repeat(scale(ins))), style.removed(&"-".repeat(scale(del))))
        };
        writeln!(out, "{:>number_width$}{bar}", ins + del)?;
    }
    let files = changes.len();
    let mut summary = format!(" {files} file{} changed", if files == 1 { "" } else { "s" });
    if insertions > 0 || deletions == 0 {
        summary.push_str(&format!(", {insertions} insertion{}(+)", if insertions == 1 { "" } else { "s" }));
    }
    if deletions > 0 || insertions == 0 {
        summary.push_str(&format!(", {deletions} deletion{}(-)", if deletions == 1 { "" } else { "s" }));
    }
    writeln!(out, "{summary}")
}

/// `prefix` + `path`, C-quoted the way git quotes names with a quote, backslash or
/// control character (other bytes, UTF-8 included, are written as they are).
fn quote_path(prefix: &str, path: &str) -> String {
    let needs = path.bytes().any(|b| b < 0x20 || b == 0x7f || b == b'"' || b == b'\\');
    if !needs {
        return format!("{prefix}{path}");
    }
    let mut out = String::from("\"");
    out.push_str(prefix);
    for ch in path.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0b' => out.push_str("\\v"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\{:03o}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_like_git() {
        assert_eq!(quote_path("a/", "src/main.rs"), "a/src/main.rs");
        assert_eq!(quote_path("a/", "with space"), "a/with space");
        assert_eq!(quote_path("b/", "tab\there"), "\"b/tab\\there\"");
        assert_eq!(quote_path("a/", "q\"b\\"), "\"a/q\\\"b\\\\\"");
        assert_eq!(quote_path("a/", "\x01"), "\"a/\\001\"");
        assert_eq!(quote_path("a/", "héllo"), "a/héllo");
        assert_eq!(tab_if_space("a/x y"), "a/x y\t");
    }

    #[test]
    fn path_arguments_are_workspace_relative() {
        let ws = Path::new("/w");
        let paths = |args: &[&str], cwd: &str| {
            workspace_paths(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), Path::new(cwd), ws)
        };
        assert_eq!(paths(&["src", "./a/../b/"], "/w").unwrap(), ["src", "b"]);
        assert_eq!(paths(&["x.rs", "..", "/w/top"], "/w/src").unwrap(), ["src/x.rs", "", "top"]);
        assert_eq!(paths(&["../.."], "/w/src").unwrap_err().diagnostic.code, "invalid_argument");
        assert_eq!(paths(&["/elsewhere"], "/w").unwrap_err().exit, 2);
    }
}
