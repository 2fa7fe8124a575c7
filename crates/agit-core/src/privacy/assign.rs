//! Key-name rules: `sensitive_assignment`, `generic_secret` and `bearer_token`.
//!
//! A keyword search finds candidate keys followed by a delimiter; each hit is widened to
//! the key (a run of `[A-Za-z0-9_.-]`), the key is split into words and classified, and the
//! value after the `:`/`=` is parsed. Compared with the reference:
//! - keys match by **word**, not substring: `max_tokens`, `secretary`, `token_count` and
//!   `next_page_token` are not secrets, `GITHUB_TOKEN`, `apiKey`, `x-api-key` are;
//! - values that are not literals are not secrets: JSON `null`/numbers/`{`/`[`, `${VAR}`,
//!   `<your-token>`, `[REDACTED]`, masks like `****`, and code (`get_token()`,
//!   `self.token`, `Token![if]`, type annotations, `let token = match …`);
//! - a value never runs past its own string, word or line, so a `=` inside a JSON string
//!   cannot redact across the surrounding structure.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::rules::compile;
use super::{Match, REDACTED, Rule};

/// A key word followed, within the same key, by a delimiter (or `Bearer` and a blank).
/// `pass` covers `password`/`passwd`/`passphrase`, `auth` covers `authorization`, `cred`
/// `credentials`. Requiring the delimiter in the pattern keeps prose mentions of "token" or
/// "key" inside the regex engine instead of costing a validation call each. Words are
/// matched in lower, Title and UPPER case rather than case-insensitively: real keys use
/// those (`token`, `accessToken`, `GITHUB_TOKEN`), and a case-sensitive literal set is
/// about four times faster to search.
static KEYWORDS: LazyLock<Regex> = LazyLock::new(|| {
    let mut words = Vec::new();
    for word in ["token", "secret", "pass", "pwd", "auth", "key", "cred"] {
        let title = format!("{}{}", word[..1].to_ascii_uppercase(), &word[1..]);
        words.extend([word.to_owned(), title, word.to_ascii_uppercase()]);
    }
    let words = words.join("|");
    compile(&format!(r#"(?-u)(?:{words})[A-Za-z0-9_.\-]*(?:\\?["'])?\]?[ \t]*[:=]|(?:bearer|Bearer|BEARER)[ \t]"#))
});

/// Longest key considered; longer runs are identifiers or data, not keys.
const MAX_KEY: usize = 128;
/// A rejected value longer than this is skipped as a whole (keeps rescans bounded).
const RESCAN_LIMIT: usize = 64;
/// `generic_secret` values: minimum length and Shannon entropy (bits per byte).
const GENERIC_MIN_LEN: usize = 20;
const GENERIC_MIN_ENTROPY: f64 = 3.5;

/// Key characters: identifiers plus `.` (`spring.datasource.password`) and `-` (`x-api-key`).
fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// Run the keyword pass over `text`.
pub(super) fn scan_assignments(text: &[u8], out: &mut Vec<Match>) {
    let mut pos = 0;
    while pos < text.len() {
        let Some(hit) = KEYWORDS.find_at(text, pos) else { break };
        let hs = hit.start();
        if text[hs..].len() > 6 && text[hs..hs + 6].eq_ignore_ascii_case(b"bearer") {
            match bearer_at(text, hs) {
                Some(m) => {
                    pos = m.end;
                    out.push(m);
                }
                None => pos = hs + 6,
            }
            continue;
        }
        // Widen to the whole key, never left of `pos`: bytes before it are consumed, which
        // makes every byte walked at most a constant number of times.
        let a = hs - text[pos..hs].iter().rev().take_while(|&&b| is_key_char(b)).count();
        let b = hs + text[hs..].iter().take_while(|&&b| is_key_char(b)).count();
        pos = assignment(text, a, b, out).max(hs + 1);
    }
}

/// `Bearer <token>` at `at` (the `b` of `bearer`): the token span. The token must look like
/// one (a digit, or ≥ 20 characters), so prose such as "bearer authentication" is not a
/// finding; RFC 6750 token68 characters are accepted.
fn bearer_at(text: &[u8], at: usize) -> Option<Match> {
    if at > 0 && (text[at - 1].is_ascii_alphanumeric() || text[at - 1] == b'_') {
        return None;
    }
    let ws = text[at + 6..].iter().take(8).take_while(|&&b| b == b' ' || b == b'\t').count();
    if ws == 0 {
        return None;
    }
    let start = at + 6 + ws;
    // Like token runs, stop before `--` (never part of a token; keeps PEM markers intact).
    let mut end = start;
    while end < text.len()
        && (text[end].is_ascii_alphanumeric() || b"-._~+/=".contains(&text[end]))
        && !(text[end] == b'-' && text.get(end + 1) == Some(&b'-'))
    {
        end += 1;
    }
    while end > start && text[end - 1] == b'.' {
        end -= 1;
    }
    let token = &text[start..end];
    let plausible = token.len() >= 6 && (token.iter().any(u8::is_ascii_digit) || token.len() >= 20);
    plausible.then(|| Match::new(Rule::BearerToken, start, end))
}

/// How sensitive a key name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyClass {
    /// Any literal value is reported (`sensitive_assignment`).
    Strong,
    /// Only high-entropy values are reported (`generic_secret`).
    Weak,
}

/// Words whose presence makes a key sensitive. A word also counts when it ends with one of
/// the first six (`githubtoken`, `dbpassword`), but `tokens`/`secretary` do not.
const STRONG_SUFFIXES: &[&str] = &["token", "secret", "password", "passwd", "passphrase", "authorization"];
const STRONG_WORDS: &[&str] = &["apikey", "accesskey", "privatekey", "secretkey", "clientsecret"];
/// Two-word keys: `api_key`, `apiKey`, `access-key`, `private_key`.
const STRONG_PAIRS: &[(&str, &str)] = &[("api", "key"), ("access", "key"), ("private", "key")];
/// A `token` right after one of these is a count or a cursor, not a credential
/// (`max_token`, `next_page_token`, `eos_token`, `CancellationToken`).
const TOKEN_QUALIFIERS: &[&str] = &[
    "max",
    "min",
    "num",
    "total",
    "input",
    "output",
    "prompt",
    "completion",
    "cached",
    "reasoning",
    "next",
    "prev",
    "previous",
    "page",
    "continuation",
    "sync",
    "cancellation",
    "cancel",
    "eos",
    "bos",
    "pad",
    "unk",
    "sep",
    "cls",
    "mask",
    "special",
];
/// Keys ending in one of these describe a secret rather than hold one (`token_count`,
/// `secret_key_env`, `password_file`, `token_url`).
const METADATA_SUFFIXES: &[&str] = &[
    "count",
    "counts",
    "type",
    "types",
    "usage",
    "limit",
    "limits",
    "length",
    "len",
    "size",
    "budget",
    "name",
    "names",
    "env",
    "var",
    "vars",
    "file",
    "files",
    "path",
    "paths",
    "url",
    "uri",
    "endpoint",
    "expiry",
    "expires",
    "expiration",
    "ttl",
    "header",
    "field",
    "prefix",
    "suffix",
    "format",
    "kind",
    "mode",
    "policy",
    "method",
    "index",
    "hint",
    "label",
    "description",
    "placeholder",
    "pattern",
    "regex",
    "rule",
    "rules",
    "enabled",
    "required",
    "min",
    "max",
    "dir",
    "dirs",
    "directory",
    "folder",
    "location",
    "sock",
    "socket",
    "command",
    "cmd",
    "program",
    "helper",
];
/// Weak words: suggest a secret, so a high-entropy value is reported.
const WEAK_WORDS: &[&str] = &["auth", "credential", "credentials", "creds", "cred", "pass", "pwd"];
/// `<qualifier>_key` that names a data-structure key, not a secret.
const PLAIN_KEY_QUALIFIERS: &[&str] = &[
    "primary",
    "foreign",
    "sort",
    "partition",
    "cache",
    "idempotency",
    "public",
    "pub",
    "lookup",
    "map",
    "hash",
    "row",
    "object",
    "dedup",
    "unique",
    "group",
    "index",
    "range",
    "hot",
    "shortcut",
    "keyboard",
    "host",
    "dict",
    "composite",
    "natural",
    "surrogate",
    "sequence",
    "order",
    "cursor",
    "route",
    "react",
    "item",
    "list",
    "query",
    "search",
    "translation",
    "locale",
    "message",
    "storage",
    "state",
    "config",
    "setting",
    "settings",
    "field",
    "column",
    "table",
    "node",
    "record",
    "s3",
    "bucket",
];

/// Split a key into lowercase words at `_`, `-`, `.`, and camelCase/acronym boundaries
/// (`nextPageToken` → next page token, `APIKey` → api key).
fn key_words(key: &[u8]) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    for (i, &b) in key.iter().enumerate() {
        if !b.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| key[j]);
        let next = key.get(i + 1).copied();
        let boundary = b.is_ascii_uppercase()
            && prev.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
            });
        if boundary && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        cur.push(b.to_ascii_lowercase() as char);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Classify a key name; `None` when it does not suggest a secret.
