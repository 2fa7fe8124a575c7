//! Pack tests: round trips, deltas, depth cap, AGITPK1 compatibility, and every corrupt
//! case giving its typed error without panicking.

use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::test_support::{V1Object, build_v1_pack};
use super::*;
use crate::error::Error;

fn input(kind: ObjectKind, bytes: &[u8], hint: Option<ObjectId>) -> PackInput {
    PackInput { id: ObjectId::of(bytes), kind, bytes: bytes.to_vec(), delta_base_hint: hint }
}

fn opts(level: i32, max_depth: u16) -> PackOptions {
    PackOptions { level, max_depth, ..PackOptions::default() }
}

fn pack_error(err: &Error) -> &PackError {
    match err {
        Error::Pack { source, .. } => source,
        other => panic!("expected a pack error, got {other:?}"),
    }
}

/// Replace a (read-only) file's contents.
fn overwrite(path: &Path, bytes: &[u8]) {
    fs::remove_file(path).unwrap();
    fs::write(path, bytes).unwrap();
}

/// 20,000 distinct lines; `changed` replaces one line.
fn big_text(changed: Option<usize>) -> Vec<u8> {
    let mut out = String::new();
    for i in 0..20_000 {
        if Some(i) == changed {
            out.push_str("this line was edited by the agent\n");
        } else {
            out.push_str(&format!(
                "{i:05}: fn step_{i}(x: u64) -> u64 {{ x.wrapping_mul({}) ^ {} }}\n",
                i * 31 + 7,
                i % 97
            ));
        }
    }
    out.into_bytes()
}

/// Patch the header of the AGITPK2 entry at `offset` and fix its entry CRC, so only the
/// check under test fails (the trailer is left stale: lookups never read it).
fn patch_entry(pack: &mut [u8], offset: usize, f: impl FnOnce(&mut [u8; 64])) {
    let mut h: [u8; 64] = pack[offset..offset + 64].try_into().unwrap();
    let payload_len = u64::from_le_bytes(h[48..56].try_into().unwrap()) as usize;
    f(&mut h);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&h[..36]);
    crc.update(&h[40..]);
    crc.update(&pack[offset + 64..offset + 64 + payload_len]);
    h[36..40].copy_from_slice(&crc.finalize().to_le_bytes());
    pack[offset..offset + 64].copy_from_slice(&h);
}

struct Written {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    info: PackInfo,
}

fn write(objects: Vec<PackInput>, options: &PackOptions) -> Written {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pack");
    let info = write_pack_with(&dir, objects, options).unwrap();
    Written { _dir: tmp, dir, info }
}

fn versions(n: usize) -> Vec<Vec<u8>> {
    let mut text = big_text(None);
    text.truncate(40_000);
    (0..n)
        .map(|i| {
            let mut v = text.clone();
            v.extend_from_slice(format!("version {i}\n").as_bytes());
            text = v.clone();
            v
        })
        .collect()
}

#[test]
fn similar_blobs_pack_much_smaller_than_either() {
    let a = big_text(None);
    let b = big_text(Some(12_345));
    let w = write(
        vec![input(ObjectKind::Blob, &a, None), input(ObjectKind::Blob, &b, Some(ObjectId::of(&a)))],
        &PackOptions::default(),
    );
    let delta = &w.info.entries[1];
    eprintln!(
        "20,000-line blobs: a = {} B, b = {} B; pack = {} B (a as zstd: {} B, b as delta: {} B), idx = {} B",
        a.len(),
        b.len(),
        w.info.pack_len,
        w.info.entries[0].packed_len,
        delta.packed_len,
        w.info.idx_len
    );
    assert_eq!(delta.encoding, PackEncoding::ZstdDelta);
    assert_eq!(delta.base, Some(ObjectId::of(&a)));
    assert!(delta.packed_len < 400, "delta is {} bytes", delta.packed_len);
    assert!(w.info.pack_len * 4 < a.len().min(b.len()) as u64);
    let set = PackSet::open(&w.dir).unwrap();
    assert_eq!(set.get(&ObjectId::of(&a)).unwrap().unwrap(), (ObjectKind::Blob, a.clone()));
    assert_eq!(set.get(&ObjectId::of(&b)).unwrap().unwrap(), (ObjectKind::Blob, b.clone()));
    let report = verify_pack(&w.info.path).unwrap();
    assert_eq!((report.entries, report.deltas, report.max_depth), (2, 1, 1));
    assert!(report.idx_present && report.name_matches);
}

