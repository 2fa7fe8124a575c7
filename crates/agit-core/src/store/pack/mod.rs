//! Packs: many objects in one file, `objects/pack/<name>.pack`, plus a sorted index
//! `objects/pack/<name>.idx` (DECISIONS §2, improvement 6).
//!
//! Two formats are read: the reference's `AGITPK1` (no index, no compression, single
//! prefix/suffix splice deltas; reference `storage.md` §9) and our `AGITPK2`, which is the
//! only one written. This module is a library: `agit gc` decides what goes into a pack and
//! supplies delta hints; fsck calls [`verify_pack`].
//!
//! All integers are **little-endian**. Object ids are raw 32-byte BLAKE3 digests of the
//! object's exact (unpacked) bytes.
//!
//! # `AGITPK2` pack file
//!
//! ```text
//! header (16) | [dictionary section] | entry 0 | entry 1 | ... | entry n-1 | trailer (40)
//! ```
//!
//! **Header** (16 bytes)
//!
//! | bytes  | field                                                                 |
//! |--------|-----------------------------------------------------------------------|
//! | 0..8   | magic `AGITPK2\n`                                                     |
//! | 8..12  | `u32` version = 2                                                     |
//! | 12..16 | `u32` flags: bit 0 = dictionary section present; other bits must be 0 |
//!
//! **Dictionary section** (only with flag bit 0): `u32` length `d` (1 ..= 1 MiB), then `d`
//! bytes of zstd dictionary (trained or raw content). Entries start right after it.
//!
//! **Entry**: a 64-byte header, then `packed_len` payload bytes.
//!
//! | bytes  | field                                                                        |
//! |--------|------------------------------------------------------------------------------|
//! | 0..32  | object id (BLAKE3 of the unpacked bytes)                                     |
//! | 32     | kind: 1 blob, 2 tree, 3 step, 4 blame, 5 eval                                |
//! | 33     | encoding: 0 stored (raw), 1 zstd, 2 zstd delta, 3 zstd with pack dictionary |
//! | 34..36 | `u16` depth: 0 for stored/zstd, base depth + 1 for a delta (≤ 64)            |
//! | 36..40 | `u32` entry CRC-32 (IEEE) over header bytes 0..36, 40..64 and the payload    |
//! | 40..48 | `u64` unpacked_len (≤ [`MAX_OBJECT_LEN`])                                    |
//! | 48..56 | `u64` packed_len (payload length)                                            |
//! | 56..64 | `u64` base_offset: file offset of the base entry's header, `u64::MAX` = none |
//!
//! Payloads:
//! - **stored**: the object bytes (`packed_len == unpacked_len`); used when zstd would not
//!   make the object smaller.
//! - **zstd**: one zstd frame (standard magic, content size present, no zstd checksum:
//!   the BLAKE3 id already covers the content) decoding to exactly `unpacked_len` bytes.
//! - **zstd with pack dictionary**: as zstd, compressed with the pack's dictionary (the
//!   writer uses it for every full entry when the pack has one). Many small JSON objects
//!   (steps) share most of their vocabulary, which a dictionary captures once per pack.
//! - **zstd delta**: one zstd frame compressed with the base object's *unpacked* bytes as
//!   reference prefix (`ZSTD_CCtx_refPrefix`, i.e. `zstd --patch-from`). Decoding sets the
//!   same prefix. The base must be an *earlier* entry of the same pack
//!   (`base_offset < offset`), and base + target must fit a 2^27-byte window (the zstd
//!   decoder's default limit), so no reader ever needs a larger window.
//!
//! **Trailer** (40 bytes, the last bytes of the file)
//!
//! | bytes | field                                                            |
//! |-------|------------------------------------------------------------------|
//! | 0..8  | `u64` entry count                                                |
//! | 8..40 | pack checksum: BLAKE3 of every byte before it (header .. count)  |
//!
//! **Name**: `<name>` is the lowercase hex of the pack checksum. Unlike the reference's
//! entry-list name this names the exact bytes, so "link without replace" finding an
//! existing file really means the same pack, and an `.idx` can never describe a different
//! pack of the same name.
//!
//! Readers verify per entry, on every read: entry CRC (catches a flipped kind or length,
//! and payload damage before decompression), zstd frame shape and content size against
//! `unpacked_len`, then BLAKE3 of the result against the id. The trailer checksum is read
//! only by full verification ([`verify_pack`], for fsck).
//!
//! # `AGITIX2` index file
//!
//! ```text
//! header (16) | pack checksum (32) | fan-out (256 × 4) | ids (n × 32) | records (n × 24) | checksum (32)
//! ```
//!
//! | bytes                 | field                                                          |
//! |-----------------------|----------------------------------------------------------------|
//! | 0..8                  | magic `AGITIX2\n`                                              |
//! | 8..12                 | `u32` version = 2                                              |
//! | 12..16                | `u32` flags = 0                                                |
//! | 16..48                | the pack's checksum (= its name, binds the idx to one pack)    |
//! | 48..1072              | fan-out: 256 × `u32`, entry `b` = number of ids whose first byte ≤ `b`; `n` = entry 255 |
//! | 1072..1072+32n        | ids, strictly ascending                                        |
//! | then 24n              | records, in id order (below)                                   |
//! | last 32               | BLAKE3 of every byte before it                                 |
//!
//! Record (24 bytes, same position as its id):
//!
//! | bytes  | field                                                              |
//! |--------|--------------------------------------------------------------------|
//! | 0..8   | `u64` offset of the entry header in the pack                       |
//! | 8..12  | `u32` packed_len                                                   |
//! | 12..16 | `u32` unpacked_len                                                 |
//! | 16     | kind (as in the pack)                                              |
//! | 17     | encoding (as in the pack)                                          |
//! | 18..20 | `u16` depth                                                        |
//! | 20..24 | `u32` position of the delta base in this idx, `u32::MAX` = none    |
//!
//! File size is exactly `1104 + 56 n`. A lookup reads the fan-out once (at open), then
//! binary-searches the id table with positioned reads (`pread`, about log2(n/256) reads),
//! then reads one record and the entry: the pack is never scanned. The idx checksum is
//! checked by full verification only; a read through a damaged idx cannot return wrong
//! bytes, because the entry found must carry the requested id and pass its own checks.
//!
//! The writer publishes the pack (temp file, fsync, hard link without replace, directory
//! fsync) before the idx, so a crash leaves at worst a pack without idx; [`PackSet`] then
//! scans that pack's entry headers once at open, as it does for `AGITPK1` packs.
//!
//! # Writing
//!
//! The caller (gc) orders objects so that each object's *hint* (its previous version:
//! same path in the previous tree, previous tree, previous step, previous blame of the
//! path) comes before it. Hints form chains; version `n` of a chain deltas against
//! version `n - lowbit(n)` ("skip-deltas"), so chains stay about log2(versions) deep
//! while each delta spans few versions. A delta is kept only when smaller than the full
//! entry. Defaults: zstd level 19 and depth ≤ 10. Figures from `examples/pack_bench.rs`
//! (simulated 1,000-step history, 500 files, 198 MB raw; git: same files, step JSON as
//! commit messages, `git gc --aggressive` = 6.01 MB in 54 s):
//!
//! | setting              | pack + idx | write  |
//! |----------------------|------------|--------|
//! | level 3, no deltas   | 38.8 MB    | 1.7 s  |
//! | level 3              | 7.0 MB     | 1.7 s  |
//! | level 9              | 6.5 MB     | 2.6 s  |
//! | level 9 + dictionary | 5.8 MB     | 2.7 s  |
//! | level 19             | 6.3 MB     | 23 s   |
//! | level 19 + dictionary| 5.5 MB     | 33 s   |
//!
//! Level 19 is the default because packs are written once, by gc, and read often:
//! decompression speed does not depend on the level, and the store-size budget is set
//! against `git gc --aggressive`. A gc that must be quick can pass level 9. A
//! dictionary ([`train_dictionary`] on a few hundred steps, [`PackOptions::dictionary`])
//! saves a further 11–13%.

