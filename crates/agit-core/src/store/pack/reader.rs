//! Reading objects out of every pack in `objects/pack/`.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zstd::zstd_safe::DDict;

use super::entry::{DecodeCache, EntryHeader, Layout, into_vec, read_object};
use super::idx::IdxFile;
use super::source::{FileSource, Source, read_vec};
use super::{IDX_EXT, PACK_EXT, PackError, PackFormat, PackedEntryInfo, is_pack_name, v1, v2};
use crate::error::{Error, Result};
use crate::hash::{DIGEST_LEN, HEX_LEN, ObjectId};
use crate::object::ObjectKind;

/// All packs of a store, opened for lookups.
///
/// `AGITPK2` packs are looked up through their `.idx` (a few positioned reads). `AGITPK1`
/// packs, and `AGITPK2` packs whose idx is missing or unreadable, have their entry
/// headers scanned once at open into an in-memory index. A pack that cannot be opened at
/// all is listed in [`PackSet::broken`] and skipped, so one damaged file does not hide
/// every other packed object; fsck reports it through [`super::verify_pack`].
pub struct PackSet {
    packs: Vec<OpenPack>,
    broken: Vec<BrokenPack>,
}

/// A pack file [`PackSet::open`] could not use.
#[derive(Debug)]
pub struct BrokenPack {
    /// The pack file.
    pub path: PathBuf,
    /// Why it was skipped.
    pub error: Error,
}

/// One packed object as listed by [`PackSet::iter`] or [`PackSet::locate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedObject {
    /// Name (file stem) of the pack holding it.
    pub pack: Arc<str>,
    /// Its entry.
    pub entry: PackedEntryInfo,
}

struct OpenPack {
    name: Arc<str>,
    path: PathBuf,
    file: File,
    layout: Layout,
    len: u64,
    lookup: Lookup,
}

enum Lookup {
    Idx(Box<IdxFile>),
    /// Sorted by id; the first entry of a duplicated id wins.
    Mem(Vec<PackedEntryInfo>),
}

impl PackSet {
    /// An empty set (no pack directory).
    pub fn empty() -> PackSet {
        PackSet { packs: Vec::new(), broken: Vec::new() }
    }