#[test]
fn depth_cap_is_honoured_and_rebases_on_an_ancestor() {
    let vs = versions(30);
    let inputs = |vs: &[Vec<u8>]| -> Vec<PackInput> {
        vs.iter()
            .enumerate()
            .map(|(i, v)| input(ObjectKind::Blob, v, i.checked_sub(1).map(|p| ObjectId::of(&vs[p]))))
            .collect()
    };
    let w = write(inputs(&vs), &opts(3, 3));
    let depths: Vec<u16> = w.info.entries.iter().map(|e| e.depth).collect();
    assert!(depths.iter().all(|d| *d <= 3), "{depths:?}");
    assert_eq!(depths.iter().filter(|d| **d == 0).count(), 1, "only the first is full: {depths:?}");
    // Skip-deltas: version n's base is n - lowbit(n), so depth = popcount(n) ...
    assert_eq!(&depths[..8], &[0, 1, 1, 2, 1, 2, 2, 3]);
    // ... until the cap: 15 (popcount 4) uses 14's base (12) instead.
    assert_eq!(w.info.entries[15].base, Some(w.info.entries[12].id));
    let set = PackSet::open(&w.dir).unwrap();
    for v in &vs {
        assert_eq!(set.get(&ObjectId::of(v)).unwrap().unwrap().1, *v);
    }
    assert_eq!(verify_pack(&w.info.path).unwrap().max_depth, 3);

    let none = write(inputs(&vs), &opts(3, 0));
    assert!(none.info.entries.iter().all(|e| e.depth == 0 && !e.encoding.is_delta()));
    assert!(none.info.pack_len > w.info.pack_len);

    // Options above the reader's limit are clamped to it.
    let deep = write(inputs(&versions(70)), &opts(1, u16::MAX));
    assert!(deep.info.entries.iter().all(|e| e.depth <= MAX_CHAIN_DEPTH));
    assert_eq!(deep.info.entries.iter().map(|e| e.depth).max(), Some(6), "log2 depth for 70 versions");
    let set = PackSet::open(&deep.dir).unwrap();
    let last = deep.info.entries.last().unwrap();
    assert_eq!(set.get(&last.id).unwrap().unwrap().1.len() as u64, last.unpacked_len);
}

#[test]
fn evicted_bases_are_rebuilt_from_the_pack_being_written() {
    let vs = versions(12);
    let inputs: Vec<PackInput> = vs
        .iter()
        .enumerate()
        .map(|(i, v)| input(ObjectKind::Tree, v, i.checked_sub(1).map(|p| ObjectId::of(&vs[p]))))
        .collect();
    let cached = write(inputs.clone(), &opts(3, 8));
    let uncached = write(inputs, &PackOptions { base_cache_bytes: 0, ..opts(3, 8) });
    assert_eq!(cached.info.name, uncached.info.name, "same bytes either way");
    assert_eq!(fs::read(&cached.info.path).unwrap(), fs::read(&uncached.info.path).unwrap());
}