pub(super) fn classify_key(key: &[u8]) -> Option<KeyClass> {
    if key.len() > MAX_KEY {
        return None;
    }
    let words = key_words(key);
    let last = words.last()?;
    if METADATA_SUFFIXES.contains(&last.as_str()) {
        return None;
    }
    let mut class = None;
    for (i, w) in words.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| words[j].as_str());
        let strong_suffix = STRONG_SUFFIXES.iter().any(|s| w.ends_with(s));
        let qualified_token = w == "token" && prev.is_some_and(|p| TOKEN_QUALIFIERS.contains(&p));
        let pair = prev.is_some_and(|p| STRONG_PAIRS.contains(&(p, w.as_str())));
        if (strong_suffix && !qualified_token) || STRONG_WORDS.contains(&w.as_str()) || pair {
            return Some(KeyClass::Strong);
        }
        // Weak words only count last: `DB_PASS`, `SIGNING_KEY`, but not `SSH_AUTH_SOCK`.
        let weak_key = (w == "key" || w == "keys") && prev.is_some_and(|p| !PLAIN_KEY_QUALIFIERS.contains(&p));
        if i + 1 == words.len() && (WEAK_WORDS.contains(&w.as_str()) || weak_key) {
            class = Some(KeyClass::Weak);
        }
    }
    class
}

