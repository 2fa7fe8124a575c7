//! Adding our handlers to, and removing them from, an agent's JSON hooks config.
//!
//! Every agent config we edit keeps hooks under a top-level `"hooks"` object keyed by
//! event name. The native shape of each event (Claude Code, Codex CLI, Gemini CLI alike)
//! is an array of matcher groups, each with a `hooks` array of handlers:
//! `"Stop": [{"matcher": "…", "hooks": [{"type": "command", "command": "…"}]}]`.
//!
//! Older agit writers also produced (all recognised on removal):
//! - bare handlers in the event array: `"AfterTool": [{"command": "<AGIT> gemini-hook"}]`;
//! - object-valued events: `"Stop": {"command": "<AGIT> codex-hook"}`.
//!
//! **Install** adds one group `{"hooks": [<our handler>]}` at the end of each managed
//! event's array, next to whatever the user has there. Any other agit handler anywhere
//! in `hooks` (an older binary path, an event we no longer subscribe, a legacy shape) is
//! removed first, so re-running converges on exactly one handler per managed event; when
//! that is already the case, nothing changes (the file is not rewritten). Everything else
//! — other events, other groups and handlers, other top-level keys, key order — stays.
//!
//! **Removal** drops our handlers; a group or event key is dropped only when our removal
//! left it empty (an empty array the user wrote stays), and `hooks` likewise.

use super::agents::AgentId;
use super::command::{group, handler, is_agit_handler};
use super::json::{Json, Object};

/// A value at a path we cannot edit safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShapeError {
    /// Dotted path (`hooks`, `hooks.Stop`).
    pub json_path: String,
    /// The JSON type found.
    pub found: &'static str,
    /// What we expected.
    pub expected: &'static str,
}

/// The binary recorded in `_agit.binary`, if any.
/// Only an absolute path is trusted: it is matched as a program name.
pub(crate) fn recorded_binary(root: &Object) -> Option<String> {
    let binary = root.get("_agit")?.as_object()?.get("binary")?.as_str()?;
    binary.starts_with('/').then(|| binary.to_owned())
}

/// Removes our handlers from one event's value. Returns how many were removed and
/// whether the value itself should go (it was ours, or our removal emptied it).
fn strip_event(value: &mut Json, known: &[String]) -> (usize, bool) {
    match value {
        Json::Array(items) => {
            let before_len = items.len();
            let mut removed = 0;
            items.retain_mut(|item| {
                if is_agit_handler(item, known) {
                    removed += 1;
                    return false;
                }
                let (n, drop) = strip_group(item, known);
                removed += n;
                !drop
            });
            (removed, removed > 0 && before_len > 0 && items.is_empty())
        }
        Json::Object(_) if is_agit_handler(value, known) => (1, true),
        Json::Object(_) => strip_group(value, known),
        _ => (0, false),
    }
}

/// Removes our handlers from a matcher group's `hooks` array; `drop` when that emptied it.
fn strip_group(group: &mut Json, known: &[String]) -> (usize, bool) {
    let Json::Object(object) = group else {
        return (0, false);
    };
    let Some(Json::Array(handlers)) = object.get_mut("hooks") else {
        return (0, false);
    };
    let before = handlers.len();
    handlers.retain(|h| !is_agit_handler(h, known));
    let removed = before - handlers.len();
    (removed, removed > 0 && handlers.is_empty())
}

/// Removes every agit handler under `hooks` (all events). Returns the count.
fn strip_hooks(hooks: &mut Object, known: &[String]) -> usize {
    let mut removed = 0;
    for key in hooks.keys() {
        if let Some(value) = hooks.get_mut(&key) {
            let (n, drop) = strip_event(value, known);
            removed += n;
            if drop {
                hooks.remove(&key);
            }
        }
    }
    removed
}

