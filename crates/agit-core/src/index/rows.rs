//! Row writers shared by the incremental path (commit, reconcile) and the rebuild, so
//! both produce identical rows.

use rusqlite::{Connection, OptionalExtension, params};

use super::schema::meta_keys;
use super::{get_meta, set_meta};
use crate::error::{Error, Result};
use crate::hash::ObjectId;
use crate::object::{EvalObject, ObjectKind, Step};
use crate::store::SessionRef;

/// An object as the index records it: its kind is known from how it was written or
/// reached, never guessed when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectRecord {
    pub id: ObjectId,
    pub kind: ObjectKind,
    pub size: u64,
}

pub(crate) fn insert_object(conn: &Connection, object: &ObjectRecord) -> Result<()> {
    conn.prepare_cached("insert or ignore into objects(hash, kind, size) values(?1, ?2, ?3)")
        .and_then(|mut st| {
            st.execute(params![
                object.id.to_hex(),
                object.kind.as_str(),
                i64::try_from(object.size).unwrap_or(i64::MAX)
            ])
        })
        .map_err(Error::index("insert object"))?;
    Ok(())
}

pub(crate) fn has_step(conn: &Connection, id: &ObjectId) -> Result<bool> {
    conn.prepare_cached("select 1 from steps where hash=?1")
        .and_then(|mut st| st.query_row([id.to_hex()], |_| Ok(())).optional())
        .map(|r| r.is_some())
        .map_err(Error::index("look up step"))
}