#[test]
fn writer_skips_duplicates_rejects_bad_ids_and_is_idempotent() {
    let tmp = tempfile::tempdir().unwrap();
    let objects = || {
        vec![
            input(ObjectKind::Eval, br#"{"type":"eval"}"#, None),
            input(ObjectKind::Blob, b"", None),
            input(ObjectKind::Blob, b"", None),
            input(ObjectKind::Step, &[0xffu8; 3000], None),
        ]
    };
    let first = write_pack_with(tmp.path(), objects(), &opts(3, 8)).unwrap();
    assert_eq!(first.entries.len(), 3);
    assert!(!first.already_existed);
    assert_eq!(first.entries[1].encoding, PackEncoding::Stored);
    assert_eq!(first.entries[2].encoding, PackEncoding::Zstd);
    let again = write_pack_with(tmp.path(), objects(), &opts(3, 8)).unwrap();
    assert_eq!(again.name, first.name);
    assert!(again.already_existed);
    let set = PackSet::open(tmp.path()).unwrap();
    assert_eq!(set.get(&ObjectId::of(br#"{"type":"eval"}"#)).unwrap().unwrap().0, ObjectKind::Eval);
    assert_eq!(set.get(&ObjectId::of(b"")).unwrap().unwrap(), (ObjectKind::Blob, Vec::new()));
    let names: Vec<_> = fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "pack + idx, no temp files: {names:?}");

    let bad = PackInput { id: ObjectId::of(b"x"), kind: ObjectKind::Blob, bytes: b"y".to_vec(), delta_base_hint: None };
    let err = write_pack(tmp.path(), vec![bad]).unwrap_err();
    assert!(matches!(pack_error(&err), PackError::InvalidPackInput { .. }));
    assert_eq!(err.code(), "pack_write_failed");

    let empty = write_pack(&tmp.path().join("empty"), Vec::new()).unwrap();
    assert!(empty.entries.is_empty());
    assert_eq!(verify_pack(&empty.path).unwrap().entries, 0);
}

#[test]
fn hints_to_later_or_unknown_objects_are_ignored() {
    let a = big_text(None);
    let b = big_text(Some(3));
    let w = write(
        vec![input(ObjectKind::Blob, &a, Some(ObjectId::of(&b))), input(ObjectKind::Blob, &b, Some(ObjectId::of(&b)))],
        &opts(3, 8),
    );
    assert!(w.info.entries.iter().all(|e| e.base.is_none()));
}

#[test]
fn prefix_lookup_spans_packs_and_validates_the_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for batch in 0..3 {
        let objects: Vec<PackInput> =
            (0..300).map(|i| input(ObjectKind::Blob, format!("object {batch} {i}").as_bytes(), None)).collect();
        all.extend(objects.iter().map(|o| o.id));
        write_pack_with(tmp.path(), objects, &opts(1, 0)).unwrap();
    }
    // A fourth pack has no idx: it is scanned at open.
    let scanned = write_pack_with(tmp.path(), vec![input(ObjectKind::Blob, b"scanned", None)], &opts(1, 0)).unwrap();
    fs::remove_file(&scanned.idx_path).unwrap();
    all.push(ObjectId::of(b"scanned"));
    all.sort();
    let set = PackSet::open(tmp.path()).unwrap();
    assert!(set.broken().is_empty());
    for prefix in ["0", "a", "f", "7c", "00", "abc", "fff", "123"] {
        let expected: Vec<_> = all.iter().copied().filter(|id| id.to_hex().starts_with(prefix)).collect();
        assert_eq!(set.ids_with_prefix(prefix).unwrap(), expected, "prefix {prefix}");
        assert_eq!(set.ids_with_prefix(&prefix.to_uppercase()).unwrap(), expected);
    }
    for id in &all {
        let hex = id.to_hex();
        assert_eq!(set.ids_with_prefix(&hex).unwrap(), vec![*id]);
        assert_eq!(set.ids_with_prefix(&hex[..9]).unwrap(), vec![*id]);
        assert!(set.contains(id).unwrap());
    }
    assert!(set.ids_with_prefix_limited("a", 1).unwrap().len() <= 4, "at most one per pack");
    assert!(set.ids_with_prefix(&"0".repeat(64)).unwrap().is_empty());
    for bad in ["", "xyz", &"a".repeat(65)] {
        assert_eq!(set.ids_with_prefix(bad).unwrap_err().code(), "object_lookup_failed");
    }
    assert!(!set.contains(&ObjectId::of(b"absent")).unwrap());
    assert_eq!(set.get(&ObjectId::of(b"absent")).unwrap(), None);
    let listed: Vec<ObjectId> = set.iter().map(|r| r.unwrap().entry.id).collect();
    assert_eq!(listed.len(), all.len());
    let located = set.locate(&ObjectId::of(b"scanned")).unwrap().unwrap();
    assert_eq!(&*located.pack, scanned.name);
    assert!(!verify_pack(&scanned.path).unwrap().idx_present);
}

// ---- corrupt AGITPK2 packs and indexes -------------------------------------------------

/// A pack with a zstd entry, a stored entry and a delta, on disk.
fn sample() -> (Written, Vec<Vec<u8>>) {
    let a = big_text(None);
    let b = big_text(Some(7));
    let tiny = b"x".to_vec();
    let objects = vec![a.clone(), tiny.clone(), b.clone()];
    let w = write(
        vec![
            input(ObjectKind::Blob, &a, None),
            input(ObjectKind::Blob, &tiny, None),
            input(ObjectKind::Blob, &b, Some(ObjectId::of(&a))),
        ],
        &opts(3, 8),
    );
    let encodings: Vec<_> = w.info.entries.iter().map(|e| e.encoding).collect();
    assert_eq!(encodings, [PackEncoding::Zstd, PackEncoding::Stored, PackEncoding::ZstdDelta]);
    (w, objects)
}

fn get_err(dir: &Path, id: &ObjectId) -> Error {
    PackSet::open(dir).unwrap().get(id).unwrap_err()
}

#[test]
fn flipped_payload_byte_is_a_crc_mismatch() {
    let (w, objects) = sample();
    let mut bytes = fs::read(&w.info.path).unwrap();
    let e = &w.info.entries[0];
    bytes[(e.offset + 64 + e.packed_len / 2) as usize] ^= 0x10;
    overwrite(&w.info.path, &bytes);
    let err = get_err(&w.dir, &ObjectId::of(&objects[0]));
    assert!(matches!(pack_error(&err), PackError::PackCrcMismatch { .. }), "{err}");
    assert_eq!(err.code(), "pack_read_failed");
    // The delta's base is damaged too; the unrelated entry still reads.
    assert!(PackSet::open(&w.dir).unwrap().get(&ObjectId::of(&objects[2])).is_err());
    assert!(PackSet::open(&w.dir).unwrap().get(&ObjectId::of(&objects[1])).unwrap().is_some());
    let err = verify_pack(&w.info.path).unwrap_err();
    assert!(matches!(pack_error(&err), PackError::PackCrcMismatch { .. }));
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::PackCrcMismatch { .. })));
}

