//! The five object kinds and their byte-exact encodings.
//!
//! Trees, steps, blames and evals are minified JSON with the reference's key order and
//! every optional field emitted as `null`; `serde_json`'s compact writer escapes strings
//! exactly like Zig's `std.json` for valid UTF-8, which is all we ever write. Readers are
//! tolerant: unknown fields are ignored, strings may be byte arrays, and fields that older
//! writers left out take their defaults.

mod blame;
mod eval;
mod step;
mod tree;

pub use blame::{Blame, BlameLine};
pub use eval::{Assessment, Dimension, Dimensions, EvalObject, EvalScope, EvalSignals};
pub use step::{Cause, Message, Step, ToolCall};
pub use tree::{FILE_MODE, Tree, TreeEntry};

use serde::Deserialize;
use std::fmt;

use crate::json::contains;

/// What an object is. Objects carry no header, so the kind comes from how an object was
/// reached (or was written); [`sniff_kind`] is only the fallback for unreferenced bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    Blob,
    Tree,
    Step,
    Blame,
    Eval,
}

impl ObjectKind {
    /// All kinds, in the order the reference sniffs the structured ones.
    pub const ALL: [ObjectKind; 5] =
        [ObjectKind::Tree, ObjectKind::Step, ObjectKind::Blame, ObjectKind::Eval, ObjectKind::Blob];

    /// The lowercase name used in the index, bundles and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Blob => "blob",
            ObjectKind::Tree => "tree",
            ObjectKind::Step => "step",
            ObjectKind::Blame => "blame",
            ObjectKind::Eval => "eval",
        }
    }

    /// Parse a lowercase kind name.
    pub fn parse(name: &str) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    fn type_tag_literal(self) -> Option<&'static [u8]> {
        match self {
            ObjectKind::Blob => None,
            ObjectKind::Tree => Some(br#""type":"tree""#),
            ObjectKind::Step => Some(br#""type":"step""#),
            ObjectKind::Blame => Some(br#""type":"blame""#),
            ObjectKind::Eval => Some(br#""type":"eval""#),
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Guess an object's kind from its bytes, the way the reference does: the minified literal
/// `"type":"<kind>"` must appear *and* the bytes must parse as a JSON object whose top-level
/// `type` is that kind. Anything else is a blob. Use only when the kind is not known from
/// context (DECISIONS §2, improvement 1).
pub fn sniff_kind(bytes: &[u8]) -> ObjectKind {
    // Cheap pre-check so ordinary file content is never parsed as JSON.
    if !contains(bytes, br#""type":""#) {
        return ObjectKind::Blob;
    }
    let Some(tag) = top_level_type(bytes) else {
        return ObjectKind::Blob;
    };
    match ObjectKind::parse(&tag) {
        Some(kind) if kind.type_tag_literal().is_some_and(|lit| contains(bytes, lit)) => kind,
        _ => ObjectKind::Blob,
    }
}

/// The top-level `type` string of a JSON object, if the bytes are one.
pub fn top_level_type(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "type", default)]
        type_tag: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(bytes).ok()?;
    match probe.type_tag? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    }
}

/// Why bytes could not be read as the expected kind of object.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, or JSON of the wrong shape (missing field, wrong type, bad hash…).
    #[error("{kind} object does not match the supported schema: {source}")]
    Schema {
        kind: ObjectKind,
        #[source]
        source: serde_json::Error,
    },
    /// Valid shape but the `type` tag names another kind.
    #[error("{kind} object has an invalid type tag `{found}`")]
    TypeTag { kind: ObjectKind, found: String },
}

impl DecodeError {
    /// The kind that was expected.
    pub fn kind(&self) -> ObjectKind {
        match self {
            DecodeError::Schema { kind, .. } | DecodeError::TypeTag { kind, .. } => *kind,
        }
    }
}

/// Check a decoded `type` tag (absent means "the expected kind", as in the reference).
pub(crate) fn check_tag(kind: ObjectKind, tag: Option<String>) -> Result<(), DecodeError> {
    match tag {
        None => Ok(()),
        Some(t) if t == kind.as_str() => Ok(()),
        Some(found) => Err(DecodeError::TypeTag { kind, found }),
    }
}

/// Serialize a structured object to its canonical bytes.
pub(crate) fn to_canonical_bytes<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain structs of strings and integers cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_needs_both_the_literal_and_a_parse() {
        assert_eq!(sniff_kind(br#"{"type":"tree","entries":[]}"#), ObjectKind::Tree);
        // Pretty-printed JSON has no minified literal: a blob, as in the reference.
        assert_eq!(sniff_kind(br#"{"type": "tree", "entries": []}"#), ObjectKind::Blob);
        // The literal inside a string value is not the top-level tag.
        assert_eq!(sniff_kind(br#"{"note":"\"type\":\"step\""}"#), ObjectKind::Blob);
        assert_eq!(sniff_kind(b"\"type\":\"step\""), ObjectKind::Blob);
        assert_eq!(sniff_kind(br#"{"type":"eval","x":1}"#), ObjectKind::Eval);
        assert_eq!(sniff_kind(br#"{"type":"blame","path":"a","lines":[]}"#), ObjectKind::Blame);
        assert_eq!(sniff_kind(b""), ObjectKind::Blob);
    }

    #[test]
    fn a_nested_literal_of_another_kind_does_not_confuse_the_tag() {
        let bytes = br#"{"type":"step","messages":[{"role":"user","content":"{\"type\":\"tree\"}"}]}"#;
        assert_eq!(sniff_kind(bytes), ObjectKind::Step);
    }
}
