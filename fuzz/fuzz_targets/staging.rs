//! Turn staging files (`tmp/<key>.json`, JSON Lines or the reference's legacy document):
//! `agit_capture::recorder::staging::parse`.
//!
//! Properties: never panics; corrupt lines are at most the non-blank lines; and what was
//! parsed, written back as staging lines, parses to the same turn with no corrupt line.
#![no_main]

use agit_capture::recorder::staging::{StagedOp, StagedTurn, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let turn = parse(data);
    let lines = data.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count();
    assert!(turn.corrupt_lines <= lines, "{} corrupt of {lines} lines", turn.corrupt_lines);

    let rewritten = serialize(&turn);
    let reparsed = parse(&rewritten);
    assert_eq!(reparsed, StagedTurn { corrupt_lines: 0, ..turn }, "staging round trip changed the turn");
});

/// The turn as staging lines, the way the recorder appends them.
fn serialize(turn: &StagedTurn) -> Vec<u8> {
    let mut ops = Vec::new();
    if let Some((origin, session_id, turn_id)) = &turn.header {
        ops.push(StagedOp::Turn { origin: origin.clone(), session_id: session_id.clone(), turn_id: turn_id.clone() });
    }
    for m in &turn.messages {
        ops.push(StagedOp::Message { role: m.role.clone(), content: m.content.clone(), src: None });
    }
    for c in &turn.tool_calls {
        ops.push(StagedOp::ToolCall {
            tool_name: c.tool_name.clone(),
            args: c.args.clone(),
            result: c.result.clone(),
            src: None,
        });
    }
    if let Some(model) = &turn.model {
        ops.push(StagedOp::Model { model: model.clone() });
    }
    for cause in &turn.causes {
        ops.push(StagedOp::Cause { cause: cause.clone() });
    }
    if let Some(content) = &turn.stop {
        ops.push(StagedOp::Stop { content: content.clone(), src: None });
    }
    let mut out = Vec::new();
    for op in &ops {
        out.extend(serde_json::to_vec(op).expect("staging ops serialize"));
        out.push(b'\n');
    }
    out
}
