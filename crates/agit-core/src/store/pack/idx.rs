//! `AGITIX2` pack indexes (layout in the module doc of `pack`): fan-out, sorted ids and
//! fixed-size records, read with positioned reads so a lookup touches a few pages.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::source::Cursor;
use super::{MAX_CHAIN_DEPTH, MAX_OBJECT_LEN, PackEncoding, PackError, PackFormat, PackedEntryInfo, kind_code, v2};
use crate::hash::ObjectId;
use crate::object::ObjectKind;

/// File magic.
pub(crate) const MAGIC: &[u8; 8] = b"AGITIX2\n";
/// Format version.
pub(crate) const VERSION: u32 = 2;
const IDS_OFF: u64 = 1072;
const ID_LEN: u64 = 32;
const RECORD_LEN: u64 = 24;
/// Bytes per entry: id + record.
const PER_ENTRY: u64 = ID_LEN + RECORD_LEN;
/// Size of an index with no entries: header, pack checksum, fan-out, checksum.
const FIXED_LEN: u64 = IDS_OFF + 32;
/// `base` of a non-delta record.
const NO_BASE: u32 = u32::MAX;

/// One decoded record.
#[derive(Debug, Clone)]
pub(crate) struct IdxRecord {
    pub offset: u64,
    pub packed_len: u64,
    pub unpacked_len: u64,
    pub kind: ObjectKind,
    pub encoding: PackEncoding,
    pub depth: u16,
    /// Position of the delta base in the index.
    pub base: Option<u32>,
}

impl IdxRecord {
    /// The entry this record describes, with its base already resolved to an id.
    pub(crate) fn entry(&self, id: ObjectId, base: Option<ObjectId>) -> PackedEntryInfo {
        PackedEntryInfo {
            id,
            kind: self.kind,
            encoding: self.encoding,
            offset: self.offset,
            packed_len: self.packed_len,
            unpacked_len: self.unpacked_len,
            base,
            depth: self.depth,
        }
    }
}

fn encoding_code(encoding: PackEncoding) -> Result<u8, PackError> {
    match encoding {
        PackEncoding::Stored => Ok(v2::ENC_STORED),
        PackEncoding::Zstd => Ok(v2::ENC_ZSTD),
        PackEncoding::ZstdDelta => Ok(v2::ENC_DELTA),
        PackEncoding::ZstdDict => Ok(v2::ENC_DICT),
        PackEncoding::Full | PackEncoding::SpliceDelta => Err(PackError::index("AGITPK1 encodings have no index")),
    }
}

/// Build the index of a pack from its entries (in pack order) and checksum.
pub(crate) fn encode(pack_checksum: &[u8; 32], entries: &[PackedEntryInfo]) -> Result<Vec<u8>, PackError> {
    let too_many = || PackError::index("too many entries for one index");
    let count = u32::try_from(entries.len()).ok().filter(|n| *n < NO_BASE).ok_or_else(too_many)?;
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|a, b| entries[*a].id.cmp(&entries[*b].id));
    if order.windows(2).any(|w| entries[w[0]].id == entries[w[1]].id) {
        return Err(PackError::index("duplicate id in pack"));
    }
    let sorted_pos_of_id: std::collections::HashMap<ObjectId, u32> =
        order.iter().enumerate().map(|(pos, &i)| (entries[i].id, pos as u32)).collect();

    let len = FIXED_LEN + u64::from(count) * PER_ENTRY;
    let mut out = Vec::with_capacity(usize::try_from(len).map_err(|_| too_many())?);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(pack_checksum);
    let mut fanout = [0u32; 256];
    for entry in entries {
        fanout[usize::from(entry.id.as_bytes()[0])] += 1;
    }
    let mut running = 0u32;
    for slot in fanout.iter_mut() {
        running += *slot;
        *slot = running;
    }
    for n in fanout {
        out.extend_from_slice(&n.to_le_bytes());
    }
    for &i in &order {
        out.extend_from_slice(entries[i].id.as_bytes());
    }
    for &i in &order {
        let e = &entries[i];
        let len32 = |n: u64| u32::try_from(n).map_err(|_| PackError::index("object too large for the index"));
        let base = match e.base {
            Some(base) => *sorted_pos_of_id.get(&base).ok_or(PackError::index("delta base is not in the pack"))?,
            None => NO_BASE,
        };
        out.extend_from_slice(&e.offset.to_le_bytes());
        out.extend_from_slice(&len32(e.packed_len)?.to_le_bytes());
        out.extend_from_slice(&len32(e.unpacked_len)?.to_le_bytes());
        out.push(kind_code(e.kind));
        out.push(encoding_code(e.encoding)?);
        out.extend_from_slice(&e.depth.to_le_bytes());
        out.extend_from_slice(&base.to_le_bytes());
    }
    let sum = blake3::hash(&out);
    out.extend_from_slice(sum.as_bytes());
    Ok(out)
}