#[test]
fn flipped_header_or_trailer_bytes_are_detected() {
    let (w, _) = sample();
    let pristine = fs::read(&w.info.path).unwrap();
    // Kind byte of the stored entry: caught by the entry CRC, not read as another kind.
    let mut bytes = pristine.clone();
    bytes[w.info.entries[1].offset as usize + 32] = 3;
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::PackCrcMismatch { .. })));
    // Id byte with a fixed-up CRC: the BLAKE3 check catches it.
    let mut bytes = pristine.clone();
    patch_entry(&mut bytes, w.info.entries[1].offset as usize, |h| h[0] ^= 1);
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::PackHashMismatch { .. })));
    // Trailer checksum.
    let mut bytes = pristine.clone();
    *bytes.last_mut().unwrap() ^= 1;
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::PackChecksumMismatch)));
    // Trailer count.
    let mut bytes = pristine.clone();
    let at = bytes.len() - 40;
    bytes[at] ^= 1;
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::InvalidPackFile { .. })));
    // Unknown flags and versions.
    let mut bytes = pristine.clone();
    bytes[12] = 1;
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::InvalidPackFile { .. })));
    let mut bytes = pristine.clone();
    bytes[8] = 3;
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::UnsupportedPackVersion { version: 3 })));
}

#[test]
fn flipped_idx_byte_is_detected_and_reads_stay_correct() {
    let (w, objects) = sample();
    let pristine = fs::read(&w.info.idx_path).unwrap();
    assert_eq!(pristine.len() as u64, 1104 + 56 * 3);
    for at in (0..pristine.len()).step_by(7) {
        let mut bytes = pristine.clone();
        bytes[at] ^= 0x04;
        assert!(matches!(parse_idx_bytes(&bytes), Err(PackError::InvalidPackIndex { .. })), "byte {at}");
        overwrite(&w.info.idx_path, &bytes);
        let err = verify_pack(&w.info.path).unwrap_err();
        assert!(matches!(pack_error(&err), PackError::InvalidPackIndex { .. }), "byte {at}: {err}");
        // Lookups never return wrong bytes: the right object, nothing, or a typed error.
        let set = PackSet::open(&w.dir).unwrap();
        for object in &objects {
            match set.get(&ObjectId::of(object)) {
                Ok(Some((_, got))) => assert_eq!(&got, object),
                Ok(None) => {}
                Err(e) => assert_eq!(e.code(), "pack_read_failed"),
            }
        }
    }
}

#[test]
fn idx_pointing_past_the_end_is_a_typed_error() {
    let (w, objects) = sample();
    let mut idx_bytes = fs::read(&w.info.idx_path).unwrap();
    let target = ObjectId::of(&objects[1]);
    let parsed = parse_idx_bytes(&idx_bytes).unwrap();
    let pos = parsed.entries.iter().position(|e| e.id == target).unwrap();
    let record = 1072 + 32 * 3 + 24 * pos;
    idx_bytes[record..record + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let body = idx_bytes.len() - 32;
    let sum = blake3::hash(&idx_bytes[..body]);
    idx_bytes[body..].copy_from_slice(sum.as_bytes());
    parse_idx_bytes(&idx_bytes).unwrap();
    overwrite(&w.info.idx_path, &idx_bytes);
    let err = get_err(&w.dir, &target);
    assert!(matches!(pack_error(&err), PackError::InvalidPackFile { .. }), "{err}");
    let err = verify_pack(&w.info.path).unwrap_err();
    assert!(matches!(pack_error(&err), PackError::InvalidPackIndex { .. }), "{err}");
}

#[test]
fn truncated_pack_and_idx() {
    let (w, objects) = sample();
    let pack = fs::read(&w.info.path).unwrap();
    let idx = fs::read(&w.info.idx_path).unwrap();
    // Every truncation of either file is a typed error, never a panic.
    for len in (0..pack.len()).step_by(97).chain([pack.len() - 1, pack.len() - 40]) {
        assert!(parse_pack_bytes(&pack[..len]).is_err(), "pack truncated to {len}");
    }
    for len in 0..idx.len() {
        assert!(matches!(parse_idx_bytes(&idx[..len]), Err(PackError::InvalidPackIndex { .. })));
    }

    // A truncated idx: the pack is scanned instead; verification reports the idx.
    overwrite(&w.info.idx_path, &idx[..idx.len() - 5]);
    let set = PackSet::open(&w.dir).unwrap();
    assert_eq!(set.get(&ObjectId::of(&objects[2])).unwrap().unwrap().1, objects[2]);
    let err = verify_pack(&w.info.path).unwrap_err();
    assert!(matches!(pack_error(&err), PackError::InvalidPackIndex { .. }));

    // A truncated pack (idx intact): it cannot be opened and is reported as broken.
    overwrite(&w.info.idx_path, &idx);
    overwrite(&w.info.path, &pack[..pack.len() - 100]);
    let set = PackSet::open(&w.dir).unwrap();
    assert_eq!(set.broken().len(), 1);
    assert!(matches!(pack_error(&set.broken()[0].error), PackError::InvalidPackFile { .. }));
    assert_eq!(set.get(&ObjectId::of(&objects[0])).unwrap(), None);
    let err = verify_pack(&w.info.path).unwrap_err();
    assert!(matches!(pack_error(&err), PackError::InvalidPackFile { .. }), "{err}");
}

#[test]
fn wrong_magic_is_invalid_pack_file() {
    let (w, _) = sample();
    let mut bytes = fs::read(&w.info.path).unwrap();
    bytes[..8].copy_from_slice(b"NOTAPACK");
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::InvalidPackFile { reason: "bad magic", .. })));
    overwrite(&w.info.path, &bytes);
    let set = PackSet::open(&w.dir).unwrap();
    assert_eq!(set.broken().len(), 1);
    assert_eq!(set.broken()[0].error.code(), "pack_read_failed");
    assert!(matches!(parse_pack_bytes(b""), Err(PackError::InvalidPackFile { .. })));
    assert!(matches!(parse_pack_bytes(b"AGITPK2\n"), Err(PackError::InvalidPackFile { .. })));
}

