//! Test helpers, public so other crates' tests can use them: build reference `AGITPK1`
//! packs straight from the byte layout (reference `storage.md` §9). agit never writes
//! `AGITPK1` itself.

use super::{delta, kind_code, v1};
use crate::hash::ObjectId;
use crate::object::ObjectKind;

/// One object of a reference pack to build.
#[derive(Debug, Clone)]
pub struct V1Object<'a> {
    /// Kind (AGITPK1 has no eval; an eval is written with code 5 anyway, which readers
    /// must refuse).
    pub kind: ObjectKind,
    /// Exact bytes.
    pub bytes: &'a [u8],
    /// Index of an earlier object to splice-delta against; a later or unknown index
    /// writes a full entry.
    pub base: Option<usize>,
}

/// Build an `AGITPK1` pack: returns its reference name and bytes.
pub fn build_v1_pack(objects: &[V1Object<'_>]) -> (String, Vec<u8>) {
    let mut out = Vec::new();
    out.extend_from_slice(v1::MAGIC);
    out.extend_from_slice(&1u32.to_le_bytes());
    // (offset, depth) of each written entry.
    let mut written: Vec<(u64, u16)> = Vec::new();
    let mut names = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        let base = object.base.filter(|b| *b < i).and_then(|b| Some((b, *written.get(b)?, objects.get(b)?)));
        let offset = out.len() as u64;
        let id = ObjectId::of(object.bytes);
        let (encoding, depth, base_offset, payload) = match base {
            Some((_, (base_offset, base_depth), base_obj)) => {
                (v1::ENC_DELTA, base_depth + 1, base_offset, delta::make_splice(base_obj.bytes, object.bytes))
            }
            None => (v1::ENC_FULL, 0, v1::NO_BASE, object.bytes.to_vec()),
        };
        out.extend_from_slice(id.as_bytes());
        out.push(kind_code(object.kind));
        out.push(encoding);
        out.extend_from_slice(&depth.to_le_bytes());
        out.extend_from_slice(&(object.bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&base_offset.to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(object.bytes).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&payload);
        written.push((offset, depth));
        let base_id = base.map(|(_, _, b)| ObjectId::of(b.bytes));
        names.push((id, kind_code(object.kind), base_id));
    }
    (v1::pack_name(names), out)
}
