//! Unified line diffs.
//!
//! A line is a token *with* its terminator (`"a\n"`, `"a\r\n"`, or a last `"a"` without
//! one), so `a` and `a\n` differ, CRLF survives byte for byte, and "no newline at end of
//! file" is a property of the last token. Hunks group changes whose unchanged gap is at
//! most `2 × context` lines, exactly like `diff -u` and `git diff`.

use std::ops::Range;

use imara_diff::{Algorithm, Diff, InternedInput, Token, sources::byte_lines};

use crate::blame::myers::DiffOp;

/// Lines of context around each change when none is given (`-U3`).
pub const DEFAULT_CONTEXT: usize = 3;

/// The role of a line in a hunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineKind {
    /// Unchanged (` `).
    Context,
    /// Only in the new text (`+`).
    Added,
    /// Only in the old text (`-`).
    Removed,
}

impl LineKind {
    /// The unified-diff prefix byte.
    pub fn prefix(self) -> u8 {
        match self {
            LineKind::Context => b' ',
            LineKind::Added => b'+',
            LineKind::Removed => b'-',
        }
    }
}

/// One line of a hunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub kind: LineKind,
    /// The line without its final `\n` (a `\r` of a CRLF line is kept).
    pub text: Vec<u8>,
    /// The line is the last of its text and has no `\n` (print
    /// `\ No newline at end of file` after it).
    pub no_newline: bool,
}

/// A unified hunk. Starts are 1-based; an empty range starts at the line before it
/// (0 for the start of the file), as `diff -u` prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub old_start: usize,
    pub old_lines: usize,
    pub new_start: usize,
    pub new_lines: usize,
    pub lines: Vec<DiffLine>,
}

impl Hunk {
    /// `@@ -a,b +c,d @@`, with `,1` left out as `diff -u` does.
    pub fn header(&self) -> String {
        fn range(start: usize, len: usize) -> String {
            if len == 1 { start.to_string() } else { format!("{start},{len}") }
        }
        format!("@@ -{} +{} @@", range(self.old_start, self.old_lines), range(self.new_start, self.new_lines))
    }
}

/// The unified diff of two texts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextDiff {
    pub hunks: Vec<Hunk>,
    /// Added lines in total.
    pub insertions: usize,
    /// Removed lines in total.
    pub deletions: usize,
}

impl TextDiff {
    /// Whether the texts are equal.
    pub fn is_empty(&self) -> bool {
        self.hunks.is_empty()
    }

    /// The hunks as unified-diff text (no file headers, no colour).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for hunk in &self.hunks {
            out.extend_from_slice(hunk.header().as_bytes());
            out.push(b'\n');
            for line in &hunk.lines {
                out.push(line.kind.prefix());
                out.extend_from_slice(&line.text);
                out.push(b'\n');
                if line.no_newline {
                    out.extend_from_slice(NO_NEWLINE_MARKER.as_bytes());
                    out.push(b'\n');
                }
            }
        }
        out
    }
}

/// What follows a line that has no terminating newline.
pub const NO_NEWLINE_MARKER: &str = "\\ No newline at end of file";

/// Changed line ranges: (old range, new range) pairs, in order.
type Ranges = Vec<(Range<usize>, Range<usize>)>;

/// Largest predicted `imara-diff` preprocessing scan (see [`imara_scan_cost`]) before the
/// diff switches to the bounded Myers of [`crate::blame::myers`].
const MAX_IMARA_SCAN: u64 = 50_000_000;

/// The lines of `old` and `new` (each with its terminator) and their changed ranges.
///
/// Normally Histogram, postprocessed with the indentation heuristic so that ambiguous
/// hunks sit where a reader expects them. `imara-diff` 0.2's Myers preprocessing (which
/// Histogram falls back to on runs of very frequent lines) is quadratic on large files
/// made mostly of such lines (braces, blank lines): half a minute for 200,000 lines. When
/// its cost predicts that, the bounded greedy Myers of blame is used instead (fast for
/// sparse edits, and itself bounded for dense ones); its hunks are valid but not slid.
fn change_ranges<'a>(old: &'a [u8], new: &'a [u8], postprocess: bool) -> (Vec<&'a [u8]>, Vec<&'a [u8]>, Ranges) {
    let input = InternedInput::new(byte_lines(old), byte_lines(new));
    let old_lines: Vec<&[u8]> = byte_lines(old).collect();
    let new_lines: Vec<&[u8]> = byte_lines(new).collect();
    if imara_scan_cost(&input.before, &input.after, input.interner.num_tokens()) > MAX_IMARA_SCAN {
        let script = crate::blame::myers::diff_lines(&old_lines, &new_lines);
        let ranges = ranges_of(&script.ops);
        return (old_lines, new_lines, ranges);
    }
    let mut diff = Diff::compute(Algorithm::Histogram, &input);
    if postprocess {
        diff.postprocess_lines(&input);
    }
    let ranges = diff
        .hunks()
        .map(|h| (h.before.start as usize..h.before.end as usize, h.after.start as usize..h.after.end as usize))
        .collect();
    (old_lines, new_lines, ranges)
}

