//! Privacy: secret detectors, redaction, capture levels and scan findings.
//!
//! - [`Detector`] finds secrets in bytes ([`Detector::scan`]) and replaces them with
//!   [`REDACTED`] ([`Detector::redact`]). Rules are listed in [`Rule`].
//! - [`capture_text`] / [`capture_snapshot`] apply a [`CaptureLevel`](crate::config::CaptureLevel)
//!   at record time (irreversible).
//! - [`scan_step`] / [`scan_blob`] turn matches into [`Finding`]s (no secret values), the data
//!   model of `agit privacy scan` and the push/export gates.
//! - [`redact_step`] is display-time redaction for views (`--redacted`).
//! - [`scan_sessions`] scans everything session refs reach (`agit privacy scan`, push and
//!   export gates).
//!
//! Scanning is linear in the input: two literal-prefiltered regex passes find anchors (token
//! prefixes, sensitive key words), and every anchor is validated by a bounded walk that
//! never revisits bytes already consumed.

mod assign;
mod capture;
mod redact;
mod rules;
mod scan;
#[cfg(test)]
mod tests;
mod walk;

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use regex::bytes::{Regex, RegexSet};
use serde::{Deserialize, Serialize};

use crate::config::PrivacyConfig;

pub use capture::{TextLabel, apply_capture, capture_snapshot, capture_text, snapshot_metadata_placeholder};
pub use redact::{REDACTED, redact_step};
pub use scan::{
    Finding, PrivacyReport, SOURCE_SNAPSHOT_BLOB, SOURCE_TOOL_ARGS, SOURCE_TOOL_RESULT, ScanStats, scan_blob, scan_step,
};
pub use walk::{origin_enabled, scan_sessions};

/// How serious a finding is (`info` is never produced, as in the reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational (unused).
    Info,
    /// Probably a secret: key-name heuristics and custom literals.
    Warn,
    /// A recognised credential format.
    Error,
}

impl Severity {
    /// The lowercase tag used in output (`info`, `warn`, `error`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A detector rule. The declaration order is the reporting order: the reference's rules in
/// its detector order, then ours, then `custom_literal` (last, as in the reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A sensitive key name (`token`, `password`, `api_key`, …) assigned a literal value.
    SensitiveAssignment,
    /// `Bearer <token>`.
    BearerToken,
    /// `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`.
    GithubToken,
    /// `AKIA…` / `ASIA…` access key id.
    AwsAccessKey,
    /// A 40-character secret near an access key id.
    AwsSecretAccessKey,
    /// A PEM `-----BEGIN … PRIVATE KEY-----` block.
    PrivateKeyBlock,
    /// `xoxb-`, `xoxp-`, `xoxs-`, `xoxa-`, `xoxr-`.
    SlackToken,
    /// `AIza…`.
    GoogleApiKey,
    /// `sk_live_`, `sk_test_`, `rk_live_`, `rk_test_`.
    StripeKey,
    /// `sk-…` (not `sk-ant-`).
    OpenaiKey,
    /// `npm_…`.
    NpmToken,
    /// A three-part `eyJ….eyJ….…` JSON web token.
    JwtToken,
    /// `sk-ant-…` (new).
    AnthropicKey,
    /// `glpat-`, `gldt-`, `glrt-`, `glptt-` (new).
    GitlabToken,
    /// The password of `scheme://user:password@host` (new).
    UrlCredentials,
    /// A high-entropy value assigned to a key that hints at a secret (new).
    GenericSecret,
    /// A configured `privacy.custom_literals` entry.
    CustomLiteral,
}

impl Rule {
    /// Every rule, in reporting order.
    pub const ALL: [Rule; 17] = [
        Rule::SensitiveAssignment,
        Rule::BearerToken,
        Rule::GithubToken,
        Rule::AwsAccessKey,
        Rule::AwsSecretAccessKey,
        Rule::PrivateKeyBlock,
        Rule::SlackToken,
        Rule::GoogleApiKey,
        Rule::StripeKey,
        Rule::OpenaiKey,
        Rule::NpmToken,
        Rule::JwtToken,
        Rule::AnthropicKey,
        Rule::GitlabToken,
        Rule::UrlCredentials,
        Rule::GenericSecret,
        Rule::CustomLiteral,
    ];

