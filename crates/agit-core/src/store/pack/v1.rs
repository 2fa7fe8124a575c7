//! The reference's `AGITPK1` format (read only; reference `storage.md` §9).
//!
//! ```text
//! header: "AGITPK1\n" u32 version=1                                  (12 bytes)
//! entry:  id[32] kind u8 encoding u8 depth u16 unpacked_len u64
//!         packed_len u64 base_offset u64 crc32 u32 reserved u32      (68 bytes) + payload
//! ```
//!
//! Entries run to the end of the file; there is no trailer or checksum. Full payloads
//! are the raw bytes; delta payloads are one prefix/suffix splice against an earlier
//! entry. The CRC-32 (IEEE) covers the unpacked bytes.

use super::delta;
use super::entry::{EntryHeader, check_hash};
use super::source::Cursor;
use super::{PackEncoding, PackError, PackFormat, kind_from_code};
use crate::hash::ObjectId;

/// File magic.
pub(crate) const MAGIC: &[u8; 8] = b"AGITPK1\n";
/// File header length: magic + `u32` version.
pub(crate) const FILE_HEADER_LEN: u64 = 12;
/// Entry header length.
pub(crate) const ENTRY_HEADER_LEN: u64 = 68;
/// `base_offset` of a full entry.
pub(crate) const NO_BASE: u64 = u64::MAX;

pub(crate) const ENC_FULL: u8 = 1;
pub(crate) const ENC_DELTA: u8 = 2;

/// Parse an entry header; field ranges are checked, lengths against the file by the caller.
pub(crate) fn parse_header(buf: &[u8], offset: u64) -> Result<EntryHeader, PackError> {
    let short = || PackError::file(offset, "truncated entry header");
    let mut c = Cursor::new(buf);
    let id = ObjectId::from_bytes(c.bytes::<32>().ok_or_else(short)?);
    let kind_byte = c.u8().ok_or_else(short)?;
    let encoding_byte = c.u8().ok_or_else(short)?;
    let depth = c.u16().ok_or_else(short)?;
    let unpacked_len = c.u64().ok_or_else(short)?;
    let packed_len = c.u64().ok_or_else(short)?;
    let base_offset = c.u64().ok_or_else(short)?;
    let crc = c.u32().ok_or_else(short)?;
    // The reserved u32 is written as 0 and ignored, as the reference does.
    let kind =
        kind_from_code(kind_byte, PackFormat::V1).ok_or_else(|| PackError::file(offset, "unknown object kind"))?;
    let (encoding, base_offset) = match encoding_byte {
        ENC_FULL => {
            if base_offset != NO_BASE {
                return Err(PackError::file(offset, "full entry names a base"));
            }
            if packed_len != unpacked_len {
                return Err(PackError::file(offset, "full entry's packed_len differs from unpacked_len"));
            }
            (PackEncoding::Full, None)
        }
        ENC_DELTA => {
            if base_offset == NO_BASE {
                return Err(PackError::delta(offset, "delta entry has no base"));
            }
            if base_offset >= offset || base_offset < FILE_HEADER_LEN {
                return Err(PackError::delta(offset, "delta base is not an earlier entry"));
            }
            (PackEncoding::SpliceDelta, Some(base_offset))
        }
        _ => return Err(PackError::file(offset, "unknown entry encoding")),
    };
    Ok(EntryHeader { offset, id, kind, encoding, depth, unpacked_len, packed_len, base_offset, crc, crc_state: None })
}

/// Rebuild and verify one entry (CRC first, then BLAKE3, as the reference does).
pub(crate) fn decode(header: &EntryHeader, payload: &[u8], base: Option<&[u8]>) -> Result<Vec<u8>, PackError> {
    let bytes = match header.encoding {
        PackEncoding::SpliceDelta => {
            let base = base.ok_or_else(|| PackError::delta(header.offset, "delta base is missing"))?;
            delta::apply_splice(base, payload, header.unpacked_len)
                .map_err(|reason| PackError::delta(header.offset, reason))?
        }
        _ => payload.to_vec(),
    };
    if crc32fast::hash(&bytes) != header.crc {
        return Err(PackError::PackCrcMismatch { offset: header.offset });
    }
    check_hash(header, &bytes)?;
    Ok(bytes)
}

/// Check the file header (magic, then version).
pub(crate) fn check_file_header(buf: &[u8]) -> Result<(), PackError> {
    let mut c = Cursor::new(buf);
    let magic = c.bytes::<8>();
    if magic.as_ref() != Some(MAGIC) {
        return Err(PackError::InvalidPackFile { offset: Some(0), reason: "bad magic" });
    }
    match c.u32() {
        Some(1) => Ok(()),
        Some(version) => Err(PackError::UnsupportedPackVersion { version }),
        None => Err(PackError::InvalidPackFile { offset: Some(8), reason: "truncated file header" }),
    }
}

/// The reference's pack name: BLAKE3 over, per entry in order, the 32-byte id, the kind
/// byte, then the base's 32-byte id or a single `0x00`.
pub(crate) fn pack_name<'a>(entries: impl IntoIterator<Item = (ObjectId, u8, Option<ObjectId>)> + 'a) -> String {
    let mut hasher = blake3::Hasher::new();
    for (id, kind, base) in entries {
        hasher.update(id.as_bytes());
        hasher.update(&[kind]);
        match base {
            Some(base) => hasher.update(base.as_bytes()),
            None => hasher.update(&[0]),
        };
    }
    hasher.finalize().to_hex().to_string()
}
