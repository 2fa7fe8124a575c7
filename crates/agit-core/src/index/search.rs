//! Search and summary queries for `grep`, `recall` and `stats`.
//!
//! Activity search runs on the FTS5 table `search_entries` (one entry per message, tool
//! call arguments and non-null tool result). Every whitespace token of the user's query
//! is a quoted phrase and the phrases are joined with `AND`, so no FTS operator a user
//! types is interpreted. Results are ranked by bm25 by default. The regex mode scans the
//! `messages` and `tool_calls` rows of the steps the filters select, newest first, and
//! stops at the limit.
//!
//! Path changes (recall `--path`, stats' most-changed paths) compare a step's tree with
//! its parent step's tree, so every file counts, binary and oversized ones included. A
//! session's first step is compared with the tree of the step recorded just before it
//! in the store (the empty tree for the very first step), so starting a session does
//! not count as changing every file.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use regex::Regex;
use rusqlite::{params_from_iter, types::Value};
use serde::Serialize;

use super::{Index, StepFilter};
use crate::error::{Error, Result};
use crate::hash::ObjectId;
use crate::object::Tree;
use crate::store::Store;

/// The most snippet tokens FTS5 supports.
pub const MAX_SNIPPET_TOKENS: usize = 64;

/// Result order of an activity search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchOrder {
    /// bm25 relevance, ties newest first.
    #[default]
    Rank,
    /// Newest first.
    Time,
}

/// Filters for search and recall: the step filters plus outcome and latest session
/// evaluation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    pub step: StepFilter,
    /// `success`, `failure` or `unknown` (`unknown` also matches steps without one).
    pub outcome: Option<String>,
    /// Only sessions whose latest session-scope evaluation has this classification.
    pub judged: Option<String>,
}

/// One matching search entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    /// `message`, `tool_args` or `tool_result`.
    pub entry_kind: String,
    pub origin: String,
    pub session_id: String,
    pub turn_id: String,
    pub step_hash: String,
    pub timestamp: i64,
    /// The message role or the tool name.
    pub label: String,
    /// The text around the match, matches wrapped in `[`…`]`.
    pub snippet: String,
    /// Relevance (higher is better; `-bm25`); `None` in regex mode.
    pub score: Option<f64>,
    #[serde(skip)]
    pub seq: i64,
}

/// How a step changed a path relative to its parent step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PathChange {
    Added,
    Modified,
    Deleted,
}

impl PathChange {
    pub fn as_str(self) -> &'static str {
        match self {
            PathChange::Added => "added",
            PathChange::Modified => "modified",
            PathChange::Deleted => "deleted",
        }
    }
}

/// Compile a `--regex` pattern (size-limited; the message is shown to the user).
pub fn compile_pattern(pattern: &str) -> std::result::Result<Regex, String> {
    regex::RegexBuilder::new(pattern).size_limit(1 << 22).build().map_err(|e| e.to_string())
}

/// Turn user text into an FTS5 query: each whitespace token becomes a quoted phrase
/// (inner `"` doubled), joined with ` AND `. `None` for blank text.
pub fn fts_query(text: &str) -> Option<String> {
    let tokens: Vec<String> = text.split_whitespace().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).collect();
    (!tokens.is_empty()).then(|| tokens.join(" AND "))
}

/// Column names of the table a filter applies to.
struct Columns {
    origin: &'static str,
    session: &'static str,
    timestamp: &'static str,
    hash: &'static str,
}

const ENTRY_COLUMNS: Columns =
    Columns { origin: "origin", session: "session_id", timestamp: "timestamp", hash: "step_hash" };
const STEP_COLUMNS: Columns =
    Columns { origin: "s.session_origin", session: "s.session_id", timestamp: "s.timestamp", hash: "s.hash" };

/// The latest session-scope classification per scope key.
const LATEST_JUDGED: &str = "select scope_key from (select scope_key, classification, row_number() over \
     (partition by scope_key order by evaluated_at desc, hash desc) as rn from evaluations \
     where scope_type = 'session') where rn = 1 and classification = ?";