#[test]
fn delta_base_later_or_missing_is_invalid_delta() {
    let (w, objects) = sample();
    let pristine = fs::read(&w.info.path).unwrap();
    let delta_off = w.info.entries[2].offset as usize;
    let delta_id = ObjectId::of(&objects[2]);

    // Base at or after the delta itself.
    for base in [delta_off as u64, delta_off as u64 + 64] {
        let mut bytes = pristine.clone();
        patch_entry(&mut bytes, delta_off, |h| h[56..64].copy_from_slice(&base.to_le_bytes()));
        assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::InvalidPackDelta { .. })));
        overwrite(&w.info.path, &bytes);
        let err = get_err(&w.dir, &delta_id);
        assert!(matches!(pack_error(&err), PackError::InvalidPackDelta { .. }), "{err}");
    }
    // Base offset inside another entry (no entry starts there).
    let mut bytes = pristine.clone();
    patch_entry(&mut bytes, delta_off, |h| h[56..64].copy_from_slice(&20u64.to_le_bytes()));
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::InvalidPackDelta { .. })));
    overwrite(&w.info.path, &bytes);
    let err = get_err(&w.dir, &delta_id);
    assert!(
        matches!(pack_error(&err), PackError::InvalidPackDelta { .. } | PackError::PackCrcMismatch { .. }),
        "{err}"
    );
    // Base is a real earlier entry, but not the one the delta was made against.
    let mut bytes = pristine.clone();
    let other = w.info.entries[1].offset;
    patch_entry(&mut bytes, delta_off, |h| h[56..64].copy_from_slice(&other.to_le_bytes()));
    assert!(matches!(
        parse_pack_bytes(&bytes),
        Err(PackError::InvalidPackDelta { .. } | PackError::PackHashMismatch { .. })
    ));
    // A delta claiming to be full-encoded.
    let mut bytes = pristine.clone();
    patch_entry(&mut bytes, delta_off, |h| h[33] = 1);
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::InvalidPackFile { .. })));
    // Wrong depth.
    let mut bytes = pristine.clone();
    patch_entry(&mut bytes, delta_off, |h| h[34..36].copy_from_slice(&5u16.to_le_bytes()));
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::InvalidPackDelta { .. })));
}

#[test]
fn unpacked_len_lies_are_refused_before_allocating() {
    let (w, objects) = sample();
    let pristine = fs::read(&w.info.path).unwrap();
    for (index, lie) in [(0usize, 1u64), (0, 5), (1, 2), (2, 1), (0, MAX_OBJECT_LEN + 1), (2, u64::MAX)] {
        let e = &w.info.entries[index];
        let mut bytes = pristine.clone();
        let claimed = if lie > 100 { lie } else { e.unpacked_len + lie };
        patch_entry(&mut bytes, e.offset as usize, |h| h[40..48].copy_from_slice(&claimed.to_le_bytes()));
        let err = parse_pack_bytes(&bytes).unwrap_err();
        assert!(
            matches!(err, PackError::InvalidPackFile { .. } | PackError::InvalidPackDelta { .. }),
            "entry {index} claiming {claimed}: {err}"
        );
        overwrite(&w.info.path, &bytes);
        let err = get_err(&w.dir, &ObjectId::of(&objects[index]));
        assert_eq!(err.code(), "pack_read_failed");
    }
}