/// Decode and range-check one record (position `pos` of `count`).
fn parse_record(buf: &[u8], pos: u32, count: u32) -> Result<IdxRecord, PackError> {
    let short = || PackError::index("truncated record");
    let mut c = Cursor::new(buf);
    let offset = c.u64().ok_or_else(short)?;
    let packed_len = u64::from(c.u32().ok_or_else(short)?);
    let unpacked_len = u64::from(c.u32().ok_or_else(short)?);
    let kind_byte = c.u8().ok_or_else(short)?;
    let encoding_byte = c.u8().ok_or_else(short)?;
    let depth = c.u16().ok_or_else(short)?;
    let base = c.u32().ok_or_else(short)?;
    let kind = super::kind_from_code(kind_byte, PackFormat::V2).ok_or(PackError::index("unknown object kind"))?;
    let encoding = match encoding_byte {
        v2::ENC_STORED => PackEncoding::Stored,
        v2::ENC_ZSTD => PackEncoding::Zstd,
        v2::ENC_DELTA => PackEncoding::ZstdDelta,
        v2::ENC_DICT => PackEncoding::ZstdDict,
        _ => return Err(PackError::index("unknown entry encoding")),
    };
    if offset < v2::FILE_HEADER_LEN {
        return Err(PackError::index("entry offset lies in the pack header"));
    }
    if unpacked_len > MAX_OBJECT_LEN {
        return Err(PackError::index("unpacked_len exceeds the object limit"));
    }
    let base = if encoding == PackEncoding::ZstdDelta {
        if base >= count || base == pos {
            return Err(PackError::index("delta base position out of range"));
        }
        if depth == 0 || depth > MAX_CHAIN_DEPTH {
            return Err(PackError::index("delta depth out of range"));
        }
        Some(base)
    } else {
        if base != NO_BASE || depth != 0 {
            return Err(PackError::index("non-delta record names a base or depth"));
        }
        if encoding == PackEncoding::Stored && packed_len != unpacked_len {
            return Err(PackError::index("stored record's lengths differ"));
        }
        None
    };
    Ok(IdxRecord { offset, packed_len, unpacked_len, kind, encoding, depth, base })
}

/// A fully parsed and verified index.
#[derive(Debug, Clone)]
pub struct ParsedIdx {
    /// The checksum (= name) of the pack this index describes.
    pub pack_checksum: [u8; 32],
    /// Entries in id order.
    pub entries: Vec<PackedEntryInfo>,
}

