//! A step's outcome from its tool results (reference `formats.md` §4.4), with one fix:
//! benign phrases such as `0 failed` or `no errors` no longer count as failures.

use agit_core::object::ToolCall;

const FAILURE_MARKERS: [&str; 9] =
    ["error", "failed", "failure", "exception", "traceback", "not found", "non-zero", "exit code 1", "exit status 1"];
const SUCCESS_MARKERS: [&str; 5] = ["ok", "success", "passed", "0 failed", "all tests passed"];
/// Phrases that contain a failure marker but report the absence of failure.
const BENIGN: [&str; 8] =
    ["0 failed", "0 failures", "0 errors", "no errors", "without errors", "0 error", "errors: 0", "failed: 0"];

/// `unknown` without tool calls; `failure` as soon as a result reports one; else
/// `success` when a result reports one; else `unknown`.
pub fn derive_outcome(tool_calls: &[ToolCall]) -> &'static str {
    if tool_calls.is_empty() {
        return "unknown";
    }
    let results: Vec<String> =
        tool_calls.iter().filter_map(|c| c.result.as_deref()).map(str::to_ascii_lowercase).collect();
    for result in &results {
        let mut text = result.clone();
        for benign in BENIGN {
            text = text.replace(benign, " ");
        }
        if FAILURE_MARKERS.iter().any(|m| text.contains(m)) {
            return "failure";
        }
    }
    if results.iter().any(|r| SUCCESS_MARKERS.iter().any(|m| r.contains(m))) {
        return "success";
    }
    "unknown"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(results: &[Option<&str>]) -> Vec<ToolCall> {
        results
            .iter()
            .map(|r| ToolCall { tool_name: "Bash".into(), args: "{}".into(), result: r.map(Into::into) })
            .collect()
    }

    #[test]
    fn outcomes() {
        assert_eq!(derive_outcome(&[]), "unknown");
        assert_eq!(derive_outcome(&calls(&[None])), "unknown");
        assert_eq!(derive_outcome(&calls(&[Some("test result: ok. 3 passed; 0 failed")])), "success");
        assert_eq!(derive_outcome(&calls(&[Some("ok"), Some("Traceback (most recent call last)")])), "failure");
        assert_eq!(derive_outcome(&calls(&[Some("Compiled with no errors")])), "unknown");
        assert_eq!(derive_outcome(&calls(&[Some("2 failed, 0 errors")])), "failure");
        assert_eq!(derive_outcome(&calls(&[Some("command exited with EXIT CODE 1")])), "failure");
    }
}