impl SearchFilter {
    fn clauses(&self, cols: &Columns) -> (Vec<String>, Vec<Value>) {
        let mut clauses = Vec::new();
        let mut values = Vec::new();
        let f = &self.step;
        if let Some(origin) = &f.origin {
            clauses.push(format!("{} = ?", cols.origin));
            values.push(Value::Text(origin.clone()));
        }
        if let Some(session) = &f.session_id {
            clauses.push(format!("{} = ?", cols.session));
            values.push(Value::Text(session.clone()));
        }
        if let Some(since) = f.since_ms {
            clauses.push(format!("{} >= ?", cols.timestamp));
            values.push(Value::Integer(since));
        }
        if let Some(until) = f.until_ms {
            clauses.push(format!("{} < ?", cols.timestamp));
            values.push(Value::Integer(until));
        }
        if let Some(outcome) = &self.outcome {
            clauses.push(format!("{} in (select hash from steps where coalesce(outcome, 'unknown') = ?)", cols.hash));
            values.push(Value::Text(outcome.clone()));
        }
        if let Some(judged) = &self.judged {
            clauses.push(format!("({} || '/' || {}) in ({LATEST_JUDGED})", cols.origin, cols.session));
            values.push(Value::Text(judged.clone()));
        }
        (clauses, values)
    }
}

fn and_clauses(clauses: &[String]) -> String {
    clauses.iter().map(|c| format!(" and {c}")).collect()
}

fn where_clauses(clauses: &[String]) -> String {
    if clauses.is_empty() { String::new() } else { format!("where {}", clauses.join(" and ")) }
}

