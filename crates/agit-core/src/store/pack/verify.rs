//! Full verification of a pack (fsck) and the in-memory parser used by fuzz targets.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io;
use std::path::Path;

use super::entry::{DecodeCache, Layout, read_header, read_object};
use super::idx::parse_idx_bytes;
use super::reader::layout_of;
use super::source::{FileSource, Source};
use super::{IDX_EXT, MAX_CHAIN_DEPTH, PackError, PackFormat, PackedEntryInfo, kind_code, v1, v2};
use crate::error::{Error, Result};
use crate::hash::ObjectId;

/// Decoded bases kept while verifying, so a chain is not decoded again per entry.
const VERIFY_CACHE_BYTES: usize = 64 << 20;

/// A pack parsed and verified from end to end.
#[derive(Debug, Clone)]
pub struct ParsedPack {
    /// Format of the file.
    pub format: PackFormat,
    /// The name the pack should have: AGITPK2, hex of the trailer checksum; AGITPK1, the
    /// reference's BLAKE3 over the entry list.
    pub name: String,
    /// AGITPK2 trailer checksum.
    pub checksum: Option<[u8; 32]>,
    /// Entries in pack order.
    pub entries: Vec<PackedEntryInfo>,
    /// Sum of the objects' lengths.
    pub unpacked_bytes: u64,
}

/// What [`verify_pack`] checked.
#[derive(Debug, Clone)]
pub struct PackVerifyReport {
    /// File stem of the pack.
    pub name: String,
    /// Format of the file.
    pub format: PackFormat,
    /// Number of entries (all decoded and hash-verified).
    pub entries: u64,
    /// Entries stored whole.
    pub full: u64,
    /// Delta entries.
    pub deltas: u64,
    /// Deepest delta chain.
    pub max_depth: u16,
    /// Pack file size.
    pub pack_bytes: u64,
    /// Sum of the objects' lengths.
    pub unpacked_bytes: u64,
    /// An AGITPK2 idx was present (and was verified against the pack). AGITPK1 packs
    /// have none; an AGITPK2 pack without one still reads (by a scan at open).
    pub idx_present: bool,
    /// The file name is the name the contents imply. Always true for AGITPK2 (a
    /// mismatch is an error); informational for AGITPK1.
    pub name_matches: bool,
}

/// Parse and fully verify a pack held in memory: header, every entry (CRC, delta base
/// strictly earlier and at an entry start, depth, decode, BLAKE3), and the AGITPK2
/// trailer. Never panics on any input (fuzz entry point); memory is bounded by the input
/// size, the per-object limit and a fixed decode cache.
pub fn parse_pack_bytes(bytes: &[u8]) -> Result<ParsedPack, PackError> {
    parse_source(bytes)
}

/// Fully verify the pack at `path` (and its `.idx`, if any), for fsck: every entry
/// decodes and hashes to its id, checksums match, the idx is well formed, matches its
/// checksum and lists exactly the pack's entries.
pub fn verify_pack(path: &Path) -> Result<PackVerifyReport> {
    let err = |source| Error::Pack { path: path.to_path_buf(), source };
    let file = File::open(path).map_err(|e| Error::io("open pack", path, e))?;
    let len = file.metadata().map_err(|e| Error::io("stat pack", path, e))?.len();
    let parsed = parse_source(&FileSource { file: &file, len }).map_err(err)?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
    let name_matches = stem == parsed.name;
    let mut idx_present = false;
    if parsed.format == PackFormat::V2 {
        if !name_matches {
            return Err(err(PackError::InvalidPackFile {
                offset: None,
                reason: "pack name does not match its checksum",
            }));
        }
        let idx_path = path.with_extension(IDX_EXT);
        match fs::read(&idx_path) {
            Ok(bytes) => {
                idx_present = true;
                let idx_err = |source| Error::Pack { path: idx_path.clone(), source };
                let idx = parse_idx_bytes(&bytes).map_err(idx_err)?;
                check_idx_matches(&parsed, &idx.pack_checksum, &idx.entries).map_err(idx_err)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("read pack index", &idx_path, e)),
        }
    }
    let deltas = parsed.entries.iter().filter(|e| e.encoding.is_delta()).count() as u64;
    Ok(PackVerifyReport {
        name: stem,
        format: parsed.format,
        entries: parsed.entries.len() as u64,
        full: parsed.entries.len() as u64 - deltas,
        deltas,
        max_depth: parsed.entries.iter().map(|e| e.depth).max().unwrap_or(0),
        pack_bytes: len,
        unpacked_bytes: parsed.unpacked_bytes,
        idx_present,
        name_matches,
    })
}

