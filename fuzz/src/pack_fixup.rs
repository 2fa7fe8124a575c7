//! Repair the checksums of a fuzzed pack so the fuzzer gets past them.
//!
//! A mutated pack almost never passes its entry CRCs, ids (BLAKE3 of the unpacked bytes)
//! or trailer checksum, so raw fuzzing stops at the first check. An attacker can compute
//! all three, so the code behind them must be fuzzed too: [`fix_pack`] walks the entries
//! the way the format documents them (`agit_core::store::pack` module docs), decodes
//! each payload on its own (zstd via `zstd_safe`, splices by hand), and rewrites ids,
//! CRCs, the trailer count and the trailer checksum to match. Anything it cannot follow
//! is left as it is, for the parser to reject.

use std::collections::HashMap;

use zstd::zstd_safe::{DCtx, DParameter};

const V1_MAGIC: &[u8; 8] = b"AGITPK1\n";
const V2_MAGIC: &[u8; 8] = b"AGITPK2\n";
const V1_HEADER: usize = 12;
const V1_ENTRY: usize = 68;
const V2_HEADER: usize = 16;
const V2_ENTRY: usize = 64;
const V2_TRAILER: usize = 40;
/// Largest object the fixer decodes (keeps each run fast; the reader allows 1 GiB).
const MAX_DECODE: usize = 1 << 22;

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

/// Rewrite checksums in place (see the module docs). Returns the number of entries whose
/// id was set from independently decoded bytes.
pub fn fix_pack(pack: &mut [u8]) -> usize {
    if pack.starts_with(V1_MAGIC) {
        fix_v1(pack)
    } else if pack.starts_with(V2_MAGIC) {
        fix_v2(pack)
    } else {
        0
    }
}

/// Decode one zstd frame (at most [`MAX_DECODE`] bytes) against a prefix or dictionary.
fn zstd_decode(payload: &[u8], prefix: Option<&[u8]>, dict: Option<&[u8]>) -> Option<Vec<u8>> {
    let mut dctx = DCtx::try_create()?;
    dctx.set_parameter(DParameter::WindowLogMax(27)).ok()?;
    if let Some(dict) = dict {
        dctx.load_dictionary(dict).ok()?;
    }
    if let Some(prefix) = prefix {
        dctx.ref_prefix(prefix).ok()?;
    }
    // The reader requires frames to state their size, so the fixer may too.
    let size = zstd::zstd_safe::get_frame_content_size(payload).ok()??;
    let mut out = Vec::with_capacity(usize::try_from(size).ok().filter(|n| *n <= MAX_DECODE)?);
    dctx.decompress(&mut out, payload).ok()?;
    Some(out)
}

/// The reference's splice: `u64 prefix, u64 suffix, u64 len, replacement`.
fn splice(base: &[u8], payload: &[u8]) -> Option<Vec<u8>> {
    let prefix = usize::try_from(u64_at(payload, 0)?).ok()?;
    let suffix = usize::try_from(u64_at(payload, 8)?).ok()?;
    let replacement = payload.get(24..)?;
    let head = base.get(..prefix)?;
    let tail = base.get(base.len().checked_sub(suffix)?..)?;
    if prefix.checked_add(suffix)? > base.len() {
        return None;
    }
    Some([head, replacement, tail].concat())
}

