//! Pack files, `AGITPK1` and `AGITPK2`, held in memory: `parse_pack_bytes`, which
//! verifies every entry (CRC, delta base and depth, zstd/splice decode, BLAKE3 id) and the
//! trailer.
//!
//! Each input is parsed twice: as is, and after `agit_fuzz::pack_fixup::fix_pack` made
//! its ids, CRCs and trailer consistent, so entries that decode also reach the hash
//! check, the decode cache and the delta entries built on them.
//!
//! Properties of an accepted pack: entries are in file order, inside the file and do not
//! overlap; a delta names an earlier entry (AGITPK2: at depth + 1) and nothing else names
//! a base; the unpacked total adds up; the name is the trailer checksum (AGITPK2) or 64
//! hex digits (AGITPK1, which has no eval kind); parsing is deterministic.
#![no_main]

use std::collections::HashMap;

use agit_core::ObjectKind;
use agit_core::store::pack::{PackFormat, parse_pack_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut fixed = data.to_vec();
    agit_fuzz::pack_fixup::fix_pack(&mut fixed);
    if fixed != data {
        check(&fixed);
    }
});

fn check(bytes: &[u8]) {
    let Ok(parsed) = parse_pack_bytes(bytes) else { return };
    let (header_len, file_header, end) = match parsed.format {
        PackFormat::V1 => (68u64, 12u64, bytes.len() as u64),
        PackFormat::V2 => (64, 16, bytes.len() as u64 - 40),
    };
    let mut at: HashMap<_, _> = HashMap::new();
    let mut next = file_header;
    for e in &parsed.entries {
        assert!(e.offset >= next, "entries overlap or are out of order");
        next = e.offset + header_len + e.packed_len;
        assert!(next <= end, "entry past the end of the entries");
        if e.encoding.is_delta() {
            let base = e.base.expect("a delta names its base");
            let base_depth = *at.get(&base).expect("delta base is an earlier entry");
            if parsed.format == PackFormat::V2 {
                assert_eq!(e.depth, base_depth + 1);
            }
        } else {
            assert!(e.base.is_none(), "a full entry names a base");
            if parsed.format == PackFormat::V2 {
                assert_eq!(e.depth, 0);
            }
        }
        if parsed.format == PackFormat::V1 {
            assert_ne!(e.kind, ObjectKind::Eval, "AGITPK1 has no eval objects");
        }
        at.entry(e.id).or_insert(e.depth);
    }
    if !parsed.entries.is_empty() {
        assert_eq!(next, end, "bytes between the last entry and the end");
    }
    assert_eq!(parsed.unpacked_bytes, parsed.entries.iter().map(|e| e.unpacked_len).sum::<u64>());
    match parsed.checksum {
        Some(sum) => {
            assert_eq!(parsed.format, PackFormat::V2);
            assert_eq!(parsed.name, hex::encode(sum));
            assert_eq!(&bytes[bytes.len() - 32..], &sum);
        }
        None => {
            assert_eq!(parsed.format, PackFormat::V1);
            assert!(parsed.name.len() == 64 && parsed.name.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }
    let again = parse_pack_bytes(bytes).expect("parse is deterministic");
    assert_eq!(again.entries, parsed.entries);
}