/// The idx must describe this pack and list exactly its entries.
fn check_idx_matches(
    pack: &ParsedPack,
    idx_checksum: &[u8; 32],
    idx_entries: &[PackedEntryInfo],
) -> Result<(), PackError> {
    if Some(idx_checksum) != pack.checksum.as_ref() {
        return Err(PackError::index("index belongs to a different pack"));
    }
    let mut sorted: Vec<&PackedEntryInfo> = pack.entries.iter().collect();
    sorted.sort_by_key(|e| e.id);
    if sorted.len() != idx_entries.len() || sorted.iter().zip(idx_entries).any(|(p, i)| *p != i) {
        return Err(PackError::index("index entries disagree with the pack"));
    }
    Ok(())
}

fn parse_source<S: Source + ?Sized>(src: &S) -> Result<ParsedPack, PackError> {
    let layout = layout_of(src)?;
    let entries = verify_entries(src, &layout)?;
    let unpacked_bytes = entries.iter().map(|e| e.unpacked_len).sum();
    let (name, checksum) = match layout.format {
        PackFormat::V1 => {
            let name = v1::pack_name(entries.iter().map(|e| (e.id, kind_code(e.kind), e.base)));
            (name, None)
        }
        PackFormat::V2 => {
            let mut trailer = [0u8; v2::TRAILER_LEN as usize];
            src.read_at(layout.entries_end, &mut trailer)?;
            let (count, sum) = v2::parse_trailer(&trailer);
            if count != entries.len() as u64 {
                return Err(PackError::InvalidPackFile {
                    offset: Some(layout.entries_end),
                    reason: "trailer entry count disagrees with the entries",
                });
            }
            if checksum_of(src, layout.entries_end + 8)? != sum {
                return Err(PackError::PackChecksumMismatch);
            }
            (hex::encode(sum), Some(sum))
        }
    };
    Ok(ParsedPack { format: layout.format, name, checksum, entries, unpacked_bytes })
}

/// Walk entries in order; decode and verify each one.
fn verify_entries<S: Source + ?Sized>(src: &S, layout: &Layout) -> Result<Vec<PackedEntryInfo>, PackError> {
    let mut cache = DecodeCache::new(VERIFY_CACHE_BYTES);
    let mut by_offset: HashMap<u64, (ObjectId, u16)> = HashMap::new();
    let mut seen: HashMap<ObjectId, u64> = HashMap::new();
    let mut entries = Vec::new();
    let mut offset = layout.entries_start;
    while offset < layout.entries_end {
        let header = read_header(src, layout, offset)?;
        // Chain depth as computed from the bases (AGITPK1 headers do not state it
        // reliably); the decode cache must not let a long chain through.
        let (base, depth) = match header.base_offset {
            Some(b) => {
                let (base_id, base_depth) =
                    *by_offset.get(&b).ok_or_else(|| PackError::delta(offset, "delta base is not an earlier entry"))?;
                (Some(base_id), base_depth + 1)
            }
            None => (None, 0),
        };
        if depth > MAX_CHAIN_DEPTH {
            return Err(PackError::delta(offset, "delta chain is deeper than 64"));
        }
        // Our writer never repeats an id; the reference's reader would accept it.
        if layout.format == PackFormat::V2 && seen.insert(header.id, offset).is_some() {
            return Err(PackError::file(offset, "duplicate object id"));
        }
        let (decoded, bytes) = read_object(src, layout, offset, &mut cache)?;
        cache.insert(offset, bytes);
        by_offset.insert(offset, (header.id, depth));
        let next = header.end(layout);
        entries.push(decoded.info(base));
        offset = next;
    }
    Ok(entries)
}

/// BLAKE3 of the first `len` bytes, read in blocks.
fn checksum_of<S: Source + ?Sized>(src: &S, len: u64) -> Result<[u8; 32], PackError> {
    const BLOCK: u64 = 1 << 20;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; BLOCK.min(len) as usize];
    let mut pos = 0u64;
    while pos < len {
        let n = BLOCK.min(len - pos) as usize;
        let chunk = buf.get_mut(..n).unwrap_or_default();
        src.read_at(pos, chunk)?;
        hasher.update(chunk);
        pos += n as u64;
    }
    Ok(*hasher.finalize().as_bytes())
}
