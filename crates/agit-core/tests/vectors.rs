//! The independently computed vectors in `shared/spec/vectors/` must round-trip byte for
//! byte: object ids, tree/step encodings, ref paths and contents, staging keys, and the
//! objects of the sample bundle.

use std::path::PathBuf;

use agit_core::ObjectId;
use agit_core::object::{ObjectKind, Step, Tree, sniff_kind};
use agit_core::store::SessionRef;
use agit_core::store::refs::{parse_ref_content, ref_content};
use agit_core::store::staging::staging_key;
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/vectors")
}

fn vectors() -> Value {
    let path = vectors_dir().join("vectors.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("vectors.json parses")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("missing string {key} in {v}"))
}

/// Decode then re-encode must reproduce the exact bytes (so any codec change fails here).
fn assert_round_trip(kind: ObjectKind, bytes: &[u8]) {
    let again = match kind {
        ObjectKind::Tree => Tree::decode(bytes).expect("tree decodes").encode(),
        ObjectKind::Step => Step::decode(bytes).expect("step decodes").encode(),
        other => panic!("unexpected structured kind {other}"),
    };
    assert_eq!(String::from_utf8_lossy(&again), String::from_utf8_lossy(bytes));
}

#[test]
fn objects_hash_and_round_trip() {
    let v = vectors();
    let objects = v["objects"].as_array().expect("objects array");
    assert!(objects.len() >= 10);
    for object in objects {
        let kind = ObjectKind::parse(s(object, "kind")).expect("known kind");
        let bytes = match kind {
            ObjectKind::Blob => hex::decode(s(object, "bytes_hex")).expect("hex"),
            _ => s(object, "json").as_bytes().to_vec(),
        };
        assert_eq!(ObjectId::of(&bytes).to_hex(), s(object, "hash"), "id of {object}");
        assert_eq!(sniff_kind(&bytes), kind, "sniffed kind of {}", s(object, "hash"));
        if kind != ObjectKind::Blob {
            assert_round_trip(kind, &bytes);
        }
    }
}

#[test]
fn refs_paths_and_contents() {
    let v = vectors();
    for r in v["refs"].as_array().expect("refs array") {
        let session = SessionRef::new(s(r, "origin"), s(r, "session_id"));
        assert_eq!(session.relative_path(), s(r, "path"));
        if let Some(content) = r["content"].as_str() {
            let head = ObjectId::parse(s(r, "head")).expect("head id");
            assert_eq!(ref_content(&head), content);
            assert_eq!(parse_ref_content(content.as_bytes()), Some(head));
        }
    }
}

#[test]
fn staging_keys() {
    let v = vectors();
    for k in v["staging_keys"].as_array().expect("staging_keys array") {
        assert_eq!(staging_key(s(k, "origin"), s(k, "session_id"), s(k, "turn_id")), s(k, "key"));
    }
}

#[test]
fn sample_bundle_objects_are_valid_and_round_trip() {
    let v = vectors();
    let dir = vectors_dir().join(s(&v["bundle"], "dir"));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest")).expect("json");
    let entries = manifest["objects"].as_array().expect("objects");
    assert!(!entries.is_empty());
    for entry in entries {
        let bytes = std::fs::read(dir.join(s(entry, "path"))).expect("object file");
        assert_eq!(ObjectId::of(&bytes).to_hex(), s(entry, "hash"));
        let kind = ObjectKind::parse(s(entry, "kind")).expect("kind");
        assert_eq!(sniff_kind(&bytes), kind);
        assert_eq!(bytes.len() as u64, entry["size"].as_u64().expect("size"));
        if kind != ObjectKind::Blob {
            assert_round_trip(kind, &bytes);
        }
    }
    // The chain the vectors describe: head → parent, in the listed order.
    let steps: Vec<&str> = v["bundle"]["steps"].as_array().expect("steps").iter().filter_map(Value::as_str).collect();
    let head = std::fs::read(dir.join(format!("objects/{}/{}", &steps[1][..2], &steps[1][2..]))).expect("head");
    let head = Step::decode(&head).expect("head step");
    assert_eq!(head.parent.map(|p| p.to_hex()).as_deref(), Some(steps[0]));
}

#[test]
fn any_changed_byte_changes_the_id() {
    let v = vectors();
    let step = v["objects"].as_array().expect("objects").iter().find(|o| o["kind"] == "step").expect("a step");
    let bytes = s(step, "json").as_bytes().to_vec();
    for i in 0..bytes.len() {
        let mut changed = bytes.clone();
        changed[i] ^= 0x01;
        assert_ne!(ObjectId::of(&changed).to_hex(), s(step, "hash"));
    }
}
