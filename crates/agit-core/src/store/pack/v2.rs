//! `AGITPK2` encoding details (layout tables in the module doc of `pack`).

use zstd::zstd_safe::DDict;

use super::delta::{self, Reference};
use super::entry::{EntryHeader, check_hash};
use super::source::Cursor;
use super::{MAX_CHAIN_DEPTH, MAX_OBJECT_LEN, PackEncoding, PackError, PackFormat, kind_code, kind_from_code};
use crate::hash::ObjectId;
use crate::object::ObjectKind;

/// File magic.
pub(crate) const MAGIC: &[u8; 8] = b"AGITPK2\n";
/// Format version in the file header.
pub(crate) const VERSION: u32 = 2;
/// File header length: magic, version, flags.
pub(crate) const FILE_HEADER_LEN: u64 = 16;
/// Entry header length.
pub(crate) const ENTRY_HEADER_LEN: u64 = 64;
/// Trailer length: entry count + checksum.
pub(crate) const TRAILER_LEN: u64 = 40;
/// `base_offset` of a non-delta entry.
pub(crate) const NO_BASE: u64 = u64::MAX;

pub(crate) const ENC_STORED: u8 = 0;
pub(crate) const ENC_ZSTD: u8 = 1;
pub(crate) const ENC_DELTA: u8 = 2;
pub(crate) const ENC_DICT: u8 = 3;

/// Header flag: a dictionary section follows the file header.
pub(crate) const FLAG_DICT: u32 = 1;
/// Largest pack dictionary a reader accepts.
pub(crate) const MAX_DICT_LEN: u64 = 1 << 20;

/// Bytes 36..40 of an entry header hold the CRC and are excluded from it.
const CRC_RANGE: std::ops::Range<usize> = 36..40;

/// The file header, followed by the dictionary section when there is a dictionary.
pub(crate) fn file_header(dict: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(FILE_HEADER_LEN as usize + 4 + dict.map_or(0, <[u8]>::len));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    match dict {
        Some(dict) => {
            out.extend_from_slice(&FLAG_DICT.to_le_bytes());
            out.extend_from_slice(&(dict.len() as u32).to_le_bytes());
            out.extend_from_slice(dict);
        }
        None => out.extend_from_slice(&0u32.to_le_bytes()),
    }
    out
}

/// Check magic and version; returns the flags (only known bits accepted).
pub(crate) fn check_file_header(buf: &[u8]) -> Result<u32, PackError> {
    let mut c = Cursor::new(buf);
    if c.bytes::<8>().as_ref() != Some(MAGIC) {
        return Err(PackError::InvalidPackFile { offset: Some(0), reason: "bad magic" });
    }
    let (Some(version), Some(flags)) = (c.u32(), c.u32()) else {
        return Err(PackError::InvalidPackFile { offset: Some(8), reason: "truncated file header" });
    };
    if version != VERSION {
        return Err(PackError::UnsupportedPackVersion { version });
    }
    if flags & !FLAG_DICT != 0 {
        return Err(PackError::InvalidPackFile { offset: Some(12), reason: "unknown header flags" });
    }
    Ok(flags)
}

/// Fields of one entry header as the writer fills them in.
pub(crate) struct NewEntry {
    pub id: ObjectId,
    pub kind: ObjectKind,
    pub encoding: u8,
    pub depth: u16,
    pub unpacked_len: u64,
    pub base_offset: Option<u64>,
}

/// Encode an entry header, CRC included, for `payload`.
pub(crate) fn encode_header(entry: &NewEntry, payload: &[u8]) -> [u8; ENTRY_HEADER_LEN as usize] {
    let mut h = [0u8; ENTRY_HEADER_LEN as usize];
    h[..32].copy_from_slice(entry.id.as_bytes());
    h[32] = kind_code(entry.kind);
    h[33] = entry.encoding;
    h[34..36].copy_from_slice(&entry.depth.to_le_bytes());
    h[40..48].copy_from_slice(&entry.unpacked_len.to_le_bytes());
    h[48..56].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    h[56..64].copy_from_slice(&entry.base_offset.unwrap_or(NO_BASE).to_le_bytes());
    let mut crc = header_crc_state(&h);
    crc.update(payload);
    h[CRC_RANGE].copy_from_slice(&crc.finalize().to_le_bytes());
    h
}

/// CRC state over the covered header bytes (all but the CRC field itself).
fn header_crc_state(h: &[u8; ENTRY_HEADER_LEN as usize]) -> crc32fast::Hasher {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&h[..CRC_RANGE.start]);
    crc.update(&h[CRC_RANGE.end..]);
    crc
}