#[test]
fn hostile_delta_chains_are_bounded() {
    // AGITPK2: a depth above 64 is refused from the header alone.
    let vs = versions(70);
    let w = write(
        vs.iter()
            .enumerate()
            .map(|(i, v)| input(ObjectKind::Blob, v, i.checked_sub(1).map(|p| ObjectId::of(&vs[p]))))
            .collect(),
        &opts(1, 64),
    );
    let mut bytes = fs::read(&w.info.path).unwrap();
    let e = &w.info.entries[1];
    assert_eq!(e.depth, 1);
    patch_entry(&mut bytes, e.offset as usize, |h| h[34..36].copy_from_slice(&65u16.to_le_bytes()));
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::InvalidPackDelta { .. })));

    // AGITPK1 headers do not bound depth: a 70-link chain is cut at 64 by lookups and by
    // full verification alike.
    let spec: Vec<V1Object<'_>> = vs
        .iter()
        .enumerate()
        .map(|(i, v)| V1Object { kind: ObjectKind::Blob, bytes: v, base: i.checked_sub(1) })
        .collect();
    let (name, bytes) = build_v1_pack(&spec);
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::InvalidPackDelta { .. })));
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(format!("{name}.pack")), &bytes).unwrap();
    let set = PackSet::open(tmp.path()).unwrap();
    assert_eq!(set.get(&ObjectId::of(&vs[64])).unwrap().unwrap().1, vs[64]);
    let err = set.get(&ObjectId::of(&vs[69])).unwrap_err();
    assert!(matches!(pack_error(&err), PackError::InvalidPackDelta { .. }), "{err}");
}

// ---- pack dictionaries ---------------------------------------------------------------

fn step_json(i: usize) -> Vec<u8> {
    let words = ["cargo", "test", "fix", "the", "bug", "in", "parser", "index", "please", "read", "file", "done"];
    let text: Vec<&str> = (0..40).map(|k| words[(i * 7 + k * k) % words.len()]).collect();
    format!(
        r#"{{"type":"step","parent":"{}","tree":"{}","session_id":"sess-{}","origin":"claude","model":"claude-sonnet-4","turn_id":"agturn:{i}","causes":[],"timestamp":{},"messages":[{{"role":"user","content":"{}"}}],"tool_calls":[{{"tool_name":"Bash","args":"{{\"command\":\"cargo test\"}}","result":"test result: ok. {} passed"}}],"outcome":"unknown","git_commit":null,"git_branch":"main","git_dirty":true}}"#,
        ObjectId::of(format!("p{i}").as_bytes()),
        ObjectId::of(format!("t{i}").as_bytes()),
        i / 50,
        1_763_700_000_000u64 + i as u64 * 61_000,
        text.join(" "),
        i % 90
    )
    .into_bytes()
}

#[test]
fn a_trained_dictionary_shrinks_small_json_and_reads_back() {
    let steps: Vec<Vec<u8>> = (0..600).map(step_json).collect();
    let (train, test) = steps.split_at(300);
    let dictionary = train_dictionary(train.iter().map(Vec::as_slice), 16 << 10).unwrap();
    let objects = || test.iter().map(|s| input(ObjectKind::Step, s, None)).collect::<Vec<_>>();
    let with = write(objects(), &PackOptions { dictionary: Some(dictionary.clone()), ..opts(19, 10) });
    let without = write(objects(), &opts(19, 10));
    eprintln!(
        "300 step objects: {} B raw; pack {} B with a {} B dictionary, {} B without",
        test.iter().map(Vec::len).sum::<usize>(),
        with.info.pack_len,
        dictionary.len(),
        without.info.pack_len
    );
    assert!(with.info.pack_len < without.info.pack_len);
    assert!(with.info.entries.iter().all(|e| e.encoding == PackEncoding::ZstdDict));
    let set = PackSet::open(&with.dir).unwrap();
    for s in test {
        assert_eq!(set.get(&ObjectId::of(s)).unwrap().unwrap(), (ObjectKind::Step, s.clone()));
    }
    verify_pack(&with.info.path).unwrap();

    // Dictionary section damage.
    let pristine = fs::read(&with.info.path).unwrap();
    for len in [0u32, u32::MAX, pristine.len() as u32] {
        let mut bytes = pristine.clone();
        bytes[16..20].copy_from_slice(&len.to_le_bytes());
        assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::InvalidPackFile { .. })), "dict len {len}");
    }
    // A dictionary entry in a pack without a dictionary.
    let mut bytes = fs::read(&without.info.path).unwrap();
    let e = &without.info.entries[0];
    assert_eq!(e.encoding, PackEncoding::Zstd);
    patch_entry(&mut bytes, e.offset as usize, |h| h[33] = 3);
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::InvalidPackFile { .. })));
    assert!(train_dictionary([b"x".as_slice()], 1024).is_err());
}

// ---- AGITPK1 (reference) packs -------------------------------------------------------

fn v1_objects() -> Vec<Vec<u8>> {
    vec![
        big_text(None),
        br#"{"type":"tree","entries":[]}"#.to_vec(),
        big_text(Some(19_999)),
        b"# public\nline two\n".to_vec(),
        b"# public\nline two changed\n".to_vec(),
        Vec::new(),
    ]
}

