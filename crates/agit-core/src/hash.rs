//! Object ids: BLAKE3-256 of the exact stored bytes, shown as 64 lowercase hex.

use std::fmt;
use std::str::FromStr;

/// Length of an object id in raw bytes.
pub const DIGEST_LEN: usize = 32;
/// Length of an object id in hex characters.
pub const HEX_LEN: usize = 64;

/// A content address: BLAKE3 of an object's stored bytes (no header, no compression).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId([u8; DIGEST_LEN]);

impl ObjectId {
    /// Hash `bytes` exactly as stored.
    pub fn of(bytes: &[u8]) -> Self {
        ObjectId(*blake3::hash(bytes).as_bytes())
    }

    /// Wrap a raw 32-byte digest.
    pub const fn from_bytes(bytes: [u8; DIGEST_LEN]) -> Self {
        ObjectId(bytes)
    }

    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; DIGEST_LEN] {
        &self.0
    }

    /// Parse 64 hex characters (either case; ids are always written lowercase).
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != HEX_LEN {
            return None;
        }
        let mut out = [0u8; DIGEST_LEN];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(ObjectId(out))
    }

    /// Lowercase hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The first `n` hex characters, for display.
    pub fn short(&self, n: usize) -> String {
        let mut hex = self.to_hex();
        hex.truncate(n.min(HEX_LEN));
        hex
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({})", self.to_hex())
    }
}

impl FromStr for ObjectId {
    type Err = InvalidObjectId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ObjectId::parse(s).ok_or(InvalidObjectId)
    }
}

/// A string that is not 64 hex characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a 64-character hex object id")]
pub struct InvalidObjectId;

/// True when `text` is exactly 64 lowercase hex characters (the canonical written form).
pub fn is_canonical_hex_id(text: &str) -> bool {
    text.len() == HEX_LEN && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_hash_matches_blake3_reference() {
        assert_eq!(ObjectId::of(b"").to_hex(), "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
    }

    #[test]
    fn parse_accepts_either_case_and_rejects_bad_lengths() {
        let id = ObjectId::of(b"hello\n");
        assert_eq!(ObjectId::parse(&id.to_hex().to_uppercase()), Some(id));
        assert_eq!(ObjectId::parse(&id.to_hex()[..63]), None);
        assert_eq!(ObjectId::parse(&format!("{}0", id.to_hex())), None);
        assert_eq!(ObjectId::parse(&"g".repeat(64)), None);
        assert!(is_canonical_hex_id(&id.to_hex()));
        assert!(!is_canonical_hex_id(&id.to_hex().to_uppercase()));
    }
}
