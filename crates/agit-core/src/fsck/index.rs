//! Index checks: `index.db` opened read-only and compared with the **reachable** state
//! (what a rebuild from refs would produce), never with every object on disk.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OpenFlags};

use super::{Category, Check, INDEX_HINT, Scan, Status};
use crate::hash::ObjectId;
use crate::index::schema::SCHEMA_VERSION;
use crate::store::Store;

/// Tables the checks read.
const REQUIRED_TABLES: [&str; 5] = ["sessions", "steps", "messages", "tool_calls", "objects"];

/// The index as fsck sees it.
pub(super) enum IndexView {
    Missing,
    /// Could not be opened (read-only) or read at all.
    Unreadable(&'static str),
    /// Opened, but of another schema: not compared.
    Drift(String),
    Open(Connection),
}

impl IndexView {
    pub(super) fn open(store: &Store) -> IndexView {
        let path = store.index_path();
        if !path.is_file() {
            return IndexView::Missing;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        // A read-only connection to a WAL database creates `-wal`/`-shm` next to it when
        // they are absent. When there is no `-wal` (no writer since the last clean close)
        // the file is opened `immutable`, which creates nothing; otherwise the sidecars
        // already exist and a plain read-only open only reads them.
        let opened = if std::path::Path::new(&wal).exists() {
            Connection::open_with_flags(&path, flags)
        } else {
            Connection::open_with_flags(immutable_uri(&path), flags | OpenFlags::SQLITE_OPEN_URI)
        };
        let Ok(conn) = opened else {
            return IndexView::Unreadable("index.db could not be opened read-only.");
        };
        let _ = conn.busy_timeout(std::time::Duration::from_secs(10));
        let Ok(version) = conn.query_row("pragma user_version", [], |r| r.get::<_, i64>(0)) else {
            return IndexView::Unreadable("index.db could not be opened for inspection.");
        };
        if version != SCHEMA_VERSION {
            return IndexView::Drift(format!("index.db schema version is {version}, expected {SCHEMA_VERSION}."));
        }
        for table in REQUIRED_TABLES {
            let found =
                conn.query_row("select count(*) from sqlite_master where type='table' and name=?1", [table], |r| {
                    r.get::<_, i64>(0)
                });
            match found {
                Ok(0) => return IndexView::Drift(format!("index.db is missing required table `{table}`.")),
                Ok(_) => {}
                Err(_) => return IndexView::Unreadable("index.db could not be opened for inspection."),
            }
        }
        IndexView::Open(conn)
    }
}

/// `file:<percent-encoded path>?immutable=1`.
fn immutable_uri(path: &std::path::Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut uri = String::from("file:");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// missing / extra / mismatched counts of one comparison.
#[derive(Default)]
struct Drift {
    missing: u64,
    extra: u64,
    mismatched: u64,
}

impl Drift {
    fn any(&self) -> bool {
        self.missing + self.extra + self.mismatched > 0
    }
}

type Row = (String, String, String, Option<String>, String, i64);

impl Scan<'_> {
    fn index_warn(&mut self, code: &str, status: Status, message: impl Into<String>) {
        let path = Some(self.display(&self.store.index_path()));
        self.push(Category::Index, Check::new(code, status, message).hint(INDEX_HINT).path(path));
    }

    pub(super) fn check_index(&mut self, view: &IndexView) {
        let conn = match view {
            IndexView::Missing => {
                let empty = self.stored.is_empty() && self.stats.ref_files == 0;
                let status = if empty { Status::Info } else { Status::Warn };
                self.index_warn(
                    "index_missing",
                    status,
                    "index.db is missing; the store can be reindexed from object/ref truth.",
                );
                return;
            }
            IndexView::Unreadable(message) => {
                self.index_warn("index_unreadable", Status::Warn, *message);
                return;
            }
            IndexView::Drift(message) => {
                self.index_warn("index_schema_drift", Status::Warn, message.clone());
                return;
            }
            IndexView::Open(conn) => conn,
        };
        if self.compare_index(conn).is_err() {
            self.index_warn("index_unreadable", Status::Warn, "index.db could not be opened for inspection.");
        }
    }

    fn compare_index(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        // Sessions: refs with a readable head step.
        let mut rows: HashMap<(String, String), Option<String>> = HashMap::new();
        {
            let mut stmt = conn.prepare("select origin, session_id, head_hash from sessions")?;
            for row in stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))? {
                let (key, head) = row?;
                rows.insert(key, head);
            }
        }
        let mut sessions = Drift::default();
        for (key, head) in &self.sessions {
            match rows.remove(key) {
                None => sessions.missing += 1,
                Some(h) if h.as_deref() != Some(head.to_hex().as_str()) => sessions.mismatched += 1,
                Some(_) => {}
            }
        }
        sessions.extra = rows.len() as u64;

