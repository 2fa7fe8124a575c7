//! GitHub Copilot CLI: `copilot-hook`, fed by the generated `agit-recorder` extension.
//!
//! The extension sends Claude-like event names, its own turn ids
//! (`agturn:copilot-<n>`), and tool results as `tool_result.text_result_for_llm`.
//! Copilot has no final assistant message, so `Stop` always finalizes with empty text.

use super::error::AdapterError;
use super::fields::Payload;
use super::json::{self, Value};
use super::tool;
use crate::event::{EventKind, HookEvent, Origin, ToolCall};

const ADAPTER: &str = "copilot-hook";

/// `copilot-hook`: `UserPromptSubmit`, `PostToolUse`, `Stop`.
pub(super) fn parse(p: &Payload<'_>) -> Result<HookEvent, AdapterError> {
    let (name, route) =
        p.route(ADAPTER, &[("UserPromptSubmit", Route::Prompt), ("PostToolUse", Route::Tool), ("Stop", Route::Stop)])?;
    let header = p.header(name)?;
    let (kind, source_event_id) = match route {
        Route::Prompt => {
            let source = p.optional_nonempty("event_id")?;
            let prompt = p.required_str("prompt")?.to_owned();
            (EventKind::UserPrompt { prompt }, source)
        }
        Route::Tool => {
            let source = p.optional_nonempty("tool_use_id")?;
            let calls = vec![tool_call(p)];
            (EventKind::ToolUse { calls }, source)
        }
        Route::Stop => (EventKind::Stop { assistant_text: String::new() }, None),
    };
    let mut event = header.event(Origin::Copilot, kind);
    event.source_event_id = source_event_id;
    Ok(event)
}

/// Copilot's own extraction: a bad name is just `unknown` (args stay the tool input), and
/// the result prefers the extension's `text_result_for_llm`.
fn tool_call(p: &Payload<'_>) -> ToolCall {
    let tool_name = match p.get("tool_name") {
        Some(Value::String(name)) => name.clone(),
        _ => tool::UNKNOWN_TOOL.to_owned(),
    };
    let result = match p.get("tool_result") {
        None => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Object(result)) => match result.get_str("text_result_for_llm") {
            Some(text) => text.to_owned(),
            None => json::object_to_compact(result),
        },
        Some(other) => json::to_compact(other),
    };
    ToolCall { tool_name, args: tool::render(p.get("tool_input")), result }
}

#[derive(Clone, Copy)]
enum Route {
    Prompt,
    Tool,
    Stop,
}
