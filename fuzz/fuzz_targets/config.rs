//! `.agit/config.json`: `agit_core::config::Config::parse`.
//!
//! Properties: never panics; an accepted config written back with `to_pretty_json` (what
//! `agit config` writes) parses to the same config, and writing is idempotent.
#![no_main]

use agit_core::config::{CONFIG_VERSION, Config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(config) = Config::parse(data) else { return };
    assert_eq!(config.version, CONFIG_VERSION);
    let text = config.to_pretty_json();
    let again = Config::parse(text.as_bytes()).expect("a written config parses");
    assert_eq!(again, config, "config round trip changed it");
    assert_eq!(again.to_pretty_json(), text);
});
