//! Built-in format detectors: token prefixes, AWS keys, PEM private keys, JWTs and URL
//! credentials. Key-name rules live in `assign.rs`.
//!
//! Each pass is a literal-prefiltered regex search for an anchor followed by a bounded,
//! forward-only validation walk, so the work stays linear in the text even on adversarial
//! input (`find_iter` alone can be quadratic when a match is rejected and the search
//! restarts inside the same run).

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{Match, Rule, assign};

/// Built-in patterns are constants covered by tests; failing to compile one is a bug.
pub(super) fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("built-in privacy pattern {pattern:?} does not compile: {e}"))
}

/// Anchors of the token-format rules and of URL credentials. Case-sensitive literals, so the
/// regex engine searches them with a SIMD multi-literal prefilter.
static ANCHORS: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?-u)gh[pousr]_|github_pat_|xox[bpsar]-|AIza|[rs]k_(?:live|test)_|sk-|npm_|gl(?:pat|dt|rt|ptt)-|AKIA|ASIA|eyJ|://",
    )
});

/// A PEM private-key header (`RSA`, `EC`, `OPENSSH`, `ENCRYPTED`, PGP `… KEY BLOCK`, …).
static PEM_BEGIN: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?-u)-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY[A-Z0-9 ]{0,20}-----"));
static PEM_END: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?-u)-----END [A-Z0-9 ]{0,40}PRIVATE KEY[A-Z0-9 ]{0,20}-----"));

/// Candidate AWS secret access keys (only searched when an access key id was found).
static AWS_SECRET: LazyLock<Regex> = LazyLock::new(|| compile(r"(?-u)[A-Za-z0-9/+=]{40,}"));

/// The reference's token characters `[A-Za-z0-9_.-]`.
pub(super) fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// The reference's identifier characters `[A-Za-z0-9_-]`.
pub(super) fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')
}

/// Run every built-in detector over `text`.
pub(super) fn scan_builtin(text: &[u8], out: &mut Vec<Match>) {
    let first = out.len();
    scan_anchors(text, out);
    scan_private_keys(text, out);
    assign::scan_assignments(text, out);
    let access_keys: Vec<usize> =
        out[first..].iter().filter(|m| m.rule == Rule::AwsAccessKey).map(|m| m.start).collect();
    if !access_keys.is_empty() {
        scan_aws_secrets(text, &access_keys, out);
    }
}

/// Token prefixes: `(prefix, minimum suffix length, rule)`, checked in order (so `sk-ant-`
/// wins over `sk-`). Minimums are the reference's; ours for the new rules.
const PREFIXES: &[(&[u8], usize, Rule)] = &[
    (b"github_pat_", 6, Rule::GithubToken),
    (b"ghp_", 6, Rule::GithubToken),
    (b"gho_", 6, Rule::GithubToken),
    (b"ghu_", 6, Rule::GithubToken),
    (b"ghs_", 6, Rule::GithubToken),
    (b"ghr_", 6, Rule::GithubToken),
    (b"xoxb-", 20, Rule::SlackToken),
    (b"xoxp-", 20, Rule::SlackToken),
    (b"xoxs-", 20, Rule::SlackToken),
    (b"xoxa-", 20, Rule::SlackToken),
    (b"xoxr-", 20, Rule::SlackToken),
    (b"AIza", 35, Rule::GoogleApiKey),
    (b"sk_live_", 24, Rule::StripeKey),
    (b"sk_test_", 24, Rule::StripeKey),
    (b"rk_live_", 24, Rule::StripeKey),
    (b"rk_test_", 24, Rule::StripeKey),
    (b"sk-ant-", 32, Rule::AnthropicKey),
    (b"sk-", 48, Rule::OpenaiKey),
    (b"npm_", 36, Rule::NpmToken),
    (b"glpat-", 20, Rule::GitlabToken),
    (b"gldt-", 20, Rule::GitlabToken),
    (b"glrt-", 20, Rule::GitlabToken),
    (b"glptt-", 20, Rule::GitlabToken),
];

