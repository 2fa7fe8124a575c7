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
    let (name, route) =
        p.route(ADAPTER, &[("input", Route::Prompt), ("tool_execution_end", Route::Tool), ("agent_end", Route::Stop)])?;
    let header = p.header(name)?;
    let source_event_id = p.source_event_id(matches!(route, Route::Tool))?;
    let kind = match route {
        Route::Prompt => EventKind::UserPrompt { prompt: p.required_str("prompt")?.to_owned() },
        Route::Tool => EventKind::ToolUse { calls: vec![tool::from_object(p.root())] },
        Route::Stop => EventKind::Stop { assistant_text: p.optional_str("response")?.unwrap_or_default().to_owned() },
    };
    let mut event = header.event(Origin::Pi, kind);
    event.source_event_id = source_event_id;
    Ok(event)
}

#[derive(Clone, Copy)]
enum Route {
    Prompt,
    Tool,
    Stop,
}
