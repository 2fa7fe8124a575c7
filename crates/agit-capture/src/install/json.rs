//! An order-preserving JSON document model for agent config files.
//!
//! Why not `serde_json::Value`: without its `preserve_order` feature (which would change
//! map ordering for the whole workspace) it sorts object keys, so rewriting a user's
//! `settings.json` would reshuffle it. This model keeps:
//! - object keys in document order (a duplicated key keeps its first position and its
//!   last value, which is what `JSON.parse` does);
//! - numbers exactly as written (no float round trip);
//! - strings as written: the escaped source text is re-emitted verbatim, so escapes the
//!   user chose (and even lone surrogate escapes, which a Rust `String` cannot hold)
//!   survive a rewrite.
//!
//! Syntax errors carry the byte offset and a 1-based line and column (the column counts
//! characters, so it matches what an editor shows).

use std::fmt::Write as _;

/// Deepest nesting accepted; bounds recursion so no input can overflow the stack.
const MAX_DEPTH: usize = 512;

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// The number's source text (always valid JSON number syntax).
    Number(String),
    String(JsonStr),
    Array(Vec<Json>),
    Object(Object),
}

/// A string: its decoded value, plus the escaped source text when it was parsed.
#[derive(Debug, Clone)]
pub(crate) struct JsonStr {
    value: String,
    raw: Option<String>,
}

impl PartialEq for JsonStr {
    /// Strings compare by meaning, not by how they were escaped.
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl JsonStr {
    /// A new string (escaped on output).
    pub(crate) fn new(value: impl Into<String>) -> JsonStr {
        JsonStr { value: value.into(), raw: None }
    }

    /// The decoded value (lone surrogate escapes decode to U+FFFD).
    pub(crate) fn as_str(&self) -> &str {
        &self.value
    }
}

/// An object: entries in document order, keys unique.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Object {
    entries: Vec<(JsonStr, Json)>,
}

impl Object {
    /// The value under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        self.entries.iter().find(|(k, _)| k.value == key).map(|(_, v)| v)
    }

    /// The value under `key`, mutably.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        self.entries.iter_mut().find(|(k, _)| k.value == key).map(|(_, v)| v)
    }

    /// Sets `key` in place when present, else appends it.
    pub(crate) fn insert(&mut self, key: &str, value: Json) {
        match self.get_mut(key) {
            Some(slot) => *slot = value,
            None => self.entries.push((JsonStr::new(key), value)),
        }
    }

    /// Removes `key`, returning its value.
    pub(crate) fn remove(&mut self, key: &str) -> Option<Json> {
        let index = self.entries.iter().position(|(k, _)| k.value == key)?;
        Some(self.entries.remove(index).1)
    }

    /// The keys in order.
    pub(crate) fn keys(&self) -> Vec<String> {
        self.entries.iter().map(|(k, _)| k.value.clone()).collect()
    }

    /// Whether the object has no keys.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Builds an object from `(key, value)` pairs (keys must be distinct).
    pub(crate) fn from_pairs<const N: usize>(pairs: [(&str, Json); N]) -> Object {
        Object { entries: pairs.into_iter().map(|(k, v)| (JsonStr::new(k), v)).collect() }
    }
}

impl Json {
    /// A string value.
    pub(crate) fn str(value: impl Into<String>) -> Json {
        Json::String(JsonStr::new(value))
    }

    /// The string value, if this is a string.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub(crate) fn as_object(&self) -> Option<&Object> {
        match self {
            Json::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The JSON type name, for messages (`array`, `string`, …).
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }

    /// Pretty-prints with 2-space indentation and a trailing newline.
    pub(crate) fn to_pretty(&self) -> String {
        let mut out = String::new();
        write_value(&mut out, self, 0);
        out.push('\n');
        out
    }
}

/// Where and why a document failed to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// What was wrong.
    pub message: &'static str,
    /// Byte offset of the problem.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// Parses a whole document (one value, surrounding whitespace allowed).
