//! What this store knows a remote has, so a repeat push or pull does only new work.
//!
//! - `refs/remotes/<name>/<hex origin>/<hex session>`: the remote's head of a session as
//!   last seen. The remote holds that step and its whole history (remote keys are never
//!   deleted), so walks stop there.
//! - `remotes/<name>/known-objects`: ids of objects seen on the remote (uploaded, found
//!   present, or downloaded), 32 raw bytes each, appended only after the remote
//!   confirmed them. A torn tail is ignored; losing the file only costs extra requests.
//! - `remotes/<name>/identity`: where the remote lived when the record was made. When
//!   the configured location changes, the record is discarded.
//!
//! `remotes/<name>/lock` is held for the whole of a push or pull, so two operations on
//! the same remote from one store take turns.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use agit_core::store::lock::{self, LockGuard, LockMode};
use agit_core::store::{durable, refs};
use agit_core::{ObjectId, SessionRef, Store};

use super::error::RemoteError;
use super::resolve::Remote;

const KNOWN_OBJECTS: &str = "known-objects";
const IDENTITY: &str = "identity";

/// The record for one remote, opened (and locked) for one push or pull.
pub struct Tracking {
    state_dir: PathBuf,
    refs_dir: PathBuf,
    known: HashSet<ObjectId>,
    appender: Option<File>,
    _lock: LockGuard,
}

fn state_dir(store: &Store, name: &str) -> PathBuf {
    store.root().join("remotes").join(name)
}

fn refs_dir(store: &Store, name: &str) -> PathBuf {
    store.root().join("refs").join("remotes").join(name)
}

fn remove_dir(path: &Path) -> Result<(), RemoteError> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(RemoteError::io("remove", path, e)),
    }
}

/// Delete everything recorded about remote `name` (after `agit remote remove`).
pub fn forget(store: &Store, name: &str) -> Result<(), RemoteError> {
    remove_dir(&refs_dir(store, name))?;
    remove_dir(&state_dir(store, name))
}

impl Tracking {
    /// Open (creating) the record of `remote`, taking its lock. A record made for
    /// another location, or with `reset`, is discarded first.
    pub fn open(store: &Store, remote: &Remote, reset: bool) -> Result<Tracking, RemoteError> {
        let state_dir = state_dir(store, &remote.name);
        let refs_dir = refs_dir(store, &remote.name);
        fs::create_dir_all(&state_dir).map_err(|e| RemoteError::io("create", &state_dir, e))?;
        let guard = lock::acquire(&state_dir.join("lock"), LockMode::Exclusive, lock::lock_timeout())?;
        let identity_path = state_dir.join(IDENTITY);
        let recorded = fs::read_to_string(&identity_path).unwrap_or_default();
        if reset || recorded != remote.identity {
            remove_dir(&refs_dir)?;
            let known = state_dir.join(KNOWN_OBJECTS);
            match fs::remove_file(&known) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(RemoteError::io("remove", &known, e)),
            }
            durable::replace(&identity_path, remote.identity.as_bytes())?;
        }
        let known_path = state_dir.join(KNOWN_OBJECTS);
        let known = match fs::read(&known_path) {
            Ok(bytes) => bytes.chunks_exact(32).filter_map(|c| c.try_into().ok().map(ObjectId::from_bytes)).collect(),
            Err(e) if e.kind() == ErrorKind::NotFound => HashSet::new(),
            Err(e) => return Err(RemoteError::io("read", &known_path, e)),
        };
        Ok(Tracking { state_dir, refs_dir, known, appender: None, _lock: guard })
    }

    /// Whether the remote is known to hold `id`.
    pub fn knows(&self, id: &ObjectId) -> bool {
        self.known.contains(id)
    }

    /// How many objects are known.
    pub fn known_len(&self) -> usize {
        self.known.len()
    }

    /// Record that the remote holds these objects.
    pub fn record_known(&mut self, ids: &[ObjectId]) -> Result<(), RemoteError> {
        let fresh: Vec<ObjectId> = ids.iter().filter(|id| self.known.insert(**id)).copied().collect();
        if fresh.is_empty() {
            return Ok(());
        }
        let path = self.state_dir.join(KNOWN_OBJECTS);
        if self.appender.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| RemoteError::io("open", &path, e))?;
            // A torn record from a crash would misalign every later id: pad it away.
            let len = file.metadata().map_err(|e| RemoteError::io("stat", &path, e))?.len();
            if len % 32 != 0 {
                file.set_len(len - len % 32).map_err(|e| RemoteError::io("truncate", &path, e))?;
            }
            self.appender = Some(file);
        }
        let mut bytes = Vec::with_capacity(fresh.len() * 32);
        for id in &fresh {
            bytes.extend_from_slice(id.as_bytes());
        }
        if let Some(file) = self.appender.as_mut() {
            file.write_all(&bytes).map_err(|e| RemoteError::io("append to", &path, e))?;
        }
        Ok(())
    }

    fn ref_path(&self, session: &SessionRef) -> PathBuf {
        let relative = session.relative_path();
        // `refs/sessions/<o>/<s>` → `<o>/<s>` under `refs/remotes/<name>/`.
        let tail = relative.strip_prefix("refs/sessions/").unwrap_or(&relative);
        self.refs_dir.join(tail)
    }

    /// The remote's head of `session` as last seen.
    pub fn head(&self, session: &SessionRef) -> Option<ObjectId> {
        fs::read(self.ref_path(session)).ok().and_then(|bytes| refs::parse_ref_content(&bytes))
    }

    /// Every recorded remote head.
    pub fn heads(&self) -> Vec<ObjectId> {
        let mut out = Vec::new();
        let Ok(origins) = fs::read_dir(&self.refs_dir) else { return out };
        for origin in origins.flatten() {
            let Ok(sessions) = fs::read_dir(origin.path()) else { continue };
            for session in sessions.flatten() {
                if let Some(id) = fs::read(session.path()).ok().and_then(|b| refs::parse_ref_content(&b)) {
                    out.push(id);
                }
            }
        }
        out
    }

    /// Record the remote's head of `session`.
    pub fn set_head(&self, session: &SessionRef, head: &ObjectId) -> Result<(), RemoteError> {
        let path = self.ref_path(session);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| RemoteError::io("create", parent, e))?;
        }
        durable::replace_deferred(&path, refs::ref_content(head).as_bytes())?;
        Ok(())
    }
}
