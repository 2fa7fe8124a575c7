//! Session refs: `refs/sessions/<hex(origin)>/<hex(session_id)>` holding `<64 hex>\n`.
//!
//! A ref only moves by compare-and-swap under its OS lock (`<ref>.lock`), so concurrent
//! writers of one session are linearized and a lost race is reported, never overwritten.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::durable;
use super::lock::{self, LockGuard, LockMode};
use crate::error::{Error, Result};
use crate::hash::ObjectId;

/// Identifies a recorded session: the agent (`origin`) and its session id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionRef {
    pub origin: String,
    pub session_id: String,
}

impl SessionRef {
    pub fn new(origin: impl Into<String>, session_id: impl Into<String>) -> Self {
        SessionRef { origin: origin.into(), session_id: session_id.into() }
    }

    /// Path relative to `.agit/`: `refs/sessions/<hex origin>/<hex session>`.
    pub fn relative_path(&self) -> String {
        format!("refs/sessions/{}/{}", hex::encode(&self.origin), hex::encode(&self.session_id))
    }

    /// Decode the two hex path components back into a session (`None` if not hex/UTF-8).
    pub fn from_hex_components(origin_hex: &str, session_hex: &str) -> Option<SessionRef> {
        let origin = String::from_utf8(hex::decode(origin_hex).ok()?).ok()?;
        let session_id = String::from_utf8(hex::decode(session_hex).ok()?).ok()?;
        if origin.is_empty() || session_id.is_empty() {
            return None;
        }
        Some(SessionRef { origin, session_id })
    }

    /// The `origin/session_id` display form used by the CLI.
    pub fn display_name(&self) -> String {
        format!("{}/{}", self.origin, self.session_id)
    }
}

/// Exact bytes of a ref file pointing at `head`.
pub fn ref_content(head: &ObjectId) -> String {
    format!("{}\n", head.to_hex())
}

/// Parse ref file content: trimmed of spaces, `\r` and `\n`, it must be exactly 64 hex.
pub fn parse_ref_content(text: &[u8]) -> Option<ObjectId> {
    let text = std::str::from_utf8(text).ok()?;
    ObjectId::parse(text.trim_matches([' ', '\r', '\n', '\t']))
}

/// The refs area of a store.
#[derive(Debug, Clone)]
pub struct Refs {
    root: PathBuf,
}

/// A ref held under its lock: read, compare, write.
pub struct LockedRef<'a> {
    refs: &'a Refs,
    session: SessionRef,
    path: PathBuf,
    _guard: LockGuard,
}

impl Refs {
    /// `root` is the `.agit/` directory.
    pub fn new(root: &Path) -> Refs {
        Refs { root: root.to_path_buf() }
    }

    /// Absolute path of a session's ref file.
    pub fn path(&self, session: &SessionRef) -> PathBuf {
        self.root.join(session.relative_path())
    }

    /// Read a ref: `Ok(None)` when absent, `InvalidRef` when its content is not one id.
    pub fn read(&self, session: &SessionRef) -> Result<Option<ObjectId>> {
        read_ref_file(&self.path(session))
    }

    /// Take the ref's lock (waiting up to `timeout`).
    pub fn lock(&self, session: &SessionRef, timeout: Duration) -> Result<LockedRef<'_>> {
        let path = self.path(session);
        let dir = path.parent().unwrap_or(&self.root);
        durable::create_dir_durable(dir)?;
        let mut lock_path = path.clone().into_os_string();
        lock_path.push(".lock");
        let guard = lock::acquire(Path::new(&lock_path), LockMode::Exclusive, timeout)?;
        Ok(LockedRef { refs: self, session: session.clone(), path, _guard: guard })
    }

    /// Move a ref from `expected` to `new` atomically; `CasConflict` if it moved.
    pub fn compare_and_swap(&self, session: &SessionRef, expected: Option<ObjectId>, new: ObjectId) -> Result<()> {
        let locked = self.lock(session, lock::lock_timeout())?;
        locked.compare(expected)?;
        locked.write(&new)
    }

    /// Every session ref on disk, sorted. Unparseable paths are returned as errors so
    /// callers can report them and carry on (one bad ref must not block the rest).
    pub fn list(&self) -> Result<Vec<std::result::Result<SessionRef, PathBuf>>> {
        let sessions_dir = self.root.join("refs").join("sessions");
        let mut out = Vec::new();
        for origin_entry in read_dir_sorted(&sessions_dir)? {
            let origin_path = origin_entry;
            if !origin_path.is_dir() {
                out.push(Err(origin_path));
                continue;
            }
            let origin_hex = file_name(&origin_path);
            for session_path in read_dir_sorted(&origin_path)? {
                let name = file_name(&session_path);
                if name.ends_with(".lock") || name.starts_with(".tmp-") {
                    continue;
                }
                match SessionRef::from_hex_components(&origin_hex, &name) {
                    Some(s) if session_path.is_file() => out.push(Ok(s)),
                    _ => out.push(Err(session_path)),
                }
            }
        }
        Ok(out)
    }

    /// Delete a ref under its lock (used by `gc --prune-before` and import replace).
    pub fn delete(&self, session: &SessionRef) -> Result<()> {
        let locked = self.lock(session, lock::lock_timeout())?;
        match fs::remove_file(&locked.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("delete ref", &locked.path, e)),
        }
        durable::sync_filesystem(self.root.as_path())
    }
}