fn scan_anchors(text: &[u8], out: &mut Vec<Match>) {
    let mut pos = 0;
    while pos < text.len() {
        let Some(hit) = ANCHORS.find_at(text, pos) else { break };
        let start = hit.start();
        if &text[start..hit.end()] == b"://" {
            if let Some(m) = url_credentials(text, start) {
                out.push(m);
            }
            pos = hit.end();
            continue;
        }
        // A token is a whole run of token characters. Nothing valid can start inside a run
        // (the left boundary would fail), so after any verdict we resume at the run's end;
        // this is what keeps `xsk-sk-sk-…` linear.
        let run_end = token_run_end(text, start);
        pos = run_end.max(hit.end());
        if start > 0 && is_token_char(text[start - 1]) {
            // `task-…` must not read as an `sk-` key (reference false positive).
            continue;
        }
        if let Some(m) = token_at(text, start, run_end) {
            out.push(m);
        }
    }
}

/// End of the token-character run starting at `start`. A run stops before `--`, which no
/// token format contains, so a token never swallows an adjacent `-----END …` PEM marker.
fn token_run_end(text: &[u8], start: usize) -> usize {
    let mut end = start;
    while end < text.len() && is_token_char(text[end]) && !(text[end] == b'-' && text.get(end + 1) == Some(&b'-')) {
        end += 1;
    }
    end
}

/// Classify the token run `text[start..run_end]`, which begins with an anchor.
fn token_at(text: &[u8], start: usize, run_end: usize) -> Option<Match> {
    // A trailing `.` is sentence punctuation, never part of these formats.
    let mut end = run_end;
    while end > start && text[end - 1] == b'.' {
        end -= 1;
    }
    let token = &text[start..end];
    if token.starts_with(b"AKIA") || token.starts_with(b"ASIA") {
        let ok = token.len() == 20 && token[4..].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        return ok.then(|| Match::new(Rule::AwsAccessKey, start, end));
    }
    if token.starts_with(b"eyJ") {
        return jwt(token).then(|| Match::new(Rule::JwtToken, start, end));
    }
    let &(prefix, min, rule) = PREFIXES.iter().find(|(prefix, _, _)| token.starts_with(prefix))?;
    let suffix = &token[prefix.len()..];
    if suffix.len() < min {
        return None;
    }
    let ok = match rule {
        // Real npm tokens are alphanumeric; this keeps `npm_config_…`/`npm_package_…`
        // environment variable names out.
        Rule::NpmToken => suffix.iter().all(u8::is_ascii_alphanumeric),
        // `sk-` also starts long kebab-case words; a real key mixes letters and digits.
        Rule::OpenaiKey => suffix.iter().any(u8::is_ascii_digit) && suffix.iter().any(u8::is_ascii_alphabetic),
        _ => true,
    };
    ok.then(|| Match::new(rule, start, end))
}

/// The reference's JWT shape: first `.` at offset ≥ 4, a second `.`, the payload starting
/// with `eyJ`, ≥ 4 bytes from the second dot to the end, total ≥ 50.
fn jwt(token: &[u8]) -> bool {
    let Some(dot1) = token.iter().position(|&b| b == b'.') else { return false };
    let Some(dot2) = token[dot1 + 1..].iter().position(|&b| b == b'.').map(|p| dot1 + 1 + p) else {
        return false;
    };
    dot1 >= 4 && token[dot1 + 1..].starts_with(b"eyJ") && token.len() - dot2 >= 4 && token.len() >= 50
}

