//! Loose objects and packs: paths, hashes, full pack verification; reading for the walk.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Category, Check, Loc, Scan, Status};
use crate::error::Error;
use crate::hash::{HEX_LEN, ObjectId};
use crate::store::loose;
use crate::store::pack::{PackError, verify_pack};

/// An object read for the walk.
pub(super) enum Load {
    Bytes(Vec<u8>),
    Missing,
    /// Stored but unreadable or damaged (reported by the integrity checks).
    Corrupt,
}

fn is_lower_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> =
        fs::read_dir(dir).map(|rd| rd.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    out.sort();
    out
}

fn name_of(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

impl Scan<'_> {
    /// Walk `objects/` (skipping `pack/`): shard layout, hex names, BLAKE3 of contents.
    pub(super) fn scan_loose(&mut self) {
        let objects_dir = self.store.objects_dir();
        for shard in sorted_entries(&objects_dir) {
            let shard_name = name_of(&shard);
            if shard_name == "pack" && shard.is_dir() {
                continue;
            }
            if shard_name.starts_with(".tmp-") {
                continue; // a write in progress
            }
            if !shard.is_dir() || shard_name.len() != 2 {
                self.invalid_path(&shard, "Loose object path has an invalid shard layout");
                continue;
            }
            if !is_lower_hex(&shard_name) {
                self.invalid_path(&shard, "Loose object path is not valid lowercase hex");
                continue;
            }
            for file in sorted_entries(&shard) {
                let rest = name_of(&file);
                if rest.starts_with('.') {
                    continue; // temp files of writes in progress (`.tmp-*`, `.repair-*`)
                }
                if file.is_dir() || rest.len() != HEX_LEN - 2 {
                    self.invalid_path(&file, "Loose object path has an invalid shard layout");
                    continue;
                }
                let Some(id) = ObjectId::parse(&format!("{shard_name}{rest}")).filter(|_| is_lower_hex(&rest)) else {
                    self.invalid_path(&file, "Loose object path is not valid lowercase hex");
                    continue;
                };
                self.stats.object_files += 1;
                self.stored.insert(id, Loc::Loose(file.clone()));
                let display = self.display(&file);
                match fs::read(&file) {
                    Ok(bytes) if ObjectId::of(&bytes) == id => {}
                    Ok(_) => self.push(
                        Category::Objects,
                        Check::new(
                            "object_hash_mismatch",
                            Status::Error,
                            "Loose object content does not match its BLAKE3 path.",
                        )
                        .hint("The object file is corrupt; restore it from a remote, a bundle or a backup.")
                        .path(Some(display))
                        .hash(&id),
                    ),
                    Err(e) => self.push(
                        Category::Objects,
                        Check::new(
                            "object_read_failed",
                            Status::Error,
                            format!("Loose object could not be read: {display}."),
                        )
                        .hint(e.to_string())
                        .path(Some(display.clone()))
                        .hash(&id),
                    ),
                }
            }
        }
    }

    fn invalid_path(&mut self, path: &Path, message: &str) {
        let display = self.display(path);
        self.push(
            Category::Objects,
            Check::new("object_path_invalid", Status::Error, format!("{message}: {display}."))
                .hint("Loose objects live at .agit/objects/<2 hex>/<62 hex>; move or remove this file.")
                .path(Some(display)),
        );
    }

    /// Verify every `*.pack` end to end, then list the entries of the packs that open.
    pub(super) fn scan_packs(&mut self) {
        let pack_dir = self.store.pack_dir();
        let mut failed = std::collections::HashSet::new();
        for path in sorted_entries(&pack_dir) {
            if path.extension().and_then(|e| e.to_str()) != Some("pack") || !path.is_file() {
                continue;
            }
            if let Err(error) = verify_pack(&path) {
                failed.insert(path.clone());
                let file_name = name_of(&path);
                let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                let (hint, offset, at) = match &error {
                    Error::Pack { source, path: at } => {
                        (source.name().to_owned(), pack_error_offset(source), at.clone())
                    }
                    Error::Io { .. } => ("Io".to_owned(), None, path.clone()),
                    other => (other.code().to_owned(), None, path.clone()),
                };
                let shown = match offset {
                    Some(o) if at == path => format!("{}@{o}", self.display(&pack_dir.join(&stem))),
                    _ => self.display(&at),
                };
                self.push(
                    Category::Packs,
                    Check::new(
                        "pack_read_failed",
                        Status::Error,
                        format!("Packed object file could not be parsed: {file_name}."),
                    )
                    .hint(hint)
                    .path(Some(shown)),
                );
            }
        }
        let packs = Arc::clone(&self.packs);
        for broken in packs.broken() {
            // Normally already reported by verify_pack; make sure it is not silent.
            let display = self.display(&broken.path);
            if !failed.contains(&broken.path) {
                self.push(
                    Category::Packs,
                    Check::new(
                        "pack_read_failed",
                        Status::Error,
                        format!("Packed object file could not be parsed: {}.", name_of(&broken.path)),
                    )
                    .hint(broken.error.code())
                    .path(Some(display)),
                );
            }
        }
        for entry in packs.iter() {
            match entry {
                Ok(object) => {
                    self.stats.packed_objects += 1;
                    self.stored
                        .entry(object.entry.id)
                        .or_insert(Loc::Packed { pack: Arc::clone(&object.pack), offset: object.entry.offset });
                }
                Err(error) => self.push(
                    Category::Packs,
                    Check::new(
                        "pack_read_failed",
                        Status::Error,
                        format!("Packed object file could not be parsed: {error}."),
                    )
                    .hint(error.code()),
                ),
            }
        }
    }

    /// Read an object (loose first, then packs), verified.
    pub(super) fn load(&self, id: &ObjectId) -> Load {
        match loose::read(&self.store.objects_dir(), id) {
            Ok(Some(bytes)) => return Load::Bytes(bytes),
            Ok(None) => {}
            Err(_) => return Load::Corrupt,
        }
        match self.packs.get(id) {
            Ok(Some((_, bytes))) => Load::Bytes(bytes),
            Ok(None) => Load::Missing,
            Err(_) => Load::Corrupt,
        }
    }

    /// Whether the object is stored (damaged or not). An object missing from the
    /// listing taken at the start may have been written since by a concurrent finalize
    /// (its ref moved after the listing): look on disk before calling it missing.
    pub(super) fn exists(&self, id: &ObjectId) -> bool {
        self.stored.contains_key(id) || loose::exists(&self.store.objects_dir(), id)
    }
}

fn pack_error_offset(error: &PackError) -> Option<u64> {
    match error {
        PackError::InvalidPackFile { offset, .. } => *offset,
        PackError::PackCrcMismatch { offset }
        | PackError::PackHashMismatch { offset, .. }
        | PackError::InvalidPackDelta { offset, .. } => Some(*offset),
        _ => None,
    }
}
