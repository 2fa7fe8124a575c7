//! `agit claude-hook user|assistant|session-start` and `agit claude-tool-batch-hook`
//! payloads: every Claude route parses the same bytes (see `agit_fuzz::hook::check`).
#![no_main]

use agit_capture::adapters::{ClaudeHook, HookRoute};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for route in [
        HookRoute::Claude(ClaudeHook::User),
        HookRoute::Claude(ClaudeHook::Assistant),
        HookRoute::Claude(ClaudeHook::SessionStart),
        HookRoute::ClaudeToolBatch,
    ] {
        agit_fuzz::hook::check(route, data);
    }
    agit_fuzz::hook::check_redaction(data);
});
