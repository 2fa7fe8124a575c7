//! The captured-file content index behind `grep --content`: an FTS5 table holding the
//! text of each text blob once, and `blob_paths` recording the first step that had each
//! (blob, path).
//!
//! Built lazily and incrementally: each content search first indexes the steps added
//! since the previous one (a `steps.rowid` cursor in meta), looking only at entries that
//! differ from the parent step's tree. Finalize (the hook hot path) pays nothing, and a
//! rebuilt index simply starts from an empty cursor.

use rusqlite::{Connection, params, params_from_iter, types::Value};

use super::Index;
use super::search::{SearchFilter, SearchHit};
use crate::error::{Error, Result};
use crate::hash::ObjectId;
use crate::object::Step;
use crate::store::Store;

/// Text files larger than this are not content-indexed.
pub const MAX_CONTENT_BYTES: usize = 1024 * 1024;
const PLACEHOLDER_PREFIX: &[u8] = b"[[agit snapshot metadata-only";

/// Index the files a step introduced (relative to its parent's tree).
pub fn index_step_content(conn: &Connection, store: &Store, id: &ObjectId, step: &Step) -> Result<usize> {
    let tree = store.read_tree(&step.tree)?;
    let parent_tree = match step.parent {
        Some(parent) => store.read_step(&parent).and_then(|p| store.read_tree(&p.tree)).ok(),
        None => None,
    };
    let hex = id.to_hex();
    let mut added = 0;
    for entry in &tree.entries {
        if parent_tree.as_ref().and_then(|t| t.get(&entry.path)).is_some_and(|p| p.blob == entry.blob) {
            continue;
        }
        let blob = entry.blob.to_hex();
        let blob_known: bool = conn
            .prepare_cached("select 1 from blob_paths where blob_hash = ?1 limit 1")
            .and_then(|mut st| st.exists([&blob]))
            .map_err(Error::index("content lookup"))?;
        let inserted = conn
            .prepare_cached(
                // Keep the earliest step by time, so the rebuild (session by session) and
                // the incremental path (in finalize order) agree.
                "insert into blob_paths(blob_hash, path, step_hash, session_origin, session_id, turn_id, timestamp)
                 values(?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 on conflict(blob_hash, path) do update set step_hash = excluded.step_hash,
                   session_origin = excluded.session_origin, session_id = excluded.session_id,
                   turn_id = excluded.turn_id, timestamp = excluded.timestamp
                 where excluded.timestamp < blob_paths.timestamp",
            )
            .and_then(|mut st| {
                st.execute(params![blob, entry.path, hex, step.origin, step.session_id, step.turn_id, step.timestamp])
            })
            .map_err(Error::index("content path"))?;
        if inserted == 0 || blob_known || entry.size as usize > MAX_CONTENT_BYTES {
            continue;
        }
        let Ok(bytes) = store.read_object(&entry.blob) else { continue };
        let head = &bytes[..bytes.len().min(8192)];
        if head.contains(&0) || bytes.starts_with(PLACEHOLDER_PREFIX) {
            continue;
        }
        conn.prepare_cached("insert into content_entries(blob_hash, content) values(?1, ?2)")
            .and_then(|mut st| st.execute(params![blob, String::from_utf8_lossy(&bytes)]))
            .map_err(Error::index("content text"))?;
        added += 1;
    }
    Ok(added)
}

/// Meta key: the highest `steps.rowid` whose content is indexed.
const CURSOR: &str = "content.indexed_rowid";

impl Index {
    /// Index the content of every step added since the last call, in one transaction.
    /// Returns how many steps were indexed.
    pub fn catch_up_content(&mut self, store: &Store) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(Error::index("begin content index"))?;
        let cursor: i64 = super::get_meta(&tx, CURSOR)?.and_then(|v| v.parse().ok()).unwrap_or(0);
        let pending: Vec<(i64, String)> = tx
            .prepare("select rowid, hash from steps where rowid > ?1 order by rowid")
            .and_then(|mut st| st.query_map([cursor], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(Error::index("pending content"))?;
        let mut last = cursor;
        for (rowid, hash) in &pending {
            if let Some(id) = ObjectId::parse(hash)
                && let Ok(step) = store.read_step(&id)
            {
                index_step_content(&tx, store, &id, &step)?;
            }
            last = *rowid;
        }
        super::set_meta(&tx, CURSOR, &last.to_string())?;
        tx.commit().map_err(Error::index("commit content index"))?;
        Ok(pending.len())
    }

    /// Search captured file contents (FTS5, bm25). Each matching blob is reported at the
    /// newest place (path, step) the filter allows; `label` is the path.
    pub fn search_content(
        &self,
        query: &str,
        filter: &SearchFilter,
        limit: usize,
        context: usize,
    ) -> Result<Vec<SearchHit>> {
        let mut hits = Vec::new();
        let mut stmt = self
            .conn()
            .prepare(
                "select blob_hash, snippet(content_entries, 1, '[', ']', '…', ?1), bm25(content_entries) as score
                 from content_entries where content_entries match ?2 order by score asc limit ?3",
            )
            .map_err(Error::index("content search"))?;
        // Filters apply to where a blob appeared, so ask FTS for more than the limit.
        let rows: Vec<(String, String, f64)> = stmt
            .query_map(params![context as i64, query, (limit * 8).max(64) as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(Error::index("content search"))?;
        let (clauses, values) = place_clauses(filter);
        let sql = format!(
            "select path, step_hash, session_origin, session_id, turn_id, timestamp from blob_paths
             where blob_hash = ?{clauses} order by timestamp desc, step_hash desc limit 1"
        );
        let mut place = self.conn().prepare(&sql).map_err(Error::index("content place"))?;
        for (blob, snippet, bm25) in rows {
            let mut args = vec![Value::Text(blob)];
            args.extend(values.iter().cloned());
            let found = place
                .query_map(params_from_iter(args), |r| {
                    Ok(SearchHit {
                        entry_kind: "content".into(),
                        label: r.get(0)?,
                        step_hash: r.get(1)?,
                        origin: r.get(2)?,
                        session_id: r.get(3)?,
                        turn_id: r.get(4)?,
                        timestamp: r.get(5)?,
                        // As the reference: `<path>: ` and the window on one line.
                        snippet: format!("{}: {}", r.get::<_, String>(0)?, snippet.replace(['\r', '\n', '\t'], " ")),
                        score: Some((-bm25 * 1e6).round() / 1e6),
                        seq: 0,
                    })
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(Error::index("content place"))?;
            hits.extend(found);
            if hits.len() >= limit {
                break;
            }
        }
        Ok(hits)
    }
}

fn place_clauses(filter: &SearchFilter) -> (String, Vec<Value>) {
    let f = &filter.step;
    let mut sql = String::new();
    let mut values = Vec::new();
    for (clause, value) in [
        (" and session_origin = ?", f.origin.clone().map(Value::Text)),
        (" and session_id = ?", f.session_id.clone().map(Value::Text)),
        (" and timestamp >= ?", f.since_ms.map(Value::Integer)),
        (" and timestamp < ?", f.until_ms.map(Value::Integer)),
    ] {
        if let Some(v) = value {
            sql.push_str(clause);
            values.push(v);
        }
    }
    (sql, values)
}
