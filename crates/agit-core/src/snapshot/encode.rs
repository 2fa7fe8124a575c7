//! The tree object's bytes, built directly: [`Tree::encode`] byte for byte, without the
//! per-entry allocations of going through serde (it is on the path of every finalize, with
//! one entry per workspace file).

use std::io::Write;

use crate::object::{Tree, TreeEntry};

/// Exactly `tree.encode()`.
pub(super) fn encode_tree(tree: &Tree) -> Vec<u8> {
    let entries: &[TreeEntry] = &tree.entries;
    let mut out = Vec::with_capacity(32 + entries.iter().map(|e| e.path.len() + 128).sum::<usize>());
    out.extend_from_slice(br#"{"type":"tree","entries":["#);
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"path":"#);
        json_string(&mut out, &entry.path);
        out.extend_from_slice(br#","blob":""#);
        hex(&mut out, entry.blob.as_bytes());
        out.extend_from_slice(br#"","mode":"#);
        json_string(&mut out, &entry.mode);
        out.extend_from_slice(br#","size":"#);
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{}", entry.size);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

/// A JSON string as serde_json writes it: raw when nothing needs escaping (the common
/// case), else serde_json's own escaping, so the two can never differ.
fn json_string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(&serde_json::to_vec(s).unwrap_or_default());
    }
}

fn hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::ObjectId;
    use proptest::prelude::*;

    #[test]
    fn matches_the_codec_on_tricky_paths() {
        let paths = [
            "a",
            "dir/b c.txt",
            "q\"uote",
            "back\\slash",
            "tab\there",
            "nl\n",
            "\u{1}\u{1f}\u{7f}",
            "é/日本/🎉",
            "</script>",
        ];
        let entries = paths
            .iter()
            .enumerate()
            .map(|(i, p)| TreeEntry::file(*p, ObjectId::of(p.as_bytes()), i as u64 * 1_000_003))
            .collect();
        let tree = Tree::new(entries);
        assert_eq!(encode_tree(&tree), tree.encode());
        assert_eq!(encode_tree(&Tree::default()), Tree::default().encode());
        let odd_mode = Tree {
            entries: vec![TreeEntry { mode: "x\"y".into(), ..TreeEntry::file("p", ObjectId::of(b""), u64::MAX) }],
        };
        assert_eq!(encode_tree(&odd_mode), odd_mode.encode());
    }

    proptest! {
        #[test]
        fn matches_the_codec(paths in proptest::collection::vec(any::<String>(), 0..20), size in any::<u64>()) {
            let entries = paths.iter().map(|p| TreeEntry::file(p.clone(), ObjectId::of(p.as_bytes()), size)).collect();
            let tree = Tree::new(entries);
            prop_assert_eq!(encode_tree(&tree), tree.encode());
        }
    }
}