/// How the key was quoted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    /// `"key"` or `'key'`.
    Plain(u8),
    /// `\"key\"`: JSON nested in a JSON string (raw object bytes, escaped tool args).
    Escaped,
}

/// The delimiter after a key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Delim {
    /// `=`, `:=`, `=>`.
    Assign,
    /// `:`.
    Colon,
}

/// Parse `key <delim> value` for the key `text[a..b]`, push a match when the value is a
/// secret, and return where the keyword search resumes.
fn assignment(text: &[u8], a: usize, b: usize, out: &mut Vec<Match>) -> usize {
    let key = &text[a..b];
    let Some(class) = classify_key(key) else { return b };
    let open = match a.checked_sub(1).map(|i| text[i]) {
        Some(b'"') if a >= 2 && text[a - 2] == b'\\' => Quote::Escaped,
        Some(q @ (b'"' | b'\'')) => Quote::Plain(q),
        _ => Quote::None,
    };
    // A quoted key ends with its closing quote (optionally `]`, as in `env["TOKEN"] = …`);
    // a key that only starts a string is a header or assignment written inside one.
    let mut p = b;
    let quoted_key = match open {
        Quote::Plain(q) if text.get(p) == Some(&q) => {
            p += 1;
            if a >= 2 && text[a - 2] == b'[' && text.get(p) == Some(&b']') {
                p += 1;
            }
            true
        }
        Quote::Escaped if text[p..].starts_with(b"\\\"") => {
            p += 2;
            true
        }
        _ => false,
    };
    p += count_blanks(&text[p..]);
    // `Error::SecretTooLong => …` is a path (an enum variant), not a key; in
    // `let s: TokenStream = …` the "key" is a type.
    let type_name = key[0].is_ascii_uppercase()
        && key.iter().any(u8::is_ascii_lowercase)
        && key.iter().all(u8::is_ascii_alphanumeric);
    if text[..a].ends_with(b"::") || (type_name && text[..a].trim_ascii_end().ends_with(b":")) {
        return b;
    }
    let rest = &text[p..];
    let (delim, len) = if rest.starts_with(b":=") {
        (Delim::Assign, 2)
    } else if rest.starts_with(b"=>") {
        // Ruby/PHP hashes (`'token' => …`, `:token => …`); elsewhere a match arm or a lambda.
        if !quoted_key && !text[..a].ends_with(b":") {
            return b;
        }
        (Delim::Assign, 2)
    } else if rest.starts_with(b"==") || rest.starts_with(b"::") {
        return b;
    } else if rest.starts_with(b"=") {
        (Delim::Assign, 1)
    } else if rest.starts_with(b":") {
        (Delim::Colon, 1)
    } else {
        return b;
    };
    p += len;
    p += count_blanks(&text[p..]);
    let Some(value) = parse_value(text, a, p, open, quoted_key, delim) else { return b };
    let v = &text[value.start..value.end];
    // In a declaration (`let token = …`, `pub const PRIVATE_KEY: T = …`, `pub token: Token`)
    // only a string literal is a value; anything else is an expression or a type.
    let declared = value.kind != ValueKind::Quoted && follows_declaration(text, a);
    let accepted = !v.is_empty()
        && !declared
        && !is_placeholder(v, key)
        && (value.kind == ValueKind::Quoted || !is_code_like(v))
        && (value.kind != ValueKind::Strict || looks_random(v))
        && match class {
            KeyClass::Strong => true,
            KeyClass::Weak => high_entropy(v),
        };
    if accepted {
        let rule = if class == KeyClass::Strong { Rule::SensitiveAssignment } else { Rule::GenericSecret };
        out.push(Match::new(rule, value.start, value.end));
        // `Authorization: Bearer x` is also a bearer token finding (the reference reports both).
        if v.len() > 6
            && v[..6].eq_ignore_ascii_case(b"bearer")
            && let Some(m) = bearer_at(text, value.start)
        {
            out.push(m);
        }
        value.end
    } else if value.end - value.start > RESCAN_LIMIT {
        value.end
    } else {
        b
    }
}

