//! Signal collection (`collectSignals` of the reference): plain counts over the ordered
//! steps of a scope.

use crate::object::EvalSignals;
use crate::object::{Message, Step};

/// The reference's verification terms, matched as plain case-insensitive substrings
/// (kept exactly so every command the reference counts is still counted).
pub const REFERENCE_VERIFICATION_TERMS: &[&str] =
    &["zig build", "build test", "check-fmt", "npm test", "go test", "cargo test", "pytest", "make test"];

/// Test and check commands of other ecosystems, matched case-insensitively on word
/// boundaries (the characters around a match must not be letters, digits or `_`), so
/// `jest` does not match `majestic`.
pub const EXTRA_VERIFICATION_TERMS: &[&str] = &[
    // Rust
    "cargo nextest",
    // Python
    "python -m pytest",
    "python3 -m pytest",
    "python -m unittest",
    "tox",
    "nox",
    // JavaScript / TypeScript
    "pnpm test",
    "yarn test",
    "bun test",
    "npm run test",
    "pnpm run test",
    "yarn run test",
    "bun run test",
    "npx vitest",
    "vitest",
    "jest",
    // make
    "make check",
    // JVM
    "gradle test",
    "gradle check",
    "gradlew test",
    "gradlew check",
    "mvn test",
    "mvn verify",
    "mvnw test",
    "mvnw verify",
    // .NET
    "dotnet test",
    // Zig
    "zig build test",
];

/// Result text that marks a tool result as an error.
pub const FAILURE_TERMS: &[&str] =
    &["error", "failed", "failure", "panic", "traceback", "not found", "permission denied"];

/// Concrete task terms looked for in the first prompt.
pub const CONCRETE_TERMS: &[&str] =
    &["add", "fix", "implement", "debug", "test", "refactor", "command", "json", "workflow", "build", "run"];

/// Success-criteria phrases looked for in the first prompt (`when ` keeps its space).
pub const SUCCESS_TERMS: &[&str] = &["should", "must", "pass", "reports", "verified", "when "];

/// Completion terms looked for in the last assistant message.
pub const COMPLETION_TERMS: &[&str] = &["implemented", "fixed", "changed", "verified", "tested", "passed", "remaining"];

/// Prompt tokens that never count as overlap.
pub const STOPWORDS: &[&str] = &[
    "the", "and", "for", "that", "this", "with", "from", "into", "when", "then", "than", "run", "use", "add", "fix",
    "make", "should", "must",
];

/// Characters that split the first prompt into tokens.
const TOKEN_SEPARATORS: &[char] = &[
    ' ', '\t', '\r', '\n', ',', '.', ';', ':', '!', '?', '(', ')', '[', ']', '{', '}', '<', '>', '"', '\'', '`', '/',
    '\\', '|', '+', '-', '=', '*', '&', '#',
];

/// Whether tool arguments contain a test, build or check command.
pub fn is_verification_command(args: &str) -> bool {
    let lower = args.to_lowercase();
    REFERENCE_VERIFICATION_TERMS.iter().any(|t| lower.contains(t))
        || EXTRA_VERIFICATION_TERMS.iter().any(|t| contains_word(&lower, t))
}

/// `needle` occurs in `hay` with no word character right before or after it.
fn contains_word(hay: &str, needle: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    hay.match_indices(needle)
        .any(|(at, _)| !word(hay[..at].chars().next_back()) && !word(hay[at + needle.len()..].chars().next()))
}

/// Whether a tool result reads as failure output.
pub fn is_error_result(result: &str) -> bool {
    let lower = result.to_lowercase();
    FAILURE_TERMS.iter().any(|t| lower.contains(t))
}

/// How many distinct `terms` occur (case-insensitive substring) in `text`.
pub fn count_terms(text: &str, terms: &[&str]) -> u64 {
    let lower = text.to_lowercase();
    terms.iter().filter(|t| lower.contains(*t)).count() as u64
}

/// The overlap tokens of a prompt: lowercase, at least 3 bytes, not a stopword,
/// deduplicated in first-seen order.
pub fn prompt_tokens(prompt: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in prompt.split(TOKEN_SEPARATORS) {
        let token = token.to_lowercase();
        if token.len() >= 3 && !STOPWORDS.contains(&token.as_str()) && !out.contains(&token) {
            out.push(token);
        }
    }
    out
}

fn first_user(steps: &[&Step]) -> Option<String> {
    steps
        .iter()
        .flat_map(|s| &s.messages)
        .find(|m| is_role(m, "user") && !m.content.trim().is_empty())
        .map(|m| m.content.clone())
}

fn last_assistant(steps: &[&Step]) -> Option<String> {
    steps
        .iter()
        .rev()
        .flat_map(|s| s.messages.iter().rev())
        .find(|m| is_role(m, "assistant") && !m.content.trim().is_empty())
        .map(|m| m.content.clone())
}

fn is_role(message: &Message, role: &str) -> bool {
    message.role.eq_ignore_ascii_case(role)
}

/// Collect the signal counts over `steps`, which must already be in (timestamp, hash)
/// order. The first prompt is the first non-empty user message.
pub fn collect_signals(steps: &[&Step]) -> EvalSignals {
    let first = first_user(steps).unwrap_or_default();
    let last = last_assistant(steps).unwrap_or_default();
    let tokens = prompt_tokens(&first);
    let mut s = EvalSignals {
        concrete_terms: count_terms(&first, CONCRETE_TERMS),
        success_criteria_phrases: count_terms(&first, SUCCESS_TERMS),
        final_summary_terms: count_terms(&last, COMPLETION_TERMS),
        steps: steps.len() as u64,
        ..EvalSignals::default()
    };
    let mut previous_args: Option<&str> = None;
    let mut previous_error = false;
    for call in steps.iter().flat_map(|step| &step.tool_calls) {
        s.tool_calls += 1;
        if is_verification_command(&call.args) {
            s.verification_commands += 1;
        }
        let name = call.tool_name.to_lowercase();
        let args = call.args.to_lowercase();
        if tokens.iter().any(|t| name.contains(t.as_str()) || args.contains(t.as_str())) {
            s.related_tool_calls += 1;
        }
        if previous_args == Some(call.args.as_str()) {
            s.repeated_commands += 1;
        }
        previous_args = Some(&call.args);
        if let Some(result) = &call.result {
            let error = is_error_result(result);
            if error {
                s.error_results += 1;
                if previous_error {
                    s.repeated_failures += 1;
                }
            } else if previous_error {
                s.recovered_errors += 1;
            }
            previous_error = error;
        }
    }
    s
}
