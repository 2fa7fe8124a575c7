//! Serde helpers for the reference's JSON conventions.
//!
//! The reference (Zig `std.json`) writes a string that is not valid UTF-8 as an array of
//! byte values. We always write valid UTF-8, but every reader accepts both forms; bytes
//! that are not valid UTF-8 become U+FFFD.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serializer};
use std::fmt;

use crate::hash::ObjectId;

struct LossyString;

impl<'de> Visitor<'de> for LossyString {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or an array of byte values")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<String, A::Error> {
        let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(b) = seq.next_element::<u8>()? {
            bytes.push(b);
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// A string field written either as a JSON string or as an array of byte values.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(LossyString)
}

/// An optional string field (null, string or byte array).
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "string")] String);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

/// A 64-hex object id written as a string (or byte array).
pub fn object_id<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectId, D::Error> {
    let text = string(d)?;
    ObjectId::parse(&text).ok_or_else(|| de::Error::invalid_value(de::Unexpected::Str(&text), &"a 64-hex id"))
}

/// An optional 64-hex object id.
pub fn opt_object_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ObjectId>, D::Error> {
    match opt_string(d)? {
        None => Ok(None),
        Some(text) => ObjectId::parse(&text)
            .map(Some)
            .ok_or_else(|| de::Error::invalid_value(de::Unexpected::Str(&text), &"a 64-hex id")),
    }
}

/// Serialize an object id as its lowercase hex string.
pub fn ser_object_id<S: Serializer>(id: &ObjectId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_hex())
}

/// Serialize an optional object id as hex or `null`.
pub fn ser_opt_object_id<S: Serializer>(id: &Option<ObjectId>, s: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => s.serialize_str(&id.to_hex()),
        None => s.serialize_none(),
    }
}

/// Find `needle` in `haystack` (used by kind sniffing, which needs no regex engine).
pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct S {
        #[serde(deserialize_with = "string")]
        a: String,
        #[serde(deserialize_with = "opt_string", default)]
        b: Option<String>,
    }

    #[test]
    fn byte_arrays_decode_lossily() {
        let s: S = serde_json::from_str(r#"{"a":[104,105,255],"b":null}"#).unwrap();
        assert_eq!(s.a, "hi\u{FFFD}");
        assert_eq!(s.b, None);
        let s: S = serde_json::from_str(r#"{"a":"x","b":[111,107]}"#).unwrap();
        assert_eq!(s.b.as_deref(), Some("ok"));
        assert!(serde_json::from_str::<S>(r#"{"a":[256]}"#).is_err());
        assert!(serde_json::from_str::<S>(r#"{"a":1}"#).is_err());
    }
}
