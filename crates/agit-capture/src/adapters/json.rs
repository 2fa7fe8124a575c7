//! A small JSON reader and compact writer for hook payloads.
//!
//! Why not `serde_json::Value`: tool arguments are stored as the compact re-serialisation
//! of the parsed value, and the reference (Zig `std.json`) keeps object keys in document
//! order, reports errors by byte offset and rejects duplicate keys. Payload text that is
//! not valid UTF-8 — raw bytes, or unpaired surrogate escapes such as a JS extension's
//! `String.slice` can produce — must become U+FFFD rather than reject the whole payload.
//! `serde_json` offers none of this without workspace-wide feature changes.

use std::collections::HashSet;
use std::fmt::Write as _;

use super::error::JsonErrorKind;

/// Deepest array/object nesting accepted. Bounds recursion (parse, render, drop) so no
/// input can overflow the stack; real payloads nest a handful of levels.
pub(crate) const MAX_DEPTH: usize = 512;

/// Objects with more keys than this check duplicates with a hash set instead of a scan.
const LINEAR_DUPLICATE_SCAN: usize = 32;

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    /// The number exactly as written (always valid JSON number syntax).
    Number(String),
    String(String),
    Array(Vec<Value>),
    Object(Object),
}

/// A JSON object with its keys in document order (keys are unique).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Object {
    entries: Vec<(String, Value)>,
}

impl Object {
    /// The value of `key`, if present.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of `key` when it is a string.
    pub(crate) fn get_str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        }
    }
}

impl Value {
    /// The JSON type, phrased for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// A syntax error at a byte offset of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) kind: JsonErrorKind,
    pub(crate) offset: usize,
}