/// Counts our handlers in an event value and whether the only one is exactly `wanted`
/// inside a matcher group of an array (the native shape).
fn already_installed(value: &Json, wanted: &Json, known: &[String]) -> bool {
    let Json::Array(items) = value else {
        return false;
    };
    let mut ours = 0;
    let mut exact = false;
    for item in items {
        if is_agit_handler(item, known) {
            ours += 1;
            continue;
        }
        if let Some(Json::Array(handlers)) = item.as_object().and_then(|g| g.get("hooks")) {
            for h in handlers {
                if is_agit_handler(h, known) {
                    ours += 1;
                    exact = h == wanted;
                }
            }
        }
    }
    ours == 1 && exact
}

/// Puts our handlers into `root` for `agent`, running `binary`. `force` replaces values
/// we cannot edit (a non-object `hooks`, a non-array managed event) instead of failing.
/// On error `root` may be partly edited: callers work on a parsed copy and discard it.
pub(crate) fn install(root: &mut Object, agent: AgentId, binary: &str, force: bool) -> Result<(), ShapeError> {
    let mut known = vec![binary.to_owned()];
    known.extend(recorded_binary(root));

    match root.get("hooks") {
        None => root.insert("hooks", Json::Object(Object::default())),
        Some(Json::Object(_)) => {}
        Some(_) if force => root.insert("hooks", Json::Object(Object::default())),
        Some(other) => {
            return Err(ShapeError { json_path: "hooks".into(), found: other.type_name(), expected: "an object" });
        }
    }
    if let Some(Json::Object(hooks)) = root.get_mut("hooks") {
        merge_events(hooks, agent, binary, &known, force)?;
    }

    if agent.writes_marker_key() {
        let mut marker = match root.get("_agit") {
            Some(Json::Object(existing)) => existing.clone(),
            _ => Object::default(),
        };
        marker.insert("binary", Json::str(binary));
        root.insert("_agit", Json::Object(marker));
    } else {
        root.remove("_agit");
    }
    Ok(())
}

fn merge_events(
    hooks: &mut Object,
    agent: AgentId,
    binary: &str,
    known: &[String],
    force: bool,
) -> Result<(), ShapeError> {
    let managed = agent.managed_events();
    let wanted: Vec<(&str, Json)> =
        managed.iter().map(|m| (m.event, handler(binary, m.args, agent.exec_form()))).collect();

    // Managed events already exactly right are left alone (idempotent, no reordering).
    let settled: Vec<&str> = wanted
        .iter()
        .filter(|(event, h)| hooks.get(event).is_some_and(|v| already_installed(v, h, known)))
        .map(|(event, _)| *event)
        .collect();

    // Every other agit handler goes: stale binaries, unmanaged events, legacy shapes.
    for key in hooks.keys() {
        if settled.contains(&key.as_str()) {
            continue;
        }
        if let Some(value) = hooks.get_mut(&key) {
            let (_, drop) = strip_event(value, known);
            if drop {
                hooks.remove(&key);
            }
        }
    }

    for (event, h) in wanted {
        if settled.contains(&event) {
            continue;
        }
        match hooks.get_mut(event) {
            None => hooks.insert(event, Json::Array(vec![group(h)])),
            Some(Json::Array(items)) => items.push(group(h)),
            Some(_) if force => hooks.insert(event, Json::Array(vec![group(h)])),
            Some(other) => {
                return Err(ShapeError {
                    json_path: format!("hooks.{event}"),
                    found: other.type_name(),
                    expected: "an array of matcher groups",
                });
            }
        }
    }
    Ok(())
}

