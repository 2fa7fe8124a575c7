//! Object readers: `Step::decode`, `Tree::decode`, `Blame::decode`, `EvalObject::decode`
//! and `sniff_kind` on the same bytes.
//!
//! Properties: never panics; an object that decodes re-encodes to canonical bytes that
//! decode to the same value, encoding is a fixed point, and the canonical bytes sniff
//! as their kind; a sniffed kind matches the top-level `type`.
#![no_main]

use agit_core::object::{Blame, EvalObject, ObjectKind, Step, Tree, sniff_kind, top_level_type};
use libfuzzer_sys::fuzz_target;

macro_rules! round_trip {
    ($ty:ty, $kind:expr, $data:expr) => {
        if let Ok(value) = <$ty>::decode($data) {
            let canonical = value.encode();
            let again = <$ty>::decode(&canonical).expect("canonical bytes decode");
            assert_eq!(again, value, "{} round trip changed the object", $kind);
            assert_eq!(again.encode(), canonical, "{} encoding is not canonical", $kind);
            assert_eq!(sniff_kind(&canonical), $kind, "canonical {} sniffs as another kind", $kind);
        }
    };
}

fuzz_target!(|data: &[u8]| {
    round_trip!(Step, ObjectKind::Step, data);
    round_trip!(Tree, ObjectKind::Tree, data);
    round_trip!(Blame, ObjectKind::Blame, data);
    round_trip!(EvalObject, ObjectKind::Eval, data);
    let kind = sniff_kind(data);
    if kind != ObjectKind::Blob {
        assert_eq!(top_level_type(data).as_deref(), Some(kind.as_str()));
    }
});