    /// Open every `<64 hex>.pack` in `pack_dir` (a missing directory is an empty set).
    /// Temp files, stray idx files and other names are ignored.
    pub fn open(pack_dir: &Path) -> Result<PackSet> {
        let entries = match fs::read_dir(pack_dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(PackSet::empty()),
            Err(e) => return Err(Error::io("list", pack_dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", pack_dir, e))?;
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str().and_then(|n| n.strip_suffix(".pack")) else { continue };
            if is_pack_name(name) {
                names.push(name.to_owned());
            }
        }
        // Deterministic lookup order whatever the directory order.
        names.sort();
        let mut set = PackSet::empty();
        for name in names {
            let path = pack_dir.join(format!("{name}.{PACK_EXT}"));
            match OpenPack::open(pack_dir, &name, &path) {
                Ok(pack) => set.packs.push(pack),
                Err(error) => set.broken.push(BrokenPack { path, error }),
            }
        }
        Ok(set)
    }

    /// Packs that could not be opened.
    pub fn broken(&self) -> &[BrokenPack] {
        &self.broken
    }

    /// Names of the usable packs.
    pub fn pack_names(&self) -> impl Iterator<Item = &str> {
        self.packs.iter().map(|p| &*p.name)
    }

    /// Where `id` is packed, without reading the object.
    pub fn locate(&self, id: &ObjectId) -> Result<Option<PackedObject>> {
        for pack in &self.packs {
            if let Some(entry) = pack.find(id, true)? {
                return Ok(Some(PackedObject { pack: Arc::clone(&pack.name), entry }));
            }
        }
        Ok(None)
    }

    /// Whether any pack lists `id` (not verified).
    pub fn contains(&self, id: &ObjectId) -> Result<bool> {
        for pack in &self.packs {
            if pack.position(id)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Read an object: kind and verified bytes (entry CRC, zstd frame checks, BLAKE3 of
    /// every object on the delta chain). `None` when no pack has it.
    pub fn get(&self, id: &ObjectId) -> Result<Option<(ObjectKind, Vec<u8>)>> {
        for pack in &self.packs {
            if let Some(entry) = pack.find(id, false)? {
                return pack.read(&entry).map(Some);
            }
        }
        Ok(None)
    }

    /// Packed ids whose lowercase hex starts with `prefix` (1–64 hex digits, either case),
    /// sorted and deduplicated.
    pub fn ids_with_prefix(&self, prefix: &str) -> Result<Vec<ObjectId>> {
        self.ids_with_prefix_limited(prefix, usize::MAX)
    }

    /// Like [`PackSet::ids_with_prefix`], reading at most `limit` ids per pack (prefix
    /// resolution needs only two to know a prefix is ambiguous).
    pub fn ids_with_prefix_limited(&self, prefix: &str, limit: usize) -> Result<Vec<ObjectId>> {
        let (lo, hi) = prefix_range(prefix)?;
        let mut out = Vec::new();
        for pack in &self.packs {
            pack.ids_in_range(&lo, &hi, limit, &mut out)?;
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Every entry of every pack (an id packed twice appears twice), for fsck and gc.
    /// Reads index records in blocks; objects are not decoded.
    pub fn iter(&self) -> impl Iterator<Item = Result<PackedObject>> + '_ {
        self.packs.iter().flat_map(|pack| pack.entries())
    }
}

/// The inclusive id range `[prefix000…, prefixfff…]` of a hex prefix.
fn prefix_range(prefix: &str) -> Result<([u8; DIGEST_LEN], [u8; DIGEST_LEN])> {
    let invalid = |reason| Error::InvalidPrefix { prefix: prefix.to_owned(), reason };
    if prefix.is_empty() || prefix.len() > HEX_LEN {
        return Err(invalid("must be 1 to 64 hex characters"));
    }
    if !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid("not hex"));
    }
    let lower = prefix.to_ascii_lowercase();
    let pad = |c: char| -> Result<[u8; DIGEST_LEN]> {
        let mut text = lower.clone();
        text.extend(std::iter::repeat_n(c, HEX_LEN - lower.len()));
        let mut out = [0u8; DIGEST_LEN];
        hex::decode_to_slice(&text, &mut out).map_err(|_| invalid("not hex"))?;
        Ok(out)
    };
    Ok((pad('0')?, pad('f')?))
}

impl OpenPack {
    fn open(dir: &Path, name: &str, path: &Path) -> Result<OpenPack> {
        let err = |source| Error::Pack { path: path.to_path_buf(), source };
        let file = File::open(path).map_err(|e| Error::io("open pack", path, e))?;
        let len = file.metadata().map_err(|e| Error::io("stat pack", path, e))?.len();
        let src = FileSource { file: &file, len };
        let layout = layout_of(&src).map_err(err)?;
        let idx_path = dir.join(format!("{name}.{IDX_EXT}"));
        let lookup = match layout.format {
            PackFormat::V2 => match open_idx(&src, &idx_path) {
                Ok(idx) => Lookup::Idx(Box::new(idx)),
                // A missing or unusable idx costs one header scan, not the pack.
                Err(_) => Lookup::Mem(scan(&file, &layout).map_err(err)?),
            },
            PackFormat::V1 => Lookup::Mem(scan(&file, &layout).map_err(err)?),
        };
        Ok(OpenPack { name: Arc::from(name), path: path.to_path_buf(), file, layout, len, lookup })
    }

    fn err(&self, source: PackError) -> Error {
        Error::Pack { path: self.path.clone(), source }
    }

    fn position(&self, id: &ObjectId) -> Result<bool> {
        match &self.lookup {
            Lookup::Idx(idx) => idx.find(id).map(|p| p.is_some()).map_err(|e| self.err(e)),
            Lookup::Mem(entries) => Ok(entries.binary_search_by(|e| e.id.cmp(id)).is_ok()),
        }
    }

    /// The entry of `id`; `resolve_base` also reads the base's id (one more read), which
    /// decoding does not need.
    fn find(&self, id: &ObjectId, resolve_base: bool) -> Result<Option<PackedEntryInfo>> {
        match &self.lookup {
            Lookup::Idx(idx) => {
                let Some(pos) = idx.find(id).map_err(|e| self.err(e))? else { return Ok(None) };
                let record = idx.record_at(pos).map_err(|e| self.err(e))?;
                let base = match record.base {
                    Some(b) if resolve_base => Some(idx.id_at(b).map_err(|e| self.err(e))?),
                    _ => None,
                };
                Ok(Some(record.entry(*id, base)))
            }
            Lookup::Mem(entries) => {
                Ok(entries.binary_search_by(|e| e.id.cmp(id)).ok().and_then(|i| entries.get(i)).cloned())
            }
        }
    }

    /// Decode the entry and check it is the one the index promised.
    fn read(&self, entry: &PackedEntryInfo) -> Result<(ObjectKind, Vec<u8>)> {
        let src = FileSource { file: &self.file, len: self.len };
        let (header, bytes) =
            read_object(&src, &self.layout, entry.offset, &mut DecodeCache::none()).map_err(|e| self.err(e))?;
        if header.id != entry.id || header.kind != entry.kind || header.packed_len != entry.packed_len {
            return Err(self.err(PackError::index("index entry does not match the pack entry at its offset")));
        }
        Ok((header.kind, into_vec(bytes)))
    }

    fn ids_in_range(&self, lo: &[u8; 32], hi: &[u8; 32], limit: usize, out: &mut Vec<ObjectId>) -> Result<()> {
        match &self.lookup {
            Lookup::Idx(idx) => idx.ids_in_range(lo, hi, limit, out).map_err(|e| self.err(e)),
            Lookup::Mem(entries) => {
                let start = entries.partition_point(|e| e.id.as_bytes() < lo);
                let matches = entries.iter().skip(start).take_while(|e| e.id.as_bytes() <= hi).take(limit);
                out.extend(matches.map(|e| e.id));
                Ok(())
            }
        }
    }

    fn entries(&self) -> Box<dyn Iterator<Item = Result<PackedObject>> + '_> {
        let wrap = move |entry| PackedObject { pack: Arc::clone(&self.name), entry };
        match &self.lookup {
            Lookup::Mem(entries) => Box::new(entries.iter().cloned().map(move |e| Ok(wrap(e)))),
            Lookup::Idx(idx) => {
                const BLOCK: u32 = 4096;
                let blocks = idx.count().div_ceil(BLOCK);
                Box::new((0..blocks).flat_map(move |b| match idx.entries(b * BLOCK, BLOCK) {
                    Ok(block) => block.into_iter().map(|e| Ok(wrap(e))).collect::<Vec<_>>(),
                    Err(e) => vec![Err(self.err(e))],
                }))
            }
        }
    }
}

/// Detect the format from the file header and compute where entries lie.
pub(crate) fn layout_of<S: Source + ?Sized>(src: &S) -> Result<Layout, PackError> {
    let head = read_vec(src, 0, src.len().min(v2::FILE_HEADER_LEN))?;
    if head.starts_with(v1::MAGIC) {
        v1::check_file_header(&head)?;
        return Ok(Layout {
            format: PackFormat::V1,
            entries_start: v1::FILE_HEADER_LEN,
            entries_end: src.len(),
            dict: None,
        });
    }
    if head.starts_with(v2::MAGIC) {
        let flags = v2::check_file_header(&head)?;
        let Some(entries_end) = src.len().checked_sub(v2::TRAILER_LEN).filter(|end| *end >= v2::FILE_HEADER_LEN) else {
            return Err(PackError::InvalidPackFile { offset: None, reason: "truncated: no trailer" });
        };
        let mut layout = Layout { format: PackFormat::V2, entries_start: v2::FILE_HEADER_LEN, entries_end, dict: None };
        if flags & v2::FLAG_DICT != 0 {
            let (dict, end) = read_dict(src, entries_end)?;
            layout.entries_start = end;
            layout.dict = Some(Arc::new(dict));
        }
        return Ok(layout);
    }
    Err(PackError::InvalidPackFile { offset: Some(0), reason: "bad magic" })
}

/// The dictionary section after the header: `u32` length, then the dictionary (digested
/// here, once). Returns it and the offset just past it.
fn read_dict<S: Source + ?Sized>(src: &S, entries_end: u64) -> Result<(DDict<'static>, u64), PackError> {
    let at = v2::FILE_HEADER_LEN;
    let mut len = [0u8; 4];
    if at + 4 > entries_end {
        return Err(PackError::file(at, "truncated dictionary section"));
    }
    src.read_at(at, &mut len)?;
    let len = u64::from(u32::from_le_bytes(len));
    let end = at + 4 + len;
    if len == 0 || len > v2::MAX_DICT_LEN || end > entries_end {
        return Err(PackError::file(at, "dictionary length out of range"));
    }
    let bytes = read_vec(src, at + 4, len)?;
    let dict = DDict::try_create(&bytes).ok_or(PackError::file(at, "unusable zstd dictionary"))?;
    Ok((dict, end))
}

/// Open an idx and check it belongs to this pack (its recorded checksum equals the
/// pack's trailer).
fn open_idx<S: Source + ?Sized>(src: &S, idx_path: &Path) -> Result<IdxFile, PackError> {
    let idx = IdxFile::open(idx_path)?;
    let mut trailer = [0u8; v2::TRAILER_LEN as usize];
    src.read_at(src.len().saturating_sub(v2::TRAILER_LEN), &mut trailer)?;
    let (_, sum) = v2::parse_trailer(&trailer);
    if &sum != idx.pack_checksum() {
        return Err(PackError::index("index belongs to a different pack"));
    }
    Ok(idx)
}

/// Walk every entry header in order (payloads are skipped, not read) and build a sorted
/// in-memory index. Delta bases must be earlier entries; their ids are resolved here.
pub(crate) fn scan(file: &File, layout: &Layout) -> Result<Vec<PackedEntryInfo>, PackError> {
    let headers = scan_headers(file, layout)?;
    let mut by_offset: HashMap<u64, ObjectId> = HashMap::with_capacity(headers.len());
    let mut out = Vec::with_capacity(headers.len());
    for header in headers {
        let base = match header.base_offset {
            Some(base_offset) => Some(
                *by_offset
                    .get(&base_offset)
                    .ok_or_else(|| PackError::delta(header.offset, "delta base is not an earlier entry"))?,
            ),
            None => None,
        };
        by_offset.insert(header.offset, header.id);
        out.push(header.info(base));
    }
    // Stable: the first entry of a duplicated id stays first and wins.
    out.sort_by_key(|e| e.id);
    out.dedup_by(|later, first| later.id == first.id);
    Ok(out)
}

/// Entry headers of a pack in file order, read through a buffer with payloads skipped.
pub(crate) fn scan_headers(file: &File, layout: &Layout) -> Result<Vec<EntryHeader>, PackError> {
    let io_err = |source| PackError::Io { op: "read pack", source };
    let mut reader = BufReader::with_capacity(64 << 10, file);
    reader.seek(SeekFrom::Start(layout.entries_start)).map_err(io_err)?;
    let mut offset = layout.entries_start;
    let mut headers = Vec::new();
    let header_len = layout.header_len();
    let mut buf = vec![0u8; header_len as usize];
    while offset < layout.entries_end {
        if layout.entries_end - offset < header_len {
            return Err(PackError::file(offset, "truncated entry header"));
        }
        reader.read_exact(&mut buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => PackError::file(offset, "truncated entry header"),
            _ => io_err(e),
        })?;
        let header = parse_any(layout, &buf, offset)?;
        let end = offset
            .checked_add(header_len)
            .and_then(|o| o.checked_add(header.packed_len))
            .filter(|end| *end <= layout.entries_end)
            .ok_or_else(|| PackError::file(offset, "entry payload extends past the end of the pack"))?;
        reader.seek_relative((end - offset - header_len) as i64).map_err(io_err)?;
        offset = end;
        headers.push(header);
    }
    Ok(headers)
}

/// Parse a header of either format from a buffer of the right length.
fn parse_any(layout: &Layout, buf: &[u8], offset: u64) -> Result<EntryHeader, PackError> {
    match layout.format {
        PackFormat::V1 => v1::parse_header(buf, offset),
        PackFormat::V2 => {
            let fixed: &[u8; v2::ENTRY_HEADER_LEN as usize] =
                buf.try_into().map_err(|_| PackError::file(offset, "truncated entry header"))?;
            v2::parse_header(fixed, offset)
        }
    }
}
