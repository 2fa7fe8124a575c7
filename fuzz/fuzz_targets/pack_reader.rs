//! Packs through the real reader (`PackSet`, as every object read uses), written by the
//! real writer: the input describes up to 8 objects (fresh bytes or edits of earlier
//! ones, so deltas happen), delta hints, the zstd level, depth cap and an optional
//! dictionary; then byte mutations of the written pack and index.
//!
//! Properties:
//! - the written `AGITPK2` pack reads back every object exactly (delta chains, the pack
//!   dictionary), passes `verify_pack`, and `parse_pack_bytes` / `parse_idx_bytes` list
//!   exactly the entries the writer reported;
//! - the same objects as a reference `AGITPK1` pack (splice deltas) read back exactly;
//! - after mutating pack and/or index (optionally with checksums repaired by
//!   `agit_fuzz::pack_fixup`), a read either fails or returns the very bytes of the
//!   object asked for: a damaged pack or index never yields wrong content.
#![no_main]

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use agit_core::ObjectId;
use agit_core::ObjectKind;
use agit_core::store::pack::test_support::{V1Object, build_v1_pack};
use agit_core::store::pack::{
    PackInput, PackOptions, PackSet, parse_idx_bytes, parse_pack_bytes, verify_pack, write_pack_with,
};
use agit_fuzz::Input;
use agit_fuzz::pack_fixup::{fix_idx, fix_pack};
use libfuzzer_sys::fuzz_target;

const KINDS: [ObjectKind; 5] =
    [ObjectKind::Blob, ObjectKind::Tree, ObjectKind::Step, ObjectKind::Blame, ObjectKind::Eval];

struct Object {
    kind: ObjectKind,
    bytes: Vec<u8>,
    hint: Option<usize>,
}

fn objects(input: &mut Input<'_>) -> Vec<Object> {
    let n = usize::from(input.u8() % 9);
    let mut out: Vec<Object> = Vec::with_capacity(n);
    for _ in 0..n {
        let op = input.u8();
        let kind = KINDS[usize::from(op >> 5) % KINDS.len()];
        let earlier = (!out.is_empty()).then(|| usize::from(input.u8()) % out.len().max(1));
        let bytes = match (op & 3, earlier) {
            // An edit of an earlier object: replace a range by new bytes.
            (1 | 2, Some(i)) => {
                let base = &out[i].bytes;
                let at = usize::from(input.u16()) % (base.len() + 1);
                let cut = (usize::from(input.u16()) % (base.len() - at + 1)).min(base.len() - at);
                let insert = input.chunk();
                [&base[..at], insert, &base[at + cut..]].concat()
            }
            // A repetitive object, so zstd and deltas have something to find.
            (3, _) => {
                let unit = input.take(16);
                let times = usize::from(input.u16() % 512);
                unit.repeat(times)
            }
            _ => input.chunk().to_vec(),
        };
        let hint = if op & 4 != 0 { earlier } else { None };
        out.push(Object { kind, bytes, hint });
    }
    out
}

fn tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.expect("temp dir")
}

/// Every object reads back from `dir` exactly, with the kind it was first packed as.
fn reads_back(dir: &Path, objects: &[Object], v1: bool) {
    let set = PackSet::open(dir).expect("open packs");
    assert!(set.broken().is_empty(), "written pack is broken: {:?}", set.broken());
    let mut first_kind: HashMap<ObjectId, ObjectKind> = HashMap::new();
    for o in objects {
        let kind = if v1 && o.kind == ObjectKind::Eval { ObjectKind::Blob } else { o.kind };
        first_kind.entry(ObjectId::of(&o.bytes)).or_insert(kind);
    }
    for o in objects {
        let id = ObjectId::of(&o.bytes);
        let (kind, bytes) = set.get(&id).expect("read packed object").expect("object is packed");
        assert_eq!(bytes, o.bytes, "packed object {id} reads back different bytes");
        assert_eq!(kind, first_kind[&id]);
        assert!(set.contains(&id).expect("contains"));
    }
}

/// After damage: reads may fail, but never return other bytes than the object's.
fn reads_safely(dir: &Path, objects: &[Object]) {
    let Ok(set) = PackSet::open(dir) else { return };
    for o in objects {
        let id = ObjectId::of(&o.bytes);
        if let Ok(Some((_, bytes))) = set.get(&id) {
            assert_eq!(bytes, o.bytes, "damaged pack returned wrong bytes for {id}");
        }
        let _ = set.locate(&id);
    }
    for entry in set.iter() {
        let _ = entry;
    }
    let _ = set.ids_with_prefix("0");
}

