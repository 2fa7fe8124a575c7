//! `agit gemini-hook` payloads (see `agit_fuzz::hook::check` for the properties).
#![no_main]

use agit_capture::adapters::HookRoute;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    agit_fuzz::hook::check(HookRoute::Gemini, data);
    agit_fuzz::hook::check_redaction(data);
});