mod delta;
mod entry;
mod idx;
mod reader;
mod source;
pub mod test_support;
mod v1;
mod v2;
mod verify;
mod writer;

#[cfg(test)]
mod tests;

use std::io;

use crate::hash::ObjectId;
use crate::object::ObjectKind;

pub use idx::{ParsedIdx, parse_idx_bytes};
pub use reader::{BrokenPack, PackSet, PackedObject};
pub use verify::{PackVerifyReport, ParsedPack, parse_pack_bytes, verify_pack};
pub use writer::{PackInfo, PackInput, PackOptions, PackWriter, train_dictionary, write_pack, write_pack_with};

/// Largest object a pack may hold (unpacked). Readers refuse larger `unpacked_len`
/// before allocating; the writer leaves larger objects out (they stay loose).
pub const MAX_OBJECT_LEN: u64 = 1 << 30;

/// Longest delta chain a reader follows (hostile-input bound). Writers stay at or below
/// [`PackOptions::max_depth`], which is clamped to this.
pub const MAX_CHAIN_DEPTH: u16 = 64;

/// File-name extension of packs.
pub const PACK_EXT: &str = "pack";
/// File-name extension of pack indexes.
pub const IDX_EXT: &str = "idx";

/// Which pack format a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PackFormat {
    /// The reference's `AGITPK1` (read only).
    V1,
    /// `AGITPK2` (ours).
    V2,
}

