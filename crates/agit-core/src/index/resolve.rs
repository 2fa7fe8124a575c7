//! Object id prefix resolution: hex-validated range query on the index, falling back to
//! the objects on disk.

use super::Index;
use super::schema::meta_keys;
use crate::error::{Error, Result};
use crate::hash::{HEX_LEN, ObjectId};
use crate::store::Store;

/// At most this many candidates are reported for an ambiguous prefix.
const MAX_CANDIDATES: usize = 10;

/// Resolve a hex prefix (1–64 characters, either case) to exactly one stored object.
/// `index` may be `None` when it is unavailable; the disk is then searched directly.
pub fn resolve_prefix(store: &Store, index: Option<&Index>, prefix: &str) -> Result<ObjectId> {
    let prefix = validate(prefix)?;
    if prefix.len() == HEX_LEN {
        let id = ObjectId::parse(&prefix).ok_or_else(|| invalid(&prefix, "not hexadecimal"))?;
        return if store.has_object(&id) || index_has(index, &id)? {
            Ok(id)
        } else {
            Err(Error::ObjectNotFound { prefix })
        };
    }
    let mut found = Vec::new();
    let mut complete = false;
    if let Some(index) = index {
        complete = index.meta(meta_keys::OBJECTS_COMPLETE)?.as_deref() == Some("1");
        let upper = format!("{prefix}g"); // 'g' sorts after every hex digit
        let mut stmt = index
            .conn()
            .prepare_cached("select hash from objects where hash >= ?1 and hash < ?2 order by hash limit ?3")
            .map_err(Error::index("resolve prefix"))?;
        let rows = stmt
            .query_map(rusqlite::params![prefix, upper, (MAX_CANDIDATES + 1) as i64], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(Error::index("resolve prefix"))?;
        found.extend(rows.iter().filter_map(|h| ObjectId::parse(h)));
    }
    // The index is trusted only when it claims to cover every object; a miss always
    // checks the disk (objects another tool placed by hand).
    if !complete || found.is_empty() {
        found.extend(store.object_ids_with_prefix(&prefix)?);
        found.sort();
        found.dedup();
    }
    match found.len() {
        0 => Err(Error::ObjectNotFound { prefix }),
        1 => Ok(found[0]),
        _ => {
            found.truncate(MAX_CANDIDATES);
            Err(Error::AmbiguousPrefix { prefix, candidates: found })
        }
    }
}

fn validate(prefix: &str) -> Result<String> {
    if prefix.is_empty() {
        return Err(invalid(prefix, "it is empty"));
    }
    if prefix.len() > HEX_LEN {
        return Err(invalid(prefix, "it is longer than 64 characters"));
    }
    if !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(prefix, "it is not hexadecimal"));
    }
    Ok(prefix.to_ascii_lowercase())
}

fn invalid(prefix: &str, reason: &'static str) -> Error {
    Error::InvalidPrefix { prefix: prefix.to_owned(), reason }
}

fn index_has(index: Option<&Index>, id: &ObjectId) -> Result<bool> {
    let Some(index) = index else { return Ok(false) };
    let mut stmt =
        index.conn().prepare_cached("select 1 from objects where hash=?1").map_err(Error::index("look up object"))?;
    stmt.exists([id.to_hex()]).map_err(Error::index("look up object"))
}