/// `scheme://user:password@host` at the `://` found at `sep`: the password span.
fn url_credentials(text: &[u8], sep: usize) -> Option<Match> {
    let scheme_len = text[..sep]
        .iter()
        .rev()
        .take(32)
        .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
        .count();
    if scheme_len == 0 || !text[sep - scheme_len..sep].iter().any(u8::is_ascii_alphabetic) {
        return None;
    }
    let info_start = sep + 3;
    // Userinfo never contains these; stopping at quotes and backslashes keeps the walk
    // inside one JSON string, and the next `://` always stops it, so walks never overlap.
    let info_len = text[info_start..]
        .iter()
        .take(512)
        .take_while(|&&b| !b.is_ascii_whitespace() && !b"/?#@\"'<>\\`[]{}|^".contains(&b))
        .count();
    let at = info_start + info_len;
    if text.get(at) != Some(&b'@') {
        return None;
    }
    let host_ok = text.get(at + 1).is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'[');
    let colon = text[info_start..at].iter().position(|&b| b == b':')? + info_start;
    let password = &text[colon + 1..at];
    if !host_ok || password.is_empty() || assign::is_placeholder(password, b"") {
        return None;
    }
    Some(Match::new(Rule::UrlCredentials, colon + 1, at))
}

/// PEM private keys. Fixes the reference bug (the header end was searched from the start of
/// `-----BEGIN `, so the rule never fired): the block runs from the header through the next
/// `-----END … PRIVATE KEY-----`, or to the end of the text when there is none.
///
/// A real key body has long base64 runs within its first 4 KiB; code that merely mentions
/// the markers (a string constant, a parser) does not, and is not a finding.
fn scan_private_keys(text: &[u8], out: &mut Vec<Match>) {
    let mut pos = 0;
    // Both forward searches are cached across headers, so many headers in a row cost one
    // scan of the text each, not one per header.
    let mut end_marker = Cached::default();
    let mut base64 = Cached::default();
    while let Some(header) = PEM_BEGIN.find_at(text, pos) {
        let body_start = header.end();
        let (body_end, block_end) = end_marker.next(&PEM_END, text, body_start).unwrap_or((text.len(), text.len()));
        let has_body =
            base64.next(&BASE64_RUN, text, body_start).is_some_and(|(run, _)| run < body_end.min(body_start + 4096));
        if has_body {
            out.push(Match::new(Rule::PrivateKeyBlock, header.start(), block_end));
            pos = block_end;
        } else {
            pos = body_start;
        }
    }
}

static BASE64_RUN: LazyLock<Regex> = LazyLock::new(|| compile(r"(?-u)[A-Za-z0-9+/=]{40}"));

/// The last result of a forward search, reused while it still lies ahead.
#[derive(Default)]
struct Cached {
    /// `(searched from, result)`.
    last: Option<(usize, Option<(usize, usize)>)>,
}

impl Cached {
    fn next(&mut self, re: &Regex, text: &[u8], from: usize) -> Option<(usize, usize)> {
        match self.last {
            Some((searched, found)) if searched <= from && found.is_none_or(|(s, _)| s >= from) => found,
            _ => {
                let found = re.find_at(text, from).map(|m| (m.start(), m.end()));
                self.last = Some((from, found));
                found
            }
        }
    }
}

/// AWS secret access keys: a 40-character `[A-Za-z0-9/+=]` run with a letter and a digit,
/// no identifier character on either side, and an access key id starting within 256 bytes
/// before it or 40 + 256 bytes after its start (the reference's newest revision). A bare
/// 40-character string is not flagged.
fn scan_aws_secrets(text: &[u8], access_keys: &[usize], out: &mut Vec<Match>) {
    for m in AWS_SECRET.find_iter(text) {
        let (s, e) = (m.start(), m.end());
        let window = &text[s..e];
        let bounded = (s == 0 || !is_ident_char(text[s - 1])) && text.get(e).is_none_or(|&b| !is_ident_char(b));
        if window.len() != 40
            || !bounded
            || !window.iter().any(u8::is_ascii_alphabetic)
            || !window.iter().any(u8::is_ascii_digit)
        {
            continue;
        }
        if access_keys.iter().any(|&k| k + 256 >= s && k <= s + 40 + 256) {
            out.push(Match::new(Rule::AwsSecretAccessKey, s, e));
        }
    }
}