/// How an entry's payload encodes the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PackEncoding {
    /// `AGITPK1` full entry: the raw bytes.
    Full,
    /// `AGITPK1` delta: one prefix/suffix splice against the base.
    SpliceDelta,
    /// `AGITPK2` raw bytes (zstd would not shrink them).
    Stored,
    /// `AGITPK2` one zstd frame.
    Zstd,
    /// `AGITPK2` one zstd frame with the base's bytes as reference prefix.
    ZstdDelta,
    /// `AGITPK2` one zstd frame compressed with the pack's dictionary.
    ZstdDict,
}

impl PackEncoding {
    /// Name for the index (`packed_objects.encoding`) and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            PackEncoding::Full => "full",
            PackEncoding::SpliceDelta => "delta",
            PackEncoding::Stored => "stored",
            PackEncoding::Zstd => "zstd",
            PackEncoding::ZstdDelta => "zstd_delta",
            PackEncoding::ZstdDict => "zstd_dict",
        }
    }

    /// Whether the entry needs a base.
    pub fn is_delta(self) -> bool {
        matches!(self, PackEncoding::SpliceDelta | PackEncoding::ZstdDelta)
    }
}

/// One entry of a pack, as the writer produced it or an index describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedEntryInfo {
    /// The object's id.
    pub id: ObjectId,
    /// The object's kind (recorded when it was packed, never sniffed).
    pub kind: ObjectKind,
    /// Payload encoding.
    pub encoding: PackEncoding,
    /// File offset of the entry header.
    pub offset: u64,
    /// Payload length in the pack.
    pub packed_len: u64,
    /// Object length.
    pub unpacked_len: u64,
    /// The delta base, for delta entries.
    pub base: Option<ObjectId>,
    /// Delta chain depth (0 for full entries).
    pub depth: u16,
}

