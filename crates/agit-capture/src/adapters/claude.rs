//! Claude Code: `claude-hook user|assistant|session-start` and `claude-tool-batch-hook`.
//!
//! Claude routes by command line, not payload: each `claude-hook` subcommand expects
//! exactly one `hook_event_name`. The batch route takes the reference's `PostToolBatch`
//! (a `tool_calls` array) and also Claude Code's per-tool `PostToolUse` (one call on the
//! root), the fallback the reference notes recommend.

use super::error::AdapterError;
use super::fields::Payload;
use super::{ClaudeHook, tool};
use crate::event::{EventKind, HookEvent, Origin};

const HOOK: &str = "claude-hook";
const TOOL_BATCH_HOOK: &str = "claude-tool-batch-hook";

/// `claude-hook <subcommand>`.
pub(super) fn parse_hook(hook: ClaudeHook, p: &Payload<'_>) -> Result<HookEvent, AdapterError> {
    let name = p.event_name()?;
    let expected = match hook {
        ClaudeHook::User => "UserPromptSubmit",
        ClaudeHook::Assistant => "Stop",
        ClaudeHook::SessionStart => "SessionStart",
    };
    if name != expected {
        return Err(AdapterError::UnknownEventName { adapter: HOOK, name: name.to_owned() });
    }
    let header = p.header(name)?;
    let source_event_id = p.optional_nonempty("event_id")?;
    let model = p.optional_nonempty("model")?;
    let kind = match hook {
        ClaudeHook::User => EventKind::UserPrompt { prompt: p.required_str("prompt")?.to_owned() },
        ClaudeHook::Assistant => {
            EventKind::Stop { assistant_text: p.optional_str("last_assistant_message")?.unwrap_or_default().to_owned() }
        }
        // Claude's SessionStart only hints the session model (it is not updated by /model).
        ClaudeHook::SessionStart => EventKind::Metadata,
    };
    let mut event = header.event(Origin::Claude, kind);
    event.source_event_id = source_event_id;
    event.model = model;
    Ok(event)
}

/// `claude-tool-batch-hook`.
pub(super) fn parse_tool_batch(p: &Payload<'_>) -> Result<HookEvent, AdapterError> {
    let name = p.event_name()?;
    let batch = match name {
        "PostToolBatch" => true,
        "PostToolUse" => false,
        _ => {
            return Err(AdapterError::UnknownEventName { adapter: TOOL_BATCH_HOOK, name: name.to_owned() });
        }
    };
    let header = p.header(name)?;
    if batch {
        let calls = p.required_array("tool_calls")?.iter().map(tool::from_batch_item).collect();
        Ok(header.event(Origin::Claude, EventKind::ToolUse { calls }))
    } else {
        let source_event_id = p.optional_nonempty("tool_use_id")?;
        let calls = vec![tool::from_object(p.root())];
        let mut event = header.event(Origin::Claude, EventKind::ToolUse { calls });
        event.source_event_id = source_event_id;
        Ok(event)
    }
}
