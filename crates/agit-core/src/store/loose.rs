//! Loose objects: `objects/<2 hex>/<62 hex>`, raw bytes, written once and never replaced.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::durable;
use crate::error::{Error, Result};
use crate::hash::{HEX_LEN, ObjectId};

/// Path of a loose object under the `objects/` directory.
pub fn object_path(objects_dir: &Path, id: &ObjectId) -> PathBuf {
    let hex = id.to_hex();
    objects_dir.join(&hex[..2]).join(&hex[2..])
}

/// Write `bytes` as a loose object; returns its id and whether this call created it.
/// Idempotent: an existing object of the right size is left untouched; one of the wrong
/// size (a write torn by a crash before the next flush) is replaced. The object is
/// durable after the next `durable::sync_filesystem`, which every ref update performs.
pub fn write(objects_dir: &Path, bytes: &[u8]) -> Result<(ObjectId, bool)> {
    let id = ObjectId::of(bytes);
    let path = object_path(objects_dir, &id);
    match std::fs::metadata(&path) {
        Ok(meta) if meta.len() == bytes.len() as u64 => return Ok((id, false)),
        Ok(_) => {
            // Torn by a crash: the content is addressed by its hash, so rewriting is safe.
            let dir = path.parent().unwrap_or(objects_dir);
            let tmp_target = dir.join(format!(".repair-{}", &id.to_hex()[2..]));
            // A repair file left by an earlier crash may be torn itself: start afresh.
            let _ = std::fs::remove_file(&tmp_target);
            durable::write_new_deferred(&tmp_target, bytes, durable::OBJECT_MODE)?;
            std::fs::rename(&tmp_target, &path).map_err(|e| Error::io("replace torn object", &path, e))?;
            return Ok((id, true));
        }
        Err(_) => {}
    }
    if let Some(shard) = path.parent()
        && !shard.is_dir()
    {
        std::fs::create_dir_all(shard).map_err(|e| Error::io("create directory", shard, e))?;
    }
    let created = durable::write_new_deferred(&path, bytes, durable::OBJECT_MODE)?;
    Ok((id, created))
}

/// Read and verify a loose object. `Ok(None)` when it is not stored loose.
pub fn read(objects_dir: &Path, id: &ObjectId) -> Result<Option<Vec<u8>>> {
    let path = object_path(objects_dir, id);
    match fs::read(&path) {
        Ok(bytes) => {
            if ObjectId::of(&bytes) != *id {
                return Err(Error::ObjectHashMismatch { id: *id, path });
            }
            Ok(Some(bytes))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read object", path, e)),
    }
}

/// Whether a loose object file exists (not verified).
pub fn exists(objects_dir: &Path, id: &ObjectId) -> bool {
    object_path(objects_dir, id).is_file()
}

/// Ids of the loose objects in one shard whose hex starts with `prefix` (lowercase hex,
/// at least 2 characters).
pub fn ids_with_prefix(objects_dir: &Path, prefix: &str) -> Result<Vec<ObjectId>> {
    let Some(shard) = prefix.get(..2) else {
        return all_ids(objects_dir).map(|ids| ids.into_iter().filter(|id| id.to_hex().starts_with(prefix)).collect());
    };
    let rest = &prefix[2..];
    let mut out = Vec::new();
    for name in shard_names(&objects_dir.join(shard))? {
        if name.starts_with(rest)
            && let Some(id) = ObjectId::parse(&format!("{shard}{name}"))
        {
            out.push(id);
        }
    }
    Ok(out)
}

/// Every loose object id (files shaped `hh/<62 hex>`; anything else is ignored here and
/// reported by fsck).
pub fn all_ids(objects_dir: &Path) -> Result<Vec<ObjectId>> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(objects_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io("list", objects_dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", objects_dir, e))?;
        let name = entry.file_name();
        let Some(shard) = name.to_str() else { continue };
        if !is_lower_hex(shard) || shard.len() != 2 {
            continue;
        }
        for rest in shard_names(&entry.path())? {
            if let Some(id) = ObjectId::parse(&format!("{shard}{rest}")) {
                out.push(id);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// File names in a shard directory that look like the 62-hex remainder of an id.
fn shard_names(shard_dir: &Path) -> Result<Vec<String>> {
    let entries = match fs::read_dir(shard_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", shard_dir, e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", shard_dir, e))?;
        if let Ok(name) = entry.file_name().into_string()
            && name.len() == HEX_LEN - 2
            && is_lower_hex(&name)
        {
            names.push(name);
        }
    }
    Ok(names)
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_is_idempotent_and_reads_verify() {
        let dir = tempfile::tempdir().unwrap();
        let (id, created) = write(dir.path(), b"hello\n").unwrap();
        assert!(created);
        assert_eq!(id.to_hex(), "8e4c7c1b99dbfd50e7a95185fead5ee1448fa904a2fdd778eaf5f2dbfd629a99");
        assert!(!write(dir.path(), b"hello\n").unwrap().1);
        assert_eq!(read(dir.path(), &id).unwrap().unwrap(), b"hello\n");
        assert_eq!(ids_with_prefix(dir.path(), "8e4c").unwrap(), vec![id]);
        assert_eq!(ids_with_prefix(dir.path(), "8").unwrap(), vec![id]);
        assert!(ids_with_prefix(dir.path(), "8e5").unwrap().is_empty());

        fs::write(object_path(dir.path(), &id), b"tampered").unwrap();
        assert!(matches!(read(dir.path(), &id), Err(Error::ObjectHashMismatch { .. })));
        // A torn object (wrong size) is rewritten by the next write of the same content.
        fs::write(object_path(dir.path(), &id), b"hel").unwrap();
        assert!(write(dir.path(), b"hello\n").unwrap().1);
        assert_eq!(read(dir.path(), &id).unwrap().unwrap(), b"hello\n");
        assert_eq!(read(dir.path(), &ObjectId::of(b"absent")).unwrap(), None);
    }
}
