//! The reference's shared tool-call extraction (Claude batch items and `PostToolUse`,
//! Codex `PostToolUse`, Gemini `AfterTool`, Pi `tool_execution_end`).

use super::json::{self, Object, Value};
use crate::event::ToolCall;

/// Name used when a payload does not name its tool properly.
pub(crate) const UNKNOWN_TOOL: &str = "unknown";

/// A call from an object with `tool_name`, `tool_input` and `tool_response`. Never fails:
/// a malformed entry is recorded visibly (name `unknown`, the whole entry as args, the
/// problem as result) rather than dropped.
pub(crate) fn from_object(entry: &Object) -> ToolCall {
    match entry.get("tool_name") {
        Some(Value::String(name)) => ToolCall {
            tool_name: name.clone(),
            args: render(entry.get("tool_input")),
            result: match entry.get("tool_response") {
                Some(Value::String(text)) => text.clone(),
                other => render(other),
            },
        },
        None => malformed(json::object_to_compact(entry), "missing tool_name"),
        Some(_) => malformed(json::object_to_compact(entry), "invalid tool_name"),
    }
}

/// A call from one item of a batch's `tool_calls` array.
pub(crate) fn from_batch_item(item: &Value) -> ToolCall {
    match item {
        Value::Object(entry) => from_object(entry),
        other => malformed(json::to_compact(other), "tool entry is not an object"),
    }
}

/// Compact JSON of an optional value; the literal `null` when absent (as the reference).
pub(crate) fn render(value: Option<&Value>) -> String {
    value.map_or_else(|| "null".to_owned(), json::to_compact)
}

fn malformed(args: String, problem: &str) -> ToolCall {
    ToolCall { tool_name: UNKNOWN_TOOL.to_owned(), args, result: problem.to_owned() }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn value(text: &str) -> Value {
        json::parse(text.as_bytes()).unwrap()
    }

    fn call(name: &str, args: &str, result: &str) -> ToolCall {
        ToolCall { tool_name: name.into(), args: args.into(), result: result.into() }
    }

    #[test]
    fn string_results_are_verbatim_and_others_compact_json() {
        let item = value(r#"{"tool_name":"Read","tool_input":{ "b":1, "a":[2] },"tool_response":"line 1\n"}"#);
        assert_eq!(from_batch_item(&item), call("Read", r#"{"b":1,"a":[2]}"#, "line 1\n"));
        let item = value(r#"{"tool_name":"Write","tool_input":"raw","tool_response":{"ok":true}}"#);
        assert_eq!(from_batch_item(&item), call("Write", r#""raw""#, r#"{"ok":true}"#));
        let item = value(r#"{"tool_name":"Noop"}"#);
        assert_eq!(from_batch_item(&item), call("Noop", "null", "null"));
        let item = value(r#"{"tool_name":"N","tool_input":null,"tool_response":null}"#);
        assert_eq!(from_batch_item(&item), call("N", "null", "null"));
    }

    #[test]
    fn malformed_entries_stay_visible() {
        let item = value(r#"{"tool_input":{"x":1}}"#);
        assert_eq!(from_batch_item(&item), call("unknown", r#"{"tool_input":{"x":1}}"#, "missing tool_name"));
        let item = value(r#"{"tool_name":7}"#);
        assert_eq!(from_batch_item(&item), call("unknown", r#"{"tool_name":7}"#, "invalid tool_name"));
        assert_eq!(
            from_batch_item(&value(r#"["Bash"]"#)),
            call("unknown", r#"["Bash"]"#, "tool entry is not an object")
        );
        assert_eq!(from_batch_item(&value("null")), call("unknown", "null", "tool entry is not an object"));
    }
}
