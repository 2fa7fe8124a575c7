use proptest::prelude::*;

use super::*;
use crate::hash::ObjectId;
use crate::object::{Tree, TreeEntry};

fn entry(path: &str, content: &str) -> TreeEntry {
    TreeEntry::file(path, ObjectId::of(content.as_bytes()), content.len() as u64)
}

#[test]
fn tree_compare_classifies_every_path_in_bytewise_order() {
    let old = Tree::new(vec![entry("a.txt", "1"), entry("b.txt", "2"), entry("c/d.txt", "3"), entry("e", "4")]);
    let mut mode_changed = entry("e", "4");
    mode_changed.mode = "exec".into();
    let mut size_changed = entry("c/d.txt", "3");
    size_changed.size = 99;
    let new =
        Tree::new(vec![entry("a.txt", "1"), entry("B.txt", "new"), entry("b.txt", "2!"), size_changed, mode_changed]);
    let diff = compare_trees(&old, &new);
    let got: Vec<(&str, ChangeKind)> = diff.entries.iter().map(|c| (c.path.as_str(), c.kind)).collect();
    assert_eq!(
        got,
        [
            ("B.txt", ChangeKind::Added),
            ("a.txt", ChangeKind::Unchanged),
            ("b.txt", ChangeKind::Modified),
            ("c/d.txt", ChangeKind::Modified),
            ("e", ChangeKind::Modified),
        ]
    );
    assert_eq!(diff.counts(), ChangeCounts { added: 1, modified: 3, deleted: 0, unchanged: 1 });
    assert_eq!(diff.changes().count(), 4);
    let added = &diff.entries[0];
    assert_eq!((added.old_blob(), added.old_size()), (None, None));
    assert_eq!(added.new_size(), Some(3));

    let back = compare_trees(&new, &old);
    assert_eq!(back.entries[0].kind, ChangeKind::Deleted);
    assert_eq!(back.counts().deleted, 1);
    // Identical and empty trees.
    assert_eq!(compare_trees(&old, &old).counts().changed(), 0);
    assert!(compare_trees(&Tree::default(), &Tree::default()).entries.is_empty());
    assert_eq!(compare_trees(&Tree::default(), &old).counts().added, 4);
}

#[test]
fn tree_compare_sorts_unsorted_trees_instead_of_miswalking() {
    let old = Tree { entries: vec![entry("z", "1"), entry("a", "1")] };
    let new = Tree { entries: vec![entry("a", "1"), entry("z", "2")] };
    let diff = compare_trees(&old, &new);
    let got: Vec<_> = diff.entries.iter().map(|c| (c.path.as_str(), c.kind)).collect();
    assert_eq!(got, [("a", ChangeKind::Unchanged), ("z", ChangeKind::Modified)]);
}

#[test]
fn path_filters_are_directory_prefixes() {
    let f = PathFilter::new(["src"]);
    assert!(f.matches("src"));
    assert!(f.matches("src/a.rs"));
    assert!(f.matches("src/deep/b.rs"));
    assert!(!f.matches("srcx"));
    assert!(!f.matches("srcx/a.rs"));
    assert!(!f.matches("lib/src/a.rs"));
    assert!(!f.is_all());

    let f = PathFilter::new(["./src/", "docs//guide/", "src"]);
    assert_eq!(f.prefixes(), ["src", "docs/guide"]);
    assert!(f.matches("docs/guide/x.md"));
    assert!(!f.matches("docs/other.md"));

    let f = PathFilter::new(["src/a.rs"]);
    assert!(f.matches("src/a.rs"));
    assert!(!f.matches("src/a.rs.bak"));

    for all in [
        PathFilter::new(Vec::<String>::new()),
        PathFilter::new(["."]),
        PathFilter::new(["src", "./"]),
        PathFilter::all(),
    ] {
        assert!(all.is_all());
        assert!(all.matches("anything/at/all"));
    }

    let tree = Tree::new(vec![entry("src/a.rs", ""), entry("srcx", ""), entry("b", "")]);
    let filtered = compare_trees(&Tree::default(), &tree).filtered(&PathFilter::new(["src", "b"]));
    let paths: Vec<_> = filtered.entries.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["b", "src/a.rs"]);
    assert!(PathFilter::prefix_in_tree("src", &tree));
    assert!(!PathFilter::prefix_in_tree("sr", &tree));
}

fn numbered(n: usize) -> String {
    (1..=n).map(|i| format!("line {i}\n")).collect()
}

fn with_lines(n: usize, replace: &[usize]) -> String {
    (1..=n).map(|i| if replace.contains(&i) { format!("CHANGED {i}\n") } else { format!("line {i}\n") }).collect()
}

