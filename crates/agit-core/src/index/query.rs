//! Read queries for the inspection commands: plain rows out of the index.

use rusqlite::{OptionalExtension, params_from_iter, types::Value};
use serde::Serialize;

use super::Index;
use crate::error::{Error, Result};
use crate::store::SessionRef;

/// One `sessions` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRow {
    pub origin: String,
    pub session_id: String,
    pub head_hash: Option<String>,
    /// Unix **seconds** (reference compatibility).
    pub updated_at: i64,
}

/// One `steps` row with everything the views show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRow {
    pub hash: String,
    pub origin: String,
    pub session_id: String,
    pub turn_id: String,
    pub parent_hash: Option<String>,
    pub tree_hash: String,
    pub timestamp: i64,
    pub model: Option<String>,
    pub outcome: Option<String>,
    pub git_commit: Option<String>,
    pub git_branch: Option<String>,
    pub git_dirty: Option<bool>,
    pub preview: Option<String>,
    /// Insertion order in the index (a cursor for `watch`).
    pub rowid: i64,
}

const STEP_COLUMNS: &str = "hash, session_origin, session_id, turn_id, parent_hash, tree_hash, timestamp, model, \
     outcome, git_commit, git_branch, git_dirty, preview, rowid";

fn step_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StepRow> {
    Ok(StepRow {
        hash: r.get(0)?,
        origin: r.get(1)?,
        session_id: r.get(2)?,
        turn_id: r.get(3)?,
        parent_hash: r.get(4)?,
        tree_hash: r.get(5)?,
        timestamp: r.get(6)?,
        model: r.get(7)?,
        outcome: r.get(8)?,
        git_commit: r.get(9)?,
        git_branch: r.get(10)?,
        git_dirty: r.get(11)?,
        preview: r.get(12)?,
        rowid: r.get(13)?,
    })
}

/// Filters shared by timeline-like queries. Times are Unix milliseconds; `until` is
/// exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepFilter {
    pub origin: Option<String>,
    pub session_id: Option<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Only rows inserted after this rowid (watch).
    pub after_rowid: Option<i64>,
}

impl StepFilter {
    fn where_clause(&self) -> (String, Vec<Value>) {
        let mut clauses = Vec::new();
        let mut values = Vec::new();
        if let Some(origin) = &self.origin {
            clauses.push("session_origin = ?");
            values.push(Value::Text(origin.clone()));
        }
        if let Some(session) = &self.session_id {
            clauses.push("session_id = ?");
            values.push(Value::Text(session.clone()));
        }
        if let Some(since) = self.since_ms {
            clauses.push("timestamp >= ?");
            values.push(Value::Integer(since));
        }
        if let Some(until) = self.until_ms {
            clauses.push("timestamp < ?");
            values.push(Value::Integer(until));
        }
        if let Some(rowid) = self.after_rowid {
            clauses.push("rowid > ?");
            values.push(Value::Integer(rowid));
        }
        let sql = if clauses.is_empty() { String::new() } else { format!("where {}", clauses.join(" and ")) };
        (sql, values)
    }
}

