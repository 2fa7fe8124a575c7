//! Pack indexes (`AGITIX2`): `parse_idx_bytes`, as is and with its checksum made to
//! match (`agit_fuzz::pack_fixup::fix_idx`) so the fuzzer reaches the layout checks.
//!
//! Properties of an accepted index: re-encoding the parsed entries from the documented
//! layout gives back the exact input bytes (nothing is accepted that has another
//! canonical form), ids ascend strictly, and every delta record names another entry at
//! depth - 1 and an earlier offset.
#![no_main]

use std::collections::HashMap;

use agit_core::ObjectKind;
use agit_core::store::pack::{PackEncoding, ParsedIdx, parse_idx_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut fixed = data.to_vec();
    agit_fuzz::pack_fixup::fix_idx(&mut fixed);
    if fixed != data {
        check(&fixed);
    }
});

fn check(bytes: &[u8]) {
    let Ok(idx) = parse_idx_bytes(bytes) else { return };
    assert!(idx.entries.windows(2).all(|w| w[0].id < w[1].id), "ids not strictly ascending");
    let by_id: HashMap<_, _> = idx.entries.iter().map(|e| (e.id, e)).collect();
    for e in &idx.entries {
        match e.base {
            Some(base) => {
                assert_eq!(e.encoding, PackEncoding::ZstdDelta);
                let b = by_id.get(&base).expect("base is listed");
                assert_eq!(b.depth + 1, e.depth);
                assert!(b.offset < e.offset);
            }
            None => {
                assert_ne!(e.encoding, PackEncoding::ZstdDelta);
                assert_eq!(e.depth, 0);
            }
        }
    }
    assert_eq!(encode(&idx), bytes, "accepted index is not in canonical form");
}

/// The documented `AGITIX2` layout (module docs of `agit_core::store::pack`).
fn encode(idx: &ParsedIdx) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"AGITIX2\n");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&idx.pack_checksum);
    let mut fanout = [0u32; 256];
    for e in &idx.entries {
        for slot in &mut fanout[usize::from(e.id.as_bytes()[0])..] {
            *slot += 1;
        }
    }
    for n in fanout {
        out.extend_from_slice(&n.to_le_bytes());
    }
    for e in &idx.entries {
        out.extend_from_slice(e.id.as_bytes());
    }
    let pos: HashMap<_, _> = idx.entries.iter().enumerate().map(|(i, e)| (e.id, i as u32)).collect();
    for e in &idx.entries {
        out.extend_from_slice(&e.offset.to_le_bytes());
        out.extend_from_slice(&(e.packed_len as u32).to_le_bytes());
        out.extend_from_slice(&(e.unpacked_len as u32).to_le_bytes());
        out.push(match e.kind {
            ObjectKind::Blob => 1,
            ObjectKind::Tree => 2,
            ObjectKind::Step => 3,
            ObjectKind::Blame => 4,
            ObjectKind::Eval => 5,
        });
        out.push(match e.encoding {
            PackEncoding::Stored => 0,
            PackEncoding::Zstd => 1,
            PackEncoding::ZstdDelta => 2,
            PackEncoding::ZstdDict => 3,
            other => panic!("AGITPK1 encoding {other:?} in an index"),
        });
        out.extend_from_slice(&e.depth.to_le_bytes());
        let base = e.base.map_or(u32::MAX, |b| pos[&b]);
        out.extend_from_slice(&base.to_le_bytes());
    }
    let sum = blake3::hash(&out);
    out.extend_from_slice(sum.as_bytes());
    out
}