fn fix_v2(pack: &mut [u8]) -> usize {
    let Some(entries_end) = pack.len().checked_sub(V2_TRAILER).filter(|end| *end >= V2_HEADER) else { return 0 };
    let flags = u32_at(pack, 12).unwrap_or(0);
    let (entries_start, dict) = if flags & 1 != 0 {
        let Some(len) = u32_at(pack, V2_HEADER) else { return 0 };
        let start = V2_HEADER + 4 + len as usize;
        if start > entries_end {
            return 0;
        }
        (start, pack.get(V2_HEADER + 4..start).map(<[u8]>::to_vec))
    } else {
        (V2_HEADER, None)
    };
    let mut decoded: HashMap<u64, Vec<u8>> = HashMap::new();
    let mut fixed = 0;
    let mut count = 0u64;
    let mut offset = entries_start;
    while offset + V2_ENTRY <= entries_end {
        let (Some(packed), Some(base)) = (u64_at(pack, offset + 48), u64_at(pack, offset + 56)) else { break };
        let payload_start = offset + V2_ENTRY;
        let Some(end) = usize::try_from(packed).ok().and_then(|p| payload_start.checked_add(p)) else { break };
        if end > entries_end {
            break;
        }
        let payload = &pack[payload_start..end];
        let bytes = match pack[offset + 33] {
            0 => Some(payload.to_vec()),
            1 => zstd_decode(payload, None, None),
            2 => decoded.get(&base).and_then(|b| zstd_decode(payload, Some(b), None)),
            3 => dict.as_deref().and_then(|d| zstd_decode(payload, None, Some(d))),
            _ => None,
        };
        if let Some(bytes) = bytes {
            pack[offset..offset + 32].copy_from_slice(blake3::hash(&bytes).as_bytes());
            pack[offset + 40..offset + 48].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
            decoded.insert(offset as u64, bytes);
            fixed += 1;
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(&pack[offset..offset + 36]);
        crc.update(&pack[offset + 40..end]);
        let crc = crc.finalize();
        pack[offset + 36..offset + 40].copy_from_slice(&crc.to_le_bytes());
        count += 1;
        offset = end;
    }
    pack[entries_end..entries_end + 8].copy_from_slice(&count.to_le_bytes());
    let sum = blake3::hash(&pack[..entries_end + 8]);
    pack[entries_end + 8..].copy_from_slice(sum.as_bytes());
    fixed
}

fn fix_v1(pack: &mut [u8]) -> usize {
    let mut decoded: HashMap<u64, Vec<u8>> = HashMap::new();
    let mut fixed = 0;
    let mut offset = V1_HEADER;
    while offset + V1_ENTRY <= pack.len() {
        let (Some(packed), Some(base)) = (u64_at(pack, offset + 44), u64_at(pack, offset + 52)) else { break };
        let payload_start = offset + V1_ENTRY;
        let Some(end) = usize::try_from(packed).ok().and_then(|p| payload_start.checked_add(p)) else { break };
        if end > pack.len() {
            break;
        }
        if pack[offset + 33] == 2 && end - payload_start >= 24 {
            // The replacement length is implied by the payload length.
            let replacement_len = (end - payload_start - 24) as u64;
            pack[payload_start + 16..payload_start + 24].copy_from_slice(&replacement_len.to_le_bytes());
        }
        let payload = &pack[payload_start..end];
        let bytes = match pack[offset + 33] {
            1 => Some(payload.to_vec()),
            2 => decoded.get(&base).and_then(|b| splice(b, payload)),
            _ => None,
        };
        if let Some(bytes) = bytes {
            pack[offset..offset + 32].copy_from_slice(blake3::hash(&bytes).as_bytes());
            pack[offset + 36..offset + 44].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
            pack[offset + 60..offset + 64].copy_from_slice(&crc32fast::hash(&bytes).to_le_bytes());
            decoded.insert(offset as u64, bytes);
            fixed += 1;
        }
        offset = end;
    }
    fixed
}

/// Make an `AGITIX2` index's trailing BLAKE3 checksum match its body.
pub fn fix_idx(idx: &mut [u8]) {
    if let Some(body_len) = idx.len().checked_sub(32) {
        let sum = blake3::hash(&idx[..body_len]);
        idx[body_len..].copy_from_slice(sum.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agit_core::store::pack::parse_pack_bytes;

    const SEEDS: [&[u8]; 3] = [
        include_bytes!("../seeds/pack/v1.pack"),
        include_bytes!("../seeds/pack/v2.pack"),
        include_bytes!("../seeds/pack/v2_dict.pack"),
    ];

    #[test]
    fn fixing_a_valid_pack_changes_nothing() {
        // Every encoding the seeds hold (splice, zstd, zstd delta, dictionary, stored) is
        // decoded by the fixer exactly as the reader does.
        for seed in SEEDS {
            let entries = parse_pack_bytes(seed).unwrap().entries.len();
            let mut copy = seed.to_vec();
            assert_eq!(fix_pack(&mut copy), entries);
            assert_eq!(copy, seed);
        }
        let idx = include_bytes!("../seeds/pack_idx/v2.idx");
        let mut copy = idx.to_vec();
        fix_idx(&mut copy);
        assert_eq!(copy, idx);
    }

    #[test]
    fn a_changed_payload_parses_again_once_fixed() {
        for seed in SEEDS {
            let parsed = parse_pack_bytes(seed).unwrap();
            let header = if seed.starts_with(V1_MAGIC) { V1_ENTRY } else { V2_ENTRY };
            // The first full (raw) entry: change one byte of its content.
            let full = parsed.entries.iter().find(|e| e.packed_len == e.unpacked_len && e.base.is_none()).unwrap();
            let mut damaged = seed.to_vec();
            damaged[full.offset as usize + header] ^= 0x20;
            assert!(parse_pack_bytes(&damaged).is_err());
            fix_pack(&mut damaged);
            let fixed = parse_pack_bytes(&damaged).unwrap();
            assert_eq!(fixed.entries.len(), parsed.entries.len());
            assert_ne!(
                fixed.entries.iter().map(|e| e.id).collect::<Vec<_>>(),
                parsed.entries.iter().map(|e| e.id).collect::<Vec<_>>()
            );
        }
    }
}
