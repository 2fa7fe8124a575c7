//! Google Gemini CLI: `gemini-hook`, routed by `hook_event_name`.
//!
//! Beyond the reference: `BeforeAgent` (gemini-cli's prompt event) records the user
//! prompt, which the reference never captured, and `AfterAgent` falls back to
//! gemini-cli's documented `prompt_response` when the reference's `response` is absent.

use super::error::AdapterError;
use super::fields::{Payload, nonempty, optional_str_in};
use super::tool;
use crate::event::{EventKind, HookEvent, Origin};

const ADAPTER: &str = "gemini-hook";

/// `gemini-hook`: `BeforeModel`, `BeforeAgent`, `AfterTool`, `AfterAgent`.
pub(super) fn parse(p: &Payload<'_>) -> Result<HookEvent, AdapterError> {
    let (name, route) = p.route(
        ADAPTER,
        &[
            ("BeforeModel", Route::Model),
            ("BeforeAgent", Route::Prompt),
            ("AfterTool", Route::Tool),
            ("AfterAgent", Route::Stop),
        ],
    )?;
    let header = p.header(name)?;
    let source_event_id = p.source_event_id(matches!(route, Route::Tool))?;
    let mut model = None;
    let kind = match route {
        Route::Model => {
            let request = p.required_object("llm_request")?;
            model = nonempty(optional_str_in(request, "model", "llm_request.model")?);
            EventKind::Metadata
        }
        Route::Prompt => EventKind::UserPrompt { prompt: p.required_str("prompt")?.to_owned() },
        Route::Tool => EventKind::ToolUse { calls: vec![tool::from_object(p.root())] },
        Route::Stop => {
            let text = match p.optional_str("response")? {
                Some(text) => Some(text),
                None => p.optional_str("prompt_response")?,
            };
            EventKind::Stop { assistant_text: text.unwrap_or_default().to_owned() }
        }
    };
    let mut event = header.event(Origin::Gemini, kind);
    event.source_event_id = source_event_id;
    event.model = model;
    Ok(event)
}

#[derive(Clone, Copy)]
enum Route {
    Model,
    Prompt,
    Tool,
    Stop,
}
