//! Redacted payload snippets for `hook-error.log` (`payload_snippet`).
//!
//! The reference logs the first 256 payload bytes run through its secret redactor. This
//! is a best-effort, self-contained port of that redactor's detectors (sensitive JSON
//! keys and `key=value` assignments, bearer tokens, known token prefixes, AWS key ids,
//! private key blocks, JWTs) plus long high-entropy tokens. It works on raw bytes, so an
//! invalid (even non-UTF-8) payload can still be shown safely.

use std::ops::Range;

/// Snippet length in payload bytes (the reference's 256).
pub const SNIPPET_BYTES: usize = 256;

/// Bytes scanned past the window so a secret cut by the window's end is still
/// recognised (token detectors need the whole token).
const LOOKAHEAD: usize = 4096;

const PLACEHOLDER: &str = "[REDACTED]";

/// Key substrings (ASCII case-insensitive) whose values are secrets.
const SENSITIVE_KEYS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "authorization",
    "api_key",
    "api-key",
    "apikey",
    "access_key",
    "access-key",
    "private_key",
    "credential",
    "cookie",
];

/// Known token prefixes and the minimum run length after them.
const TOKEN_PREFIXES: &[(&str, usize)] = &[
    ("ghp_", 6),
    ("gho_", 6),
    ("ghu_", 6),
    ("ghs_", 6),
    ("ghr_", 6),
    ("github_pat_", 6),
    ("glpat-", 20),
    ("xoxb-", 20),
    ("xoxp-", 20),
    ("xoxs-", 20),
    ("xoxa-", 20),
    ("xoxr-", 20),
    ("AIza", 35),
    ("sk_live_", 24),
    ("sk_test_", 24),
    ("rk_live_", 24),
    ("rk_test_", 24),
    ("sk-", 20),
    ("npm_", 36),
];

/// Minimum length and Shannon entropy (bits per byte) of an anonymous token to mask.
const ENTROPY_MIN_LEN: usize = 32;
const ENTROPY_MIN_BITS: f64 = 4.2;

/// The first [`SNIPPET_BYTES`] bytes of `payload`, secrets replaced by `[REDACTED]`.
pub fn redacted_snippet(payload: &[u8]) -> String {
    window(payload, 0)
}

/// A [`SNIPPET_BYTES`]-byte window of `payload` centred on byte `offset` (e.g. a JSON
/// error's position), secrets replaced by `[REDACTED]`.
pub fn redacted_snippet_around(payload: &[u8], offset: usize) -> String {
    window(payload, offset.saturating_sub(SNIPPET_BYTES / 2))
}

