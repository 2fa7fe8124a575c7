//! Blame objects: for each line of one file version, the step that last changed it.

use serde::{Deserialize, Serialize};

use super::{DecodeError, ObjectKind, check_tag, to_canonical_bytes};
use crate::hash::ObjectId;
use crate::json;

/// Attribution of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlameLine {
    #[serde(serialize_with = "json::ser_object_id", deserialize_with = "json::object_id")]
    pub step: ObjectId,
}

/// Per-line attribution of a file (one element per line of the canonical splitter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blame {
    pub path: String,
    pub lines: Vec<BlameLine>,
}

#[derive(Serialize)]
struct BlameOut<'a> {
    #[serde(rename = "type")]
    tag: &'static str,
    path: &'a str,
    lines: &'a [BlameLine],
}

#[derive(Deserialize)]
struct BlameIn {
    #[serde(rename = "type", default, deserialize_with = "json::opt_string")]
    tag: Option<String>,
    #[serde(deserialize_with = "json::string")]
    path: String,
    lines: Vec<BlameLine>,
}

impl Blame {
    /// Canonical bytes (what is hashed and stored).
    pub fn encode(&self) -> Vec<u8> {
        to_canonical_bytes(&BlameOut { tag: "blame", path: &self.path, lines: &self.lines })
    }

    /// Read a blame object.
    pub fn decode(bytes: &[u8]) -> Result<Blame, DecodeError> {
        let raw: BlameIn =
            serde_json::from_slice(bytes).map_err(|source| DecodeError::Schema { kind: ObjectKind::Blame, source })?;
        check_tag(ObjectKind::Blame, raw.tag)?;
        Ok(Blame { path: raw.path, lines: raw.lines })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_md_blame_vector() {
        let step = ObjectId::parse("eef74ba958b714d4b020ff92e48aae2fb543df2c8ee26aeedeeb5e5d8a5f6afd").unwrap();
        let blame = Blame { path: "a.txt".into(), lines: vec![BlameLine { step }; 2] };
        let bytes = blame.encode();
        assert_eq!(ObjectId::of(&bytes).to_hex(), "a49a0ae7c4192289e7343f96e8a1af437dd34ea2e10d50691fc8821a45d9f40c");
        assert_eq!(Blame::decode(&bytes).unwrap(), blame);
    }
}