/// Why a pack or pack index could not be read (or written). The variant name is the
/// diagnostic hint, like the reference's error names.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// Not a pack, truncated, or a header field is out of range.
    #[error("invalid pack file{}: {reason}", at(*offset))]
    InvalidPackFile { offset: Option<u64>, reason: &'static str },

    /// A pack magic we know with a version we do not.
    #[error("unsupported pack version {version}")]
    UnsupportedPackVersion { version: u32 },

    /// The entry's CRC-32 does not match (AGITPK1: of the unpacked bytes; AGITPK2: of the
    /// entry header and payload).
    #[error("pack entry at offset {offset} fails its CRC-32 check")]
    PackCrcMismatch { offset: u64 },

    /// The unpacked bytes do not hash to the entry's id.
    #[error("pack entry at offset {offset} does not hash to its id {expected}")]
    PackHashMismatch { offset: u64, expected: ObjectId },

    /// The AGITPK2 trailer checksum does not match the pack's bytes.
    #[error("pack checksum does not match its contents")]
    PackChecksumMismatch,

    /// A delta cannot be applied (bad base, bad payload, chain too deep).
    #[error("invalid pack delta at offset {offset}: {reason}")]
    InvalidPackDelta { offset: u64, reason: &'static str },

    /// The `.idx` file is malformed, fails its checksum, or disagrees with its pack.
    #[error("invalid pack index: {reason}")]
    InvalidPackIndex { reason: &'static str },

    /// An object handed to the writer does not hash to its claimed id.
    #[error("object {id} given to the pack writer does not hash to its id")]
    InvalidPackInput { id: ObjectId },

    /// zstd refused to compress (out of memory or an internal error).
    #[error("compression failed: {reason}")]
    Compression { reason: &'static str },

    /// Reading the file failed.
    #[error("{op}: {source}")]
    Io {
        op: &'static str,
        #[source]
        source: io::Error,
    },
}

fn at(offset: Option<u64>) -> String {
    offset.map_or_else(String::new, |o| format!(" at offset {o}"))
}

impl PackError {
    /// The stable diagnostic code (`pack_read_failed` for anything read from disk).
    pub fn code(&self) -> &'static str {
        match self {
            PackError::InvalidPackInput { .. } | PackError::Compression { .. } => "pack_write_failed",
            _ => "pack_read_failed",
        }
    }

    /// The variant's name, used as the diagnostic hint.
    pub fn name(&self) -> &'static str {
        match self {
            PackError::InvalidPackFile { .. } => "InvalidPackFile",
            PackError::UnsupportedPackVersion { .. } => "UnsupportedPackVersion",
            PackError::PackCrcMismatch { .. } => "PackCrcMismatch",
            PackError::PackHashMismatch { .. } => "PackHashMismatch",
            PackError::PackChecksumMismatch => "PackChecksumMismatch",
            PackError::InvalidPackDelta { .. } => "InvalidPackDelta",
            PackError::InvalidPackIndex { .. } => "InvalidPackIndex",
            PackError::InvalidPackInput { .. } => "InvalidPackInput",
            PackError::Compression { .. } => "Compression",
            PackError::Io { .. } => "Io",
        }
    }

    pub(crate) fn file(offset: u64, reason: &'static str) -> PackError {
        PackError::InvalidPackFile { offset: Some(offset), reason }
    }

    pub(crate) fn delta(offset: u64, reason: &'static str) -> PackError {
        PackError::InvalidPackDelta { offset, reason }
    }

    pub(crate) fn index(reason: &'static str) -> PackError {
        PackError::InvalidPackIndex { reason }
    }
}

/// Kind byte shared by both formats (AGITPK1 has no eval).
pub(crate) fn kind_code(kind: ObjectKind) -> u8 {
    match kind {
        ObjectKind::Blob => 1,
        ObjectKind::Tree => 2,
        ObjectKind::Step => 3,
        ObjectKind::Blame => 4,
        ObjectKind::Eval => 5,
    }
}

pub(crate) fn kind_from_code(code: u8, format: PackFormat) -> Option<ObjectKind> {
    match (code, format) {
        (1, _) => Some(ObjectKind::Blob),
        (2, _) => Some(ObjectKind::Tree),
        (3, _) => Some(ObjectKind::Step),
        (4, _) => Some(ObjectKind::Blame),
        (5, PackFormat::V2) => Some(ObjectKind::Eval),
        _ => None,
    }
}

/// `<name>.pack` / `<name>.idx` names are 64 lowercase hex characters.
pub(crate) fn is_pack_name(name: &str) -> bool {
    crate::hash::is_canonical_hex_id(name)
}