pub(crate) fn parse(bytes: &[u8]) -> Result<Json, SyntaxError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return Err(error_at(bytes, e.valid_up_to(), "invalid UTF-8")),
    };
    let mut parser = Parser { text, bytes, pos: 0 };
    parser.skip_ws();
    let value = parser.value(0)?;
    parser.skip_ws();
    if parser.pos != bytes.len() {
        return Err(parser.err("unexpected characters after the JSON value"));
    }
    Ok(value)
}

fn error_at(bytes: &[u8], offset: usize, message: &'static str) -> SyntaxError {
    let before = bytes.get(..offset).unwrap_or(bytes);
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = String::from_utf8_lossy(before.get(line_start..).unwrap_or_default()).chars().count() + 1;
    SyntaxError { message, offset, line, column }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, message: &'static str) -> SyntaxError {
        error_at(self.bytes, self.pos, message)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, message: &'static str) -> Result<(), SyntaxError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(message))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("expected a JSON value")),
        }
    }

    fn literal(&mut self, word: &'static str, value: Json) -> Result<Json, SyntaxError> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.err("expected a JSON value"))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Json, SyntaxError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        Ok(Json::Number(self.text.get(start..self.pos).unwrap_or_default().to_owned()))
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let digits = self.text.get(self.pos..self.pos + 4).ok_or_else(|| self.err("invalid \\u escape"))?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.err("invalid \\u escape"));
        }
        let code = u32::from_str_radix(digits, 16).map_err(|_| self.err("invalid \\u escape"))?;
        self.pos += 4;
        Ok(code)
    }

    fn string(&mut self) -> Result<JsonStr, SyntaxError> {
        self.pos += 1; // opening quote
        let start = self.pos;
        let mut value = String::new();
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            match byte {
                b'"' => {
                    let raw = self.text.get(start..self.pos).unwrap_or_default().to_owned();
                    self.pos += 1;
                    return Ok(JsonStr { value, raw: Some(raw) });
                }
                b'\\' => {
                    self.pos += 1;
                    let Some(escape) = self.peek() else {
                        return Err(self.err("unterminated string"));
                    };
                    self.pos += 1;
                    match escape {
                        b'"' => value.push('"'),
                        b'\\' => value.push('\\'),
                        b'/' => value.push('/'),
                        b'b' => value.push('\u{8}'),
                        b'f' => value.push('\u{c}'),
                        b'n' => value.push('\n'),
                        b'r' => value.push('\r'),
                        b't' => value.push('\t'),
                        b'u' => {
                            let first = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&first)
                                && self.bytes.get(self.pos..self.pos + 2) == Some(b"\\u")
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let second = self.hex4()?;
                                if (0xDC00..0xE000).contains(&second) {
                                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                                } else {
                                    self.pos = save;
                                    first
                                }
                            } else {
                                first
                            };
                            value.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.err("invalid escape"));
                        }
                    }
                }
                0x00..=0x1F => return Err(self.err("control character in string")),
                _ => {
                    // Copy one whole UTF-8 character (the input is valid UTF-8).
                    let rest = self.text.get(self.pos..).unwrap_or_default();
                    let ch = rest.chars().next().unwrap_or('\u{FFFD}');
                    value.push(ch);
                    self.pos += ch.len_utf8().max(1);
                }
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.err("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        self.pos += 1;
        let mut object = Object::default();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(object));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a string key"));
            }
            let key = self.string()?;
            self.skip_ws();
            self.expect(b':', "expected `:`")?;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            match object.entries.iter_mut().find(|(k, _)| k.value == key.value) {
                Some(slot) => slot.1 = value,
                None => object.entries.push((key, value)),
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(object));
                }
                _ => return Err(self.err("expected `,` or `}`")),
            }
        }
    }
}