        // Steps: reachable steps only.
        let mut rows: HashMap<String, Row> = HashMap::new();
        {
            let mut stmt = conn.prepare(
                "select hash, session_origin, session_id, turn_id, parent_hash, tree_hash, timestamp from steps",
            )?;
            for row in stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
            })? {
                let (hash, fields) = row?;
                rows.insert(hash, fields);
            }
        }
        let mut steps = Drift::default();
        for (id, step) in &self.steps {
            match rows.remove(&id.to_hex()) {
                None => steps.missing += 1,
                Some((origin, session, turn, parent, tree, timestamp)) => {
                    let same = origin == step.origin
                        && session == step.session_id
                        && turn == step.turn_id
                        && parent.as_deref() == step.parent.map(|p| p.to_hex()).as_deref()
                        && tree == step.tree.to_hex()
                        && timestamp == step.timestamp;
                    steps.mismatched += u64::from(!same);
                }
            }
        }
        steps.extra = rows.len() as u64;

        // Messages and tool calls: per-step row counts against the arrays.
        let messages = self.compare_counts(conn, "messages", |s| s.messages)?;
        let tool_calls = self.compare_counts(conn, "tool_calls", |s| s.tool_calls)?;

        // Objects: kind and size of every object found.
        let mut rows: HashMap<String, (String, i64)> = HashMap::new();
        {
            let mut stmt = conn.prepare("select hash, kind, size from objects")?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?))))? {
                let (hash, fields) = row?;
                rows.insert(hash, fields);
            }
        }
        let mut objects = Drift::default();
        let ids: Vec<ObjectId> = self.stored.keys().copied().collect();
        for id in ids {
            let Some((kind, size)) = rows.remove(&id.to_hex()) else {
                objects.missing += 1;
                continue;
            };
            let kind_ok = match self.kinds.get(&id) {
                Some(known) => known.iter().any(|k| k.as_str() == kind),
                None => self.sniffed.get(&id).is_none_or(|k| k.as_str() == kind),
            };
            let size_ok = self.object_size(&id).is_none_or(|s| i64::try_from(s).is_ok_and(|s| s == size));
            objects.mismatched += u64::from(!(kind_ok && size_ok));
        }
        objects.extra = rows.len() as u64;

        if sessions.any() {
            self.index_warn(
                "index_sessions_drift",
                Status::Warn,
                format!(
                    "Session index drift detected: missing={} extra={} mismatched_heads={}.",
                    sessions.missing, sessions.extra, sessions.mismatched
                ),
            );
        }
        for (code, label, drift) in [
            ("index_steps_drift", "Step index", &steps),
            ("index_messages_drift", "message index", &messages),
            ("index_tool_calls_drift", "tool call index", &tool_calls),
            ("index_objects_drift", "Object cache", &objects),
        ] {
            if drift.any() {
                self.index_warn(
                    code,
                    Status::Warn,
                    format!(
                        "{label} drift detected: missing={} extra={} mismatched={}.",
                        drift.missing, drift.extra, drift.mismatched
                    ),
                );
            }
        }
        Ok(())
    }

    fn compare_counts(
        &self,
        conn: &Connection,
        table: &str,
        expected: impl Fn(&super::StepSummary) -> usize,
    ) -> rusqlite::Result<Drift> {
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        let mut stmt = conn.prepare(&format!("select step_hash, count(*) from {table} group by step_hash"))?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (hash, n) = row?;
            counts.insert(hash, n);
        }
        let mut drift = Drift::default();
        for (id, step) in &self.steps {
            let want = i64::try_from(expected(step)).unwrap_or(i64::MAX);
            match counts.remove(&id.to_hex()) {
                None if want > 0 => drift.missing += 1,
                None => {}
                Some(n) => drift.mismatched += u64::from(n != want),
            }
        }
        drift.extra = counts.len() as u64;
        Ok(drift)
    }

    /// Length of a stored object without decoding it twice (loose: file size; packed:
    /// the entry's unpacked length).
    fn object_size(&self, id: &ObjectId) -> Option<u64> {
        match self.stored.get(id)? {
            super::Loc::Loose(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            super::Loc::Packed { .. } => self.packs.locate(id).ok().flatten().map(|o| o.entry.unpacked_len),
        }
    }
}
