//! Bundle `manifest.json` (`agit import`): `agit_sync::bundle::Manifest::parse`.
//!
//! Properties: never panics; a parsed manifest written back with `to_json` (what export
//! writes) parses to the same manifest and writing is idempotent; the path and id
//! helpers import applies to manifest fields never panic, and a path judged safe is
//! relative with no `.`/`..` segment.
#![no_main]

use agit_sync::bundle::Manifest;
use agit_sync::bundle::manifest::{bundle_id, is_safe_relative_path, object_path};
use libfuzzer_sys::fuzz_target;

fn check_path(path: &str) {
    if is_safe_relative_path(path) {
        assert!(!path.starts_with('/') && !path.ends_with('/'));
        assert!(path.split('/').all(|s| !s.is_empty() && s != "." && s != ".."), "unsafe path judged safe: {path:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check_path(text);
        let _ = object_path(text);
    }
    let Ok(manifest) = Manifest::parse(data) else { return };
    let json = manifest.to_json();
    let again = Manifest::parse(&json).expect("a written manifest parses");
    assert_eq!(again, manifest, "manifest round trip changed it");
    assert_eq!(again.to_json(), json, "manifest encoding is not a fixed point");
    let id = bundle_id(manifest.created_at_ms, &manifest.refs);
    assert_eq!(id.len(), 64);
    for r in &manifest.refs {
        check_path(&r.path);
    }
    for o in &manifest.objects {
        check_path(&o.path);
        let _ = object_path(&o.hash);
    }
});
