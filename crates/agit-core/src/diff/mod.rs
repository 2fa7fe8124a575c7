//! Diffs between snapshots: which files changed ([`compare_trees`]) and how
//! ([`unified_diff`]), for `agit diff`, `agit show` and `agit steps`.
//!
//! - [`tree`] — the merge-walk of two trees by bytewise path into added, modified,
//!   deleted and unchanged entries (reference `formats.md` §8), and [`PathFilter`], the
//!   directory-prefix path filter (`src` matches `src/a.rs`, not `srcx`).
//! - [`text`] — line diffs of two texts as unified hunks (`@@ -a,b +c,d @@`) with `n`
//!   lines of context, computed with `imara-diff`'s Histogram algorithm and its
//!   indentation heuristic, so the hunks read like `git diff`'s and `git apply` accepts
//!   them. Lines keep their terminator: a CRLF file diffs and patches byte-exactly, and a
//!   last line without a newline is marked `\ No newline at end of file`.
//! - [`file`] — one changed tree entry: read both blobs, classify them (binary files and
//!   files over `AGIT_MAX_FILE_BYTES` are reported, not diffed), optionally redact, diff.
//!
//! Everything here returns plain data; nothing prints.

pub mod file;
pub mod text;
pub mod tree;

#[cfg(test)]
mod tests;

pub use file::{BlobClass, FileDiffOptions, FilePatch, classify, diff_change};
pub use text::{DEFAULT_CONTEXT, DiffLine, Hunk, LineKind, TextDiff, line_stat, unified_diff};
pub use tree::{Change, ChangeCounts, ChangeKind, PathFilter, TreeDiff, compare_trees};