fn mutate(bytes: &mut [u8], input: &mut Input<'_>, count: u8) {
    if bytes.is_empty() {
        return;
    }
    for _ in 0..count {
        let at = input.u32() as usize % bytes.len();
        bytes[at] ^= input.u8() | 1;
    }
}

fn replace(path: &Path, bytes: &[u8]) {
    // Packs are written read-only; replace the file rather than write through it.
    fs::remove_file(path).expect("remove");
    fs::write(path, bytes).expect("write");
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let settings = input.u8();
    let level = i32::from(settings & 3) + 1;
    let max_depth = u16::from((settings >> 2) & 7);
    let use_dict = settings & 0x20 != 0;
    let objects = objects(&mut input);

    // AGITPK2 through the writer.
    let dir = tempdir();
    let ids: Vec<ObjectId> = objects.iter().map(|o| ObjectId::of(&o.bytes)).collect();
    let inputs = objects.iter().zip(&ids).map(|(o, id)| PackInput {
        id: *id,
        kind: o.kind,
        bytes: o.bytes.clone(),
        delta_base_hint: o.hint.map(|h| ids[h]),
    });
    let dictionary = use_dict.then(|| objects.first().map(|o| o.bytes.clone())).flatten().filter(|d| !d.is_empty());
    let options = PackOptions { level, max_depth, base_cache_bytes: 1 << 20, dictionary };
    let info = match write_pack_with(dir.path(), inputs, &options) {
        Ok(info) => info,
        // A fuzzed dictionary may be one zstd refuses; that is the writer's documented error.
        Err(e) if options.dictionary.is_some() && e.to_string().contains("dictionary") => return,
        Err(e) => panic!("pack writer failed: {e}"),
    };
    reads_back(dir.path(), &objects, false);
    let report = verify_pack(&info.path).expect("verify written pack");
    assert_eq!(report.entries, info.entries.len() as u64);
    assert!(report.idx_present && report.name_matches);
    let pack_bytes = fs::read(&info.path).expect("read pack");
    let idx_bytes = fs::read(&info.idx_path).expect("read idx");
    let parsed = parse_pack_bytes(&pack_bytes).expect("parse written pack");
    assert_eq!(parsed.entries, info.entries);
    assert_eq!(parsed.name, info.name);
    let idx = parse_idx_bytes(&idx_bytes).expect("parse written idx");
    let mut sorted = info.entries.clone();
    sorted.sort_by_key(|e| e.id);
    assert_eq!(idx.entries, sorted);

    // The same objects as a reference AGITPK1 pack.
    let v1_dir = tempdir();
    let v1_objects: Vec<V1Object<'_>> = objects
        .iter()
        .map(|o| V1Object {
            kind: if o.kind == ObjectKind::Eval { ObjectKind::Blob } else { o.kind },
            bytes: &o.bytes,
            base: o.hint,
        })
        .collect();
    let (v1_name, v1_bytes) = build_v1_pack(&v1_objects);
    fs::write(v1_dir.path().join(format!("{v1_name}.pack")), &v1_bytes).expect("write v1 pack");
    reads_back(v1_dir.path(), &objects, true);
    assert_eq!(parse_pack_bytes(&v1_bytes).expect("parse v1 pack").name, v1_name);

    // Damage.
    let how = input.u8();
    let mut pack = pack_bytes.clone();
    let mut idx = idx_bytes.clone();
    mutate(&mut pack, &mut input, how & 7);
    mutate(&mut idx, &mut input, (how >> 3) & 3);
    if how & 0x20 != 0 {
        fix_pack(&mut pack);
        fix_idx(&mut idx);
    }
    if how & 0x40 != 0 {
        // Bytes of the input spliced over the pack: structure the mutator can steer.
        let tail = input.rest();
        let at = usize::from(how) % pack.len();
        let n = tail.len().min(pack.len() - at);
        pack[at..at + n].copy_from_slice(&tail[..n]);
        if how & 0x20 != 0 {
            fix_pack(&mut pack);
        }
    }
    replace(&info.path, &pack);
    replace(&info.idx_path, &idx);
    reads_safely(dir.path(), &objects);
    let _ = verify_pack(&info.path);

    let mut v1 = v1_bytes;
    mutate(&mut v1, &mut input, how & 7);
    if how & 0x80 != 0 {
        fix_pack(&mut v1);
    }
    replace(&v1_dir.path().join(format!("{v1_name}.pack")), &v1);
    reads_safely(v1_dir.path(), &objects);
});
