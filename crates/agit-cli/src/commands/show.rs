//! `agit show <hash>`: one step — prompt, answer, tool calls, and optionally its files,
//! change summary and patch against its parent.

use std::io::{self, Write};

use serde::Serialize;

use agit_core::Store;
use agit_core::diff::{ChangeCounts, ChangeKind, FileDiffOptions, compare_trees};
use agit_core::object::{Cause, Message, Step, ToolCall, Tree, TreeEntry};
use agit_core::privacy::redact_step;
use agit_core::snapshot::rules::max_file_bytes_from_env;

use super::diff::{
    FileChange, file_changes, open_index, read_parent, read_tree, resolve_step, write_patch, write_stat,
};
use super::filters::RedactionArgs;
use super::step_line::short;
use crate::Context;
use crate::output::{CliError, Diagnostic, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Step hash or unique prefix.
    #[arg(value_name = "HASH")]
    pub hash: String,
    /// List the files of the step's snapshot.
    #[arg(long)]
    pub files: bool,
    /// Summarize the changes against the parent step (inserted and deleted lines per file).
    #[arg(long)]
    pub stat: bool,
    /// Append the unified diff against the parent step.
    #[arg(long, short = 'p')]
    pub patch: bool,
    /// Show messages, tool arguments and results in full instead of trimmed.
    #[arg(long)]
    pub full_output: bool,
    #[command(flatten)]
    pub redaction: RedactionArgs,
}

/// At most this many lines of one text are shown without `--full-output`.
const TRIM_LINES: usize = 20;
/// At most this many bytes of one text are shown without `--full-output`.
const TRIM_BYTES: usize = 2048;

#[derive(Serialize)]
pub struct ShowReport {
    hash: String,
    /// The full step object (texts redacted when redaction is on).
    step: StepJson,
    /// The snapshot's entries with `--files`, else null.
    files: Option<Vec<TreeEntry>>,
    /// The change summary against the parent with `--stat`, else null.
    stat: Option<Stat>,
    /// The unified diff against the parent with `--patch`, else null.
    patch: Option<String>,
    #[serde(skip)]
    redacted: bool,
    #[serde(skip)]
    full_output: bool,
    #[serde(skip)]
    changes: Option<Vec<FileChange>>,
    #[serde(skip)]
    warnings: Vec<Diagnostic>,
}

#[derive(Serialize)]
struct Stat {
    counts: ChangeCounts,
    changed_paths: Vec<ChangedPath>,
}

#[derive(Serialize)]
struct ChangedPath {
    kind: ChangeKind,
    path: String,
    insertions: Option<usize>,
    deletions: Option<usize>,
    binary: bool,
    too_large: bool,
}

/// A step in its wire shape (all 15 keys, in order; nulls emitted).
#[derive(Debug, Clone, Serialize)]
pub struct StepJson {
    #[serde(rename = "type")]
    tag: &'static str,
    parent: Option<String>,
    tree: String,
    session_id: String,
    origin: String,
    model: Option<String>,
    turn_id: String,
    causes: Vec<Cause>,
    timestamp: i64,
    messages: Vec<Message>,
    tool_calls: Vec<ToolCall>,
    outcome: Option<String>,
    git_commit: Option<String>,
    git_branch: Option<String>,
    git_dirty: Option<bool>,
}

impl From<Step> for StepJson {
    fn from(s: Step) -> Self {
        StepJson {
            tag: "step",
            parent: s.parent.map(|p| p.to_hex()),
            tree: s.tree.to_hex(),
            session_id: s.session_id,
            origin: s.origin,
            model: s.model,
            turn_id: s.turn_id,
            causes: s.causes,
            timestamp: s.timestamp,
            messages: s.messages,
            tool_calls: s.tool_calls,
            outcome: s.outcome,
            git_commit: s.git_commit,
            git_branch: s.git_branch,
            git_dirty: s.git_dirty,
        }
    }
}

