//! Format-independent entry access: read a header, follow a delta chain, decode and
//! verify. Used by lookups (through a file), scans, full verification and the writer
//! (which rebuilds evicted delta bases from the pack it is writing).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use zstd::zstd_safe::DDict;

use super::source::{Source, read_vec};
use super::{MAX_CHAIN_DEPTH, PackEncoding, PackError, PackFormat, PackedEntryInfo, v1, v2};
use crate::hash::ObjectId;
use crate::object::ObjectKind;

/// Where the entries of a pack lie, and the pack's zstd dictionary if it has one.
#[derive(Clone)]
pub(crate) struct Layout {
    pub format: PackFormat,
    /// Offset of the first entry (right after the file header).
    pub entries_start: u64,
    /// Offset just past the last entry (the file end, or the AGITPK2 trailer).
    pub entries_end: u64,
    /// AGITPK2 pack dictionary (digested once, at open).
    pub dict: Option<Arc<DDict<'static>>>,
}

impl Layout {
    pub fn header_len(&self) -> u64 {
        match self.format {
            PackFormat::V1 => v1::ENTRY_HEADER_LEN,
            PackFormat::V2 => v2::ENTRY_HEADER_LEN,
        }
    }
}

/// A parsed, range-checked entry header.
#[derive(Debug, Clone)]
pub(crate) struct EntryHeader {
    pub offset: u64,
    pub id: ObjectId,
    pub kind: ObjectKind,
    pub encoding: PackEncoding,
    pub depth: u16,
    pub unpacked_len: u64,
    pub packed_len: u64,
    pub base_offset: Option<u64>,
    /// AGITPK1: CRC-32 of the unpacked bytes. AGITPK2: CRC-32 of header and payload.
    pub crc: u32,
    /// AGITPK2: CRC state over the header's covered bytes, to be finished with the payload.
    pub crc_state: Option<crc32fast::Hasher>,
}

impl EntryHeader {
    pub fn payload_offset(&self, layout: &Layout) -> u64 {
        self.offset + layout.header_len()
    }

    /// Offset just past this entry's payload.
    pub fn end(&self, layout: &Layout) -> u64 {
        self.payload_offset(layout) + self.packed_len
    }

