//! Every fixture under `tests/fixtures/<agent>/` goes through the adapter of its route and
//! must produce exactly the expected event or error code. A fixture without a case (or a
//! case without a fixture) fails the suite, so no payload shape goes unchecked.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use agit_capture::adapters::{AdapterError, ClaudeHook, DEFAULT_MAX_PAYLOAD_BYTES, HookRoute, ParseFailure, parse};
use agit_capture::event::{EventKind, HookEvent, ToolCall};
use proptest::prelude::*;

const CLAUDE_SESSION: &str = "3f1c9a2e-7b4d-4e8a-9c61-0d2f5b8e4a17";
const CODEX_SESSION: &str = "0199a7c2-5e1f-7d30-b8a4-6c2e9f1d3b57";
const CODEX_TURN: &str = "0199a7c2-6a10-7c11-9e0f-2b4d8a6c1e93";
const GEMINI_SESSION: &str = "b7e2c41d-93fa-4c0e-a5d8-1f6e2a9c7b30";
const COPILOT_SESSION: &str = "9d3f0b6a-2c4e-4f1a-8b7d-5e0c3a1f9e24";
const PI_SESSION: &str = "pi-2025-06-01T10-00-00-a1b2c3";

const USER: HookRoute = HookRoute::Claude(ClaudeHook::User);
const ASSISTANT: HookRoute = HookRoute::Claude(ClaudeHook::Assistant);
const SESSION_START: HookRoute = HookRoute::Claude(ClaudeHook::SessionStart);
const BATCH: HookRoute = HookRoute::ClaudeToolBatch;

/// The expected normalized event.
struct Expected {
    session: &'static str,
    cwd: &'static str,
    turn: Option<&'static str>,
    source: Option<&'static str>,
    model: Option<&'static str>,
    kind: EventKind,
}

impl Expected {
    fn turn(mut self, turn: &'static str) -> Self {
        self.turn = Some(turn);
        self
    }
    fn source(mut self, source: &'static str) -> Self {
        self.source = Some(source);
        self
    }
    fn model(mut self, model: &'static str) -> Self {
        self.model = Some(model);
        self
    }
}

fn event(session: &'static str, cwd: &'static str, kind: EventKind) -> Expected {
    Expected { session, cwd, turn: None, source: None, model: None, kind }
}

fn prompt(text: &str) -> EventKind {
    EventKind::UserPrompt { prompt: text.to_owned() }
}

fn stop(text: &str) -> EventKind {
    EventKind::Stop { assistant_text: text.to_owned() }
}

fn tools(calls: &[(&str, &str, &str)]) -> EventKind {
    EventKind::ToolUse {
        calls: calls
            .iter()
            .map(|(name, args, result)| ToolCall {
                tool_name: (*name).to_owned(),
                args: (*args).to_owned(),
                result: (*result).to_owned(),
            })
            .collect(),
    }
}

enum Outcome {
    Event(Expected),
    /// Error code and the logged `field`.
    Error(&'static str, Option<&'static str>),
}

struct Case {
    fixture: &'static str,
    route: HookRoute,
    outcome: Outcome,
}

fn ok(fixture: &'static str, route: HookRoute, expected: Expected) -> Case {
    Case { fixture, route, outcome: Outcome::Event(expected) }
}

fn err(fixture: &'static str, route: HookRoute, code: &'static str, field: Option<&'static str>) -> Case {
    Case { fixture, route, outcome: Outcome::Error(code, field) }
}

const JSON: Option<&str> = Some("$");