pub fn run(args: &ShowArgs, ctx: &Context) -> Result<ShowReport, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let (index, warnings) = open_index(&store, false)?;
    let (id, step) = resolve_step(&store, index.as_ref(), &args.hash)?;
    let detector = args.redaction.detector(&store)?;
    let files = if args.files { Some(read_tree(&store, &step.tree)?.entries) } else { None };
    let (mut stat, mut changes, mut patch) = (None, None, None);
    if args.stat || args.patch {
        let parent = read_parent(&store, &step)?.map(|p| p.tree).unwrap_or_default();
        let tree: Tree = read_tree(&store, &step.tree)?;
        let tree_diff = compare_trees(&parent, &tree);
        let options = FileDiffOptions {
            context: agit_core::diff::DEFAULT_CONTEXT,
            max_bytes: max_file_bytes_from_env(),
            redact: detector.as_ref(),
            hunks: args.patch,
        };
        let diffed = file_changes(&store, &tree_diff, &options)?;
        if args.stat {
            stat = Some(Stat {
                counts: tree_diff.counts(),
                changed_paths: diffed
                    .iter()
                    .map(|c| ChangedPath {
                        kind: c.kind,
                        path: c.path.clone(),
                        insertions: c.insertions,
                        deletions: c.deletions,
                        binary: c.binary,
                        too_large: c.too_large,
                    })
                    .collect(),
            });
        }
        if args.patch {
            let mut text = Vec::new();
            write_patch(&mut text, &Style::default(), &diffed).map_err(|e| {
                CliError::new(Diagnostic::new("output_failed", format!("cannot render the patch: {e}")))
            })?;
            patch = Some(String::from_utf8_lossy(&text).into_owned());
        }
        changes = Some(diffed);
    }
    let shown = match &detector {
        Some(d) => redact_step(&step, d),
        None => step,
    };
    Ok(ShowReport {
        hash: id.to_hex(),
        step: shown.into(),
        files,
        stat,
        patch,
        redacted: detector.is_some(),
        full_output: args.full_output,
        changes: if args.stat || args.patch { changes } else { None },
        warnings,
    })
}

/// `text` cut to [`TRIM_LINES`] lines and [`TRIM_BYTES`] bytes, with what was left out.
fn trim(text: &str, full: bool) -> (&str, Option<String>) {
    if full {
        return (text, None);
    }
    let mut end = text.len();
    if let Some((i, _)) = text.match_indices('\n').nth(TRIM_LINES - 1) {
        end = i;
    }
    let mut mid_line = false;
    if end > TRIM_BYTES {
        end = TRIM_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        mid_line = !text[end..].starts_with('\n');
    }
    let rest = text[end..].strip_prefix('\n').unwrap_or(&text[end..]);
    if rest.is_empty() {
        return (text.trim_end_matches('\n'), None);
    }
    let note = if mid_line {
        format!("… {} more bytes (use --full-output)", text.len() - end)
    } else {
        let lines = rest.lines().count();
        format!("… {lines} more line{} (use --full-output)", if lines == 1 { "" } else { "s" })
    };
    (&text[..end], Some(note))
}

impl ShowReport {
    fn block(&self, out: &mut dyn Write, style: &Style, indent: &str, text: &str) -> io::Result<()> {
        if text.is_empty() {
            return writeln!(out, "{indent}{}", style.dim("(empty)"));
        }
        let (shown, note) = trim(text, self.full_output);
        for line in shown.split('\n') {
            writeln!(out, "{indent}{line}")?;
        }
        if let Some(note) = note {
            writeln!(out, "{indent}{}", style.dim(&note))?;
        }
        Ok(())
    }
}

