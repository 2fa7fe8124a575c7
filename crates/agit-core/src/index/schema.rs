//! The index schema: the reference's v13 tables, versioned with `PRAGMA user_version`.
//!
//! `index.db` is a cache of objects and refs, so there are no migrations: an index of
//! any other version is rebuilt from the store, never trusted.

/// `PRAGMA user_version` of an index this build writes. Distinct from the reference's
/// `13` (reference v13, our revision 2: adds `snapshot_stat_cache`) so a reference index
/// is always rebuilt.
pub const SCHEMA_VERSION: i64 = 13_003;

/// Tables and indexes. Timestamps are milliseconds except `sessions.updated_at` and
/// `objects.created_at`, which stay Unix seconds as in the reference JSON output.
pub const DDL: &str = r#"
create table sessions(
  origin text not null,
  session_id text not null,
  head_hash text,
  updated_at integer not null default (unixepoch()),
  primary key(origin, session_id)
);
create index sessions_updated_at_desc on sessions(updated_at desc);

create table steps(
  hash text primary key,
  session_origin text not null,
  session_id text not null,
  turn_id text not null,
  parent_hash text,
  tree_hash text not null,
  timestamp integer not null,
  git_commit text,
  git_branch text,
  git_dirty integer,
  outcome text,
  model text,
  preview text
);
create unique index steps_turn on steps(session_origin, session_id, turn_id);
create index steps_session_timestamp on steps(session_origin, session_id, timestamp);
create index steps_timestamp on steps(timestamp desc);
create index steps_git_commit on steps(git_commit) where git_commit is not null;
create index steps_outcome_timestamp on steps(outcome, timestamp desc) where outcome is not null;
create index steps_model_timestamp on steps(model, timestamp desc) where model is not null;

create table messages(
  id integer primary key,
  step_hash text not null references steps(hash),
  seq integer not null,
  role text not null,
  content text not null
);
create unique index messages_step_seq on messages(step_hash, seq);

create table tool_calls(
  id integer primary key,
  step_hash text not null references steps(hash),
  seq integer not null,
  tool_name text not null,
  args text not null,
  result text
);
create unique index tool_calls_step_seq on tool_calls(step_hash, seq);

create virtual table search_entries using fts5(
  entry_kind unindexed,
  origin unindexed,
  session_id unindexed,
  turn_id unindexed,
  step_hash unindexed,
  timestamp unindexed,
  seq unindexed,
  label unindexed,
  content,
  tokenize = 'unicode61'
);

create table objects(
  hash text primary key,
  kind text not null,
  size integer not null,
  created_at integer not null default (unixepoch())
);

create table packed_objects(
  hash text primary key references objects(hash) on delete cascade,
  pack_name text not null,
  offset integer not null,
  packed_len integer not null,
  unpacked_len integer not null,
  kind text not null,
  encoding text not null,
  base_hash text,
  depth integer not null,
  crc32 integer not null
);
create index packed_objects_pack_name_offset on packed_objects(pack_name, offset);

create table blame_maps(
  path text not null,
  step_hash text not null,
  blame_hash text not null,
  blob_hash text not null,
  session_origin text not null,
  session_id text not null,
  timestamp integer not null,
  primary key(path, step_hash)
);
create index blame_maps_path_order on blame_maps(path, timestamp desc, step_hash desc);

create table evaluations(
  hash text primary key,
  scope_type text not null,
  scope_key text not null,
  classification text not null,
  captured_evidence_hash text not null,
  evaluated_at integer not null
);
create index evaluations_scope_latest on evaluations(scope_type, scope_key, evaluated_at desc);

-- grep --content: the text of captured files, once per blob, and where each blob
-- first appeared at each path.
create virtual table content_entries using fts5(
  blob_hash unindexed,
  content,
  tokenize = 'unicode61'
);

create table blob_paths(
  blob_hash text not null,
  path text not null,
  step_hash text not null,
  session_origin text not null,
  session_id text not null,
  turn_id text not null,
  timestamp integer not null,
  primary key(blob_hash, path)
);

create table meta(
  key text primary key,
  value text not null
);

create table snapshot_stat_cache(
  path text primary key,
  mtime_ns integer not null,
  ctime_ns integer not null,
  size integer not null,
  inode integer not null,
  level text not null,
  blob_id blob,
  cached_at_ns integer not null
) without rowid;
"#;

/// Meta keys.
pub mod meta_keys {
    /// `"1"` when the `objects` table covers every stored object.
    pub const OBJECTS_COMPLETE: &str = "index.objects.complete";
    /// Last step timestamp handed out (ms); the store-wide monotonic clock.
    pub const LAST_STEP_TIMESTAMP: &str = "blame.last_step_timestamp";
    /// `"1"` while blame rows may be incomplete.
    pub const BLAME_NEEDS_REINDEX: &str = "blame.needs_reindex";
    /// The last step whose blame rows were recorded (lets the next step skip paths it
    /// did not change).
    pub const BLAME_LAST_RECORDED_STEP: &str = "blame.last_recorded_step";
    /// Finalize counters (diagnostics; carried across rebuilds).
    pub const RETRIES_TOTAL: &str = "metrics.finalize_retries_total";
    pub const OBJECTS_WRITTEN_TOTAL: &str = "metrics.finalize_objects_written_total";

    /// `session::<hex origin>:<hex session>::<suffix>`.
    pub fn session_key(origin: &str, session_id: &str, suffix: &str) -> String {
        format!("session::{}:{}::{suffix}", hex::encode(origin), hex::encode(session_id))
    }
}