/// A parsed value span.
struct Value {
    start: usize,
    end: usize,
    kind: ValueKind,
}

/// How a value was delimited.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    /// The contents of a string literal: taken as is.
    Quoted,
    /// An unquoted word or rest of line: must not look like code.
    Unquoted,
    /// A bare word after an unquoted key in running text (`my password: hunter2`): must
    /// also look random.
    Strict,
}

/// Whether the key at `a` follows a declaration keyword (`let`, `const`, `pub`, …).
fn follows_declaration(text: &[u8], a: usize) -> bool {
    const KEYWORDS: &[&[u8]] = &[
        b"let",
        b"const",
        b"var",
        b"mut",
        b"val",
        b"type",
        b"static",
        b"auto",
        b"local",
        b"readonly",
        b"final",
        b"pub",
        b"public",
        b"private",
        b"protected",
    ];
    let before = &text[..a];
    let blanks = before.iter().rev().take(8).take_while(|&&b| b == b' ' || b == b'\t').count();
    if blanks == 0 {
        return false;
    }
    let before = &before[..before.len() - blanks];
    let word = before.iter().rev().take(17).take_while(|b| b.is_ascii_alphabetic()).count();
    let start = before.len() - word;
    let bounded = start == 0 || !is_key_char(before[start - 1]);
    bounded && KEYWORDS.contains(&&before[start..])
}