impl Report for ShowReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        let s = &self.step;
        let field = |out: &mut dyn Write, key: &str, value: &str| writeln!(out, "{key:<10}{value}");
        field(out, "step", &style.hash(&self.hash))?;
        field(out, "origin", &s.origin)?;
        field(out, "session", &style.bold(&s.session_id))?;
        field(out, "turn", &s.turn_id)?;
        field(out, "parent", &s.parent.as_deref().map_or_else(|| "(none)".to_owned(), |p| style.hash(p)))?;
        field(out, "tree", &s.tree)?;
        field(out, "time", &style.time(s.timestamp))?;
        if let Some(model) = &s.model {
            field(out, "model", &style.meta(model))?;
        }
        field(out, "outcome", &style.outcome(s.outcome.as_deref().unwrap_or("unknown")))?;
        if let Some(commit) = &s.git_commit {
            let dirty = if s.git_dirty == Some(true) { "*" } else { "" };
            field(
                out,
                "git",
                &format!("{}@{}{dirty}", s.git_branch.as_deref().unwrap_or("(detached)"), short(commit, 12)),
            )?;
        }
        if self.redacted {
            field(out, "redacted", "yes")?;
        }
        for message in &s.messages {
            let label = match message.role.as_str() {
                "user" => "prompt",
                other => other,
            };
            writeln!(out, "\n{}", style.bold(label))?;
            self.block(out, style, "    ", &message.content)?;
        }
        if !s.tool_calls.is_empty() {
            writeln!(out, "\n{}", style.bold(&format!("tool calls ({})", s.tool_calls.len())))?;
            for (i, call) in s.tool_calls.iter().enumerate() {
                writeln!(out, "  [{}] {}", i + 1, style.bold(&call.tool_name))?;
                writeln!(out, "    {}", style.dim("args"))?;
                self.block(out, style, "      ", &call.args)?;
                writeln!(out, "    {}", style.dim("result"))?;
                match &call.result {
                    Some(result) => self.block(out, style, "      ", result)?,
                    None => writeln!(out, "      {}", style.dim("(none)"))?,
                }
            }
        }
        if let Some(files) = &self.files {
            writeln!(out, "\n{}", style.bold(&format!("files ({})", files.len())))?;
            if files.is_empty() {
                writeln!(out, "  (none)")?;
            }
            for entry in files {
                writeln!(out, "  {} ({} B)", entry.path, entry.size)?;
            }
        }
        if let Some(stat) = &self.stat {
            let c = stat.counts;
            writeln!(
                out,
                "\n{}  added {}, modified {}, deleted {}, unchanged {}",
                style.bold("changes"),
                c.added,
                c.modified,
                c.deleted,
                c.unchanged
            )?;
            match &self.changes {
                Some(changes) if !changes.is_empty() => write_stat(out, style, changes)?,
                _ => writeln!(out, "  (none)")?,
            }
        }
        if self.patch.is_some()
            && let Some(changes) = &self.changes
        {
            writeln!(out)?;
            write_patch(out, style, changes)?;
        }
        Ok(())
    }

    fn warnings(&self) -> Vec<Diagnostic> {
        self.warnings.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agit_core::ObjectId;

    #[test]
    fn long_texts_are_trimmed_with_a_note() {
        assert_eq!(trim("short\n", false), ("short", None));
        let many: String = (1..=30).map(|i| format!("l{i}\n")).collect();
        let (shown, note) = trim(&many, false);
        assert_eq!(shown.lines().count(), 20);
        assert!(shown.ends_with("l20"));
        assert_eq!(note.as_deref(), Some("… 10 more lines (use --full-output)"));
        assert_eq!(trim(&many, true), (many.as_str(), None));
        let wide = "x".repeat(5000);
        let (shown, note) = trim(&wide, false);
        assert_eq!(shown.len(), TRIM_BYTES);
        assert_eq!(note.as_deref(), Some("… 2952 more bytes (use --full-output)"));
        // Never cut inside a character.
        let accents = "é".repeat(3000);
        let (shown, _) = trim(&accents, false);
        assert!(shown.len() <= TRIM_BYTES && shown.chars().all(|c| c == 'é'));
        let exactly: String = (1..=20).map(|i| format!("l{i}\n")).collect();
        assert_eq!(trim(&exactly, false).1, None);
    }

    #[test]
    fn step_json_keeps_every_key_in_wire_order() {
        let step = Step {
            parent: None,
            tree: ObjectId::of(b"t"),
            session_id: "s".into(),
            origin: "codex".into(),
            model: Some("m".into()),
            turn_id: "t1".into(),
            causes: vec![],
            timestamp: 5,
            messages: vec![],
            tool_calls: vec![],
            outcome: Some("success".into()),
            git_commit: None,
            git_branch: None,
            git_dirty: Some(false),
        };
        let text = serde_json::to_string(&StepJson::from(step.clone())).unwrap();
        assert_eq!(text.as_bytes(), step.encode().as_slice());
    }
}