fn v1_pack() -> (String, Vec<u8>, Vec<Vec<u8>>) {
    let objects = v1_objects();
    let kinds =
        [ObjectKind::Blob, ObjectKind::Tree, ObjectKind::Blob, ObjectKind::Blob, ObjectKind::Blob, ObjectKind::Blob];
    let bases = [None, None, Some(0), None, Some(3), None];
    let spec: Vec<V1Object<'_>> =
        objects.iter().zip(kinds).zip(bases).map(|((b, kind), base)| V1Object { kind, bytes: b, base }).collect();
    let (name, bytes) = build_v1_pack(&spec);
    (name, bytes, objects)
}

#[test]
fn reference_agitpk1_pack_reads_back() {
    let (name, bytes, objects) = v1_pack();
    let parsed = parse_pack_bytes(&bytes).unwrap();
    assert_eq!(parsed.format, PackFormat::V1);
    assert_eq!(parsed.name, name);
    assert_eq!(parsed.entries.len(), 6);
    assert_eq!(parsed.entries[2].encoding, PackEncoding::SpliceDelta);
    assert_eq!(parsed.entries[2].base, Some(ObjectId::of(&objects[0])));
    assert!(parsed.entries[2].packed_len < 100);

    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(format!("{name}.pack"));
    fs::write(&path, &bytes).unwrap();
    let set = PackSet::open(tmp.path()).unwrap();
    assert!(set.broken().is_empty());
    for (i, object) in objects.iter().enumerate() {
        let (kind, got) = set.get(&ObjectId::of(object)).unwrap().unwrap();
        assert_eq!(&got, object, "object {i}");
        assert_eq!(kind, if i == 1 { ObjectKind::Tree } else { ObjectKind::Blob });
    }
    let hex = ObjectId::of(&objects[3]).to_hex();
    assert_eq!(set.ids_with_prefix(&hex[..10]).unwrap(), vec![ObjectId::of(&objects[3])]);
    assert_eq!(set.iter().count(), 6);
    let report = verify_pack(&path).unwrap();
    assert_eq!((report.format, report.entries, report.deltas), (PackFormat::V1, 6, 2));
    assert!(report.name_matches && !report.idx_present);
}

#[test]
fn agitpk1_crc_hash_and_delta_errors() {
    let (name, pristine, objects) = v1_pack();
    let offsets: Vec<usize> = parse_pack_bytes(&pristine).unwrap().entries.iter().map(|e| e.offset as usize).collect();

    // Flipped payload byte of a full entry: CRC mismatch (checked before BLAKE3).
    let mut bytes = pristine.clone();
    bytes[offsets[3] + 68 + 2] ^= 1;
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::PackCrcMismatch { .. })));
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(format!("{name}.pack"));
    fs::write(&path, &bytes).unwrap();
    let err = PackSet::open(tmp.path()).unwrap().get(&ObjectId::of(&objects[3])).unwrap_err();
    assert!(matches!(pack_error(&err), PackError::PackCrcMismatch { .. }));
    // ... and the delta built on it fails too.
    assert!(PackSet::open(tmp.path()).unwrap().get(&ObjectId::of(&objects[4])).is_err());
    let err = verify_pack(&path).unwrap_err();
    assert!(matches!(pack_error(&err), PackError::PackCrcMismatch { .. }));

    // Flipped CRC field.
    let mut bytes = pristine.clone();
    bytes[offsets[1] + 60] ^= 1;
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::PackCrcMismatch { .. })));
    // Flipped id: CRC passes, BLAKE3 does not.
    let mut bytes = pristine.clone();
    bytes[offsets[1]] ^= 1;
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::PackHashMismatch { .. })));
    // Delta base pointing at itself / later.
    let mut bytes = pristine.clone();
    let later = offsets[3] as u64;
    bytes[offsets[2] + 52..offsets[2] + 60].copy_from_slice(&later.to_le_bytes());
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::InvalidPackDelta { .. })));
    // Splice lengths that overrun the base.
    let mut bytes = pristine.clone();
    bytes[offsets[4] + 68..offsets[4] + 76].copy_from_slice(&1_000_000u64.to_le_bytes());
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::InvalidPackDelta { .. })));
    // Eval kind (5) does not exist in AGITPK1; nor does encoding 3.
    let mut bytes = pristine.clone();
    bytes[offsets[1] + 32] = 5;
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::InvalidPackFile { .. })));
    let mut bytes = pristine.clone();
    bytes[offsets[1] + 33] = 3;
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::InvalidPackFile { .. })));
    // Version 2 of the AGITPK1 magic.
    let mut bytes = pristine.clone();
    bytes[8] = 2;
    assert!(matches!(parse_pack_bytes(&bytes), Err(PackError::UnsupportedPackVersion { version: 2 })));
    // Truncated anywhere.
    for len in 0..pristine.len().min(2_000) {
        let _ = parse_pack_bytes(&pristine[..len]);
    }
    assert!(parse_pack_bytes(&pristine[..pristine.len() - 1]).is_err());
}

