//! Hook payload checks shared by the `hook_*` targets.

use agit_capture::adapters::{
    self, DEFAULT_MAX_PAYLOAD_BYTES, HookRoute, SNIPPET_BYTES, redacted_snippet, redacted_snippet_around,
};
use agit_capture::event::EventKind;

/// A snippet never shows more than its window: each payload byte of the window becomes at
/// most a U+FFFD (3 bytes) and each secret a 10-byte placeholder.
const SNIPPET_MAX: usize = SNIPPET_BYTES * 10;

/// Parse `payload` on `route` and check what must hold for any input:
/// - parsing is deterministic and never panics;
/// - a smaller cap rejects the payload unparsed (`oversized_payload`);
/// - an accepted event belongs to the route's agent, its tool arguments are JSON text,
///   and (for UTF-8 payloads without `\u` escapes, which we map to U+FFFD where
///   serde_json refuses lone surrogates) serde_json agrees the payload is JSON;
/// - a rejected payload reports its size, an in-bounds error position, a stable code,
///   and a bounded redacted snippet.
pub fn check(route: HookRoute, payload: &[u8]) {
    let parsed = adapters::parse(route, payload, DEFAULT_MAX_PAYLOAD_BYTES);
    assert_eq!(parsed, adapters::parse(route, payload, DEFAULT_MAX_PAYLOAD_BYTES), "parse is not deterministic");

    if let Some(cap) = payload.len().checked_sub(1) {
        let capped = adapters::parse(route, payload, cap).expect_err("payload over the cap was accepted");
        assert_eq!(capped.code(), "oversized_payload");
        assert_eq!(capped.context.payload_bytes, payload.len());
        assert!(capped.context.session_id.is_none(), "an oversized payload must not be parsed");
    }

    match parsed {
        Ok(event) => {
            assert_eq!(event.origin, route.origin());
            if let EventKind::ToolUse { calls } = &event.kind {
                for call in calls {
                    assert_ne!(
                        crate::serde_json_accepts(call.args.as_bytes()),
                        Some(false),
                        "tool args are not JSON: {:?}",
                        call.args
                    );
                }
            }
            if std::str::from_utf8(payload).is_ok() && !payload.windows(2).any(|w| w == b"\\u") {
                assert_ne!(crate::serde_json_accepts(payload), Some(false), "accepted a payload serde_json rejects");
            }
        }
        Err(failure) => {
            assert_eq!(failure.context.payload_bytes, payload.len());
            assert!(!failure.code().is_empty());
            assert!(!failure.to_string().is_empty());
            if let Some(position) = failure.error.position() {
                assert!(position.offset <= payload.len(), "error offset past the payload");
                assert!(position.line >= 1 && position.column >= 1);
            }
            let snippet = failure.payload_snippet(payload);
            assert!(snippet.len() <= SNIPPET_MAX, "snippet of {} bytes", snippet.len());
        }
    }
}

/// The redactor reads raw, possibly hostile bytes too; any window must stay bounded.
pub fn check_redaction(payload: &[u8]) {
    let offset = payload.len().wrapping_mul(7919) % (payload.len() + 1);
    assert!(redacted_snippet(payload).len() <= SNIPPET_MAX);
    assert!(redacted_snippet_around(payload, offset).len() <= SNIPPET_MAX);
}
