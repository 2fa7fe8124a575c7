//! `manifest.json` of an `agit-bundle-v1` bundle (reference `remote.md` §6.2).
//!
//! Written as compact JSON with the reference's field order and every null emitted, so
//! the reference reads our bundles and we read its. Parsed strictly, as the reference
//! does: an unknown or duplicate field is an error (`UnknownField`, `DuplicateField`);
//! only `repository_hint`, `object_schema_versions` and `encryption` may be absent.

use serde::{Deserialize, Serialize};

use agit_core::ObjectId;

use super::error::BundleError;

/// The only bundle format.
pub const BUNDLE_FORMAT: &str = "agit-bundle-v1";
/// The manifest's file name (written last).
pub const MANIFEST_FILE: &str = "manifest.json";
/// The privacy report's file name.
pub const PRIVACY_REPORT_FILE: &str = "privacy-report.json";

/// The whole manifest, fields in wire order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`BUNDLE_FORMAT`].
    pub bundle_format: String,
    /// 64 lowercase hex: see [`bundle_id`].
    pub bundle_id: String,
    /// The producing agit's version.
    pub producer_version: String,
    /// Wall-clock milliseconds at export.
    pub created_at_ms: i64,
    /// The basename of the exported workspace, when it has one.
    #[serde(default)]
    pub repository_hint: Option<String>,
    /// The raw export filters.
    pub filters: Filters,
    /// Object schema versions (`{"tree":1,"step":1,"blame":1}`).
    #[serde(default)]
    pub object_schema_versions: Option<SchemaVersions>,
    /// Session refs, sorted by path.
    pub refs: Vec<ManifestRef>,
    /// Objects, sorted by hash.
    pub objects: Vec<ManifestObject>,
    /// The export's privacy scan summary.
    pub privacy: ManifestPrivacy,
    /// Always null; import rejects anything else (even `{}`).
    #[serde(default)]
    pub encryption: Option<serde_json::Value>,
}

/// The export filters as given on the command line (`session` is `origin/session-id`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    pub origin: Option<String>,
    pub session: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// Versions of the object encodings a bundle carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaVersions {
    pub tree: u32,
    pub step: u32,
    pub blame: u32,
}

impl SchemaVersions {
    /// What this agit writes.
    pub const CURRENT: SchemaVersions = SchemaVersions { tree: 1, step: 1, blame: 1 };
}

/// One session ref.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestRef {
    /// `refs/sessions/<hex origin>/<hex session_id>`.
    pub path: String,
    pub origin: String,
    pub session_id: String,
    /// The session's head step (64 hex).
    pub head_hash: String,
}

/// One object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestObject {
    /// 64 lowercase hex.
    pub hash: String,
    /// `blob`, `tree`, `step`, `blame` or `eval`, by the reference's content rule.
    pub kind: String,
    /// Byte length.
    pub size: u64,
    /// `objects/<hash[0..2]>/<hash[2..]>`.
    pub path: String,
}

/// The privacy summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestPrivacy {
    /// Whether the scan found nothing.
    pub clean: bool,
    /// How many findings there were.
    pub findings: u64,
    /// [`PRIVACY_REPORT_FILE`] when the report is included, else null.
    pub report_path: Option<String>,
}

impl Manifest {
    /// Compact JSON, as written to `manifest.json`.
    pub fn to_json(&self) -> Vec<u8> {
        // Strings, integers, booleans and an optional JSON value: cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parse `manifest.json` strictly. A JSON error is named the way the reference names
    /// it (`UnknownField`, `MissingField`, `DuplicateField`, `SyntaxError`, …).
    pub fn parse(bytes: &[u8]) -> Result<Manifest, BundleError> {
        serde_json::from_slice(bytes)
            .map_err(|e| BundleError::invalid(json_error_name(&e), format!("manifest.json is invalid: {e}")))
    }
}

fn json_error_name(e: &serde_json::Error) -> &'static str {
    let text = e.to_string();
    if text.starts_with("unknown field") {
        "UnknownField"
    } else if text.starts_with("missing field") {
        "MissingField"
    } else if text.starts_with("duplicate field") {
        "DuplicateField"
    } else if e.is_eof() {
        "UnexpectedEndOfInput"
    } else if e.is_syntax() {
        "SyntaxError"
    } else {
        "UnexpectedToken"
    }
}

/// `objects/<hash[0..2]>/<hash[2..]>`.
pub fn object_path(hash: &str) -> String {
    match (hash.get(..2), hash.get(2..)) {
        (Some(shard), Some(rest)) => format!("objects/{shard}/{rest}"),
        _ => format!("objects/{hash}"),
    }
}

/// The bundle id rule: BLAKE3 of the decimal `created_at_ms`, then for each ref in path
/// order `path ‖ 0x00 ‖ head_hash ‖ "\n"`; 64 lowercase hex.
pub fn bundle_id(created_at_ms: i64, refs: &[ManifestRef]) -> String {
    let mut sorted: Vec<&ManifestRef> = refs.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut hasher = blake3::Hasher::new();
    hasher.update(created_at_ms.to_string().as_bytes());
    for r in sorted {
        hasher.update(r.path.as_bytes());
        hasher.update(&[0]);
        hasher.update(r.head_hash.as_bytes());
        hasher.update(b"\n");
    }
    ObjectId::from_bytes(*hasher.finalize().as_bytes()).to_hex()
}

/// A bundle-relative path is safe when it is non-empty, relative, has no empty, `.` or
/// `..` segment and no trailing `/` (reference `remote.md` §6.5 step 3). Backslashes and
/// NUL are refused too: they would mean something else on other systems.
pub fn is_safe_relative_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains(['\\', '\0'])
        && path.split('/').all(|segment| !segment.is_empty() && segment != "." && segment != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_paths() {
        for ok in ["manifest.json", "objects/ab/cdef", "refs/sessions/6f/73"] {
            assert!(is_safe_relative_path(ok), "{ok}");
        }
        for bad in ["", "/etc/passwd", "objects/../x", "./x", "a//b", "a/", "..", "a\\b", "a\0b"] {
            assert!(!is_safe_relative_path(bad), "{bad:?}");
        }
    }

    #[test]
    fn json_errors_are_named_like_the_reference() {
        let name = |text: &str| match Manifest::parse(text.as_bytes()) {
            Err(BundleError::Invalid { name, .. }) => name,
            other => panic!("{other:?}"),
        };
        assert_eq!(name("{"), "UnexpectedEndOfInput");
        assert_eq!(name("{\"bundle_format\":1}"), "UnexpectedToken");
        assert_eq!(name("{\"zzz\":1}"), "UnknownField");
        assert_eq!(name("{\"bundle_format\":\"x\"}"), "MissingField");
        assert_eq!(name("nope"), "SyntaxError");
    }
}