fn count_blanks(bytes: &[u8]) -> usize {
    bytes.iter().take(64).take_while(|&&b| b == b' ' || b == b'\t').count()
}

fn parse_value(text: &[u8], a: usize, p: usize, open: Quote, quoted_key: bool, delim: Delim) -> Option<Value> {
    let rest = &text[p..];
    // A quoted value: its contents, to the closing quote or the end of the line.
    if rest.starts_with(b"\\\"") {
        let start = p + 2;
        return Some(Value { start, end: escaped_string_end(text, start), kind: ValueKind::Quoted });
    }
    if let Some(&q @ (b'"' | b'\'' | b'`')) = rest.first() {
        let start = p + 1;
        return Some(Value { start, end: string_end(text, start, q), kind: ValueKind::Quoted });
    }
    // Python string prefixes; an f-string with `{…}` is a template, not a literal.
    if let [prefix @ (b'f' | b'F' | b'b' | b'B' | b'r' | b'R' | b'u'), q @ (b'"' | b'\''), ..] = rest {
        let start = p + 2;
        let end = string_end(text, start, *q);
        if matches!(prefix, b'f' | b'F') && text[start..end].contains(&b'{') {
            return None;
        }
        return Some(Value { start, end, kind: ValueKind::Quoted });
    }
    if quoted_key {
        // JSON: `null`, numbers, booleans, objects and arrays are not secrets (the reference
        // redacted `null` and `[`). Anything else is YAML-like: take the word.
        let first = *rest.first()?;
        if first == b'{' || first == b'[' || first == b'-' || first.is_ascii_digit() {
            return None;
        }
        return bare_word(text, p).map(|end| Value { start: p, end, kind: ValueKind::Unquoted });
    }
    match delim {
        Delim::Assign => bare_word(text, p).map(|end| Value { start: p, end, kind: ValueKind::Unquoted }),
        Delim::Colon => {
            let (line_start, escaped_line) = at_line_start(text, a);
            if line_start || open != Quote::None {
                // YAML `password: x`, an HTTP header `Authorization: Basic x` (also inside
                // a string): the rest of the line, minus trailing blanks, quotes and commas.
                let stop: &[u8] = match open {
                    Quote::Plain(q) if !escaped_line => &[b'\n', b'\r', q],
                    Quote::None if !escaped_line => b"\n\r",
                    _ => b"\n\r\"\\",
                };
                let mut line_end = p + text[p..].iter().take_while(|b| !stop.contains(b)).count();
                // A YAML comment (` # …`) is not part of the value.
                if let Some(hash) = text[p..line_end].windows(2).position(|w| w == b" #") {
                    line_end = p + hash;
                }
                let end = p + trim_end(&text[p..line_end]);
                // `semi_token: semi,` is a struct literal field, not YAML.
                let line = text[p..line_end].trim_ascii_end();
                let identifier = text[p..end].iter().all(|&b| b.is_ascii_alphabetic() || b == b'_');
                if line.ends_with(b",") && identifier {
                    return None;
                }
                Some(Value { start: p, end, kind: ValueKind::Unquoted })
            } else {
                // Running text or code (`fn f(token: &str)`, `let password: String`): only a
                // word that looks like a secret counts.
                bare_word(text, p).map(|end| Value { start: p, end, kind: ValueKind::Strict })
            }
        }
    }
}