/// Group an edit script's runs of inserts and deletes into changed ranges.
fn ranges_of(ops: &[DiffOp]) -> Ranges {
    let (mut i, mut j) = (0, 0);
    let mut out: Ranges = Vec::new();
    let mut open: Option<(usize, usize)> = None;
    for op in ops {
        match op {
            DiffOp::Equal => {
                if let Some((i0, j0)) = open.take() {
                    out.push((i0..i, j0..j));
                }
                i += 1;
                j += 1;
            }
            DiffOp::Delete => {
                open.get_or_insert((i, j));
                i += 1;
            }
            DiffOp::Insert => {
                open.get_or_insert((i, j));
                j += 1;
            }
        }
    }
    if let Some((i0, j0)) = open {
        out.push((i0..i, j0..j));
    }
    out
}

/// Predict how many line statuses `imara-diff` 0.2's Myers preprocessing scans on this
/// input (after its common prefix and suffix are stripped): every line that is frequent
/// in the other file scans back to the last ordinary line, but never stops earlier than
/// line 100 of the file (its window bug), plus up to 100 lines forward. Linear time; the
/// same classification as `imara-diff`'s (occurrence limit: a power of two near the
/// square root of the file length, at most 1024).
fn imara_scan_cost(before: &[Token], after: &[Token], distinct: u32) -> u64 {
    let prefix = before.iter().zip(after).take_while(|(a, b)| a == b).count();
    let (before, after) = (&before[prefix..], &after[prefix..]);
    let suffix = before.iter().rev().zip(after.iter().rev()).take_while(|(a, b)| a == b).count();
    let (before, after) = (&before[..before.len() - suffix], &after[..after.len() - suffix]);
    let counts = |tokens: &[Token]| {
        let mut counts = vec![0u32; distinct as usize];
        for t in tokens {
            if let Some(c) = counts.get_mut(t.0 as usize) {
                *c = c.saturating_add(1);
            }
        }
        counts
    };
    let (count_before, count_after) = (counts(before), counts(after));
    let limit = |len: usize| -> u32 { (1u32 << ((usize::BITS - len.leading_zeros()) / 2)).min(1024) };
    let scan = |file: &[Token], other: &[u32]| -> u64 {
        let eqlimit = limit(file.len());
        let mut total = 0u64;
        let mut last_ordinary: Option<usize> = None;
        for (pos, t) in file.iter().enumerate() {
            match other.get(t.0 as usize).copied().unwrap_or(0) {
                0 => {}
                n if n >= eqlimit => {
                    let floor = if pos > 100 { 100 } else { 0 };
                    let back = match last_ordinary {
                        Some(s) if s >= floor => pos - s,
                        _ => pos - floor,
                    };
                    total = total.saturating_add(back as u64 + 100);
                }
                _ => last_ordinary = Some(pos),
            }
        }
        total
    };
    scan(before, &count_after).saturating_add(scan(after, &count_before))
}

/// Added and removed line counts of `old` → `new` (what `--stat` shows), without
/// building hunks.
pub fn line_stat(old: &[u8], new: &[u8]) -> (usize, usize) {
    if old == new {
        return (0, 0);
    }
    // Sliding hunks (postprocessing) never changes the counts.
    let (_, _, ranges) = change_ranges(old, new, false);
    ranges.iter().fold((0, 0), |(ins, del), (before, after)| (ins + after.len(), del + before.len()))
}

/// The unified diff of `old` → `new` with `context` lines of context.
pub fn unified_diff(old: &[u8], new: &[u8], context: usize) -> TextDiff {
    if old == new {
        return TextDiff::default();
    }
    let (old_lines, new_lines, ranges) = change_ranges(old, new, true);
    let mut out = TextDiff::default();
    let mut group_start = 0;
    while group_start < ranges.len() {
        // Extend the group while the unchanged gap to the next change is at most 2×context.
        let mut group_end = group_start + 1;
        while group_end < ranges.len()
            && ranges[group_end].0.start - ranges[group_end - 1].0.end <= context.saturating_mul(2)
        {
            group_end += 1;
        }
        let group = &ranges[group_start..group_end];
        let hunk = build_hunk(&old_lines, &new_lines, group, context);
        for line in &hunk.lines {
            match line.kind {
                LineKind::Added => out.insertions += 1,
                LineKind::Removed => out.deletions += 1,
                LineKind::Context => {}
            }
        }
        out.hunks.push(hunk);
        group_start = group_end;
    }
    out
}