/// Parse and range-check an entry header (lengths against the file: by the caller).
pub(crate) fn parse_header(buf: &[u8; ENTRY_HEADER_LEN as usize], offset: u64) -> Result<EntryHeader, PackError> {
    let short = || PackError::file(offset, "truncated entry header");
    let mut c = Cursor::new(buf);
    let id = ObjectId::from_bytes(c.bytes::<32>().ok_or_else(short)?);
    let kind_byte = c.u8().ok_or_else(short)?;
    let encoding_byte = c.u8().ok_or_else(short)?;
    let depth = c.u16().ok_or_else(short)?;
    let crc = c.u32().ok_or_else(short)?;
    let unpacked_len = c.u64().ok_or_else(short)?;
    let packed_len = c.u64().ok_or_else(short)?;
    let base_offset = c.u64().ok_or_else(short)?;
    let kind =
        kind_from_code(kind_byte, PackFormat::V2).ok_or_else(|| PackError::file(offset, "unknown object kind"))?;
    if unpacked_len > MAX_OBJECT_LEN {
        return Err(PackError::file(offset, "unpacked_len exceeds the 1 GiB object limit"));
    }
    let encoding = match encoding_byte {
        ENC_STORED => PackEncoding::Stored,
        ENC_ZSTD => PackEncoding::Zstd,
        ENC_DELTA => PackEncoding::ZstdDelta,
        ENC_DICT => PackEncoding::ZstdDict,
        _ => return Err(PackError::file(offset, "unknown entry encoding")),
    };
    let base_offset = if encoding == PackEncoding::ZstdDelta {
        if base_offset == NO_BASE {
            return Err(PackError::delta(offset, "delta entry has no base"));
        }
        if base_offset >= offset || base_offset < FILE_HEADER_LEN {
            return Err(PackError::delta(offset, "delta base is not an earlier entry"));
        }
        if depth == 0 || depth > MAX_CHAIN_DEPTH {
            return Err(PackError::delta(offset, "delta depth out of range"));
        }
        Some(base_offset)
    } else {
        if base_offset != NO_BASE {
            return Err(PackError::file(offset, "non-delta entry names a base"));
        }
        if depth != 0 {
            return Err(PackError::file(offset, "non-delta entry has a depth"));
        }
        if encoding == PackEncoding::Stored && packed_len != unpacked_len {
            return Err(PackError::file(offset, "stored entry's packed_len differs from unpacked_len"));
        }
        None
    };
    Ok(EntryHeader {
        offset,
        id,
        kind,
        encoding,
        depth,
        unpacked_len,
        packed_len,
        base_offset,
        crc,
        crc_state: Some(header_crc_state(buf)),
    })
}

/// Check the entry CRC, decode the payload and verify the id.
pub(crate) fn decode(
    header: &EntryHeader,
    payload: &[u8],
    base: Option<&[u8]>,
    dict: Option<&DDict<'static>>,
) -> Result<Vec<u8>, PackError> {
    let mut crc = header.crc_state.clone().unwrap_or_default();
    crc.update(payload);
    if crc.finalize() != header.crc {
        return Err(PackError::PackCrcMismatch { offset: header.offset });
    }
    let bytes = match header.encoding {
        PackEncoding::ZstdDelta => {
            let base = base.ok_or_else(|| PackError::delta(header.offset, "delta base is missing"))?;
            delta::decompress(payload, Reference::Prefix(base), header.unpacked_len)
                .map_err(|reason| PackError::delta(header.offset, reason))?
        }
        PackEncoding::Zstd => delta::decompress(payload, Reference::None, header.unpacked_len)
            .map_err(|reason| PackError::file(header.offset, reason))?,
        PackEncoding::ZstdDict => {
            let dict = dict.ok_or_else(|| PackError::file(header.offset, "entry needs a dictionary the pack lacks"))?;
            delta::decompress(payload, Reference::Dict(dict), header.unpacked_len)
                .map_err(|reason| PackError::file(header.offset, reason))?
        }
        _ => payload.to_vec(),
    };
    check_hash(header, &bytes)?;
    Ok(bytes)
}

/// Split a trailer into the entry count and the pack checksum.
pub(crate) fn parse_trailer(buf: &[u8; TRAILER_LEN as usize]) -> (u64, [u8; 32]) {
    let mut c = Cursor::new(buf);
    let count = c.u64().unwrap_or_default();
    let sum = c.bytes::<32>().unwrap_or_default();
    (count, sum)
}