/// Removes all our handlers and `_agit` from `root`. `extra_known` are further binaries
/// to treat as ours (the running `agit`). Returns how many handlers were removed.
pub(crate) fn uninstall(root: &mut Object, extra_known: &[String]) -> usize {
    let mut known: Vec<String> = extra_known.to_vec();
    known.extend(recorded_binary(root));
    let mut removed = 0;
    if let Some(Json::Object(hooks)) = root.get_mut("hooks") {
        let was_empty = hooks.is_empty();
        removed = strip_hooks(hooks, &known);
        if removed > 0 && !was_empty && hooks.is_empty() {
            root.remove("hooks");
        }
    }
    root.remove("_agit");
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::install::json::parse;

    fn obj(text: &str) -> Object {
        match parse(text.as_bytes()).unwrap() {
            Json::Object(o) => o,
            _ => panic!("not an object"),
        }
    }

    const AGIT: &str = "/usr/local/bin/agit";

    #[test]
    fn install_appends_next_to_user_hooks_and_is_idempotent() {
        let original = obj(r#"{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
                "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard"}]}]}, "model": "x"}"#);
        let mut root = original.clone();
        install(&mut root, AgentId::Codex, AGIT, false).unwrap();
        let stop = root.get("hooks").and_then(Json::as_object).and_then(|h| h.get("Stop")).unwrap();
        let Json::Array(groups) = stop else { panic!() };
        assert_eq!(groups.len(), 2);
        assert_eq!(root.get("_agit"), None);
        assert_eq!(root.keys(), vec!["hooks", "model"]);

        let once = root.clone();
        install(&mut root, AgentId::Codex, AGIT, false).unwrap();
        assert_eq!(root, once);

        assert_eq!(uninstall(&mut root, &[]), 3);
        assert_eq!(root, original);
    }

    #[test]
    fn stale_binary_is_replaced_not_duplicated() {
        let mut root = Object::default();
        install(&mut root, AgentId::Claude, "/old/agit", false).unwrap();
        install(&mut root, AgentId::Claude, "/new/bin/agit-2", false).unwrap();
        let text = Json::Object(root.clone()).to_pretty();
        assert!(!text.contains("/old/agit"), "{text}");
        assert_eq!(text.matches("/new/bin/agit-2").count(), 5, "{text}"); // 4 handlers + _agit
        assert_eq!(uninstall(&mut root, &[]), 4);
        assert!(root.is_empty(), "{}", Json::Object(root).to_pretty());
    }

    #[test]
    fn unmanaged_agit_entries_are_cleaned_on_install() {
        let mut root = obj(
            r#"{"hooks": {"PostToolUse": [{"hooks": [{"type": "command", "command": "/x/agit", "args": ["claude-tool-batch-hook"]}]}]}}"#,
        );
        install(&mut root, AgentId::Claude, AGIT, false).unwrap();
        let hooks = root.get("hooks").and_then(Json::as_object).unwrap();
        assert_eq!(hooks.keys(), vec!["UserPromptSubmit", "PostToolBatch", "Stop", "SessionStart"]);
    }

    #[test]
    fn shapes_we_cannot_edit_are_errors_unless_forced() {
        let mut root = obj(r#"{"hooks": []}"#);
        let err = install(&mut root, AgentId::Gemini, AGIT, false).unwrap_err();
        assert_eq!((err.json_path.as_str(), err.found), ("hooks", "array"));
        assert_eq!(root, obj(r#"{"hooks": []}"#));
        install(&mut root, AgentId::Gemini, AGIT, true).unwrap();

        let mut root = obj(r#"{"hooks": {"AfterTool": {"command": "mine"}}}"#);
        let err = install(&mut root, AgentId::Gemini, AGIT, false).unwrap_err();
        assert_eq!(err.json_path, "hooks.AfterTool");
        install(&mut root, AgentId::Gemini, AGIT, true).unwrap();
    }

    #[test]
    fn uninstall_understands_every_legacy_shape() {
        let mut root = obj(r#"{"hooks": {
                "Stop": {"command": "/r/agit codex-hook"},
                "AfterTool": [{"command": "/r/agit gemini-hook"}, {"command": "mine"}],
                "AfterAgent": [{"command": "/r/agit gemini-hook"}],
                "UserPromptSubmit": [{"hooks": [{"type": "command", "command": "/r/agit", "args": ["claude-hook", "user"]}]}],
                "Keep": []
            }, "_agit": {"binary": "/r/agit"}, "theme": "dark"}"#);
        assert_eq!(uninstall(&mut root, &[]), 4);
        assert_eq!(root, obj(r#"{"hooks": {"AfterTool": [{"command": "mine"}], "Keep": []}, "theme": "dark"}"#));
    }
}