/// End of a `q`-quoted string starting at `start`: the unescaped closing quote, or the end
/// of the line (JSON strings cannot span lines, and this bounds the walk).
fn string_end(text: &[u8], start: usize, q: u8) -> usize {
    let mut i = start;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'\n' => return i,
            c if c == q => return i,
            _ => i += 1,
        }
    }
    text.len()
}

/// End of a `\"…\"` string nested in a JSON string: the next `\"`, or a line end.
fn escaped_string_end(text: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < text.len() {
        match text[i] {
            b'\\' if text.get(i + 1) == Some(&b'"') => return i,
            b'\\' => i += 2,
            b'\n' | b'"' => return i,
            _ => i += 1,
        }
    }
    text.len()
}

/// End of an unquoted value word starting at `start`, or `None` when the word is code: an
/// expression continuing with `(`/`[`/`{`/`<` (`get_token()`, `env["X"]`, `Option<T>`) or
/// starting with one.
fn bare_word(text: &[u8], start: usize) -> Option<usize> {
    let len =
        text[start..].iter().take_while(|&&b| !b.is_ascii_whitespace() && !b"\"'`;&,)]}<>|\\([{".contains(&b)).count();
    let end = start + len;
    if len == 0 || matches!(text.get(end), Some(b'(' | b'[' | b'{' | b'<')) {
        return None;
    }
    Some(end)
}

/// Whether only indentation (or a YAML `- `) separates `a` from the start of its line. The
/// second value is true when that line starts after an escaped `\n` (inside a JSON string).
fn at_line_start(text: &[u8], a: usize) -> (bool, bool) {
    let indent = text[..a].iter().rev().take(64).take_while(|&&b| matches!(b, b' ' | b'\t' | b'-')).count();
    let i = a - indent;
    if i == 0 || matches!(text[i - 1], b'\n' | b'\r') {
        (true, false)
    } else if i >= 2 && text[i - 1] == b'n' && text[i - 2] == b'\\' {
        (true, true)
    } else {
        (false, false)
    }
}

/// Length of `bytes` without trailing blanks, quotes, commas and semicolons.
fn trim_end(bytes: &[u8]) -> usize {
    bytes.len() - bytes.iter().rev().take_while(|&&b| b" \t\r\"',;".contains(&b)).count()
}

/// Unquoted values that are code or data, not a literal secret: calls and macros
/// (`Some(x)`, `Token![if]`), paths (`super::X`, `self.token`), pointers and references,
/// small or typed numeric literals (`8`, `315u32`; six digits and more may be a PIN),
/// constants (`YOUR_API_KEY`) and type names.
fn is_code_like(v: &[u8]) -> bool {
    static CODE: LazyLock<Regex> = LazyLock::new(|| {
        compile(concat!(
            r"(?-u)[()]|::|->|=>|^[*&@{\[]|\w![\[(]|",
            r"^(?:impl|dyn|fn|mut|ref|unsafe|new|await|async|if|match|loop|while|for|return|yield|lambda|function|not|typeof|struct|enum|class)(?:\s|$)|",
            r"^[A-Za-z_]+(?:\.[A-Za-z_]+)+$|",
            r"^-?(?:0x[0-9a-fA-F]+|[0-9]+)(?:[uif](?:8|16|32|64|128|size)|[uUlL]+)$|^-?(?:0x[0-9a-fA-F]+|[0-9]{1,5})$|",
            r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$",
        ))
    });
    CODE.is_match(v) || is_type_name(v)
}

/// Type annotations after a key: `password: string;` in a TypeScript interface,
/// `token: Token,` in a Rust struct. A type is a primitive name or a path of
/// letters-only segments (secrets almost always carry digits), optionally generic.
fn is_type_name(value: &[u8]) -> bool {
    static TYPE: LazyLock<Regex> = LazyLock::new(|| {
        compile(concat!(
            r"(?-u)^&?(?:'[a-z_]+ )?(?:mut )?(?:",
            r"string|str|number|int|integer|bool|boolean|any|unknown|bytes|object|",
            r"[ui](?:8|16|32|64|128|size)|f32|f64|",
            r"(?:[A-Za-z]+::)*[A-Z][A-Za-z]*",
            r")(?:<[A-Za-z0-9_&' ,:<>\[\]]*>)?(?: \| (?:undefined|null))?\??$",
        ))
    });
    TYPE.is_match(value) || value == b"&[u8]"
}