    pub fn info(&self, base: Option<ObjectId>) -> PackedEntryInfo {
        PackedEntryInfo {
            id: self.id,
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

/// Read and check the header at `offset`: it and its payload must lie within the entries.
pub(crate) fn read_header<S: Source + ?Sized>(src: &S, layout: &Layout, offset: u64) -> Result<EntryHeader, PackError> {
    let header_len = layout.header_len();
    let fits =
        offset >= layout.entries_start && offset.checked_add(header_len).is_some_and(|end| end <= layout.entries_end);
    if !fits {
        return Err(PackError::file(offset, "entry header lies outside the pack's entries"));
    }
    let header = match layout.format {
        PackFormat::V1 => {
            let mut buf = [0u8; v1::ENTRY_HEADER_LEN as usize];
            src.read_at(offset, &mut buf)?;
            v1::parse_header(&buf, offset)?
        }
        PackFormat::V2 => {
            let mut buf = [0u8; v2::ENTRY_HEADER_LEN as usize];
            src.read_at(offset, &mut buf)?;
            v2::parse_header(&buf, offset)?
        }
    };
    let payload_end = (offset + header_len).checked_add(header.packed_len);
    if payload_end.is_none_or(|end| end > layout.entries_end) {
        return Err(PackError::file(offset, "entry payload extends past the end of the pack"));
    }
    Ok(header)
}

/// Recently decoded objects by entry offset, bounded by total bytes, so sequential
/// verification and the writer do not decode a delta base again for every target.
pub(crate) struct DecodeCache {
    map: HashMap<u64, Arc<Vec<u8>>>,
    order: VecDeque<u64>,
    bytes: usize,
    budget: usize,
}

impl DecodeCache {
    pub fn new(budget: usize) -> Self {
        DecodeCache { map: HashMap::new(), order: VecDeque::new(), bytes: 0, budget }
    }

    /// No caching (single lookups).
    pub fn none() -> Self {
        DecodeCache::new(0)
    }

    pub fn get(&self, offset: u64) -> Option<Arc<Vec<u8>>> {
        self.map.get(&offset).cloned()
    }

    pub fn insert(&mut self, offset: u64, bytes: Arc<Vec<u8>>) {
        if bytes.len() > self.budget || self.map.contains_key(&offset) {
            return;
        }
        while self.bytes + bytes.len() > self.budget {
            let Some(old) = self.order.pop_front() else { break };
            if let Some(evicted) = self.map.remove(&old) {
                self.bytes -= evicted.len();
            }
        }
        self.bytes += bytes.len();
        self.order.push_back(offset);
        self.map.insert(offset, bytes);
    }
}

/// Read, decode and verify the object whose entry header is at `offset`, following its
/// delta chain (each base strictly earlier, at most [`MAX_CHAIN_DEPTH`] links). Every
/// entry on the chain is verified, not just the last.
pub(crate) fn read_object<S: Source + ?Sized>(
    src: &S,
    layout: &Layout,
    offset: u64,
    cache: &mut DecodeCache,
) -> Result<(EntryHeader, Arc<Vec<u8>>), PackError> {
    let mut chain = vec![read_header(src, layout, offset)?];
    // Walk down to a full entry (or a cached one), checking every link.
    let mut start: Option<Arc<Vec<u8>>> = None;
    while let Some(child) = chain.last() {
        if chain.len() > 1
            && let Some(hit) = cache.get(child.offset)
        {
            start = Some(hit);
            break;
        }
        let Some(base_offset) = child.base_offset else { break };
        if chain.len() > usize::from(MAX_CHAIN_DEPTH) {
            return Err(PackError::delta(offset, "delta chain is deeper than 64"));
        }
        let child_offset = child.offset;
        let child_depth = child.depth;
        let base = read_header(src, layout, base_offset).map_err(|e| match e {
            PackError::InvalidPackFile { reason, .. } => PackError::InvalidPackDelta { offset: child_offset, reason },
            other => other,
        })?;
        if layout.format == PackFormat::V2 && base.depth.checked_add(1) != Some(child_depth) {
            return Err(PackError::delta(child_offset, "delta depth is not its base's depth + 1"));
        }
        chain.push(base);
    }
    let mut current = start;
    // A cached start is the last chain element, already decoded.
    let skip = usize::from(current.is_some());
    let mut iter = chain.into_iter().rev().skip(skip).peekable();
    let mut last_header = None;
    while let Some(header) = iter.next() {
        let payload = read_vec(src, header.payload_offset(layout), header.packed_len)?;
        let bytes = match layout.format {
            PackFormat::V1 => v1::decode(&header, &payload, current.as_deref().map(Vec::as_slice))?,
            PackFormat::V2 => {
                v2::decode(&header, &payload, current.as_deref().map(Vec::as_slice), layout.dict.as_deref())?
            }
        };
        let bytes = Arc::new(bytes);
        // Only bases are worth caching; the caller decides about the final object.
        if iter.peek().is_some() {
            cache.insert(header.offset, Arc::clone(&bytes));
        }
        current = Some(bytes);
        last_header = Some(header);
    }
    match (last_header, current) {
        (Some(header), Some(bytes)) => Ok((header, bytes)),
        // Only reachable if the target itself was a cache hit, which the loop excludes.
        _ => Err(PackError::file(offset, "empty delta chain")),
    }
}

/// Take the bytes out of an `Arc` without copying when it is the only owner.
pub(crate) fn into_vec(bytes: Arc<Vec<u8>>) -> Vec<u8> {
    Arc::try_unwrap(bytes).unwrap_or_else(|shared| (*shared).clone())
}

/// Verify decoded bytes against the header's id.
pub(crate) fn check_hash(header: &EntryHeader, bytes: &[u8]) -> Result<(), PackError> {
    if ObjectId::of(bytes) != header.id {
        return Err(PackError::PackHashMismatch { offset: header.offset, expected: header.id });
    }
    Ok(())
}