/// Appends `value` as a JSON string literal (quotes included) to `out`. Also escapes
/// U+2028/U+2029 so the literal is valid in every JavaScript engine.
pub(crate) fn write_string_literal(out: &mut String, value: &str) {
    out.push('"');
    for ch in value.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", ch as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_str(out: &mut String, s: &JsonStr) {
    match &s.raw {
        Some(raw) => {
            out.push('"');
            out.push_str(raw);
            out.push('"');
        }
        None => write_string_literal(out, &s.value),
    }
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_value(out: &mut String, value: &Json, level: usize) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(true) => out.push_str("true"),
        Json::Bool(false) => out.push_str("false"),
        Json::Number(n) => out.push_str(n),
        Json::String(s) => write_str(out, s),
        Json::Array(items) if items.is_empty() => out.push_str("[]"),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('\n');
                indent(out, level + 1);
                write_value(out, item, level + 1);
            }
            out.push('\n');
            indent(out, level);
            out.push(']');
        }
        Json::Object(object) if object.entries.is_empty() => out.push_str("{}"),
        Json::Object(object) => {
            out.push('{');
            for (i, (key, item)) in object.entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('\n');
                indent(out, level + 1);
                write_str(out, key);
                out.push_str(": ");
                write_value(out, item, level + 1);
            }
            out.push('\n');
            indent(out, level);
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_order_numbers_and_escapes() {
        let text = br#"{"z": 1.50, "a": [true, null, -0e+3], "s": "\u00e9\/\ud83d\ude00", "lone": "\ud800x", "e": {}}"#;
        let value = parse(text).unwrap();
        let Json::Object(object) = &value else { panic!() };
        assert_eq!(object.keys(), vec!["z", "a", "s", "lone", "e"]);
        assert_eq!(object.get("s").and_then(Json::as_str), Some("é/😀"));
        assert_eq!(object.get("lone").and_then(Json::as_str), Some("\u{FFFD}x"));
        let pretty = value.to_pretty();
        assert_eq!(
            pretty,
            "{\n  \"z\": 1.50,\n  \"a\": [\n    true,\n    null,\n    -0e+3\n  ],\n  \"s\": \"\\u00e9\\/\\ud83d\\ude00\",\n  \"lone\": \"\\ud800x\",\n  \"e\": {}\n}\n"
        );
        assert_eq!(parse(pretty.as_bytes()).unwrap(), value);
    }

    #[test]
    fn duplicate_keys_keep_first_position_and_last_value() {
        let value = parse(br#"{"a": 1, "b": 2, "a": 3}"#).unwrap();
        assert_eq!(value.to_pretty(), "{\n  \"a\": 3,\n  \"b\": 2\n}\n");
    }

    #[test]
    fn errors_carry_offset_line_and_column() {
        let err = parse(b"{\n  \"a\": 1,\n  \"\xc3\xa9\": tru\n}").unwrap_err();
        assert_eq!((err.line, err.column, err.offset), (3, 8, 20));
        let err = parse(b"").unwrap_err();
        assert_eq!((err.line, err.column, err.offset), (1, 1, 0));
        let err = parse(b"{} x").unwrap_err();
        assert_eq!(err.offset, 3);
        let err = parse(b"[1,]").unwrap_err();
        assert_eq!(err.offset, 3);
        let err = parse(b"\"a\x01\"").unwrap_err();
        assert_eq!(err.message, "control character in string");
        assert!(parse(b"01").is_err());
        assert!(parse(b"1.").is_err());
        assert!(parse(b"\xff").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert_eq!(parse(deep.as_bytes()).unwrap_err().message, "nesting too deep");
    }

    #[test]
    fn new_strings_are_escaped() {
        let mut out = String::new();
        write_string_literal(&mut out, "a\"b\\c\n\u{1}\u{2028}é");
        assert_eq!(out, "\"a\\\"b\\\\c\\n\\u0001\\u2028é\"");
    }
}
