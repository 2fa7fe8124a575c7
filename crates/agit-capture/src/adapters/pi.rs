//! Pi: `pi-hook`, fed by the generated `agit-recorder.js` extension.
//!
//! The extension uses Pi's own event names and sends turn ids `agturn:pi-<n>`.

use super::error::AdapterError;
use super::fields::Payload;
use super::tool;
use crate::event::{EventKind, HookEvent, Origin};

const ADAPTER: &str = "pi-hook";

/// `pi-hook`: `input`, `tool_execution_end`, `agent_end`.
pub(super) fn parse(p: &Payload<'_>) -> Result<HookEvent, AdapterError> {
    let name = p.event_name()?;
    let route = match name {
        "input" => Route::Prompt,
        "tool_execution_end" => Route::Tool,
        "agent_end" => Route::Stop,
        _ => {
            return Err(AdapterError::UnknownEventName { adapter: ADAPTER, name: name.to_owned() });
        }
    };
    let header = p.header(name)?;
    let source_event_id = match route {
        Route::Tool => p.optional_nonempty("tool_use_id")?,
        Route::Prompt | Route::Stop => p.optional_nonempty("event_id")?,
    };
    let kind = match route {
        Route::Prompt => EventKind::UserPrompt { prompt: p.required_str("prompt")?.to_owned() },
        Route::Tool => EventKind::ToolUse { calls: vec![tool::from_object(p.root())] },
        Route::Stop => EventKind::Stop { assistant_text: p.optional_str("response")?.unwrap_or_default().to_owned() },
    };
    let mut event = header.event(Origin::Pi, kind);
    event.source_event_id = source_event_id;
    Ok(event)
}

enum Route {
    Prompt,
    Tool,
    Stop,
}