    /// The snake_case name used in findings.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::SensitiveAssignment => "sensitive_assignment",
            Rule::BearerToken => "bearer_token",
            Rule::GithubToken => "github_token",
            Rule::AwsAccessKey => "aws_access_key",
            Rule::AwsSecretAccessKey => "aws_secret_access_key",
            Rule::PrivateKeyBlock => "private_key_block",
            Rule::SlackToken => "slack_token",
            Rule::GoogleApiKey => "google_api_key",
            Rule::StripeKey => "stripe_key",
            Rule::OpenaiKey => "openai_key",
            Rule::NpmToken => "npm_token",
            Rule::JwtToken => "jwt_token",
            Rule::AnthropicKey => "anthropic_key",
            Rule::GitlabToken => "gitlab_token",
            Rule::UrlCredentials => "url_credentials",
            Rule::GenericSecret => "generic_secret",
            Rule::CustomLiteral => "custom_literal",
        }
    }

    /// Parse a snake_case rule name.
    pub fn parse(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The rule's fixed severity: key-name heuristics and custom literals warn (as in the
    /// reference), recognised credential formats are errors.
    pub fn severity(self) -> Severity {
        match self {
            Rule::SensitiveAssignment | Rule::GenericSecret | Rule::CustomLiteral => Severity::Warn,
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One detected secret: a byte span of the scanned text. It holds offsets only, never the
/// secret bytes, so printing a `Match` cannot leak anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Match {
    /// The rule that matched.
    pub rule: Rule,
    /// The rule's severity ([`Rule::severity`]).
    pub severity: Severity,
    /// Start offset (inclusive) of the secret in the scanned text.
    pub start: usize,
    /// End offset (exclusive).
    pub end: usize,
}

impl Match {
    pub(crate) fn new(rule: Rule, start: usize, end: usize) -> Match {
        Match { rule, severity: rule.severity(), start, end }
    }

    /// The span as a range.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// How to search for one custom literal.
#[derive(Clone)]
enum LiteralFinder {
    /// A memchr/memmem-backed regex of the escaped literal.
    Regex(Regex),
    /// Fallback when the literal is too large for the regex size limit.
    Naive(Vec<u8>),
}

/// The compiled detector set. The built-in rules are compiled once per process; `new` only
/// compiles the custom literals, so a `Detector` is cheap to build and to clone.
#[derive(Clone, Default)]
pub struct Detector {
    literals: Vec<LiteralFinder>,
    /// With several literals: one pass that tells which of them occur at all.
    literal_set: Option<RegexSet>,
}

// Custom literals are secrets themselves: `Debug` shows how many there are, never what.
impl fmt::Debug for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detector").field("custom_literals", &self.literals.len()).finish()
    }
}

/// At most this many redaction passes. One replaces everything and a second confirms the
/// output is clean; more run only when a replacement changed a neighbour's boundary so that
/// it now matches (see [`Detector::redact_cow`]).
const MAX_REDACT_PASSES: usize = 4;

impl Detector {
    /// Build a detector with extra case-sensitive literal secrets (rule `custom_literal`).
    /// Empty literals are ignored.
    pub fn new(custom_literals: &[String]) -> Detector {
        let mut literals = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for lit in custom_literals.iter().map(String::as_str) {
            if lit.is_empty() || seen.contains(&lit) {
                continue;
            }
            seen.push(lit);
            let finder = match Regex::new(&regex::escape(lit)) {
                Ok(re) => LiteralFinder::Regex(re),
                Err(_) => LiteralFinder::Naive(lit.as_bytes().to_vec()),
            };
            literals.push(finder);
        }
        let literal_set = match seen.len() {
            0 | 1 => None,
            _ => RegexSet::new(seen.iter().map(|lit| regex::escape(lit))).ok(),
        };
        Detector { literals, literal_set }
    }

    /// A detector for `privacy.custom_literals` of a config.
    pub fn from_config(privacy: &PrivacyConfig) -> Detector {
        Detector::new(&privacy.custom_literals)
    }

    /// Every secret span in `text`, sorted by (start, end, rule). Spans of different rules
    /// may overlap (for example `token=ghp_…` is both an assignment and a GitHub token).
    /// Spans lying inside an existing `[REDACTED]` marker are not reported, so redacted
    /// text scans clean.
    pub fn scan(&self, text: &[u8]) -> Vec<Match> {
        let mut out = Vec::new();
        rules::scan_builtin(text, &mut out);
        match &self.literal_set {
            Some(set) => {
                for index in set.matches(text).iter() {
                    if let Some(finder) = self.literals.get(index) {
                        find_literal(finder, text, &mut out);
                    }
                }
            }
            None => {
                for finder in &self.literals {
                    find_literal(finder, text, &mut out);
                }
            }
        }
        out.retain(|m| m.start < m.end && m.end <= text.len());
        redact::drop_inside_markers(text, &mut out);
        out.sort_by_key(|m| (m.start, m.end, m.rule));
        out.dedup();
        out
    }

    /// The first match of each rule, in [`Rule`] order: what a report lists for one text
    /// (at most one finding per text and rule, as the reference).
    pub fn first_per_rule(&self, text: &[u8]) -> Vec<Match> {
        let mut firsts: Vec<Match> = Vec::new();
        for m in self.scan(text) {
            if !firsts.iter().any(|f| f.rule == m.rule) {
                firsts.push(m);
            }
        }
        firsts.sort_by_key(|m| m.rule);
        firsts
    }

    /// True when `text` contains nothing to report.
    pub fn is_clean(&self, text: &[u8]) -> bool {
        self.scan(text).is_empty()
    }

    /// `text` with every secret span replaced by [`REDACTED`]; overlapping or touching
    /// spans merge into one marker. Assignment rules match only the value, so the key stays
    /// visible (`API_KEY=[REDACTED]`).
    pub fn redact(&self, text: &[u8]) -> Vec<u8> {
        self.redact_cow(text).into_owned()
    }

    /// Like [`Detector::redact`], borrowing `text` when there is nothing to redact.
    pub fn redact_cow<'a>(&self, text: &'a [u8]) -> Cow<'a, [u8]> {
        let mut current = Cow::Borrowed(text);
        // Replacing a span can expose a neighbour (a token whose left boundary was a secret
        // byte now follows `]`), so rescan the output until it is clean, a bounded number
        // of times.
        for _ in 0..MAX_REDACT_PASSES {
            let matches = self.scan(&current);
            if matches.is_empty() {
                break;
            }
            current = Cow::Owned(redact::replace_spans(&current, &matches));
        }
        current
    }

    /// [`Detector::redact`] for text. Spans start and end on ASCII bytes, so valid UTF-8 stays
    /// valid; anything else would be replaced by U+FFFD rather than panic.
    pub fn redact_str(&self, text: &str) -> String {
        match self.redact_cow(text.as_bytes()) {
            Cow::Borrowed(_) => text.to_owned(),
            Cow::Owned(bytes) => {
                String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
            }
        }
    }
}

/// Every non-overlapping occurrence of one literal.
fn find_literal(finder: &LiteralFinder, text: &[u8], out: &mut Vec<Match>) {
    match finder {
        LiteralFinder::Regex(re) => {
            out.extend(re.find_iter(text).map(|m| Match::new(Rule::CustomLiteral, m.start(), m.end())));
        }
        LiteralFinder::Naive(needle) => {
            let mut pos = 0;
            while pos + needle.len() <= text.len() {
                if text[pos..].starts_with(needle) {
                    out.push(Match::new(Rule::CustomLiteral, pos, pos + needle.len()));
                    pos += needle.len();
                } else {
                    pos += 1;
                }
            }
        }
    }
}
