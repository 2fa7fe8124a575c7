//! The library error type. Every variant maps to a stable diagnostic code that the CLI
//! puts in `cli-json-v1` diagnostics (reference `formats.md` §7.4).

use std::io;
use std::path::PathBuf;

use crate::hash::ObjectId;
use crate::object::{DecodeError, ObjectKind};
use crate::store::LockRecord;

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the storage engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No `.agit/` directory in the start directory or any parent.
    #[error("not an agit repository (or any parent up to /): {}", start.display())]
    StoreNotFound { start: PathBuf },

    /// No object matches the id or prefix.
    #[error("no object matches `{prefix}`")]
    ObjectNotFound { prefix: String },

    /// More than one object matches the prefix.
    #[error("hash prefix `{prefix}` is ambiguous")]
    AmbiguousPrefix { prefix: String, candidates: Vec<ObjectId> },

    /// The prefix is empty, too long, or not hex.
    #[error("`{prefix}` is not a valid object hash prefix: {reason}")]
    InvalidPrefix { prefix: String, reason: &'static str },

    /// A stored object's bytes do not hash to its name.
    #[error("object {id} is corrupt: its content does not match its BLAKE3 name")]
    ObjectHashMismatch { id: ObjectId, path: PathBuf },

    /// An object exists but is not a readable object of the expected kind.
    #[error("object {id} is not a valid {}: {source}", source.kind())]
    InvalidObject {
        id: ObjectId,
        #[source]
        source: DecodeError,
    },

    /// A session ref file does not hold exactly one 64-hex step id.
    #[error("session ref {} is invalid: {reason}", path.display())]
    InvalidRef { path: PathBuf, reason: String },

    /// No session matches (or no session is recorded yet when `query` is `None`).
    #[error("{}", match query { Some(q) => format!("session `{q}` not found"), None => "no sessions recorded yet".to_owned() })]
    SessionNotFound { query: Option<String> },

    /// A bare session id matches sessions of several origins.
    #[error("session id `{query}` matches several sessions")]
    AmbiguousSession { query: String, candidates: Vec<String> },

    /// A ref moved between the read and the write of a compare-and-swap.
    #[error("session ref {} moved (expected {}, found {})", path.display(), show(expected), show(found))]
    CasConflict { path: PathBuf, expected: Option<ObjectId>, found: Option<ObjectId> },

    /// A lock could not be taken before the timeout.
    #[error("timed out after {waited_ms} ms waiting for lock {}{}", path.display(), holder_text(holder))]
    LockTimeout { path: PathBuf, waited_ms: u64, holder: Option<LockRecord> },

    /// `.agit/config.json` is unreadable or invalid.
    #[error("failed to load {}: {reason}", path.display())]
    InvalidConfig { path: PathBuf, reason: String },

    /// `index.db` exists but SQLite cannot use it.
    #[error("index {} is unreadable: {reason}", path.display())]
    IndexUnreadable { path: PathBuf, reason: String },

    /// A query on the index failed.
    #[error("index query failed ({context}): {source}")]
    Index {
        context: &'static str,
        #[source]
        source: rusqlite::Error,
    },

    /// A blame object does not have one entry per line of the file version it describes;
    /// blame must be rebuilt (`agit reindex`).
    #[error("blame of `{path}` has {blame_lines} line(s) but the file has {file_lines}; run `agit reindex`")]
    BlameLengthMismatch { path: String, blame_lines: usize, file_lines: usize },

    /// A newer step already has blame for a path this step changed (steps were recorded
    /// out of timestamp order); blame must be rebuilt (`agit reindex`).
    #[error("blame of `{path}` was recorded past step {step} before it; run `agit reindex`")]
    BlameOutOfOrder { path: String, step: ObjectId },

    /// One step changed more files than incremental blame records.
    #[error("the step changed more than {limit} files; blame needs `agit reindex`")]
    BlameChangeLimitExceeded { limit: usize },

    /// No blame is recorded for the path (at the requested step).
    #[error("No blame recorded for this path.")]
    NoBlame { path: String },

    /// A file is larger than the size cap.
    #[error("`{path}` is {size} bytes, over the {limit}-byte limit (AGIT_MAX_FILE_BYTES)")]
    FileTooLarge { path: String, size: u64, limit: u64 },

    /// A pack or pack index is unreadable or corrupt, or the pack writer was given bad
    /// input; [`crate::store::pack::PackError::code`] gives the code.
    #[error("pack {}: {source}", path.display())]
    Pack {
        path: PathBuf,
        #[source]
        source: crate::store::pack::PackError,
    },

    /// A filesystem operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn show(id: &Option<ObjectId>) -> String {
    id.map_or_else(|| "none".to_owned(), |id| id.short(12))
}

fn holder_text(holder: &Option<LockRecord>) -> String {
    match holder {
        Some(h) => format!(" (held by pid {} `{}` on {})", h.pid, h.exe_path, h.hostname),
        None => String::new(),
    }
}

impl Error {
    /// The stable diagnostic code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::StoreNotFound { .. } => "store_not_found",
            Error::ObjectNotFound { .. } => "object_not_found",
            Error::AmbiguousPrefix { .. } => "ambiguous_hash_prefix",
            Error::InvalidPrefix { .. } => "object_lookup_failed",
            Error::ObjectHashMismatch { .. } => "object_hash_mismatch",
            Error::InvalidObject { source, .. } => match source.kind() {
                ObjectKind::Step => "invalid_step_object",
                ObjectKind::Tree => "invalid_tree_object",
                ObjectKind::Blame => "invalid_blame_object",
                ObjectKind::Eval => "invalid_eval_object",
                ObjectKind::Blob => "object_schema_invalid",
            },
            Error::InvalidRef { .. } => "ref_invalid_hash",
            Error::CasConflict { .. } => "cas_conflict",
            Error::SessionNotFound { .. } => "session_not_found",
            Error::AmbiguousSession { .. } => "ambiguous_session_id",
            Error::LockTimeout { .. } => "lock_timeout",
            Error::InvalidConfig { .. } => "invalid_config",
            Error::IndexUnreadable { .. } => "index_unreadable",
            Error::Index { .. } => "index_query_failed",
            Error::BlameLengthMismatch { .. } => "blame_length_mismatch",
            Error::BlameOutOfOrder { .. } => "blame_out_of_order",
            Error::BlameChangeLimitExceeded { .. } => "blame_change_limit_exceeded",
            Error::NoBlame { .. } => "no_blame",
            Error::FileTooLarge { .. } => "file_too_large",
            Error::Pack { source, .. } => source.code(),
            Error::Io { .. } => "io_error",
        }
    }

    /// Build an I/O error with its operation and path.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io { op, path: path.into(), source }
    }

    /// Wrap a SQLite error with what was being done.
    pub fn index(context: &'static str) -> impl FnOnce(rusqlite::Error) -> Error {
        move |source| Error::Index { context, source }
    }
}