/// Parses one JSON document (surrounding whitespace allowed).
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, SyntaxError> {
    let mut parser = Parser { bytes, pos: 0, depth: 0 };
    parser.skip_whitespace();
    let value = parser.value()?;
    parser.skip_whitespace();
    if parser.pos < bytes.len() {
        return Err(parser.error(JsonErrorKind::TrailingCharacters));
    }
    Ok(value)
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn rest(&self) -> &[u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    /// An error at the current byte; at the end of input every error is `UnexpectedEnd`.
    fn error(&self, kind: JsonErrorKind) -> SyntaxError {
        self.error_at(kind, self.pos)
    }

    fn error_at(&self, kind: JsonErrorKind, offset: usize) -> SyntaxError {
        if offset >= self.bytes.len() {
            SyntaxError { kind: JsonErrorKind::UnexpectedEnd, offset: self.bytes.len() }
        } else {
            SyntaxError { kind, offset }
        }
    }

    fn skip_whitespace(&mut self) {
        let skipped = self.rest().iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')).count();
        self.pos += skipped;
    }

    fn skip_digits(&mut self) {
        self.pos += self.rest().iter().take_while(|b| b.is_ascii_digit()).count();
    }

    fn value(&mut self) -> Result<Value, SyntaxError> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.error(JsonErrorKind::UnexpectedCharacter)),
        }
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(JsonErrorKind::NestingTooDeep));
        }
        self.pos += 1;
        Ok(())
    }

    fn object(&mut self) -> Result<Value, SyntaxError> {
        self.enter()?;
        let mut entries: Vec<(String, Value)> = Vec::new();
        let mut seen: Option<HashSet<String>> = None;
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Object(Object { entries }));
        }
        loop {
            self.skip_whitespace();
            let key_at = self.pos;
            if self.peek() != Some(b'"') {
                return Err(self.error(JsonErrorKind::ExpectedKey));
            }
            let key = self.string()?;
            if is_duplicate(&entries, &mut seen, &key) {
                return Err(self.error_at(JsonErrorKind::DuplicateKey, key_at));
            }
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error(JsonErrorKind::ExpectedColon));
            }
            self.pos += 1;
            self.skip_whitespace();
            let value = self.value()?;
            entries.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.error(JsonErrorKind::ExpectedCommaOrEnd)),
            }
        }
        self.depth -= 1;
        Ok(Value::Object(Object { entries }))
    }

    fn array(&mut self) -> Result<Value, SyntaxError> {
        self.enter()?;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value()?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.error(JsonErrorKind::ExpectedCommaOrEnd)),
            }
        }
        self.depth -= 1;
        Ok(Value::Array(items))
    }

    /// A string starting at the opening quote. Invalid UTF-8 and unpaired surrogates
    /// become U+FFFD.
    fn string(&mut self) -> Result<String, SyntaxError> {
        self.pos += 1;
        let mut buf: Vec<u8> = Vec::new();
        loop {
            let rest = self.rest();
            // Copy runs of plain bytes at once: strings are most of a payload's size.
            let Some(run) = rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20) else {
                return Err(self.error_at(JsonErrorKind::UnexpectedEnd, self.bytes.len()));
            };
            buf.extend_from_slice(rest.get(..run).unwrap_or_default());
            self.pos += run;
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => self.escape(&mut buf)?,
                _ => return Err(self.error(JsonErrorKind::ControlCharacterInString)),
            }
        }
        Ok(match String::from_utf8(buf) {
            Ok(text) => text,
            Err(invalid) => String::from_utf8_lossy(invalid.as_bytes()).into_owned(),
        })
    }

    /// One escape sequence starting at its backslash.
    fn escape(&mut self, buf: &mut Vec<u8>) -> Result<(), SyntaxError> {
        let simple = match self.bytes.get(self.pos + 1) {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0c,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => return self.unicode_escape(buf),
            _ => return Err(self.error_at(JsonErrorKind::InvalidEscape, self.pos + 1)),
        };
        buf.push(simple);
        self.pos += 2;
        Ok(())
    }

    /// `\uXXXX`, pairing a high surrogate with an immediately following low one.
    fn unicode_escape(&mut self, buf: &mut Vec<u8>) -> Result<(), SyntaxError> {
        let unit = self.hex4(self.pos + 2)?;
        self.pos += 6;
        let decoded = if (0xD800..0xDC00).contains(&unit) {
            let next_is_escape = self.rest().starts_with(b"\\u");
            match next_is_escape.then(|| self.hex4(self.pos + 2)).transpose()? {
                Some(low) if (0xDC00..0xE000).contains(&low) => {
                    self.pos += 6;
                    char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                }
                // Unpaired: leave whatever follows to be parsed on its own.
                _ => None,
            }
        } else {
            // None for a lone low surrogate.
            char::from_u32(unit)
        };
        let ch = decoded.unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut utf8 = [0u8; 4];
        buf.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
        Ok(())
    }

    fn hex4(&self, at: usize) -> Result<u32, SyntaxError> {
        let mut unit = 0u32;
        for offset in at..at + 4 {
            let digit = self
                .bytes
                .get(offset)
                .and_then(|&b| char::from(b).to_digit(16))
                .ok_or_else(|| self.error_at(JsonErrorKind::InvalidEscape, offset))?;
            unit = unit * 16 + digit;
        }
        Ok(unit)
    }

    fn number(&mut self) -> Result<Value, SyntaxError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.skip_digits(),
            _ => return Err(self.error(JsonErrorKind::InvalidNumber)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.expect_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.expect_digits()?;
        }
        let lexeme = self.bytes.get(start..self.pos).unwrap_or_default();
        Ok(Value::Number(String::from_utf8_lossy(lexeme).into_owned()))
    }

    fn expect_digits(&mut self) -> Result<(), SyntaxError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.error(JsonErrorKind::InvalidNumber));
        }
        self.skip_digits();
        Ok(())
    }

    fn literal(&mut self, word: &'static [u8], value: Value) -> Result<Value, SyntaxError> {
        let matched = word.iter().zip(self.rest()).take_while(|(a, b)| a == b).count();
        if matched == word.len() {
            self.pos += matched;
            Ok(value)
        } else {
            Err(self.error_at(JsonErrorKind::InvalidLiteral, self.pos + matched))
        }
    }
}

fn is_duplicate(entries: &[(String, Value)], seen: &mut Option<HashSet<String>>, key: &str) -> bool {
    if seen.is_none() && entries.len() < LINEAR_DUPLICATE_SCAN {
        return entries.iter().any(|(k, _)| k == key);
    }
    let set = seen.get_or_insert_with(|| entries.iter().map(|(k, _)| k.clone()).collect());
    !set.insert(key.to_owned())
}

/// Compact JSON of `value`, rendered as the reference (Zig `std.json.Value`) does.
pub(crate) fn to_compact(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

/// Compact JSON of an object.
pub(crate) fn object_to_compact(object: &Object) -> String {
    let mut out = String::new();
    write_object(object, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(lexeme) => write_number(lexeme, out),
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(object) => write_object(object, out),
    }
}

fn write_object(object: &Object, out: &mut String) {
    out.push('{');
    for (i, (key, value)) in object.entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(key, out);
        out.push(':');
        write_value(value, out);
    }
    out.push('}');
}