/// Parse and fully verify an `AGITIX2` index held in memory: size, checksum, header,
/// fan-out, strict id order and every record (base positions, depths). Never panics on
/// any input (fuzz entry point).
pub fn parse_idx_bytes(bytes: &[u8]) -> Result<ParsedIdx, PackError> {
    let len = bytes.len() as u64;
    if len < FIXED_LEN || !(len - FIXED_LEN).is_multiple_of(PER_ENTRY) {
        return Err(PackError::index("file size does not match the index layout"));
    }
    let count = u32::try_from((len - FIXED_LEN) / PER_ENTRY).map_err(|_| PackError::index("too many entries"))?;
    let (body, sum) = bytes.split_at(bytes.len() - 32);
    if blake3::hash(body).as_bytes() != sum {
        return Err(PackError::index("index checksum does not match its contents"));
    }
    let head = parse_head(body)?;
    if head.count() != count {
        return Err(PackError::index("fan-out total disagrees with the file size"));
    }
    let ids_len = count as usize * ID_LEN as usize;
    let ids_bytes = body.get(IDS_OFF as usize..IDS_OFF as usize + ids_len).ok_or(PackError::index("truncated ids"))?;
    let records = body.get(IDS_OFF as usize + ids_len..).ok_or(PackError::index("truncated records"))?;
    let ids: Vec<ObjectId> = ids_bytes
        .chunks_exact(ID_LEN as usize)
        .map(|c| c.try_into().map(ObjectId::from_bytes).map_err(|_| PackError::index("truncated id")))
        .collect::<Result<_, _>>()?;
    for (pos, id) in ids.iter().enumerate() {
        let (lo, hi) = head.bucket(id.as_bytes()[0]);
        if (pos as u32) < lo || (pos as u32) >= hi {
            return Err(PackError::index("id lies outside its fan-out bucket"));
        }
    }
    if ids.windows(2).any(|w| w[0] >= w[1]) {
        return Err(PackError::index("ids are not strictly ascending"));
    }
    let parsed: Vec<IdxRecord> = records
        .chunks_exact(RECORD_LEN as usize)
        .enumerate()
        .map(|(pos, buf)| parse_record(buf, pos as u32, count))
        .collect::<Result<_, _>>()?;
    let mut entries = Vec::with_capacity(parsed.len());
    for (record, id) in parsed.iter().zip(&ids) {
        let base = match record.base {
            Some(b) => {
                let base_record = parsed.get(b as usize).ok_or(PackError::index("delta base position out of range"))?;
                if base_record.depth.checked_add(1) != Some(record.depth) {
                    return Err(PackError::index("delta depth is not its base's depth + 1"));
                }
                if base_record.offset >= record.offset {
                    return Err(PackError::index("delta base is not an earlier entry"));
                }
                ids.get(b as usize).copied()
            }
            None => None,
        };
        entries.push(record.entry(*id, base));
    }
    Ok(ParsedIdx { pack_checksum: head.pack_checksum, entries })
}

/// The fixed head of an index: pack checksum and fan-out.
struct Head {
    pack_checksum: [u8; 32],
    fanout: [u32; 256],
}

impl Head {
    fn count(&self) -> u32 {
        self.fanout[255]
    }

    /// Positions `[lo, hi)` of ids whose first byte is `first`.
    fn bucket(&self, first: u8) -> (u32, u32) {
        let hi = self.fanout[usize::from(first)];
        let lo = match first.checked_sub(1) {
            Some(prev) => self.fanout[usize::from(prev)],
            None => 0,
        };
        (lo, hi)
    }
}

/// Parse magic, version, flags, pack checksum (bytes 16..48) and a monotone fan-out
/// (bytes 48..1072).
fn parse_head(buf: &[u8]) -> Result<Head, PackError> {
    let mut c = Cursor::new(buf);
    if c.bytes::<8>().as_ref() != Some(MAGIC) {
        return Err(PackError::index("bad magic"));
    }
    let (Some(version), Some(flags)) = (c.u32(), c.u32()) else {
        return Err(PackError::index("truncated header"));
    };
    if version != VERSION {
        return Err(PackError::index("unsupported index version"));
    }
    if flags != 0 {
        return Err(PackError::index("unknown header flags"));
    }
    let pack_checksum = c.bytes::<32>().ok_or(PackError::index("truncated header"))?;
    let mut fanout = [0u32; 256];
    let mut prev = 0u32;
    for slot in fanout.iter_mut() {
        let n = c.u32().ok_or(PackError::index("truncated fan-out"))?;
        if n < prev {
            return Err(PackError::index("fan-out is not monotone"));
        }
        *slot = n;
        prev = n;
    }
    Ok(Head { pack_checksum, fanout })
}

/// An index opened for lookups: only the head is read at open; ids and records are read
/// on demand with `pread`. The checksum is not verified here (see [`parse_idx_bytes`]);
/// what a lookup returns is cross-checked against the pack entry instead.
pub(crate) struct IdxFile {
    file: File,
    head: Head,
}

impl IdxFile {
    pub fn open(path: &Path) -> Result<IdxFile, PackError> {
        let file = File::open(path).map_err(|source| PackError::Io { op: "open pack index", source })?;
        let len = file.metadata().map_err(|source| PackError::Io { op: "stat pack index", source })?.len();
        if len < FIXED_LEN || !(len - FIXED_LEN).is_multiple_of(PER_ENTRY) {
            return Err(PackError::index("file size does not match the index layout"));
        }
        let mut buf = [0u8; IDS_OFF as usize];
        file.read_exact_at(&mut buf, 0).map_err(|source| PackError::Io { op: "read pack index", source })?;
        let head = parse_head(&buf)?;
        if FIXED_LEN + u64::from(head.count()) * PER_ENTRY != len {
            return Err(PackError::index("fan-out total disagrees with the file size"));
        }
        Ok(IdxFile { file, head })
    }