impl Index {
    /// FTS5 activity search. `context` is the snippet length in tokens (1..=64).
    pub fn search(
        &self,
        text: &str,
        filter: &SearchFilter,
        order: SearchOrder,
        limit: usize,
        context: usize,
    ) -> Result<Vec<SearchHit>> {
        let Some(query) = fts_query(text) else { return Ok(Vec::new()) };
        let (clauses, filter_values) = filter.clauses(&ENTRY_COLUMNS);
        let order_by = match order {
            SearchOrder::Rank => "score asc, timestamp desc, step_hash desc, seq asc, entry_kind asc",
            SearchOrder::Time => "timestamp desc, step_hash desc, seq asc, entry_kind asc",
        };
        let sql = format!(
            "select entry_kind, origin, session_id, turn_id, step_hash, timestamp, seq, label, \
             snippet(search_entries, 8, '[', ']', '…', ?), bm25(search_entries) as score \
             from search_entries where search_entries match ?{} order by {order_by} limit ?",
            and_clauses(&clauses)
        );
        let mut values = vec![Value::Integer(context.clamp(1, MAX_SNIPPET_TOKENS) as i64), Value::Text(query)];
        values.extend(filter_values);
        values.push(Value::Integer(limit as i64));
        let mut stmt = self.conn().prepare(&sql).map_err(Error::index("search"))?;
        let rows = stmt
            .query_map(params_from_iter(values), |r| {
                let bm25: f64 = r.get(9)?;
                Ok(SearchHit {
                    entry_kind: r.get(0)?,
                    origin: r.get(1)?,
                    session_id: r.get(2)?,
                    turn_id: r.get(3)?,
                    step_hash: r.get(4)?,
                    timestamp: r.get(5)?,
                    seq: r.get(6)?,
                    label: r.get(7)?,
                    snippet: r.get(8)?,
                    score: Some((-bm25 * 1e6).round() / 1e6),
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(Error::index("search"))?;
        Ok(rows)
    }

    /// Regex search over messages, tool arguments and tool results of the steps the
    /// filter selects, newest first; the first non-empty match of each entry gives its
    /// snippet (`context` words around it).
    pub fn search_regex(
        &self,
        re: &Regex,
        filter: &SearchFilter,
        limit: usize,
        context: usize,
    ) -> Result<Vec<SearchHit>> {
        let (clauses, values) = filter.clauses(&STEP_COLUMNS);
        let sql = format!(
            "select s.hash, s.session_origin, s.session_id, s.turn_id, s.timestamp from steps s {} \
             order by s.timestamp desc, s.hash desc",
            where_clauses(&clauses)
        );
        let conn = self.conn();
        let mut steps = conn.prepare(&sql).map_err(Error::index("regex search"))?;
        let mut messages = conn
            .prepare("select seq, role, content from messages where step_hash = ?1 order by seq")
            .map_err(Error::index("regex search"))?;
        let mut calls = conn
            .prepare("select seq, tool_name, args, result from tool_calls where step_hash = ?1 order by seq")
            .map_err(Error::index("regex search"))?;
        let mut rows = steps.query(params_from_iter(values)).map_err(Error::index("regex search"))?;
        let mut hits = Vec::new();
        while let Some(row) = rows.next().map_err(Error::index("regex search"))? {
            let hash: String = row.get(0).map_err(Error::index("regex search"))?;
            // (seq, kind, label, text) in the FTS entry order.
            let mut entries: Vec<(i64, &'static str, String, String)> = messages
                .query_map([&hash], |r| Ok((r.get(0)?, "message", r.get(1)?, r.get(2)?)))
                .and_then(|rows| rows.collect())
                .map_err(Error::index("regex search"))?;
            let tool_rows: Vec<(i64, String, String, Option<String>)> = calls
                .query_map([&hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .and_then(|rows| rows.collect())
                .map_err(Error::index("regex search"))?;
            for (seq, tool, args, result) in tool_rows {
                if let Some(result) = result {
                    entries.push((seq, "tool_result", tool.clone(), result));
                }
                entries.push((seq, "tool_args", tool, args));
            }
            entries.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
            for (seq, kind, label, text) in entries {
                let Some(m) = re.find_iter(&text).find(|m| !m.is_empty()) else { continue };
                hits.push(SearchHit {
                    entry_kind: kind.to_owned(),
                    origin: row.get(1).map_err(Error::index("regex search"))?,
                    session_id: row.get(2).map_err(Error::index("regex search"))?,
                    turn_id: row.get(3).map_err(Error::index("regex search"))?,
                    step_hash: hash.clone(),
                    timestamp: row.get(4).map_err(Error::index("regex search"))?,
                    label,
                    snippet: regex_snippet(&text, m.start(), m.end(), context),
                    score: None,
                    seq,
                });
                if hits.len() >= limit {
                    return Ok(hits);
                }
            }
        }
        Ok(hits)
    }

    /// Steps matching `filter` (outcome and judged included) that changed `path`
    /// relative to their parent step, newest first: at most `limit`, looking at no more
    /// than `scan_cap` steps. Returns the matches and whether the scan stopped at the
    /// cap before the history ended.
    pub fn steps_changing_path(
        &self,
        store: &Store,
        path: &str,
        filter: &SearchFilter,
        limit: usize,
        scan_cap: usize,
    ) -> Result<(Vec<(String, PathChange)>, bool)> {
        let (clauses, values) = filter.clauses(&STEP_COLUMNS);
        let sql = format!(
            "select s.hash, s.tree_hash, s.parent_hash, p.tree_hash, {PREVIOUS_TREE} from steps s \
             left join steps p on p.hash = s.parent_hash {} order by s.timestamp desc, s.hash desc",
            where_clauses(&clauses)
        );
        let mut stmt = self.conn().prepare(&sql).map_err(Error::index("path history"))?;
        let mut rows = stmt.query(params_from_iter(values)).map_err(Error::index("path history"))?;
        let mut probe = PathProbe::new(store, path);
        let mut out = Vec::new();
        let mut scanned = 0;
        while let Some(row) = rows.next().map_err(Error::index("path history"))? {
            if scanned >= scan_cap {
                return Ok((out, true));
            }
            scanned += 1;
            let get = |i| row.get::<_, Option<String>>(i).map_err(Error::index("path history"));
            let (hash, tree) = (get(0)?.unwrap_or_default(), get(1)?.unwrap_or_default());
            let parent_tree = baseline_tree(store, get(2)?, get(3)?, get(4)?);
            if let Some(change) = probe.change(&tree, parent_tree.as_deref())? {
                out.push((hash, change));
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok((out, false))
    }

    /// How one step changed `path` relative to its parent step (`None`: unchanged, or
    /// the step is not indexed).
    pub fn step_path_change(&self, probe: &mut PathProbe<'_>, hash: &str) -> Result<Option<PathChange>> {
        type Row = (String, Option<String>, Option<String>, Option<String>);
        let row: Option<Row> = self
            .conn()
            .prepare_cached(&format!(
                "select s.tree_hash, s.parent_hash, p.tree_hash, {PREVIOUS_TREE} from steps s \
                 left join steps p on p.hash = s.parent_hash where s.hash = ?1"
            ))
            .and_then(|mut st| {
                let mut rows = st.query([hash])?;
                rows.next()?.map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).transpose()
            })
            .map_err(Error::index("step path change"))?;
        let Some((tree, parent, parent_tree_hash, previous)) = row else { return Ok(None) };
        let parent_tree = baseline_tree(probe.store, parent, parent_tree_hash, previous);
        probe.change(&tree, parent_tree.as_deref())
    }

    /// Activity summary over the steps `filter` selects (see [`Stats`]). The file tally
    /// diffs the newest `step_cap` steps against their parents.
    pub fn stats(&self, store: &Store, filter: &StepFilter, step_cap: usize) -> Result<Stats> {
        let sf = SearchFilter { step: filter.clone(), ..SearchFilter::default() };
        let (clauses, values) = sf.clauses(&STEP_COLUMNS);
        let step_where = where_clauses(&clauses);
        let conn = self.conn();
        let err = Error::index;

        let (step_count, turn_count, first, last): (i64, i64, Option<i64>, Option<i64>) = conn
            .query_row(
                &format!(
                    "select count(*), count(distinct s.session_origin || char(0) || s.session_id || char(0) || \
                     s.turn_id), min(s.timestamp), max(s.timestamp) from steps s {step_where}"
                ),
                params_from_iter(values.iter()),
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .map_err(err("stats summary"))?;

        // Sessions: every session in the origin/session scope (steps counted inside the
        // time window); with a time window, only sessions active in it.
        let mut session_clauses = Vec::new();
        let mut session_values = Vec::new();
        if let Some(origin) = &filter.origin {
            session_clauses.push("x.origin = ?".to_owned());
            session_values.push(Value::Text(origin.clone()));
        }
        if let Some(id) = &filter.session_id {
            session_clauses.push("x.session_id = ?".to_owned());
            session_values.push(Value::Text(id.clone()));
        }
        let mut join_on = String::from("s.session_origin = x.origin and s.session_id = x.session_id");
        let mut join_values = Vec::new();
        if let Some(since) = filter.since_ms {
            join_on.push_str(" and s.timestamp >= ?");
            join_values.push(Value::Integer(since));
        }
        if let Some(until) = filter.until_ms {
            join_on.push_str(" and s.timestamp < ?");
            join_values.push(Value::Integer(until));
        }
        let windowed = filter.since_ms.is_some() || filter.until_ms.is_some();
        let sql = format!(
            "select x.origin, x.session_id, count(s.hash), count(distinct s.turn_id), min(s.timestamp), \
             max(s.timestamp), x.updated_at from sessions x left join steps s on {join_on} {} \
             group by x.origin, x.session_id {} \
             order by max(s.timestamp) desc nulls last, x.updated_at desc, x.origin, x.session_id",
            where_clauses(&session_clauses),
            if windowed { "having count(s.hash) > 0" } else { "" }
        );
        let mut stmt = conn.prepare(&sql).map_err(err("stats sessions"))?;
        let sessions: Vec<SessionStats> = stmt
            .query_map(params_from_iter(join_values.into_iter().chain(session_values)), |r| {
                Ok(SessionStats {
                    origin: r.get(0)?,
                    session_id: r.get(1)?,
                    step_count: r.get(2)?,
                    turn_count: r.get(3)?,
                    first_timestamp: r.get(4)?,
                    last_timestamp: r.get(5)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(err("stats sessions"))?;

        let counted = |sql: String, context: &'static str| -> Result<Vec<(Option<String>, i64)>> {
            let mut stmt = conn.prepare(&sql).map_err(err(context))?;
            stmt.query_map(params_from_iter(values.iter()), |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect())
                .map_err(err(context))
        };
        let tool_calls = counted(
            format!(
                "select case when trim(t.tool_name) = '' then '(unknown)' else t.tool_name end as name, count(*) as n \
                 from tool_calls t join steps s on s.hash = t.step_hash {step_where} \
                 group by name order by n desc, name asc limit {TOOL_LIMIT}"
            ),
            "stats tool calls",
        )?
        .into_iter()
        .map(|(name, count)| ToolCount { tool_name: name.unwrap_or_default(), count })
        .collect();
        let models = counted(
            format!(
                "select s.model as name, count(*) as n from steps s {step_where} \
                 group by name order by n desc, name is null, name asc"
            ),
            "stats models",
        )?
        .into_iter()
        .map(|(model, step_count)| ModelCount { model, step_count })
        .collect();
        let outcomes = counted(
            format!(
                "select coalesce(s.outcome, 'unknown') as name, count(*) as n from steps s {step_where} \
                 group by name order by n desc, name asc"
            ),
            "stats outcomes",
        )?
        .into_iter()
        .map(|(outcome, step_count)| OutcomeCount { outcome: outcome.unwrap_or_default(), step_count })
        .collect();

        // Most-changed paths over the newest `step_cap` steps.
        let sql = format!(
            "select s.tree_hash, s.parent_hash, p.tree_hash, {PREVIOUS_TREE} from steps s \
             left join steps p on p.hash = s.parent_hash {step_where} \
             order by s.timestamp desc, s.hash desc limit {step_cap}"
        );
        let mut stmt = conn.prepare(&sql).map_err(err("stats paths"))?;
        type Row = (String, Option<String>, Option<String>, Option<String>);
        let pairs: Vec<Row> = stmt
            .query_map(params_from_iter(values.iter()), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .and_then(|rows| rows.collect())
            .map_err(err("stats paths"))?;
        let steps_considered = pairs.len();
        let mut tally: BTreeMap<String, i64> = BTreeMap::new();
        let mut trees = TreeCache::new(store);
        for (tree, parent, parent_tree_hash, previous) in pairs {
            let parent_tree = baseline_tree(store, parent, parent_tree_hash, previous);
            if parent_tree.as_deref() == Some(tree.as_str()) {
                continue;
            }
            let new = trees.get(&tree)?;
            let old = match &parent_tree {
                Some(h) => trees.get(h)?,
                None => Arc::new(Tree::default()),
            };
            for path in changed_paths(&old, &new) {
                *tally.entry(path.to_owned()).or_default() += 1;
            }
        }
        let mut most_changed_paths: Vec<PathCount> =
            tally.into_iter().map(|(path, count)| PathCount { path, count }).collect();
        most_changed_paths.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.path.cmp(&b.path)));
        most_changed_paths.truncate(PATH_LIMIT);

        Ok(Stats {
            summary: StatsSummary {
                session_count: sessions.len() as i64,
                step_count,
                turn_count,
                first_timestamp: first,
                last_timestamp: last,
            },
            tool_calls,
            sessions,
            most_changed_paths,
            file_tally: FileTally {
                bounded: true,
                step_cap,
                steps_considered,
                truncated: (step_count as usize) > steps_considered,
            },
            models,
            outcomes,
        })
    }
}

/// The tree of the step recorded just before `s` (any session): the baseline of a
/// session's first step.
const PREVIOUS_TREE: &str =
    "(select q.tree_hash from steps q where q.timestamp < s.timestamp order by q.timestamp desc, q.hash desc limit 1)";

/// What a step is compared with: its parent's tree (from the index row, else from the
/// parent step object); for a session's first step, the tree of the step recorded just
/// before it in the store (the workspace as last seen), or the empty tree (`None`).
fn baseline_tree(
    store: &Store,
    parent: Option<String>,
    indexed_tree: Option<String>,
    previous: Option<String>,
) -> Option<String> {
    match parent {
        None => previous,
        Some(parent) => indexed_tree.or_else(|| {
            let id = ObjectId::parse(&parent)?;
            store.read_step(&id).ok().map(|s| s.tree.to_hex())
        }),
    }
}

/// Top tool names in [`Stats::tool_calls`].
pub const TOOL_LIMIT: usize = 20;
/// Top paths in [`Stats::most_changed_paths`].
pub const PATH_LIMIT: usize = 10;

/// The `stats` summary (reference `formats.md` §7.5, plus models and outcomes).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub summary: StatsSummary,
    pub tool_calls: Vec<ToolCount>,
    pub sessions: Vec<SessionStats>,
    pub most_changed_paths: Vec<PathCount>,
    pub file_tally: FileTally,
    pub models: Vec<ModelCount>,
    pub outcomes: Vec<OutcomeCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsSummary {
    pub session_count: i64,
    pub step_count: i64,
    pub turn_count: i64,
    pub first_timestamp: Option<i64>,
    pub last_timestamp: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCount {
    pub tool_name: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionStats {
    pub origin: String,
    pub session_id: String,
    pub step_count: i64,
    pub turn_count: i64,
    pub first_timestamp: Option<i64>,
    pub last_timestamp: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathCount {
    pub path: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileTally {
    pub bounded: bool,
    pub step_cap: usize,
    pub steps_considered: usize,
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelCount {
    pub model: Option<String>,
    pub step_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeCount {
    pub outcome: String,
    pub step_count: i64,
}

/// Paths that differ between two trees (added, deleted, or blob/mode/size changed).
fn changed_paths<'a>(old: &'a Tree, new: &'a Tree) -> Vec<&'a str> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < old.entries.len() || j < new.entries.len() {
        match (old.entries.get(i), new.entries.get(j)) {
            (Some(a), Some(b)) => match a.path.as_bytes().cmp(b.path.as_bytes()) {
                std::cmp::Ordering::Less => {
                    out.push(a.path.as_str());
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push(b.path.as_str());
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    if a.blob != b.blob || a.mode != b.mode || a.size != b.size {
                        out.push(b.path.as_str());
                    }
                    i += 1;
                    j += 1;
                }
            },
            (Some(a), None) => {
                out.push(a.path.as_str());
                i += 1;
            }
            (None, Some(b)) => {
                out.push(b.path.as_str());
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// A small cache of decoded trees (cleared when it grows past a bound).
struct TreeCache<'a> {
    store: &'a Store,
    trees: HashMap<String, Arc<Tree>>,
}

impl<'a> TreeCache<'a> {
    const MAX: usize = 64;

    fn new(store: &'a Store) -> Self {
        TreeCache { store, trees: HashMap::new() }
    }

    fn get(&mut self, hash: &str) -> Result<Arc<Tree>> {
        if let Some(tree) = self.trees.get(hash) {
            return Ok(tree.clone());
        }
        let tree = Arc::new(read_tree(self.store, hash)?);
        if self.trees.len() >= Self::MAX {
            self.trees.clear();
        }
        self.trees.insert(hash.to_owned(), tree.clone());
        Ok(tree)
    }
}

fn read_tree(store: &Store, hash: &str) -> Result<Tree> {
    let id = ObjectId::parse(hash).ok_or_else(|| Error::ObjectNotFound { prefix: hash.to_owned() })?;
    store.read_tree(&id)
}

/// Looks up one path's entry per tree (each tree read once) to tell how steps changed it.
pub struct PathProbe<'a> {
    store: &'a Store,
    path: String,
    /// tree hash → (blob, mode, size) of the path, if present.
    entries: HashMap<String, Option<(ObjectId, String, u64)>>,
    missing: HashSet<String>,
}

impl<'a> PathProbe<'a> {
    pub fn new(store: &'a Store, path: &str) -> Self {
        PathProbe { store, path: path.to_owned(), entries: HashMap::new(), missing: HashSet::new() }
    }

    fn entry(&mut self, tree: &str) -> Result<Option<(ObjectId, String, u64)>> {
        if let Some(e) = self.entries.get(tree) {
            return Ok(e.clone());
        }
        if self.missing.contains(tree) {
            return Ok(None);
        }
        let entry = match read_tree(self.store, tree) {
            Ok(t) => t.get(&self.path).map(|e| (e.blob, e.mode.clone(), e.size)),
            // An unreadable tree cannot show a change (fsck reports it).
            Err(_) => {
                self.missing.insert(tree.to_owned());
                return Ok(None);
            }
        };
        self.entries.insert(tree.to_owned(), entry.clone());
        Ok(entry)
    }

    /// How the path differs from `parent_tree` (none: empty) to `tree`.
    pub fn change(&mut self, tree: &str, parent_tree: Option<&str>) -> Result<Option<PathChange>> {
        if parent_tree == Some(tree) {
            return Ok(None);
        }
        let new = self.entry(tree)?;
        let old = match parent_tree {
            Some(p) => self.entry(p)?,
            None => None,
        };
        Ok(match (old, new) {
            (None, None) => None,
            (None, Some(_)) => Some(PathChange::Added),
            (Some(_), None) => Some(PathChange::Deleted),
            (Some(a), Some(b)) => (a != b).then_some(PathChange::Modified),
        })
    }
}

/// `…before [match] after…`: up to `context` words around the match (half before), with
/// line breaks and tabs turned into spaces.
pub fn regex_snippet(text: &str, start: usize, end: usize, context: usize) -> String {
    let before_words = context / 2;
    let after_words = context - before_words;
    let before = &text[..start];
    let after = &text[end..];

    // Start of each word in `before` (a word touching the match counts).
    let mut starts = Vec::new();
    let mut prev_ws = true;
    for (i, c) in before.char_indices() {
        if !c.is_whitespace() && prev_ws {
            starts.push(i);
        }
        prev_ws = c.is_whitespace();
    }
    let (from, cut_start) = if before_words == 0 {
        (before.len(), !before.trim().is_empty())
    } else if starts.len() > before_words {
        (starts[starts.len() - before_words], true)
    } else {
        (0, false)
    };

    // End of each word in `after` (a word touching the match counts).
    let mut ends = Vec::new();
    let mut in_word = false;
    for (i, c) in after.char_indices() {
        if c.is_whitespace() {
            if in_word {
                ends.push(i);
            }
            in_word = false;
        } else {
            in_word = true;
        }
    }
    if in_word {
        ends.push(after.len());
    }
    let (to, cut_end) = if ends.len() > after_words && after_words > 0 {
        (ends[after_words - 1], true)
    } else if after_words == 0 {
        (0, !after.trim().is_empty())
    } else {
        (after.len(), false)
    };

    let mut out = String::new();
    if cut_start {
        out.push('…');
    }
    out.push_str(before[from..].trim_start());
    out.push('[');
    out.push_str(&text[start..end]);
    out.push(']');
    out.push_str(after[..to].trim_end());
    if cut_end {
        out.push('…');
    }
    flatten(&out)
}

/// CR, LF and TAB become spaces; runs of spaces collapse.
fn flatten(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        let c = if matches!(c, '\r' | '\n' | '\t') { ' ' } else { c };
        if c == ' ' {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_query_quotes_every_token() {
        assert_eq!(fts_query("  fix  the\tbug "), Some("\"fix\" AND \"the\" AND \"bug\"".into()));
        assert_eq!(fts_query("a\"b OR c*"), Some("\"a\"\"b\" AND \"OR\" AND \"c*\"".into()));
        assert_eq!(fts_query(" \n "), None);
    }

    #[test]
    fn regex_snippet_keeps_words_around_the_match() {
        let text = "one two three four five six seven eight nine";
        let m = text.find("five").unwrap();
        assert_eq!(regex_snippet(text, m, m + 4, 4), "…three four [five] six seven…");
        assert_eq!(regex_snippet(text, 0, 3, 4), "[one] two three…");
        let m = text.find("nine").unwrap();
        assert_eq!(regex_snippet(text, m, m + 4, 20), "one two three four five six seven eight [nine]");
        // A match inside a word keeps the rest of the word.
        let text = "alpha foobar\nbaz";
        assert_eq!(regex_snippet(text, 9, 12, 4), "alpha foo[bar] baz");
        assert_eq!(regex_snippet("x  é  y", 3, 5, 0), "…[é]…");
    }
}