impl LockedRef<'_> {
    /// The current value (under the lock).
    pub fn read(&self) -> Result<Option<ObjectId>> {
        read_ref_file(&self.path)
    }

    /// Fail with `CasConflict` unless the ref currently equals `expected`.
    pub fn compare(&self, expected: Option<ObjectId>) -> Result<()> {
        let found = self.read()?;
        if found != expected {
            return Err(Error::CasConflict { path: self.path.clone(), expected, found });
        }
        Ok(())
    }

    /// Atomically replace the ref's content, then flush the filesystem: the new ref and
    /// every object written before it (objects are written unflushed) become durable
    /// together, so a durable ref never points at a lost object.
    pub fn write(&self, head: &ObjectId) -> Result<()> {
        durable::replace_deferred(&self.path, ref_content(head).as_bytes())?;
        durable::sync_filesystem(&self.path)
    }

    /// The session this lock is for.
    pub fn session(&self) -> &SessionRef {
        &self.session
    }

    /// The refs area this lock belongs to.
    pub fn refs(&self) -> &Refs {
        self.refs
    }
}

fn read_ref_file(path: &Path) -> Result<Option<ObjectId>> {
    match fs::read(path) {
        Ok(bytes) => parse_ref_content(&bytes).map(Some).ok_or_else(|| Error::InvalidRef {
            path: path.to_path_buf(),
            reason: "must contain exactly one 64-character hex step hash".into(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read ref", path, e)),
    }
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    let mut paths = Vec::new();
    for entry in entries {
        paths.push(entry.map_err(|e| Error::io("list", dir, e))?.path());
    }
    paths.sort();
    Ok(paths)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_paths_hex_encode_raw_bytes() {
        let s = SessionRef::new("claude", "session-123");
        assert_eq!(s.relative_path(), "refs/sessions/636c61756465/73657373696f6e2d313233");
        assert_eq!(SessionRef::from_hex_components("636c61756465", "73657373696f6e2d313233"), Some(s));
        assert_eq!(SessionRef::from_hex_components("zz", "00"), None);
    }

    #[test]
    fn cas_detects_moves_and_content_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let refs = Refs::new(dir.path());
        let s = SessionRef::new("codex", "s1");
        let a = ObjectId::of(b"a");
        let b = ObjectId::of(b"b");
        refs.compare_and_swap(&s, None, a).unwrap();
        assert_eq!(fs::read_to_string(refs.path(&s)).unwrap(), format!("{a}\n"));
        let err = refs.compare_and_swap(&s, None, b).unwrap_err();
        assert_eq!(err.code(), "cas_conflict");
        refs.compare_and_swap(&s, Some(a), b).unwrap();
        assert_eq!(refs.read(&s).unwrap(), Some(b));
        let listed: Vec<_> = refs.list().unwrap().into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(listed, vec![s.clone()]);
        fs::write(refs.path(&s), b"garbage").unwrap();
        assert_eq!(refs.read(&s).unwrap_err().code(), "ref_invalid_hash");
    }

    #[test]
    fn parse_tolerates_surrounding_whitespace_only() {
        let id = ObjectId::of(b"x");
        assert_eq!(parse_ref_content(format!(" {id}\r\n").as_bytes()), Some(id));
        assert_eq!(parse_ref_content(format!("{id} {id}").as_bytes()), None);
        assert_eq!(parse_ref_content(b""), None);
    }
}