impl Index {
    /// Sessions, most recently updated first.
    pub fn sessions(&self, limit: Option<usize>) -> Result<Vec<SessionRow>> {
        let sql = format!(
            // Newest activity first: the head step's millisecond timestamp, not the
            // second-resolution `updated_at`.
            "select origin, session_id, head_hash, updated_at from sessions \
             order by coalesce((select timestamp from steps where hash = head_hash), updated_at * 1000) desc, \
             origin, session_id {}",
            limit.map_or(String::new(), |n| format!("limit {n}"))
        );
        let mut stmt = self.conn().prepare(&sql).map_err(Error::index("list sessions"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SessionRow { origin: r.get(0)?, session_id: r.get(1)?, head_hash: r.get(2)?, updated_at: r.get(3)? })
            })
            .and_then(|rows| rows.collect())
            .map_err(Error::index("list sessions"))?;
        Ok(rows)
    }

    /// Resolve a session argument: `origin/id` must exist exactly; a bare id must match
    /// exactly one origin (else `AmbiguousSession` with candidates); none picks the most
    /// recently updated session with a head.
    pub fn resolve_session(&self, arg: Option<&str>) -> Result<SessionRef> {
        let Some(arg) = arg.filter(|a| !a.is_empty()) else {
            let row: Option<(String, String)> = self
                .conn()
                .query_row(
                    "select origin, session_id from sessions where head_hash is not null \
                     order by updated_at desc, rowid desc limit 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(Error::index("latest session"))?;
            return row.map(|(o, s)| SessionRef::new(o, s)).ok_or(Error::SessionNotFound { query: None });
        };
        if let Some((origin, id)) = arg.split_once('/') {
            let exact = SessionRef::new(origin, id);
            if self.session_exists(&exact)? {
                return Ok(exact);
            }
        }
        let mut stmt = self
            .conn()
            .prepare("select origin from sessions where session_id = ?1 order by origin")
            .map_err(Error::index("resolve session"))?;
        let origins: Vec<String> = stmt
            .query_map([arg], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(Error::index("resolve session"))?;
        match origins.as_slice() {
            [] => Err(Error::SessionNotFound { query: Some(arg.to_owned()) }),
            [origin] => Ok(SessionRef::new(origin.clone(), arg)),
            many => Err(Error::AmbiguousSession {
                query: arg.to_owned(),
                candidates: many.iter().map(|o| format!("{o}/{arg}")).collect(),
            }),
        }
    }

    fn session_exists(&self, session: &SessionRef) -> Result<bool> {
        self.conn()
            .prepare_cached("select 1 from sessions where origin = ?1 and session_id = ?2")
            .and_then(|mut st| st.exists([&session.origin, &session.session_id]))
            .map_err(Error::index("look up session"))
    }

    /// A session's steps, oldest first.
    pub fn session_steps(&self, session: &SessionRef, limit: Option<usize>) -> Result<Vec<StepRow>> {
        // With a limit, keep the newest `limit` steps (still returned oldest first).
        let sql = match limit {
            Some(n) => format!(
                "select * from (select {STEP_COLUMNS} from steps where session_origin = ?1 and session_id = ?2 \
                 order by timestamp desc, hash desc limit {n}) order by timestamp asc, hash asc"
            ),
            None => format!(
                "select {STEP_COLUMNS} from steps where session_origin = ?1 and session_id = ?2 order by timestamp asc, hash asc"
            ),
        };
        let mut stmt = self.conn().prepare(&sql).map_err(Error::index("list session steps"))?;
        let rows = stmt
            .query_map([&session.origin, &session.session_id], step_row)
            .and_then(|rows| rows.collect())
            .map_err(Error::index("list session steps"))?;
        Ok(rows)
    }

    /// Steps matching `filter`, newest first.
    pub fn timeline(&self, filter: &StepFilter, limit: usize) -> Result<Vec<StepRow>> {
        let (clause, values) = filter.where_clause();
        let sql = format!("select {STEP_COLUMNS} from steps {clause} order by timestamp desc, hash desc limit {limit}");
        let mut stmt = self.conn().prepare(&sql).map_err(Error::index("timeline"))?;
        let rows = stmt
            .query_map(params_from_iter(values), step_row)
            .and_then(|rows| rows.collect())
            .map_err(Error::index("timeline"))?;
        Ok(rows)
    }

    /// Steps inserted after `rowid` matching `filter`, in insertion order (watch).
    pub fn steps_after(&self, filter: &StepFilter) -> Result<Vec<StepRow>> {
        let (clause, values) = filter.where_clause();
        let sql = format!("select {STEP_COLUMNS} from steps {clause} order by rowid asc");
        let mut stmt = self.conn().prepare(&sql).map_err(Error::index("watch"))?;
        let rows = stmt
            .query_map(params_from_iter(values), step_row)
            .and_then(|rows| rows.collect())
            .map_err(Error::index("watch"))?;
        Ok(rows)
    }

    /// The highest step rowid (the watch starting point).
    pub fn max_step_rowid(&self) -> Result<i64> {
        self.conn()
            .query_row("select coalesce(max(rowid), 0) from steps", [], |r| r.get(0))
            .map_err(Error::index("watch cursor"))
    }

    /// One step row by full hash.
    pub fn step_row(&self, hash: &str) -> Result<Option<StepRow>> {
        self.conn()
            .query_row(&format!("select {STEP_COLUMNS} from steps where hash = ?1"), [hash], step_row)
            .optional()
            .map_err(Error::index("read step row"))
    }

    /// Steps whose recorded git commit is one of `commits`, ordered by origin, session,
    /// timestamp, hash (for `between`).
    pub fn steps_with_commits(&self, commits: &[String]) -> Result<Vec<StepRow>> {
        let mut out = Vec::new();
        for chunk in commits.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(",");
            let sql = format!("select {STEP_COLUMNS} from steps where git_commit in ({marks})");
            let mut stmt = self.conn().prepare(&sql).map_err(Error::index("steps by commit"))?;
            let rows: Vec<StepRow> = stmt
                .query_map(params_from_iter(chunk.iter()), step_row)
                .and_then(|rows| rows.collect())
                .map_err(Error::index("steps by commit"))?;
            out.extend(rows);
        }
        out.sort_by(|a, b| {
            (&a.origin, &a.session_id, a.timestamp, &a.hash).cmp(&(&b.origin, &b.session_id, b.timestamp, &b.hash))
        });
        Ok(out)
    }

    /// Count of rows of a simple `select count(*) …` query.
    pub fn count(&self, sql: &str) -> Result<i64> {
        self.conn().query_row(sql, [], |r| r.get(0)).map_err(Error::index("count"))
    }
}