fn patch(old: &str, new: &str, context: usize) -> String {
    String::from_utf8(unified_diff(old.as_bytes(), new.as_bytes(), context).to_bytes()).unwrap()
}

#[test]
fn hunk_ranges_follow_diff_u() {
    let old = numbered(10);
    let new = with_lines(10, &[5]);
    assert_eq!(
        patch(&old, &new, 3),
        "@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+CHANGED 5\n line 6\n line 7\n line 8\n"
    );
    // No context: a one-line range drops its `,1`.
    assert_eq!(patch(&old, &new, 0), "@@ -5 +5 @@\n-line 5\n+CHANGED 5\n");
    // Context is clipped at both ends of the file.
    assert_eq!(patch(&numbered(2), &with_lines(2, &[1]), 3), "@@ -1,2 +1,2 @@\n-line 1\n+CHANGED 1\n line 2\n");
    // A pure insertion: the empty old range starts at the line before it.
    let inserted = "line 1\nline 2\nnew\nline 3\n";
    assert_eq!(patch(&numbered(3), inserted, 0), "@@ -2,0 +3 @@\n+new\n");
    assert_eq!(patch(&numbered(3), &format!("top\n{}", numbered(3)), 0), "@@ -0,0 +1 @@\n+top\n");
    // A pure deletion.
    assert_eq!(patch(&numbered(3), "line 1\nline 3\n", 1), "@@ -1,3 +1,2 @@\n line 1\n-line 2\n line 3\n");
    let d = unified_diff(numbered(3).as_bytes(), b"line 1\nline 3\n", 0);
    assert_eq!((d.hunks[0].new_start, d.hunks[0].new_lines), (1, 0));
    assert_eq!(d.hunks[0].header(), "@@ -2 +1,0 @@");
    assert_eq!((d.insertions, d.deletions), (0, 1));
}

#[test]
fn changes_closer_than_twice_the_context_share_a_hunk() {
    let old = numbered(20);
    // Lines 4 and 11 changed: the unchanged gap (5..=10) is 6 = 2×3 lines → one hunk.
    let one = unified_diff(old.as_bytes(), with_lines(20, &[4, 11]).as_bytes(), 3);
    assert_eq!(one.hunks.len(), 1);
    assert_eq!(one.hunks[0].header(), "@@ -1,14 +1,14 @@");
    // Lines 4 and 12: a gap of 7 → two hunks.
    let two = unified_diff(old.as_bytes(), with_lines(20, &[4, 12]).as_bytes(), 3);
    let headers: Vec<_> = two.hunks.iter().map(Hunk::header).collect();
    assert_eq!(headers, ["@@ -1,7 +1,7 @@", "@@ -9,7 +9,7 @@"]);
    assert_eq!((two.insertions, two.deletions), (2, 2));
    // With -U1 the same changes split; with -U4 they merge.
    assert_eq!(unified_diff(old.as_bytes(), with_lines(20, &[4, 11]).as_bytes(), 1).hunks.len(), 2);
    assert_eq!(unified_diff(old.as_bytes(), with_lines(20, &[4, 12]).as_bytes(), 4).hunks.len(), 1);
}

#[test]
fn missing_final_newline_is_marked() {
    assert_eq!(
        patch("a\nb", "a\nb\nc", 3),
        "@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n\\ No newline at end of file\n"
    );
    assert_eq!(patch("a\nb\n", "a\nb", 3), "@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n");
    // An unchanged last line without a newline is marked once, as context.
    assert_eq!(patch("a\nb\nc", "A\nb\nc", 3), "@@ -1,3 +1,3 @@\n-a\n+A\n b\n c\n\\ No newline at end of file\n");
    assert_eq!(patch("x", "y", 3), "@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at end of file\n");
}

#[test]
fn crlf_lines_keep_their_carriage_return() {
    let d = unified_diff(b"a\r\nb\r\nc\r\n", b"a\r\nB\r\nc\r\n", 3);
    assert_eq!(d.to_bytes(), b"@@ -1,3 +1,3 @@\n a\r\n-b\r\n+B\r\n c\r\n");
    // A line-ending change is a change.
    let d = unified_diff(b"a\r\n", b"a\n", 3);
    assert_eq!((d.insertions, d.deletions), (1, 1));
    assert_eq!(d.hunks[0].lines[0].text, b"a\r");
}