fn window(payload: &[u8], start: usize) -> String {
    let start = align_forward(payload, start.min(payload.len()));
    let end = align_back(payload, start.saturating_add(SNIPPET_BYTES).min(payload.len()));
    // Scan from the very start: quote pairing and keys before the window decide what
    // inside it is a secret value.
    let scanned = payload.get(..end.saturating_add(LOOKAHEAD).min(payload.len())).unwrap_or_default();
    let secrets = find_secrets(scanned);
    let mut out: Vec<u8> = Vec::with_capacity(end.saturating_sub(start) + PLACEHOLDER.len());
    let mut pos = start;
    for secret in secrets.iter().filter(|r| r.end > start && r.start < end) {
        if secret.start > pos {
            out.extend_from_slice(payload.get(pos..secret.start).unwrap_or_default());
        }
        out.extend_from_slice(PLACEHOLDER.as_bytes());
        pos = pos.max(secret.end);
    }
    if pos < end {
        out.extend_from_slice(payload.get(pos..end).unwrap_or_default());
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Moves `i` off UTF-8 continuation bytes so a window does not start mid-character.
fn align_forward(bytes: &[u8], mut i: usize) -> usize {
    for _ in 0..3 {
        match bytes.get(i) {
            Some(b) if (0x80..0xC0).contains(b) => i += 1,
            _ => break,
        }
    }
    i
}

/// Moves an exclusive end `i` back so a window does not end mid-character.
fn align_back(bytes: &[u8], mut i: usize) -> usize {
    for _ in 0..3 {
        match bytes.get(i) {
            Some(b) if (0x80..0xC0).contains(b) && i > 0 => i -= 1,
            _ => break,
        }
    }
    i
}

/// Byte ranges of secrets in `text`, sorted and merged.
pub(crate) fn find_secrets(text: &[u8]) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    json_values(text, &mut found);
    assignments(text, &mut found);
    bearer_tokens(text, &mut found);
    prefixed_tokens(text, &mut found);
    private_key_blocks(text, &mut found);
    high_entropy_runs(text, &mut found);
    found.retain(|r| r.start < r.end);
    found.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(found.len());
    for range in found {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

fn is_sensitive_key(key: &[u8]) -> bool {
    let lower = key.to_ascii_lowercase();
    SENSITIVE_KEYS.iter().any(|k| lower.windows(k.len()).any(|w| w == k.as_bytes()))
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

fn skip_spaces(text: &[u8], mut i: usize) -> usize {
    while matches!(text.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

/// Index of the closing quote of a JSON string whose contents start at `from`.
fn string_end(text: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        match text.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
}

/// `"<sensitive key>": value` — a string value's contents, or a bare value up to the next
/// `,` `}` `]` or newline.
fn json_values(text: &[u8], found: &mut Vec<Range<usize>>) {
    let mut i = 0;
    while let Some(quote) = find_byte(text, i, b'"') {
        let Some(close) = string_end(text, quote + 1) else {
            return;
        };
        i = close + 1;
        let colon = skip_spaces(text, close + 1);
        let key = text.get(quote + 1..close).unwrap_or_default();
        if text.get(colon) != Some(&b':') || !is_sensitive_key(key) {
            continue;
        }
        let value = skip_spaces(text, colon + 1);
        if text.get(value) == Some(&b'"') {
            let end = string_end(text, value + 1).unwrap_or(text.len());
            found.push(value + 1..end);
            i = end + 1;
        } else {
            let end = text
                .get(value..)
                .unwrap_or_default()
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']' | b'\n'))
                .map_or(text.len(), |p| value + p);
            found.push(value..trim_end(text, value, end));
            i = end;
        }
    }
}

/// `name=value` / `name: value` with a sensitive name, in free text (commands, env dumps,
/// URLs). The value runs to whitespace, a quote or a separator.
fn assignments(text: &[u8], found: &mut Vec<Range<usize>>) {
    for (delim, _) in text.iter().enumerate().filter(|(_, b)| matches!(b, b'=' | b':')) {
        let mut name_end = delim;
        while name_end > 0 && text.get(name_end - 1) == Some(&b' ') {
            name_end -= 1;
        }
        let mut name_start = name_end;
        while name_start > 0 && text.get(name_start - 1).is_some_and(|&b| is_ident(b)) {
            name_start -= 1;
        }
        let name = text.get(name_start..name_end).unwrap_or_default();
        if name.is_empty() || !is_sensitive_key(name) {
            continue;
        }
        let mut value = skip_spaces(text, delim + 1);
        // One opening quote, possibly JSON-escaped (`\"`) inside a string.
        if text.get(value) == Some(&b'\\') && text.get(value + 1) == Some(&b'"') {
            value += 2;
        } else if matches!(text.get(value), Some(b'"' | b'\'')) {
            value += 1;
        }
        let len = text
            .get(value..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| !b.is_ascii_whitespace() && !b"\"'\\,;&})]".contains(b))
            .count();
        found.push(value..value + len);
    }
}

fn bearer_tokens(text: &[u8], found: &mut Vec<Range<usize>>) {
    const BEARER: &[u8] = b"bearer ";
    for start in 0..text.len() {
        let matches = text.get(start..start + BEARER.len()).is_some_and(|w| w.eq_ignore_ascii_case(BEARER));
        if matches {
            let token = start + BEARER.len();
            let len = run_len(text, token, |b| is_ident(b) || matches!(b, b'~' | b'+' | b'/' | b'='));
            if len >= 6 {
                found.push(token..token + len);
            }
        }
    }
}

/// Known token formats: vendor prefixes, AWS access key ids and JWTs, each starting at a
/// word boundary. A match skips past its token, which keeps the scan linear.
fn prefixed_tokens(text: &[u8], found: &mut Vec<Range<usize>>) {
    let mut start = 0;
    while start < text.len() {
        let at_boundary = start == 0 || !text.get(start - 1).is_some_and(u8::is_ascii_alphanumeric);
        let len = if at_boundary { token_at(text, start) } else { 0 };
        if len > 0 {
            found.push(start..start + len);
            start += len;
        } else {
            start += 1;
        }
    }
}

/// Length of the known-format token starting at `start`, or 0.
fn token_at(text: &[u8], start: usize) -> usize {
    let rest = text.get(start..).unwrap_or_default();
    // Cheap first-byte filter: every format starts with one of these.
    if !matches!(rest.first(), Some(b'g' | b'x' | b'A' | b's' | b'r' | b'n' | b'e')) {
        return 0;
    }
    for (prefix, min_suffix) in TOKEN_PREFIXES {
        if rest.starts_with(prefix.as_bytes()) {
            let len = run_len(text, start, is_ident);
            if len >= prefix.len() + min_suffix {
                return len;
            }
        }
    }
    if rest.starts_with(b"AKIA") || rest.starts_with(b"ASIA") {
        let len = run_len(text, start, |b| b.is_ascii_uppercase() || b.is_ascii_digit());
        let next = text.get(start + len).copied();
        if len == 20 && !next.is_some_and(is_ident) {
            return len;
        }
    }
    if rest.starts_with(b"eyJ") {
        let len = run_len(text, start, is_ident);
        let dots = rest.iter().take(len).filter(|&&b| b == b'.').count();
        if dots >= 2 && len >= 30 {
            return len;
        }
    }
    0
}

/// `-----BEGIN … PRIVATE KEY-----` through its END line, or to the end of the text.
fn private_key_blocks(text: &[u8], found: &mut Vec<Range<usize>>) {
    const BEGIN: &[u8] = b"-----BEGIN ";
    const DASHES: &[u8] = b"-----";
    let mut i = 0;
    while let Some(start) = find(text, i, BEGIN) {
        let Some(header_end) = find(text, start + BEGIN.len(), DASHES) else {
            return;
        };
        let header = text.get(start + BEGIN.len()..header_end).unwrap_or_default();
        i = header_end + DASHES.len();
        if find(header, 0, b"PRIVATE KEY").is_none() {
            continue;
        }
        let end = find(text, i, b"-----END ")
            .and_then(|end| find(text, end + 9, DASHES))
            .map_or(text.len(), |dashes| dashes + DASHES.len());
        found.push(start..end);
        i = end;
    }
}

/// Long base64-ish runs mixing upper case, lower case and digits with high entropy —
/// anonymous API keys. Hex ids and UUIDs (no upper case), identifiers and words (low
/// entropy) stay visible; `/` separates runs so paths do too.
fn high_entropy_runs(text: &[u8], found: &mut Vec<Range<usize>>) {
    let token_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'=' | b'_' | b'-');
    let mut i = 0;
    while i < text.len() {
        let len = run_len(text, i, token_byte);
        if len == 0 {
            i += 1;
            continue;
        }
        let run = text.get(i..i + len).unwrap_or_default();
        if len >= ENTROPY_MIN_LEN
            && run.iter().any(u8::is_ascii_uppercase)
            && run.iter().any(u8::is_ascii_lowercase)
            && run.iter().any(u8::is_ascii_digit)
            && entropy(run) >= ENTROPY_MIN_BITS
        {
            found.push(i..i + len);
        }
        i += len;
    }
}

fn entropy(bytes: &[u8]) -> f64 {
    let mut counts = [0usize; 256];
    for &b in bytes {
        if let Some(count) = counts.get_mut(usize::from(b)) {
            *count += 1;
        }
    }
    let total = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total;
            -p * p.log2()
        })
        .sum()
}

fn run_len(text: &[u8], from: usize, accept: impl Fn(u8) -> bool) -> usize {
    text.get(from..).unwrap_or_default().iter().take_while(|&&b| accept(b)).count()
}

/// `end` moved back over trailing spaces, quotes and commas, not before `start`.
fn trim_end(text: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && matches!(text.get(end - 1), Some(b' ' | b'\t' | b'\r' | b'"' | b'\'' | b',')) {
        end -= 1;
    }
    end
}

fn find_byte(text: &[u8], from: usize, needle: u8) -> Option<usize> {
    text.get(from..)?.iter().position(|&b| b == needle).map(|p| from + p)
}

fn find(text: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    text.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> String {
        redacted_snippet(text.as_bytes())
    }

    #[test]
    fn masks_sensitive_json_values() {
        assert_eq!(redact(r#"{"token":"abc"}"#), r#"{"token":"[REDACTED]"}"#);
        assert_eq!(
            redact(r#"{"API_KEY" : "a \" b", "n": 1, "client_secret": 12345, "x": "y"}"#),
            r#"{"API_KEY" : "[REDACTED]", "n": 1, "client_secret": [REDACTED], "x": "y"}"#
        );
        // An unterminated secret value is masked to the end.
        assert_eq!(redact(r#"{"password":"hunter2"#), r#"{"password":"[REDACTED]"#);
        // Ordinary hook fields stay readable.
        let plain = r#"{"session_id":"s-1","cwd":"/w","hook_event_name":"Stop","tool_use_id":"toolu_01"}"#;
        assert_eq!(redact(plain), plain);
    }

    #[test]
    fn masks_assignments_and_bearer_tokens() {
        assert_eq!(
            redact(r#"{"command":"export API_TOKEN=s3cr3t && curl -H 'Authorization: Bearer abcdef123' x"}"#),
            r#"{"command":"export API_TOKEN=[REDACTED] && curl -H 'Authorization: [REDACTED] [REDACTED]' x"}"#
        );
        assert_eq!(redact("password = hunter2; ok"), "password = [REDACTED]; ok");
        assert_eq!(redact(r#"{"c":"DB_PASSWORD=\"pw\" run"}"#), r#"{"c":"DB_PASSWORD=\"[REDACTED]\" run"}"#);
    }

    #[test]
    fn masks_known_token_formats() {
        let cases = [
            "ghp_ABCDEFabcdef0123456789",
            "github_pat_11ABCDEFG0123456789",
            "glpat-abcdefghij0123456789",
            "xoxb-1234567890-abcdefghijkl",
            "sk-proj-abcdefghijklmnopqrstuvwxyz",
            "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
            "AKIAIOSFODNN7EXAMPLE",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        ];
        for secret in cases {
            let text = format!("use {secret} now");
            assert_eq!(redact(&text), "use [REDACTED] now", "{secret}");
        }
        // Words that merely contain a prefix are left alone.
        assert_eq!(redact("task-list-for-the-whole-week"), "task-list-for-the-whole-week");
    }

    #[test]
    fn masks_private_key_blocks() {
        let text = "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nb";
        assert_eq!(redact(text), "a\n[REDACTED]\nb");
        let open = "x -----BEGIN OPENSSH PRIVATE KEY-----\nAAAA";
        assert_eq!(redact(open), "x [REDACTED]");
        let public = "-----BEGIN PUBLIC KEY-----";
        assert_eq!(redact(public), public);
    }

    #[test]
    fn masks_high_entropy_tokens_but_not_ids_or_paths() {
        assert_eq!(redact("key Zx8Qp2Lm9Rt4Vw7Ky3Bn6Hc1Jd5Fg0Ts2Xa"), "key [REDACTED]");
        let ids = "550e8400-e29b-41d4-a716-446655440000 0123456789abcdef0123456789abcdef01234567";
        assert_eq!(redact(ids), ids);
        let path = "/Users/Matt/Projects2024/agit/src/main.rs";
        assert_eq!(redact(path), path);
    }

    #[test]
    fn snippets_are_capped_and_secrets_cut_by_the_window_stay_masked() {
        let long = "x".repeat(1000);
        assert_eq!(redact(&long).len(), SNIPPET_BYTES);
        let secret = format!("{}ghp_{}", " ".repeat(SNIPPET_BYTES - 8), "A1b2C3d4".repeat(4));
        let snippet = redact(&secret);
        assert!(snippet.ends_with("[REDACTED]"), "{snippet}");
        assert!(!snippet.contains("ghp_"));
    }

    #[test]
    fn windows_centre_on_an_offset_and_respect_utf8() {
        let text = format!("{}{{\"token\":\"abc\"}}{}", "é".repeat(200), "z".repeat(400));
        let offset = text.find('{').unwrap_or_default();
        let snippet = redacted_snippet_around(text.as_bytes(), offset);
        assert!(snippet.contains("{\"token\":\"[REDACTED]\"}"), "{snippet}");
        assert!(!snippet.contains('\u{fffd}'));
        // Keys before the window still mask a value that starts inside it.
        let text = format!("{{\"secret\":\"{}\"}}", "q".repeat(600));
        let snippet = redacted_snippet_around(text.as_bytes(), 400);
        assert_eq!(snippet, PLACEHOLDER);
        assert_eq!(redacted_snippet_around(b"", 10), "");
        assert_eq!(redacted_snippet(b"\xff{}"), "\u{fffd}{}");
    }
}