fn cases() -> Vec<Case> {
    let claude = |kind| event(CLAUDE_SESSION, "/home/dev/shop", kind);
    let codex = |kind| event(CODEX_SESSION, "/home/dev/api", kind);
    let gemini = |kind| event(GEMINI_SESSION, "/home/dev/site", kind);
    let copilot = |kind| event(COPILOT_SESSION, "/home/dev/cli", kind);
    let pi = |kind| event(PI_SESSION, "/home/dev/game", kind);
    vec![
        // Claude Code
        ok("claude/session_start.json", SESSION_START, claude(EventKind::Metadata).model("claude-sonnet-4-5-20250929")),
        ok("claude/session_start_without_model.json", SESSION_START, claude(EventKind::Metadata)),
        ok("claude/user_prompt_submit.json", USER, claude(prompt("Fix the failing checkout test in tests/cart_test.py"))),
        ok("claude/post_tool_batch.json", BATCH, claude(tools(&[
            ("Read", r#"{"file_path":"/home/dev/shop/tests/cart_test.py"}"#, "     1\timport pytest\n     2\tfrom shop.cart import Cart\n"),
            ("Bash", r#"{"command":"pytest -q tests/cart_test.py","description":"Run the cart tests","timeout":120000}"#, "1 failed, 4 passed in 0.31s"),
        ]))),
        ok("claude/post_tool_batch_empty.json", BATCH, claude(tools(&[]))),
        ok("claude/post_tool_batch_malformed_items.json", BATCH, claude(tools(&[
            ("unknown", r#"{"tool_input":{"pattern":"TODO"},"tool_response":"3 matches"}"#, "missing tool_name"),
            ("unknown", r#"{"tool_name":42,"tool_input":{}}"#, "invalid tool_name"),
            ("unknown", r#""Bash""#, "tool entry is not an object"),
            ("Edit", r#"{"file_path":"a.py","old_string":"x = 1","new_string":"x = 2"}"#, r#"{"filePath":"a.py","structuredPatch":[{"oldStart":1,"lines":["-x = 1","+x = 2"]}]}"#),
        ])).turn("t-7")),
        ok("claude/post_tool_use.json", BATCH, claude(tools(&[(
            "Write",
            r##"{"file_path":"/home/dev/shop/notes.md","content":"# Notes\n\t- \"cart\" fixed\n"}"##,
            r#"{"type":"create","filePath":"/home/dev/shop/notes.md","success":true}"#,
        )])).source("toolu_03MnOpQr")),
        ok("claude/stop.json", ASSISTANT, claude(stop("The checkout test now passes: `Cart.total()` rounded before applying the discount."))),
        ok("claude/stop_without_message.json", ASSISTANT, claude(stop(""))),
        err("claude/user_prompt_missing_prompt.json", USER, "missing_required_field", Some("prompt")),
        err("claude/user_prompt_wrong_event.json", USER, "unknown_event_name", Some("hook_event_name")),
        err("claude/post_tool_batch_calls_not_array.json", BATCH, "invalid_field_type", Some("tool_calls")),
        err("claude/post_tool_batch_missing_calls.json", BATCH, "missing_required_field", Some("tool_calls")),
        err("claude/pre_tool_use_unknown_event.json", BATCH, "unknown_event_name", Some("hook_event_name")),
        err("claude/session_id_not_string.json", USER, "invalid_field_type", Some("session_id")),
        err("claude/stop_missing_cwd.json", ASSISTANT, "missing_required_field", Some("cwd")),
        err("claude/stop_turn_id_not_string.json", ASSISTANT, "invalid_field_type", Some("turn_id")),
        err("claude/user_prompt_truncated.json", USER, "invalid_json_payload", JSON),
        err("claude/not_json.json", USER, "invalid_json_payload", JSON),
        // Codex CLI
        ok("codex/user_prompt_submit.json", HookRoute::Codex, codex(prompt(r#"Add a /health endpoint that returns {"ok": true}"#)).turn(CODEX_TURN).model("gpt-5-codex")),
        ok("codex/user_prompt_submit_minimal.json", HookRoute::Codex, event("model-sess", "/home/dev/api", prompt("hello"))),
        ok("codex/post_tool_use.json", HookRoute::Codex, codex(tools(&[(
            "shell",
            r#"{"command":["bash","-lc","cargo test -p api health"],"workdir":"/home/dev/api","timeout_ms":120000}"#,
            "running 1 test\ntest health::ok ... ok\n\ntest result: ok. 1 passed; 0 failed",
        )])).turn(CODEX_TURN).model("gpt-5-codex").source("call_k2J9xQ")),
        ok("codex/post_tool_use_structured_response.json", HookRoute::Codex, codex(tools(&[(
            "apply_patch",
            r#"{"input":"*** Begin Patch\n*** Add File: src/health.rs\n+pub fn ok() -> bool { true }\n*** End Patch\n"}"#,
            r#"{"exit_code":0,"stdout":"Success. Updated the following files:\nA src/health.rs\n","duration":0.25}"#,
        )])).source("call_p7Lm")),
        ok("codex/post_tool_use_missing_tool_name.json", HookRoute::Codex, codex(tools(&[(
            "unknown",
            r#"{"session_id":"0199a7c2-5e1f-7d30-b8a4-6c2e9f1d3b57","cwd":"/home/dev/api","hook_event_name":"PostToolUse","tool_input":{"command":["ls"]},"tool_response":"Cargo.toml\nsrc\n"}"#,
            "missing tool_name",
        )]))),
        ok("codex/stop.json", HookRoute::Codex, codex(stop(r#"Added `GET /health` returning `{"ok":true}` with a test."#)).turn(CODEX_TURN).model("gpt-5-codex")),
        ok("codex/user_prompt_invalid_utf8.json", HookRoute::Codex, event("s-utf8", "/home/dev/api", prompt("caf\u{fffd} \u{fffd} ok \u{fffd} end"))),
        err("codex/unknown_event.json", HookRoute::Codex, "unknown_event_name", Some("hook_event_name")),
        err("codex/missing_hook_event_name.json", HookRoute::Codex, "missing_required_field", Some("hook_event_name")),
        err("codex/hook_event_name_not_string.json", HookRoute::Codex, "invalid_field_type", Some("hook_event_name")),
        err("codex/prompt_not_string.json", HookRoute::Codex, "invalid_field_type", Some("prompt")),
        err("codex/model_not_string.json", HookRoute::Codex, "invalid_field_type", Some("model")),
        err("codex/array_root.json", HookRoute::Codex, "invalid_json_payload", JSON),
        err("codex/duplicate_key.json", HookRoute::Codex, "invalid_json_payload", JSON),
        err("codex/trailing_garbage.json", HookRoute::Codex, "invalid_json_payload", JSON),
        // Gemini CLI
        ok("gemini/before_model.json", HookRoute::Gemini, gemini(EventKind::Metadata).model("gemini-2.5-pro")),
        ok("gemini/before_model_without_model.json", HookRoute::Gemini, gemini(EventKind::Metadata).turn("g-turn-2")),
        ok("gemini/before_agent.json", HookRoute::Gemini, gemini(prompt("Make the header sticky on scroll"))),
        ok("gemini/after_tool.json", HookRoute::Gemini, gemini(tools(&[(
            "read_file",
            r#"{"path":"src/header.css"}"#,
            ".header {\n  position: relative;\n}\n",
        )]))),
        ok("gemini/after_tool_structured.json", HookRoute::Gemini, gemini(tools(&[(
            "replace",
            r#"{"file_path":"/home/dev/site/src/header.css","old_string":"position: relative;","new_string":"position: sticky;\n  top: 0;"}"#,
            r#"{"llmContent":"Successfully modified file: /home/dev/site/src/header.css (1 replacements).","returnDisplay":{"fileDiff":"@@ -1,3 +1,4 @@","fileName":"header.css"}}"#,
        )])).source("replace-1748772131482-0")),
        ok("gemini/after_agent.json", HookRoute::Gemini, gemini(stop("The header is now sticky."))),
        ok("gemini/after_agent_prompt_response.json", HookRoute::Gemini, gemini(stop("Done: `.header` uses `position: sticky; top: 0`."))),
        err("gemini/before_model_missing_llm_request.json", HookRoute::Gemini, "missing_required_field", Some("llm_request")),
        err("gemini/before_model_llm_request_not_object.json", HookRoute::Gemini, "invalid_field_type", Some("llm_request")),
        err("gemini/before_model_model_not_string.json", HookRoute::Gemini, "invalid_field_type", Some("llm_request.model")),
        err("gemini/before_tool_unknown_event.json", HookRoute::Gemini, "unknown_event_name", Some("hook_event_name")),
        err("gemini/empty.json", HookRoute::Gemini, "invalid_json_payload", JSON),
        // Copilot CLI
        ok("copilot/user_prompt_submit.json", HookRoute::Copilot, copilot(prompt("Why does `npm test` hang?")).turn("agturn:copilot-1")),
        ok("copilot/post_tool_use.json", HookRoute::Copilot, copilot(tools(&[(
            "bash",
            r#"{"command":"npm test -- --detectOpenHandles","description":"Find open handles"}"#,
            "Jest has detected the following 1 open handle: TCPSERVERWRAP",
        )])).turn("agturn:copilot-1").source("agtool:copilot-1-1")),
        ok("copilot/post_tool_use_result_object.json", HookRoute::Copilot, copilot(tools(&[(
            "view",
            r#"{"path":"src/server.ts"}"#,
            r#"{"resultType":"success","lines":42}"#,
        )])).turn("agturn:copilot-1").source("agtool:copilot-1-2")),
        ok("copilot/post_tool_use_result_string.json", HookRoute::Copilot, copilot(tools(&[(
            "edit",
            r#"{"path":"src/server.ts"}"#,
            "File src/server.ts updated.",
        )]))),
        ok("copilot/post_tool_use_without_result.json", HookRoute::Copilot, copilot(tools(&[("report_intent", "{}", "")]))
            .turn("agturn:copilot-2").source("agtool:copilot-2-1")),
        ok("copilot/post_tool_use_tool_name_not_string.json", HookRoute::Copilot, copilot(tools(&[("unknown", r#"{"x":1}"#, "")]))),
        ok("copilot/post_tool_use_lone_surrogate.json", HookRoute::Copilot, copilot(tools(&[(
            "bash",
            r#"{"command":"cat emoji.log"}"#,
            "done \u{fffd}",
        )])).turn("agturn:copilot-3").source("agtool:copilot-3-1")),
        ok("copilot/stop.json", HookRoute::Copilot, copilot(stop("")).turn("agturn:copilot-1")),
        err("copilot/legacy_event_name.json", HookRoute::Copilot, "unknown_event_name", Some("hook_event_name")),
        err("copilot/missing_session_id.json", HookRoute::Copilot, "missing_required_field", Some("session_id")),
        // Pi
        ok("pi/input.json", HookRoute::Pi, pi(prompt("Add a pause menu")).turn("agturn:pi-1")),
        ok("pi/input_empty_session_id.json", HookRoute::Pi, event("", "/home/dev/game", prompt(r#"[{"type":"text","text":"Add a pause menu"}]"#)).turn("agturn:pi-1")),
        ok("pi/tool_execution_end.json", HookRoute::Pi, pi(tools(&[(
            "edit",
            r#"{"path":"src/menu.ts","oldText":"","newText":"export function pause() {}\n"}"#,
            "Successfully replaced text in src/menu.ts.",
        )])).turn("agturn:pi-1").source("toolu_pi_01")),
        ok("pi/tool_execution_end_without_args.json", HookRoute::Pi, pi(tools(&[("bash", "{}", "")])).turn("agturn:pi-1").source("toolu_pi_02")),
        ok("pi/agent_end.json", HookRoute::Pi, pi(stop("Added a pause menu bound to Escape.")).turn("agturn:pi-1")),
        ok("pi/agent_end_without_response.json", HookRoute::Pi, pi(stop("")).turn("agturn:pi-2")),
        err("pi/input_missing_prompt.json", HookRoute::Pi, "missing_required_field", Some("prompt")),
        err("pi/turn_end_unknown_event.json", HookRoute::Pi, "unknown_event_name", Some("hook_event_name")),
        err("pi/cwd_not_string.json", HookRoute::Pi, "invalid_field_type", Some("cwd")),
        err("pi/invalid_json_with_secret.json", HookRoute::Pi, "invalid_json_payload", JSON),
    ]
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(fixture: &str) -> Vec<u8> {
    let path = fixtures_dir().join(fixture);
    fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn run(fixture: &str, route: HookRoute) -> Result<HookEvent, ParseFailure> {
    parse(route, &load(fixture), DEFAULT_MAX_PAYLOAD_BYTES)
}

#[test]
fn every_fixture_produces_its_expected_event_or_error() {
    for case in cases() {
        let result = run(case.fixture, case.route);
        match (&case.outcome, result) {
            (Outcome::Event(expected), Ok(event)) => {
                let name = case.fixture;
                assert_eq!(event.origin, case.route.origin(), "{name}: origin");
                assert_eq!(event.session_id, expected.session, "{name}: session_id");
                assert_eq!(event.cwd, PathBuf::from(expected.cwd), "{name}: cwd");
                assert_eq!(event.preferred_turn_id.as_deref(), expected.turn, "{name}: turn");
                assert_eq!(event.source_event_id.as_deref(), expected.source, "{name}: source");
                assert_eq!(event.model.as_deref(), expected.model, "{name}: model");
                assert_eq!(event.kind, expected.kind, "{name}: kind");
            }
            (Outcome::Error(code, field), Err(failure)) => {
                assert_eq!(failure.code(), *code, "{}: {failure}", case.fixture);
                assert_eq!(failure.error.field(), *field, "{}: field", case.fixture);
            }
            (Outcome::Event(_), Err(failure)) => {
                panic!("{}: expected an event, got {failure}", case.fixture)
            }
            (Outcome::Error(code, _), Ok(event)) => {
                panic!("{}: expected {code}, got {event:?}", case.fixture)
            }
        }
    }
}

#[test]
fn every_fixture_file_has_a_case_and_every_case_a_file() {
    let mut on_disk = BTreeSet::new();
    for agent in fs::read_dir(fixtures_dir()).unwrap_or_else(|e| panic!("fixtures: {e}")) {
        let agent = agent.unwrap_or_else(|e| panic!("fixtures: {e}")).path();
        for file in fs::read_dir(&agent).unwrap_or_else(|e| panic!("{}: {e}", agent.display())) {
            let file = file.unwrap_or_else(|e| panic!("fixtures: {e}")).path();
            let relative = file.strip_prefix(fixtures_dir()).unwrap_or(&file);
            on_disk.insert(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    let listed: BTreeSet<String> = cases().iter().map(|c| c.fixture.to_owned()).collect();
    assert_eq!(cases().len(), listed.len(), "a fixture is listed twice");
    assert_eq!(on_disk, listed);
    for agent in ["claude", "codex", "gemini", "copilot", "pi"] {
        assert!(listed.iter().any(|f| f.starts_with(&format!("{agent}/"))), "{agent}");
    }
}

#[test]
fn an_empty_claude_batch_is_a_noop_and_others_are_not() {
    let event = run("claude/post_tool_batch_empty.json", BATCH).unwrap_or_else(|f| panic!("{f}"));
    assert!(event.is_noop());
    let event = run("claude/post_tool_batch.json", BATCH).unwrap_or_else(|f| panic!("{f}"));
    assert!(!event.is_noop());
    assert_eq!(event.kind.as_str(), "tool_use");
}

#[test]
fn each_claude_subcommand_accepts_only_its_own_event() {
    let routes = [USER, ASSISTANT, SESSION_START, BATCH];
    let fixtures = [
        "claude/user_prompt_submit.json",
        "claude/stop.json",
        "claude/session_start.json",
        "claude/post_tool_batch.json",
    ];
    for (i, route) in routes.iter().enumerate() {
        for (j, fixture) in fixtures.iter().enumerate() {
            let result = run(fixture, *route);
            if i == j {
                assert!(result.is_ok(), "{route} {fixture}");
            } else {
                let failure = result.err().unwrap_or_else(|| panic!("{route} accepted {fixture}"));
                assert_eq!(failure.code(), "unknown_event_name", "{route} {fixture}");
            }
        }
    }
}

#[test]
fn failures_keep_the_payload_context_for_the_log() {
    let failure = run("claude/user_prompt_missing_prompt.json", USER).err().unwrap_or_else(|| panic!("accepted"));
    assert_eq!(failure.context.session_id.as_deref(), Some(CLAUDE_SESSION));
    assert_eq!(failure.context.event_name.as_deref(), Some("UserPromptSubmit"));
    assert_eq!(failure.context.cwd, Some(PathBuf::from("/home/dev/shop")));
    assert_eq!(failure.error.error_kind(), "MissingRequiredField");
    // Unparsable payloads reveal nothing but their size.
    let payload = load("claude/user_prompt_truncated.json");
    let failure = run("claude/user_prompt_truncated.json", USER).err().unwrap_or_else(|| panic!("accepted"));
    assert_eq!(failure.context.session_id, None);
    assert_eq!(failure.context.payload_bytes, payload.len());
    let position = failure.error.position().unwrap_or_else(|| panic!("no position"));
    assert_eq!((position.offset, position.line), (payload.len(), 1));
    assert_eq!(failure.error.error_kind(), "InvalidPayload");
}

#[test]
fn json_error_positions_count_lines() {
    let failure = run("codex/trailing_garbage.json", HookRoute::Codex).err().unwrap_or_else(|| panic!("accepted"));
    let AdapterError::InvalidPayload { position, .. } = failure.error else {
        panic!("{failure}");
    };
    assert_eq!((position.line, position.column), (2, 1));
    assert!(failure.to_string().contains("(line 2, column 1)"), "{failure}");
}

#[test]
fn snippets_of_invalid_payloads_hide_secrets() {
    let payload = load("pi/invalid_json_with_secret.json");
    let failure = run("pi/invalid_json_with_secret.json", HookRoute::Pi).err().unwrap_or_else(|| panic!("accepted"));
    for snippet in [failure.payload_snippet(&payload), agit_capture::adapters::redacted_snippet(&payload)] {
        assert!(snippet.contains("[REDACTED]"), "{snippet}");
        assert!(!snippet.contains("R4nd0mT0k3n"), "{snippet}");
        assert!(!snippet.contains("Zx8Qp2Lm9"), "{snippet}");
        assert!(snippet.len() <= agit_capture::adapters::SNIPPET_BYTES + 64);
    }
}

#[test]
fn the_payload_cap_applies_before_parsing() {
    let payload = load("claude/stop.json");
    let failure = parse(ASSISTANT, &payload, payload.len() - 1).err().unwrap_or_else(|| panic!("accepted"));
    assert_eq!(failure.code(), "oversized_payload");
    assert_eq!(failure.error.error_kind(), "HookPayloadTooLarge");
    assert!(parse(ASSISTANT, &payload, payload.len()).is_ok());
}

const ROUTES: [HookRoute; 8] =
    [USER, ASSISTANT, SESSION_START, BATCH, HookRoute::Codex, HookRoute::Gemini, HookRoute::Copilot, HookRoute::Pi];

const KNOWN_CODES: [&str; 5] =
    ["oversized_payload", "invalid_json_payload", "missing_required_field", "invalid_field_type", "unknown_event_name"];

fn check_never_panics(payload: &[u8]) {
    for route in ROUTES {
        match parse(route, payload, 4096) {
            Ok(event) => assert_eq!(event.origin, route.origin()),
            Err(failure) => {
                assert!(KNOWN_CODES.contains(&failure.code()), "{}", failure.code());
                let _ = failure.payload_snippet(payload);
            }
        }
    }
}

/// JSON values biased towards what adapters read: strings, objects, arrays, nulls.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-z_]{0,12}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

const FIELDS: [&str; 16] = [
    "session_id",
    "cwd",
    "turn_id",
    "event_id",
    "model",
    "prompt",
    "tool_calls",
    "tool_name",
    "tool_input",
    "tool_response",
    "tool_result",
    "tool_use_id",
    "llm_request",
    "last_assistant_message",
    "response",
    "prompt_response",
];

const EVENT_NAMES: [&str; 14] = [
    "UserPromptSubmit",
    "PostToolUse",
    "PostToolBatch",
    "Stop",
    "SessionStart",
    "BeforeModel",
    "BeforeAgent",
    "AfterTool",
    "AfterAgent",
    "input",
    "tool_execution_end",
    "agent_end",
    "",
    "Nope",
];

/// Payload objects with real field names and event names but random values.
fn hook_payload() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(&EVENT_NAMES[..]),
        prop::collection::vec((prop::sample::select(&FIELDS[..]), json_value()), 0..10),
        any::<bool>(),
    )
        .prop_map(|(name, fields, with_header)| {
            let mut object = serde_json::Map::new();
            object.insert("hook_event_name".into(), name.into());
            if with_header {
                object.insert("session_id".into(), "s".into());
                object.insert("cwd".into(), "/w".into());
            }
            for (key, value) in fields {
                object.insert(key.into(), value);
            }
            serde_json::to_vec(&serde_json::Value::Object(object)).unwrap_or_default()
        })
}

/// Same JSON value, numbers compared by value: integral floats render as integers (`5.0`
/// → `5`, as the reference does), and serde_json's default float parser may be off by
/// a few ulps on long decimals and subnormals (exactness is checked in the JSON module's own tests).
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()) || (x - y).abs() < 1e-300,
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_any_adapter(payload in prop::collection::vec(any::<u8>(), 0..512)) {
        check_never_panics(&payload);
    }

    #[test]
    fn json_like_bytes_never_panic_any_adapter(payload in r#"[{}\[\]:,"\\ a-z0-9.eE+\-ud]{0,200}"#) {
        check_never_panics(payload.as_bytes());
    }

    #[test]
    fn hook_shaped_payloads_never_panic_and_keep_identity(payload in hook_payload()) {
        check_never_panics(&payload);
        let value: serde_json::Value = serde_json::from_slice(&payload).unwrap_or_default();
        for route in ROUTES {
            if let Ok(event) = parse(route, &payload, DEFAULT_MAX_PAYLOAD_BYTES) {
                prop_assert_eq!(Some(event.session_id.as_str()), value["session_id"].as_str());
                prop_assert_eq!(Some(event.event_name.as_str()), value["hook_event_name"].as_str());
            }
        }
    }

    #[test]
    fn tool_input_round_trips_through_args(input in json_value()) {
        let payload = serde_json::json!({
            "hook_event_name": "PostToolUse", "session_id": "s", "cwd": "/w",
            "tool_name": "t", "tool_input": input, "tool_response": "r",
        });
        let bytes = serde_json::to_vec(&payload).unwrap_or_default();
        let event = parse(HookRoute::Codex, &bytes, DEFAULT_MAX_PAYLOAD_BYTES);
        let Ok(HookEvent { kind: EventKind::ToolUse { calls }, .. }) = event else {
            return Err(TestCaseError::fail(format!("{event:?}")));
        };
        let args: serde_json::Value = serde_json::from_str(&calls[0].args)
            .map_err(|e| TestCaseError::fail(format!("{e}: {}", calls[0].args)))?;
        prop_assert!(same_json(&args, &payload["tool_input"]), "{} vs {}", args, payload["tool_input"]);
    }
}