/// Zig parses an integer-looking number that fits i64 as an integer and prints it back
/// unchanged (JSON integers are canonical), keeps one that overflows as written, and
/// prints any other finite number as the shortest round-tripping decimal — which is
/// what Rust's `f64` `Display` prints too. `-0` counts as a float there.
fn write_number(lexeme: &str, out: &mut String) {
    let float_like = lexeme == "-0" || lexeme.contains(['.', 'e', 'E']);
    match lexeme.parse::<f64>() {
        Ok(float) if float_like && float.is_finite() => {
            let _ = write!(out, "{float}");
        }
        _ => out.push_str(lexeme),
    }
}

/// Zig's string escaping: `"`, `\`, `\b`, `\f`, `\n`, `\r`, `\t`, other controls as
/// lowercase `\u00xx`; `/`, DEL and non-ASCII stay raw.
fn write_string(text: &str, out: &mut String) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn compact(text: &str) -> String {
        to_compact(&parse(text.as_bytes()).unwrap())
    }

    fn fails(text: &[u8]) -> SyntaxError {
        parse(text).unwrap_err()
    }

    #[test]
    fn keeps_key_order_and_minifies() {
        assert_eq!(
            compact(" { \"z\" : 1 , \"a\" : [ true , false , null ] , \"m\" : { } } "),
            r#"{"z":1,"a":[true,false,null],"m":{}}"#
        );
    }

    #[test]
    fn renders_numbers_like_zig() {
        assert_eq!(compact("[0,-12,1.50,1e2,1E-3,-0,-0.0,2.5e+1]"), "[0,-12,1.5,100,0.001,-0,-0,25]");
        // Beyond i64 stays as written; so does a float that overflows f64.
        assert_eq!(compact("[123456789012345678901234567890,1e400]"), "[123456789012345678901234567890,1e400]");
    }

    #[test]
    fn escapes_strings_like_zig() {
        assert_eq!(
            compact(r#""q\" b\\ s\/ \b\f\n\r\t \u0001 \u001F \u007f é \u00e9 😀 \ud83d\ude00""#),
            "\"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001 \\u001f \u{7f} é é 😀 😀\""
        );
    }

    #[test]
    fn invalid_text_becomes_replacement_characters() {
        let value = parse(b"[\"a\xffb\", \"\\ud800x\", \"\\udc00\", \"\\ud800\\u0041\"]").unwrap();
        assert_eq!(to_compact(&value), "[\"a\u{fffd}b\",\"\u{fffd}x\",\"\u{fffd}\",\"\u{fffd}A\"]");
    }

    #[test]
    fn reports_error_kinds_and_offsets() {
        use JsonErrorKind::*;
        let cases: &[(&[u8], JsonErrorKind, usize)] = &[
            (b"", UnexpectedEnd, 0),
            (b"   ", UnexpectedEnd, 3),
            (b"{\"a\":1", UnexpectedEnd, 6),
            (b"{\"a\" 1}", ExpectedColon, 5),
            (b"{\"a\":1,}", ExpectedKey, 7),
            (b"{1:2}", ExpectedKey, 1),
            (b"[1 2]", ExpectedCommaOrEnd, 3),
            (b"[1,]", UnexpectedCharacter, 3),
            (b"{} x", TrailingCharacters, 3),
            (b"tru", UnexpectedEnd, 3),
            (b"trux", InvalidLiteral, 3),
            (b"nul", UnexpectedEnd, 3),
            (b"-", UnexpectedEnd, 1),
            (b"-a", InvalidNumber, 1),
            (b"1.", UnexpectedEnd, 2),
            (b"1.e5", InvalidNumber, 2),
            (b"1e+", UnexpectedEnd, 3),
            (b"01", TrailingCharacters, 1),
            (b"\"a\\x\"", InvalidEscape, 3),
            (b"\"\\u12g4\"", InvalidEscape, 5),
            (b"\"a\nb\"", ControlCharacterInString, 2),
            (b"\"abc", UnexpectedEnd, 4),
            (b"{\"a\":1,\"a\":2}", DuplicateKey, 7),
            (b"\xef\xbb\xbf{}", UnexpectedCharacter, 0),
        ];
        for (input, kind, offset) in cases {
            let error = fails(input);
            assert_eq!((error.kind, error.offset), (*kind, *offset), "input {:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn duplicate_keys_are_found_in_large_objects() {
        let mut text = String::from("{");
        for i in 0..100 {
            text.push_str(&format!("\"k{i}\":{i},"));
        }
        text.push_str("\"k57\":0}");
        assert_eq!(fails(text.as_bytes()).kind, JsonErrorKind::DuplicateKey);
        // Same-named keys in different objects are fine.
        assert!(parse(br#"{"a":{"a":1},"b":{"a":2}}"#).is_ok());
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let error = fails(deep.as_bytes());
        assert_eq!((error.kind, error.offset), (JsonErrorKind::NestingTooDeep, MAX_DEPTH));
        // Unclosed deep input fails without exhausting the stack.
        assert_eq!(fails("{\"a\":".repeat(100_000).as_bytes()).kind, JsonErrorKind::NestingTooDeep);
    }

    #[test]
    fn object_lookup() {
        let Value::Object(object) = parse(br#"{"a":"x","b":2}"#).unwrap() else {
            panic!("not an object");
        };
        assert_eq!(object.get_str("a"), Some("x"));
        assert_eq!(object.get_str("b"), None);
        assert_eq!(object.get("b").map(Value::type_name), Some("a number"));
        assert_eq!(object_to_compact(&object), r#"{"a":"x","b":2}"#);
    }

    /// Our value as serde_json's, numbers as exactly-parsed f64 (Rust's parser is
    /// correctly rounded; serde_json's default one is not, for long decimals).
    fn to_serde(value: &Value) -> serde_json::Value {
        use serde_json::Value as J;
        match value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(lexeme) => number(lexeme.parse().unwrap()),
            Value::String(s) => J::String(s.clone()),
            Value::Array(items) => J::Array(items.iter().map(to_serde).collect()),
            Value::Object(o) => J::Object(o.entries.iter().map(|(k, v)| (k.clone(), to_serde(v))).collect()),
        }
    }

    fn number(f: f64) -> serde_json::Value {
        serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }

    /// serde_json's value with numbers as f64 (integral floats render as integers, so
    /// numbers compare by value); `exact: false` drops numbers altogether.
    fn normalize(value: serde_json::Value, exact: bool) -> serde_json::Value {
        use serde_json::Value as J;
        match value {
            J::Number(n) if exact => number(n.as_f64().unwrap()),
            J::Number(_) => J::Null,
            J::Array(items) => J::Array(items.into_iter().map(|v| normalize(v, exact)).collect()),
            J::Object(map) => J::Object(map.into_iter().map(|(k, v)| (k, normalize(v, exact))).collect()),
            other => other,
        }
    }

    /// Rendering is valid JSON (serde_json reads it) and reads back to the same value.
    fn check_render(value: &Value) -> Result<(), TestCaseError> {
        let text = to_compact(value);
        if let Err(error) = serde_json::from_str::<serde_json::Value>(&text) {
            return Err(TestCaseError::fail(format!("{error}: {text}")));
        }
        let again = parse(text.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e:?}: {text}")))?;
        prop_assert_eq!(to_serde(&again), to_serde(value));
        prop_assert_eq!(to_compact(&again), text);
        Ok(())
    }

    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            any::<String>().prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..5)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// Whatever serde_json writes, we read to the same value and write back text
        /// serde_json reads as that value.
        #[test]
        fn reads_what_serde_json_writes(value in any_json(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&value)
            } else {
                serde_json::to_string(&value)
            }
            .unwrap_or_default();
            let parsed = parse(text.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e:?}: {text}")))?;
            prop_assert_eq!(to_serde(&parsed), normalize(value, true));
            check_render(&parsed)?;
        }

        /// On JSON-ish token soup we accept exactly what serde_json accepts, except
        /// duplicate keys (which serde_json's map silently collapses).
        #[test]
        fn accepts_what_serde_json_accepts(text in r#"[{}\[\]:,"\\ a-c0-2.eE+\-tnrulfs]{0,40}"#) {
            let ours = parse(text.as_bytes());
            let theirs = serde_json::from_str::<serde_json::Value>(&text);
            match (ours, theirs) {
                (Ok(value), Ok(expected)) => {
                    prop_assert_eq!(normalize(to_serde(&value), false), normalize(expected, false));
                    check_render(&value)?;
                }
                (Err(error), Ok(_)) => prop_assert_eq!(error.kind, JsonErrorKind::DuplicateKey, "{}", text),
                (Ok(value), Err(error)) => {
                    return Err(TestCaseError::fail(format!("accepted {text:?} as {value:?}; serde_json: {error}")));
                }
                (Err(_), Err(_)) => {}
            }
        }

        /// Any bytes: no panic, and errors point inside (or just past) the input.
        #[test]
        fn never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            if let Err(error) = parse(&bytes) {
                prop_assert!(error.offset <= bytes.len());
            }
        }
    }
}
