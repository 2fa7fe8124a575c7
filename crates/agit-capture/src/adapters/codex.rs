//! OpenAI Codex CLI: `codex-hook`, routed by `hook_event_name`.
//!
//! Codex names its model on every event and usually sends its own `turn_id`.

use super::error::AdapterError;
use super::fields::Payload;
use super::tool;
use crate::event::{EventKind, HookEvent, Origin};

const ADAPTER: &str = "codex-hook";

/// `codex-hook`: `UserPromptSubmit`, `PostToolUse`, `Stop`.
pub(super) fn parse(p: &Payload<'_>) -> Result<HookEvent, AdapterError> {
    let (name, route) =
        p.route(ADAPTER, &[("UserPromptSubmit", Route::Prompt), ("PostToolUse", Route::Tool), ("Stop", Route::Stop)])?;
    let header = p.header(name)?;
    let source_event_id = p.source_event_id(matches!(route, Route::Tool))?;
    let model = p.optional_nonempty("model")?;
    let kind = match route {
        Route::Prompt => EventKind::UserPrompt { prompt: p.required_str("prompt")?.to_owned() },
        Route::Tool => EventKind::ToolUse { calls: vec![tool::from_object(p.root())] },
        Route::Stop => {
            EventKind::Stop { assistant_text: p.optional_str("last_assistant_message")?.unwrap_or_default().to_owned() }
        }
    };
    let mut event = header.event(Origin::Codex, kind);
    event.source_event_id = source_event_id;
    event.model = model;
    Ok(event)
}

#[derive(Clone, Copy)]
enum Route {
    Prompt,
    Tool,
    Stop,
}