#[test]
fn empty_and_non_empty_texts() {
    assert!(unified_diff(b"", b"", 3).is_empty());
    assert!(unified_diff(b"same\n", b"same\n", 3).is_empty());
    assert_eq!(patch("", "a\nb\n", 3), "@@ -0,0 +1,2 @@\n+a\n+b\n");
    assert_eq!(patch("a\nb\n", "", 3), "@@ -1,2 +0,0 @@\n-a\n-b\n");
    assert_eq!(patch("", "a", 3), "@@ -0,0 +1 @@\n+a\n\\ No newline at end of file\n");
    // A file holding just a newline is one empty line.
    assert_eq!(patch("", "\n", 3), "@@ -0,0 +1 @@\n+\n");
    assert_eq!(line_stat(b"", b"a\nb\n"), (2, 0));
    assert_eq!(line_stat(b"x\n", b"x\n"), (0, 0));
}

#[test]
fn blobs_are_classified_by_size_then_content() {
    assert_eq!(classify(b"text\n", 100), BlobClass::Text);
    assert_eq!(classify(b"a\0b", 100), BlobClass::Binary);
    assert_eq!(classify(b"0123456789", 9), BlobClass::TooLarge);
    assert_eq!(classify(b"0123456789", 10), BlobClass::Text);
    let mut late_nul = vec![b'a'; 9000];
    late_nul.push(0);
    assert_eq!(classify(&late_nul, 1 << 20), BlobClass::Text);
}

#[test]
fn diff_change_reads_blobs_classifies_and_redacts() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = crate::Store::init(dir.path()).unwrap();
    let put = |bytes: &[u8]| store.write_object(bytes).unwrap().0;
    let old_text = b"key\ntoken=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n";
    let new_text = b"key\ntoken=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\nmore\n";
    let old = TreeEntry::file("f", put(old_text), old_text.len() as u64);
    let new = TreeEntry::file("f", put(new_text), new_text.len() as u64);
    let change =
        Change { kind: ChangeKind::Modified, path: "f".into(), old: Some(old.clone()), new: Some(new.clone()) };
    let options = FileDiffOptions { context: 3, max_bytes: 1 << 20, redact: None, hunks: true };
    let FilePatch::Text(d) = diff_change(&store, &change, &options).unwrap() else { panic!("text") };
    assert_eq!((d.insertions, d.deletions), (1, 0));
    assert!(String::from_utf8_lossy(&d.to_bytes()).contains("ghp_"));

    let detector = crate::privacy::Detector::new(&[]);
    let redacted = FileDiffOptions { redact: Some(&detector), ..options };
    let FilePatch::Text(d) = diff_change(&store, &change, &redacted).unwrap() else { panic!("text") };
    let text = String::from_utf8_lossy(&d.to_bytes()).into_owned();
    assert!(!text.contains("ghp_") && text.contains("[REDACTED]"), "{text}");

    let counts_only = FileDiffOptions { hunks: false, ..options };
    let FilePatch::Text(d) = diff_change(&store, &change, &counts_only).unwrap() else { panic!("text") };
    assert!(d.hunks.is_empty());
    assert_eq!((d.insertions, d.deletions), (1, 0));

    let small = FileDiffOptions { max_bytes: 10, ..options };
    assert_eq!(
        diff_change(&store, &change, &small).unwrap(),
        FilePatch::TooLarge { size: new_text.len() as u64, limit: 10 }
    );

    let binary = TreeEntry::file("f", put(b"\0\x01"), 2);
    let added = Change { kind: ChangeKind::Added, path: "f".into(), old: None, new: Some(binary) };
    assert_eq!(diff_change(&store, &added, &options).unwrap(), FilePatch::Binary);
    let deleted = Change { kind: ChangeKind::Deleted, path: "f".into(), old: Some(old), new: None };
    let FilePatch::Text(d) = diff_change(&store, &deleted, &options).unwrap() else { panic!("text") };
    assert_eq!(d.hunks[0].header(), "@@ -1,2 +0,0 @@");
    let missing = TreeEntry::file("f", ObjectId::of(b"never written"), 3);
    let broken = Change { kind: ChangeKind::Added, path: "f".into(), old: None, new: Some(missing) };
    assert_eq!(diff_change(&store, &broken, &options).unwrap_err().code(), "object_not_found");
}