/// Values that are not literal secrets: empty, already redacted, the key itself
/// (`password=password`), JSON literals, masks (`****`), variable references and templates
/// (`$TOKEN`, `${TOKEN}`, `{{ secrets.X }}`, `<your-token>`), agit placeholders.
pub(super) fn is_placeholder(value: &[u8], key: &[u8]) -> bool {
    let v = value;
    let Some((&first, _)) = v.split_first() else { return true };
    let contains = |needle: &[u8]| v.windows(needle.len()).any(|w| w == needle);
    const LITERALS: &[&[u8]] = &[
        b"null",
        b"none",
        b"nil",
        b"true",
        b"false",
        b"undefined",
        b"|",
        b">",
        b"|-",
        b">-",
        b"read",
        b"write",
        b"required",
        b"optional",
        b"enabled",
        b"disabled",
    ];
    const TEMPLATES: &[&[u8]] = &[b"$(", b"%(", b"<%", b"[[agit ", b"process.env.", b"os.environ"];
    // `password=password`, `bound.paren_token = paren_token`, `token: node.token`
    let ends_with_name = |long: &[u8], short: &[u8]| {
        long.len() >= short.len()
            && long[long.len() - short.len()..].eq_ignore_ascii_case(short)
            && (long.len() == short.len() || matches!(long[long.len() - short.len() - 1], b'.' | b'-'))
    };
    let names_key = ends_with_name(key, v) || ends_with_name(v, key);
    contains(REDACTED.as_bytes())
        || contains(b"${")
        || contains(b"{{")
        || names_key
        || LITERALS.iter().any(|l| v.eq_ignore_ascii_case(l))
        || v.iter().all(|b| matches!(b, b'*' | b'x' | b'X' | b'.' | b'-' | b'_' | b'#'))
        || TEMPLATES.iter().any(|t| v.starts_with(t))
        || (first == b'<' && v.last() == Some(&b'>'))
        || (first == b'$' && v.len() > 1 && v[1..].iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_'))
}

/// A bare word in running text counts only if it mixes letters and digits, is not tiny, and
/// is not a snake_case identifier.
fn looks_random(v: &[u8]) -> bool {
    let identifier = v.contains(&b'_') && v.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_');
    v.len() >= 6 && !identifier && v.iter().any(u8::is_ascii_digit) && v.iter().any(u8::is_ascii_alphabetic)
}

/// The `generic_secret` gate: long, not a path, no whitespace, a digit and two or more
/// character classes, and a Shannon entropy of at least 3.5 bits per byte.
pub(super) fn high_entropy(v: &[u8]) -> bool {
    // Paths (`PWD=/home/me/project-2`) are not secrets.
    if v.len() < GENERIC_MIN_LEN || v.iter().any(u8::is_ascii_whitespace) || matches!(v[0], b'/' | b'.' | b'~') {
        return false;
    }
    if !v.iter().any(u8::is_ascii_digit) {
        // CamelCase identifiers (`AuthorizationForStatementDenied`) have entropy too.
        return false;
    }
    let classes =
        [v.iter().any(u8::is_ascii_lowercase), v.iter().any(u8::is_ascii_uppercase), v.iter().any(u8::is_ascii_digit)]
            .into_iter()
            .filter(|&c| c)
            .count();
    classes >= 2 && shannon_entropy(v) >= GENERIC_MIN_ENTROPY
}

/// Shannon entropy of the byte distribution, in bits per byte.
pub(super) fn shannon_entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0usize; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| c as f64 / n).map(|p| -p * p.log2()).sum()
}