/// Insert a step with its messages, tool calls and search rows. A step already present
/// (same hash) or a second step for the same turn is ignored, as in the reference.
pub(crate) fn insert_step(conn: &Connection, id: &ObjectId, step: &Step) -> Result<bool> {
    let hash = id.to_hex();
    let inserted = conn
        .prepare_cached(
            "insert or ignore into steps(hash, session_origin, session_id, turn_id, parent_hash,
               tree_hash, timestamp, git_commit, git_branch, git_dirty, outcome, model, preview)
             values(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )
        .and_then(|mut st| {
            st.execute(params![
                hash,
                step.origin,
                step.session_id,
                step.turn_id,
                step.parent.map(|p| p.to_hex()),
                step.tree.to_hex(),
                step.timestamp,
                step.git_commit,
                step.git_branch,
                step.git_dirty,
                step.outcome,
                step.model,
                preview(step),
            ])
        })
        .map_err(Error::index("insert step"))?
        > 0;
    if !inserted {
        return Ok(false);
    }
    let search = |kind: &str, seq: usize, label: &str, content: &str| -> Result<()> {
        conn.prepare_cached(
            "insert into search_entries(entry_kind, origin, session_id, turn_id, step_hash, timestamp, seq, label, content)
             values(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .and_then(|mut st| {
            st.execute(params![
                kind,
                step.origin,
                step.session_id,
                step.turn_id,
                hash,
                step.timestamp,
                seq as i64,
                label,
                content
            ])
        })
        .map_err(Error::index("insert search entry"))?;
        Ok(())
    };
    for (seq, message) in step.messages.iter().enumerate() {
        conn.prepare_cached("insert or ignore into messages(step_hash, seq, role, content) values(?1, ?2, ?3, ?4)")
            .and_then(|mut st| st.execute(params![hash, seq as i64, message.role, message.content]))
            .map_err(Error::index("insert message"))?;
        search("message", seq, &message.role, &message.content)?;
    }
    for (seq, call) in step.tool_calls.iter().enumerate() {
        conn.prepare_cached(
            "insert or ignore into tool_calls(step_hash, seq, tool_name, args, result) values(?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut st| st.execute(params![hash, seq as i64, call.tool_name, call.args, call.result]))
        .map_err(Error::index("insert tool call"))?;
        search("tool_args", seq, &call.tool_name, &call.args)?;
        if let Some(result) = &call.result {
            search("tool_result", seq, &call.tool_name, result)?;
        }
    }
    Ok(true)
}

/// Point a session at its new head and record the tip in meta (what reconcile compares).
pub(crate) fn set_session_head(conn: &Connection, session: &SessionRef, head: &ObjectId) -> Result<()> {
    let hex = head.to_hex();
    conn.prepare_cached(
        "insert into sessions(origin, session_id, head_hash, updated_at) values(?1, ?2, ?3, unixepoch())
         on conflict(origin, session_id) do update set head_hash=excluded.head_hash, updated_at=excluded.updated_at",
    )
    .and_then(|mut st| st.execute(params![session.origin, session.session_id, hex]))
    .map_err(Error::index("upsert session"))?;
    let count: i64 = conn
        .prepare_cached("select count(*) from steps where session_origin=?1 and session_id=?2")
        .and_then(|mut st| st.query_row(params![session.origin, session.session_id], |r| r.get(0)))
        .map_err(Error::index("count session steps"))?;
    let key = |suffix| meta_keys::session_key(&session.origin, &session.session_id, suffix);
    set_meta(conn, &key("last_ref_hash"), &hex)?;
    set_meta(conn, &key("last_step_hash"), &hex)?;
    set_meta(conn, &key("last_step_seq"), &count.to_string())?;
    Ok(())
}

pub(crate) fn add_counter(conn: &Connection, key: &str, delta: u64) -> Result<()> {
    let current = get_meta(conn, key)?.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    set_meta(conn, key, &current.saturating_add(delta).to_string())
}

/// The `evaluations` row of an eval object (reference `formats.md` §9.2).
pub(crate) fn insert_evaluation(conn: &Connection, id: &ObjectId, eval: &EvalObject) -> Result<()> {
    let scope = &eval.evaluation_scope;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let scope_key = match scope.kind.as_str() {
        "session" => format!("{}/{}", text(&scope.origin), text(&scope.session_id)),
        "commit" => format!("commit {}", text(&scope.rev)),
        "range" => format!("range {}", text(&scope.range)),
        _ => format!("window {}..{}", text(&scope.since), text(&scope.until)),
    };
    conn.prepare_cached(
        "insert or ignore into evaluations(hash, scope_type, scope_key, classification, captured_evidence_hash, evaluated_at)
         values(?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            id.to_hex(),
            scope.kind,
            scope_key,
            eval.assessment.classification,
            eval.captured_evidence_hash,
            eval.evaluated_at
        ])
    })
    .map_err(Error::index("insert evaluation"))?;
    Ok(())
}

/// Longest preview in bytes before the ellipsis.
const PREVIEW_BYTES: usize = 96;

/// One-line preview of a step (reference `formats.md` §7.6): the first non-empty user
/// message, else assistant message, else the first tool call's result, args or name;
/// whitespace collapsed and cut to 96 bytes. Unlike the reference we cut on a character
/// boundary, so a preview is always valid UTF-8.
pub fn preview(step: &Step) -> String {
    let source = step
        .messages
        .iter()
        .find(|m| m.role == "user" && !m.content.trim().is_empty())
        .or_else(|| step.messages.iter().find(|m| m.role == "assistant" && !m.content.trim().is_empty()))
        .map(|m| m.content.as_str())
        .or_else(|| {
            step.tool_calls.iter().find_map(|c| {
                [c.result.as_deref().unwrap_or(""), c.args.as_str(), c.tool_name.as_str()]
                    .into_iter()
                    .find(|t| !t.trim().is_empty())
            })
        });
    let Some(source) = source else {
        return "(no preview)".into();
    };
    let mut out = String::new();
    let mut truncated = false;
    for word in source.split([' ', '\r', '\n', '\t']).filter(|w| !w.is_empty()) {
        let sep = usize::from(!out.is_empty());
        if out.len() + sep + word.len() > PREVIEW_BYTES {
            if sep == 1 && out.len() < PREVIEW_BYTES {
                out.push(' ');
            }
            for ch in word.chars() {
                if out.len() + ch.len_utf8() > PREVIEW_BYTES - 1 {
                    break;
                }
                out.push(ch);
            }
            truncated = true;
            break;
        }
        if sep == 1 {
            out.push(' ');
        }
        out.push_str(word);
    }
    let out = out.trim_end().to_owned();
    match (out.is_empty(), truncated) {
        (true, _) => "(empty preview)".into(),
        (false, true) => format!("{out}\u{2026}"),
        (false, false) => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{Message, ToolCall};

    fn step(messages: Vec<(&str, &str)>, calls: Vec<(&str, &str, Option<&str>)>) -> Step {
        Step {
            parent: None,
            tree: ObjectId::of(b""),
            session_id: "s".into(),
            origin: "o".into(),
            model: None,
            turn_id: "t".into(),
            causes: vec![],
            timestamp: 1,
            messages: messages.into_iter().map(|(r, c)| Message { role: r.into(), content: c.into() }).collect(),
            tool_calls: calls
                .into_iter()
                .map(|(n, a, r)| ToolCall { tool_name: n.into(), args: a.into(), result: r.map(Into::into) })
                .collect(),
            outcome: None,
            git_commit: None,
            git_branch: None,
            git_dirty: None,
        }
    }

    #[test]
    fn preview_picks_sources_in_order_and_normalizes() {
        assert_eq!(preview(&step(vec![("assistant", "done"), ("user", "  fix\n\tthe   bug ")], vec![])), "fix the bug");
        assert_eq!(preview(&step(vec![("user", " "), ("assistant", "ok")], vec![])), "ok");
        assert_eq!(preview(&step(vec![], vec![("Bash", "", Some("")), ("Read", "{}", None)])), "Bash");
        assert_eq!(preview(&step(vec![], vec![("", " ", Some("")), ("Read", "{}", None)])), "{}");
        assert_eq!(preview(&step(vec![], vec![])), "(no preview)");
    }

    #[test]
    fn preview_cuts_long_text_on_a_char_boundary() {
        let long = "é".repeat(100);
        let p = preview(&step(vec![("user", &long)], vec![]));
        assert!(p.ends_with('\u{2026}'));
        assert!(p.len() <= PREVIEW_BYTES + 3);
        let words = "word ".repeat(40);
        let p = preview(&step(vec![("user", &words)], vec![]));
        assert!(p.ends_with('\u{2026}') && p.len() <= PREVIEW_BYTES + 3, "{p}");
    }
}
