//! Reading recorded blame for `agit blame` (reference `formats.md` §5.6, §5.8).
//!
//! A lookup is one indexed row, one blob and one blame object, plus one point query per
//! distinct attributed step: nothing is recomputed, however long the file's history.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::lines::split_lines;
use super::record::{BlameRow, ROW_COLUMNS, blame_row};
use crate::error::{Error, Result};
use crate::hash::ObjectId;
use crate::index::Index;
use crate::object::Blame;
use crate::store::Store;

/// The recorded blame of one file version, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlameView {
    /// The workspace-relative path (as stored; matched byte for byte).
    pub path: String,
    /// The step whose `blame_maps` row was selected (the version shown).
    pub step: ObjectId,
    /// The blame object of that version.
    pub blame: ObjectId,
    /// The blob of that version.
    pub blob: ObjectId,
    /// One entry per line, `min(lines in blob, lines in blame)` of them.
    pub lines: Vec<BlameViewLine>,
}

/// One attributed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlameViewLine {
    /// The step that last changed the line.
    pub step: ObjectId,
    /// Its agent (`steps` row, else the step's `blame_maps` row, else `"unknown"`).
    pub origin: String,
    /// Its model, known only from the `steps` row.
    pub model: Option<String>,
    /// Its timestamp in Unix ms (`0` when the step is unknown to the index).
    pub timestamp: i64,
    /// The line text (canonical splitter; invalid UTF-8 replaced by U+FFFD).
    pub text: String,
}

/// The latest recorded blame of `path`, or, with `at_step = Some((timestamp, step))`, the
/// latest at or before that step (`timestamp < T`, or `= T` with `step_hash <= H`).
/// `None` when nothing is recorded (the CLI reports [`Error::NoBlame`]).
///
/// `max_bytes` is the render cap (`AGIT_MAX_FILE_BYTES`; `None` for `--no-limits`): a
/// larger blob is [`Error::FileTooLarge`].
pub fn blame_lookup(
    index: &Index,
    store: &Store,
    path: &str,
    at_step: Option<(i64, ObjectId)>,
    max_bytes: Option<u64>,
) -> Result<Option<BlameView>> {
    let conn = index.conn();
    let Some(row) = select_row(conn, path, at_step)? else {
        return Ok(None);
    };
    let too_large = |size: u64| Error::FileTooLarge { path: path.to_owned(), size, limit: max_bytes.unwrap_or(0) };
    // Refuse before reading when the size is known without reading.
    if let (Some(limit), Some(size)) = (max_bytes, store.object_size(&row.blob))
        && size > limit
    {
        return Err(too_large(size));
    }
    let bytes = store.read_object(&row.blob)?;
    if let Some(limit) = max_bytes
        && bytes.len() as u64 > limit
    {
        return Err(too_large(bytes.len() as u64));
    }
    let blame_bytes = store.read_object(&row.blame)?;
    let blame = Blame::decode(&blame_bytes).map_err(|source| Error::InvalidObject { id: row.blame, source })?;
    let texts = split_lines(&bytes);
    let mut meta: HashMap<ObjectId, (String, Option<String>, i64)> = HashMap::new();
    let mut lines = Vec::with_capacity(texts.len().min(blame.lines.len()));
    for (text, line) in texts.iter().zip(&blame.lines) {
        let (origin, model, timestamp) = match meta.get(&line.step) {
            Some(known) => known.clone(),
            None => {
                let found = step_meta(conn, &line.step)?;
                meta.insert(line.step, found.clone());
                found
            }
        };
        lines.push(BlameViewLine {
            step: line.step,
            origin,
            model,
            timestamp,
            text: String::from_utf8_lossy(text).into_owned(),
        });
    }
    Ok(Some(BlameView { path: path.to_owned(), step: row.step, blame: row.blame, blob: row.blob, lines }))
}

fn select_row(conn: &Connection, path: &str, at_step: Option<(i64, ObjectId)>) -> Result<Option<BlameRow>> {
    let found = match at_step {
        None => conn
            .prepare_cached(&format!(
                "select {ROW_COLUMNS} from blame_maps where path=?1 order by timestamp desc, step_hash desc limit 1"
            ))
            .and_then(|mut st| st.query_row([path], blame_row).optional()),
        Some((ts, step)) => conn
            .prepare_cached(&format!(
                "select {ROW_COLUMNS} from blame_maps
                 where path=?1 and (timestamp < ?2 or (timestamp = ?2 and step_hash <= ?3))
                 order by timestamp desc, step_hash desc limit 1"
            ))
            .and_then(|mut st| st.query_row(params![path, ts, step.to_hex()], blame_row).optional()),
    };
    found.map_err(Error::index("look up blame row"))
}

/// Origin, model and timestamp of a step: from `steps`, else from any of its
/// `blame_maps` rows (origin and timestamp only), else unknown.
fn step_meta(conn: &Connection, step: &ObjectId) -> Result<(String, Option<String>, i64)> {
    let hex = step.to_hex();
    let from_steps = conn
        .prepare_cached("select session_origin, model, timestamp from steps where hash=?1")
        .and_then(|mut st| st.query_row([&hex], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional())
        .map_err(Error::index("look up blamed step"))?;
    if let Some(found) = from_steps {
        return Ok(found);
    }
    let from_rows = conn
        .prepare_cached("select session_origin, timestamp from blame_maps where step_hash=?1 limit 1")
        .and_then(|mut st| st.query_row([&hex], |r| Ok((r.get(0)?, None, r.get(1)?))).optional())
        .map_err(Error::index("look up blamed step row"))?;
    Ok(from_rows.unwrap_or_else(|| ("unknown".to_owned(), None, 0)))
}