fn build_hunk(old: &[&[u8]], new: &[&[u8]], group: &[(Range<usize>, Range<usize>)], context: usize) -> Hunk {
    let (first, last) = (&group[0], &group[group.len() - 1]);
    // Lines outside the changes are equal on both sides, so leading and trailing context
    // are the same length in both texts.
    let lead = context.min(first.0.start).min(first.1.start);
    let trail = context.min(old.len() - last.0.end).min(new.len() - last.1.end);
    let (old_begin, new_begin) = (first.0.start - lead, first.1.start - lead);
    let (old_end, new_end) = (last.0.end + trail, last.1.end + trail);
    let line = |kind: LineKind, side: &[&[u8]], i: usize| -> DiffLine {
        let raw = side[i];
        let (text, no_newline) = match raw.strip_suffix(b"\n") {
            Some(t) => (t, false),
            None => (raw, true),
        };
        DiffLine { kind, text: text.to_vec(), no_newline }
    };
    let mut lines = Vec::with_capacity((old_end - old_begin) + (new_end - new_begin));
    let mut at_old = old_begin;
    for (before, after) in group {
        lines.extend((at_old..before.start).map(|i| line(LineKind::Context, old, i)));
        lines.extend(before.clone().map(|i| line(LineKind::Removed, old, i)));
        lines.extend(after.clone().map(|i| line(LineKind::Added, new, i)));
        at_old = before.end;
    }
    lines.extend((at_old..old_end).map(|i| line(LineKind::Context, old, i)));
    let start = |begin: usize, len: usize| if len == 0 { begin } else { begin + 1 };
    Hunk {
        old_start: start(old_begin, old_end - old_begin),
        old_lines: old_end - old_begin,
        new_start: start(new_begin, new_end - new_begin),
        new_lines: new_end - new_begin,
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rebuild `new` from `old` and changed ranges.
    fn rebuild(old: &[&[u8]], new: &[&[u8]], ranges: &Ranges) -> Vec<u8> {
        let mut out = Vec::new();
        let mut at = 0;
        for (before, after) in ranges {
            out.extend(old[at..before.start].concat());
            out.extend(new[after.clone()].concat());
            at = before.end;
        }
        out.extend(old[at..].concat());
        out
    }

    #[test]
    fn files_of_frequent_lines_take_the_bounded_path_and_stay_correct() {
        let mut old = Vec::new();
        for i in 0..200_000 {
            old.extend_from_slice(match i % 4 {
                0 => b"{\n",
                1 => b"}\n",
                2 => b"\n",
                _ => b"    }\n",
            });
        }
        let mut new = old.clone();
        new.splice(100..100, b"x\n{\n}\n".iter().copied());
        new.splice(500_000..500_000, b"y\n\n\n}\n".iter().copied());
        let input = InternedInput::new(byte_lines(&old), byte_lines(&new));
        assert!(imara_scan_cost(&input.before, &input.after, input.interner.num_tokens()) > MAX_IMARA_SCAN);
        let (o, n, ranges) = change_ranges(&old, &new, true);
        assert_eq!(rebuild(&o, &n, &ranges), new);
        let diff = unified_diff(&old, &new, 3);
        assert_eq!(diff.insertions, 7);
        assert_eq!(diff.deletions, 0);
        assert_eq!(diff.hunks.len(), 2);
        // Ordinary code stays far below the bound.
        let code: Vec<u8> =
            (0..5000).flat_map(|i| format!("fn f{i}() {{\n    call({i});\n}}\n\n").into_bytes()).collect();
        let edited: Vec<u8> = (0..5000)
            .flat_map(|i| {
                let body = if i % 10 == 0 { format!("    changed({i});\n") } else { format!("    call({i});\n") };
                format!("fn f{i}() {{\n{body}}}\n\n").into_bytes()
            })
            .collect();
        let input = InternedInput::new(byte_lines(&code), byte_lines(&edited));
        assert!(imara_scan_cost(&input.before, &input.after, input.interner.num_tokens()) < MAX_IMARA_SCAN);
    }

    #[test]
    fn edit_scripts_group_into_ranges() {
        use DiffOp::{Delete as D, Equal as E, Insert as I};
        assert_eq!(ranges_of(&[E, D, I, I, E, E, D]), vec![(1..2, 1..3), (4..5, 5..5)]);
        assert_eq!(ranges_of(&[I, E]), vec![(0..0, 0..1)]);
        assert!(ranges_of(&[E, E]).is_empty());
    }
}
