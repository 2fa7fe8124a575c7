//! The shared step row rendering of timeline and watch.

use std::io::{self, Write};

use crate::render::Style;
use agit_core::index::StepRow;

/// `<ts>  <origin>/<session>  turn <t>  step <hash12>  <outcome>`, then git, model and
/// preview lines. The preview is shown as given (callers redact it first).
pub fn write_step(out: &mut dyn Write, style: &Style, row: &StepRow) -> io::Result<()> {
    writeln!(
        out,
        "{}  {}  turn {}  step {}  {}",
        style.time(row.timestamp),
        style.bold(&format!("{}/{}", row.origin, row.session_id)),
        row.turn_id,
        style.hash(short(&row.hash, 12)),
        style.outcome(row.outcome.as_deref().unwrap_or("unknown")),
    )?;
    if let Some(commit) = &row.git_commit {
        let dirty = if row.git_dirty == Some(true) { "*" } else { "" };
        writeln!(out, "  git {}@{}{dirty}", row.git_branch.as_deref().unwrap_or("(detached)"), short(commit, 12))?;
    }
    if let Some(model) = &row.model {
        writeln!(out, "  model {}", style.meta(model))?;
    }
    writeln!(out, "  {}", row.preview.as_deref().unwrap_or("(no preview)"))
}

/// The first `n` characters of a hash.
pub fn short(hash: &str, n: usize) -> &str {
    hash.get(..n).unwrap_or(hash)
}