// ---- properties ----------------------------------------------------------------------

/// A base text and a list of edits, each applied to the previous version.
fn edited_versions() -> impl Strategy<Value = Vec<Vec<u8>>> {
    (
        proptest::collection::vec(any::<u8>(), 0..3000),
        proptest::collection::vec((any::<u16>(), any::<u16>(), proptest::collection::vec(any::<u8>(), 0..40)), 1..8),
    )
        .prop_map(|(base, edits)| {
            let mut out = vec![base.clone()];
            let mut cur = base;
            for (at, del, ins) in edits {
                let at = usize::from(at) % (cur.len() + 1);
                let del = (usize::from(del) % 50).min(cur.len() - at);
                cur.splice(at..at + del, ins);
                out.push(cur.clone());
            }
            out
        })
}

fn kind_strategy() -> impl Strategy<Value = ObjectKind> {
    prop::sample::select(ObjectKind::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_objects_round_trip(
        groups in proptest::collection::vec((edited_versions(), kind_strategy(), any::<bool>()), 1..4),
        depth in 0u16..4,
        use_dict in any::<bool>(),
    ) {
        let mut inputs = Vec::new();
        let mut expected = std::collections::HashMap::new();
        for (versions, kind, hinted) in &groups {
            for (i, v) in versions.iter().enumerate() {
                let hint = if *hinted { i.checked_sub(1).map(|p| ObjectId::of(&versions[p])) } else { None };
                expected.entry(ObjectId::of(v)).or_insert((*kind, v.clone()));
                inputs.push(input(*kind, v, hint));
            }
        }
        // Any bytes work as a (raw content) dictionary.
        let dictionary = use_dict.then(|| br#"{"type":"step","parent":null,"tree":"#.repeat(4));
        let w = write(inputs, &PackOptions { dictionary, ..opts(3, depth) });
        prop_assert_eq!(w.info.entries.len(), expected.len());
        prop_assert!(w.info.entries.iter().all(|e| e.depth <= depth));
        let set = PackSet::open(&w.dir).unwrap();
        for (id, (kind, bytes)) in &expected {
            prop_assert_eq!(set.get(id).unwrap().unwrap(), (*kind, bytes.clone()));
            prop_assert_eq!(set.ids_with_prefix(&id.to_hex()[..12]).unwrap(), vec![*id]);
        }
        let report = verify_pack(&w.info.path).unwrap();
        prop_assert_eq!(report.entries as usize, expected.len());
        let parsed = parse_pack_bytes(&fs::read(&w.info.path).unwrap()).unwrap();
        prop_assert_eq!(&parsed.entries, &w.info.entries);
        let idx = parse_idx_bytes(&fs::read(&w.info.idx_path).unwrap()).unwrap();
        let mut sorted = w.info.entries.clone();
        sorted.sort_by_key(|e| e.id);
        prop_assert_eq!(idx.entries, sorted);
    }

    #[test]
    fn mutated_packs_and_indexes_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        junk in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let objects: Vec<Vec<u8>> = (0..4u8).map(|i| {
            let mut v = b"{\"type\":\"tree\",\"entries\":[]} ".repeat(20);
            v.push(i);
            v
        }).collect();
        let w = write(
            objects.iter().enumerate().map(|(i, v)| {
                input(ObjectKind::Tree, v, i.checked_sub(1).map(|p| ObjectId::of(&objects[p])))
            }).collect(),
            &opts(3, 2),
        );
        let (_, v1, _) = v1_pack();
        for file in [fs::read(&w.info.path).unwrap(), fs::read(&w.info.idx_path).unwrap(), v1] {
            let mut bytes = file.clone();
            for (at, x) in &flips {
                let i = at.index(bytes.len());
                bytes[i] ^= x | 1;
            }
            let _ = parse_pack_bytes(&bytes);
            let _ = parse_idx_bytes(&bytes);
            let truncated = &file[..cut.index(file.len())];
            let _ = parse_pack_bytes(truncated);
            let _ = parse_idx_bytes(truncated);
        }
        let mut junk_pack = b"AGITPK2\n\x02\0\0\0\0\0\0\0".to_vec();
        junk_pack.extend_from_slice(&junk);
        let _ = parse_pack_bytes(&junk_pack);
        let mut junk_v1 = b"AGITPK1\n\x01\0\0\0".to_vec();
        junk_v1.extend_from_slice(&junk);
        let _ = parse_pack_bytes(&junk_v1);
        let _ = parse_pack_bytes(&junk);
        let _ = parse_idx_bytes(&junk);
    }
}