    pub fn pack_checksum(&self) -> &[u8; 32] {
        &self.head.pack_checksum
    }

    pub fn count(&self) -> u32 {
        self.head.count()
    }

    fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), PackError> {
        self.file.read_exact_at(buf, offset).map_err(|source| PackError::Io { op: "read pack index", source })
    }

    pub fn id_at(&self, pos: u32) -> Result<ObjectId, PackError> {
        let mut buf = [0u8; ID_LEN as usize];
        self.read(IDS_OFF + u64::from(pos) * ID_LEN, &mut buf)?;
        Ok(ObjectId::from_bytes(buf))
    }

    pub fn record_at(&self, pos: u32) -> Result<IdxRecord, PackError> {
        let mut buf = [0u8; RECORD_LEN as usize];
        let records = IDS_OFF + u64::from(self.count()) * ID_LEN;
        self.read(records + u64::from(pos) * RECORD_LEN, &mut buf)?;
        parse_record(&buf, pos, self.count())
    }

    /// First position whose id is ≥ `key` (binary search inside the fan-out bucket).
    pub fn lower_bound(&self, key: &[u8; 32]) -> Result<u32, PackError> {
        let (mut lo, mut hi) = self.head.bucket(key[0]);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.id_at(mid)?.as_bytes() < key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// Position of `id`, if present.
    pub fn find(&self, id: &ObjectId) -> Result<Option<u32>, PackError> {
        let pos = self.lower_bound(id.as_bytes())?;
        if pos < self.count() && self.id_at(pos)? == *id { Ok(Some(pos)) } else { Ok(None) }
    }

    /// Ids in `[lo, hi]` (inclusive), at most `limit`, read in blocks.
    pub fn ids_in_range(
        &self,
        lo: &[u8; 32],
        hi: &[u8; 32],
        limit: usize,
        out: &mut Vec<ObjectId>,
    ) -> Result<(), PackError> {
        const BLOCK: u32 = 256;
        let mut pos = self.lower_bound(lo)?;
        let mut found = 0usize;
        while pos < self.count() && found < limit {
            let n = BLOCK.min(self.count() - pos);
            let mut buf = vec![0u8; n as usize * ID_LEN as usize];
            self.read(IDS_OFF + u64::from(pos) * ID_LEN, &mut buf)?;
            for chunk in buf.chunks_exact(ID_LEN as usize) {
                let Ok(bytes) = <[u8; 32]>::try_from(chunk) else { continue };
                if &bytes > hi || found >= limit {
                    return Ok(());
                }
                out.push(ObjectId::from_bytes(bytes));
                found += 1;
            }
            pos += n;
        }
        Ok(())
    }

    /// Entries at positions `[start, start + n)`, base ids resolved.
    pub fn entries(&self, start: u32, n: u32) -> Result<Vec<PackedEntryInfo>, PackError> {
        let n = n.min(self.count().saturating_sub(start));
        let mut ids = vec![0u8; n as usize * ID_LEN as usize];
        self.read(IDS_OFF + u64::from(start) * ID_LEN, &mut ids)?;
        let mut records = vec![0u8; n as usize * RECORD_LEN as usize];
        let records_off = IDS_OFF + u64::from(self.count()) * ID_LEN;
        self.read(records_off + u64::from(start) * RECORD_LEN, &mut records)?;
        let mut out = Vec::with_capacity(n as usize);
        for (i, (id, rec)) in
            ids.chunks_exact(ID_LEN as usize).zip(records.chunks_exact(RECORD_LEN as usize)).enumerate()
        {
            let pos = start + i as u32;
            let id: [u8; 32] = id.try_into().map_err(|_| PackError::index("truncated id"))?;
            let record = parse_record(rec, pos, self.count())?;
            let base = match record.base {
                Some(b) => Some(self.id_at(b)?),
                None => None,
            };
            out.push(record.entry(ObjectId::from_bytes(id), base));
        }
        Ok(out)
    }
}
