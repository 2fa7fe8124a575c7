//! Tree objects: a sorted list of workspace files.

use serde::{Deserialize, Serialize};

use super::{DecodeError, ObjectKind, check_tag, to_canonical_bytes};
use crate::hash::ObjectId;
use crate::json;

/// The only mode snapshots write (the executable bit is not tracked).
pub const FILE_MODE: &str = "file";

/// One file in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeEntry {
    /// Workspace-relative path with `/` separators and no leading `./`.
    #[serde(deserialize_with = "json::string")]
    pub path: String,
    /// The blob holding the (possibly redacted or placeholder) content.
    #[serde(serialize_with = "json::ser_object_id", deserialize_with = "json::object_id")]
    pub blob: ObjectId,
    /// Always `"file"` from snapshots; restore refuses anything else.
    #[serde(deserialize_with = "json::string")]
    pub mode: String,
    /// The original file size in bytes, even when the blob is a placeholder.
    pub size: u64,
}

impl TreeEntry {
    /// A regular-file entry.
    pub fn file(path: impl Into<String>, blob: ObjectId, size: u64) -> Self {
        TreeEntry { path: path.into(), blob, mode: FILE_MODE.to_owned(), size }
    }
}

/// A workspace snapshot. Entries are kept sorted by raw byte order of `path`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    pub entries: Vec<TreeEntry>,
}

#[derive(Serialize)]
struct TreeOut<'a> {
    #[serde(rename = "type")]
    tag: &'static str,
    entries: &'a [TreeEntry],
}

#[derive(Deserialize)]
struct TreeIn {
    #[serde(rename = "type", default, deserialize_with = "json::opt_string")]
    tag: Option<String>,
    entries: Vec<TreeEntry>,
}

impl Tree {
    /// Build a tree, sorting entries bytewise by path as the format requires.
    pub fn new(mut entries: Vec<TreeEntry>) -> Self {
        entries.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        Tree { entries }
    }

    /// Canonical bytes (what is hashed and stored).
    pub fn encode(&self) -> Vec<u8> {
        to_canonical_bytes(&TreeOut { tag: "tree", entries: &self.entries })
    }

    /// Read a tree, tolerating unknown fields and byte-array strings.
    pub fn decode(bytes: &[u8]) -> Result<Tree, DecodeError> {
        let raw: TreeIn =
            serde_json::from_slice(bytes).map_err(|source| DecodeError::Schema { kind: ObjectKind::Tree, source })?;
        check_tag(ObjectKind::Tree, raw.tag)?;
        Ok(Tree { entries: raw.entries })
    }

    /// Find an entry by exact path (entries are sorted, so this is a binary search).
    pub fn get(&self, path: &str) -> Option<&TreeEntry> {
        self.entries.binary_search_by(|e| e.path.as_bytes().cmp(path.as_bytes())).ok().map(|i| &self.entries[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_tree_bytes_and_id() {
        let bytes = Tree::default().encode();
        assert_eq!(bytes, br#"{"type":"tree","entries":[]}"#);
        assert_eq!(ObjectId::of(&bytes).to_hex(), "7e67e313925975c3b563670cc6200965f166be637536d92cafa940761d02d65e");
    }

    #[test]
    fn entries_sort_bytewise_not_by_locale() {
        let blob = ObjectId::of(b"");
        let tree = Tree::new(vec![
            TreeEntry::file("b", blob, 0),
            TreeEntry::file("B", blob, 0),
            TreeEntry::file("a/b", blob, 0),
            TreeEntry::file("a.b", blob, 0),
        ]);
        let paths: Vec<_> = tree.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["B", "a.b", "a/b", "b"]);
        assert!(tree.get("a/b").is_some());
        assert!(tree.get("c").is_none());
    }

    #[test]
    fn decode_is_tolerant_but_checks_the_tag() {
        let blob = ObjectId::of(b"x").to_hex();
        let json = format!(
            r#"{{"entries":[{{"path":[97],"blob":"{blob}","mode":"file","size":1,"extra":true}}],"future":1}}"#
        );
        let tree = Tree::decode(json.as_bytes()).unwrap();
        assert_eq!(tree.entries[0].path, "a");
        assert!(matches!(Tree::decode(br#"{"type":"step","entries":[]}"#), Err(DecodeError::TypeTag { .. })));
        assert!(Tree::decode(br#"{"type":"tree"}"#).is_err());
        assert!(
            Tree::decode(br#"{"type":"tree","entries":[{"path":"a","blob":"zz","mode":"file","size":1}]}"#).is_err()
        );
    }
}