/// A minimal `patch`: apply unified hunks (as [`TextDiff::to_bytes`] renders them) to
/// `old`, checking every context and removed line.
fn apply(old: &[u8], patch: &[u8]) -> Result<Vec<u8>, String> {
    let old_lines: Vec<&[u8]> = imara_diff::sources::byte_lines(old).collect();
    let mut lines: Vec<&[u8]> = patch.split_inclusive(|&b| b == b'\n').collect();
    lines.reverse();
    let mut out = Vec::new();
    let mut at = 0usize; // next old line to copy
    while let Some(header) = lines.pop() {
        let header = std::str::from_utf8(header).map_err(|e| e.to_string())?;
        let ranges = header.strip_prefix("@@ -").and_then(|h| h.strip_suffix(" @@\n")).ok_or("bad header")?;
        let (old_range, _) = ranges.split_once(" +").ok_or("bad ranges")?;
        let (start, len) = match old_range.split_once(',') {
            Some((s, l)) => (s.parse::<usize>().unwrap(), l.parse::<usize>().unwrap()),
            None => (old_range.parse::<usize>().unwrap(), 1),
        };
        let first = if len == 0 { start } else { start - 1 };
        if first < at || first > old_lines.len() {
            return Err(format!("hunk at {first} overlaps or is out of range"));
        }
        for line in &old_lines[at..first] {
            out.extend_from_slice(line);
        }
        at = first;
        while let Some(line) = lines.last().copied() {
            if line.starts_with(b"@@") {
                break;
            }
            lines.pop();
            let no_newline = lines.last().is_some_and(|l| l.starts_with(b"\\ "));
            if no_newline {
                lines.pop();
            }
            let mut content = line[1..].to_vec();
            if no_newline {
                content.pop();
            }
            match line[0] {
                b' ' | b'-' => {
                    if old_lines.get(at) != Some(&content.as_slice()) {
                        return Err(format!("mismatch at old line {at}"));
                    }
                    at += 1;
                    if line[0] == b' ' {
                        out.extend_from_slice(&content);
                    }
                }
                b'+' => out.extend_from_slice(&content),
                other => return Err(format!("bad line prefix {other}")),
            }
        }
    }
    for line in &old_lines[at..] {
        out.extend_from_slice(line);
    }
    Ok(out)
}

fn text_strategy() -> impl Strategy<Value = Vec<u8>> {
    // Few distinct lines so that repeats, moves and sliders are common.
    let line = prop_oneof![
        Just(&b"a"[..]),
        Just(&b"b"[..]),
        Just(&b"c"[..]),
        Just(&b"{"[..]),
        Just(&b"}"[..]),
        Just(&b""[..]),
        Just(&b"  indented"[..]),
    ];
    let ending = prop_oneof![3 => Just(&b"\n"[..]), 1 => Just(&b"\r\n"[..])];
    (prop::collection::vec((line, ending), 0..40), any::<bool>()).prop_map(|(lines, trailing)| {
        let mut out = Vec::new();
        for (text, end) in lines {
            out.extend_from_slice(text);
            out.extend_from_slice(end);
        }
        if trailing {
            out.extend_from_slice(b"tail");
        }
        out
    })
}

proptest! {
    #[test]
    fn applying_the_unified_diff_reproduces_the_new_text(
        old in text_strategy(),
        new in text_strategy(),
        context in 0usize..5,
    ) {
        let diff = unified_diff(&old, &new, context);
        let rendered = diff.to_bytes();
        prop_assert_eq!(apply(&old, &rendered).map_err(TestCaseError::fail)?, new.clone());
        prop_assert_eq!(diff.is_empty(), old == new);
        prop_assert_eq!((diff.insertions, diff.deletions), line_stat(&old, &new));
        for hunk in &diff.hunks {
            let olds = hunk.lines.iter().filter(|l| l.kind != LineKind::Added).count();
            let news = hunk.lines.iter().filter(|l| l.kind != LineKind::Removed).count();
            prop_assert_eq!((olds, news), (hunk.old_lines, hunk.new_lines));
        }
    }

    #[test]
    fn hunks_are_ordered_and_disjoint(old in text_strategy(), new in text_strategy(), context in 0usize..5) {
        let diff = unified_diff(&old, &new, context);
        let begin = |h: &Hunk| if h.old_lines == 0 { h.old_start } else { h.old_start - 1 };
        let leading = |h: &Hunk| h.lines.iter().take_while(|l| l.kind == LineKind::Context).count();
        let trailing = |h: &Hunk| h.lines.iter().rev().take_while(|l| l.kind == LineKind::Context).count();
        for pair in diff.hunks.windows(2) {
            let prev_end = begin(&pair[0]) + pair[0].old_lines;
            prop_assert!(begin(&pair[1]) >= prev_end, "hunks overlap");
            // Changes in separate hunks are more than 2×context unchanged lines apart.
            let gap = begin(&pair[1]) - prev_end + trailing(&pair[0]) + leading(&pair[1]);
            prop_assert!(gap > 2 * context, "gap {} with context {}", gap, context);
        }
        for hunk in &diff.hunks {
            prop_assert!(hunk.lines.iter().any(|l| l.kind != LineKind::Context));
        }
    }
}
