//! The `.agit/` store: layout, discovery, loose objects, refs and locks.
//!
//! ```text
//! .agit/
//!   config.json                      privacy, capture and remote settings
//!   objects/<2 hex>/<62 hex>         loose objects (raw bytes, BLAKE3-named)
//!   objects/pack/                    packs written by gc
//!   refs/sessions/<hex origin>/<hex session>   session heads ("<64 hex>\n")
//!   tmp/                             per-turn staging files
//!   log/hook-error.log               fail-open hook diagnostics
//!   observers/                       observer checkpoints
//!   index.db                         SQLite query index (rebuildable cache)
//!   gc.lock, index.lock              OS locks (see `lock`)
//! ```

pub mod durable;
pub mod hook_log;
pub mod lock;
pub mod loose;
pub mod pack;
pub mod refs;
pub mod staging;

pub use lock::{LockGuard, LockMode, LockRecord};
pub use refs::{LockedRef, Refs, SessionRef};

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::error::{Error, Result};
use crate::hash::ObjectId;
use crate::object::{Step, Tree};

/// Name of the store directory inside a workspace.
pub const STORE_DIR: &str = ".agit";

/// Directories a write-capable open makes sure exist.
const LAYOUT_DIRS: [&str; 6] = ["objects", "objects/pack", "refs/sessions", "tmp", "log", "observers"];

/// An opened store. Cheap to clone (paths plus a shared, lazily opened pack set).
#[derive(Debug, Clone)]
pub struct Store {
    workspace: PathBuf,
    root: PathBuf,
    refs: Refs,
    packs: Packs,
}

/// The store's packs, opened on first use and reopened when an object is missing (a gc
/// may have packed and pruned loose copies since).
#[derive(Clone, Default)]
struct Packs(Arc<RwLock<Option<Arc<pack::PackSet>>>>);

impl std::fmt::Debug for Packs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Packs")
    }
}

impl Store {
    /// Find the store by walking up from `start` to the nearest directory with `.agit/`.
    pub fn discover(start: &Path) -> Result<Store> {
        let start = absolute(start)?;
        let mut dir = start.as_path();
        loop {
            let candidate = dir.join(STORE_DIR);
            if candidate.is_dir() {
                return Ok(Store::at(dir));
            }
            match dir.parent() {
                Some(parent) => dir = parent,
                None => return Err(Error::StoreNotFound { start }),
            }
        }
    }

    /// The store of `workspace` (which must contain `.agit/`).
    pub fn open(workspace: &Path) -> Result<Store> {
        let workspace = absolute(workspace)?;
        if !workspace.join(STORE_DIR).is_dir() {
            return Err(Error::StoreNotFound { start: workspace });
        }
        Ok(Store::at(&workspace))
    }

    /// Create `.agit/` (and its layout) in `workspace`. Returns the store and whether
    /// the directory was newly created. An existing store is left as is.
    pub fn init(workspace: &Path) -> Result<(Store, bool)> {
        let workspace = absolute(workspace)?;
        let root = workspace.join(STORE_DIR);
        let created = !root.is_dir();
        let store = Store::at(&workspace);
        store.ensure_layout()?;
        Ok((store, created))
    }

    fn at(workspace: &Path) -> Store {
        let root = workspace.join(STORE_DIR);
        Store { workspace: workspace.to_path_buf(), refs: Refs::new(&root), root, packs: Packs::default() }
    }

    /// Create any missing layout directory (write-capable opens call this).
    pub fn ensure_layout(&self) -> Result<()> {
        for dir in LAYOUT_DIRS {
            durable::create_dir_durable(&self.root.join(dir))?;
        }
        Ok(())
    }

    /// The workspace (repository root) the store records.
    pub fn workspace(&self) -> &Path {
        &self.workspace
    }

    /// The `.agit/` directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn objects_dir(&self) -> PathBuf {
        self.root.join("objects")
    }

    pub fn pack_dir(&self) -> PathBuf {
        self.root.join("objects").join("pack")
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.root.join("log")
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.json")
    }

    pub fn index_path(&self) -> PathBuf {
        self.root.join("index.db")
    }

    /// Finalizes hold it shared; gc and reindex hold it exclusive.
    pub fn gc_lock_path(&self) -> PathBuf {
        self.root.join("gc.lock")
    }

    /// Index users hold it shared; swapping in a rebuilt index holds it exclusive.
    pub fn index_lock_path(&self) -> PathBuf {
        self.root.join("index.lock")
    }

    /// A path relative to the store root, for messages (`.agit/...`).
    pub fn display_path(&self, path: &Path) -> String {
        match path.strip_prefix(&self.workspace) {
            Ok(rel) => rel.display().to_string(),
            Err(_) => path.display().to_string(),
        }
    }

    /// Session refs.
    pub fn refs(&self) -> &Refs {
        &self.refs
    }

    /// Write an object (idempotent). Returns its id and whether it was new.
    pub fn write_object(&self, bytes: &[u8]) -> Result<(ObjectId, bool)> {
        let packs = self.packs(false);
        if packs.pack_names().next().is_some() {
            // After gc, snapshots (with the stat cache cleared) and the index rebuild
            // (blame) write again what is already packed: do not duplicate it loose.
            // Only this process's pack set is asked, so a pack newer than it merely
            // costs a loose duplicate, which the next gc removes.
            //
            // The pack must still be on disk: a pack set opened before a gc removed the
            // pack (and pruned the object) would otherwise vouch for an object that is
            // gone. Callers write under `gc.lock` shared, so a pack seen here stays.
            let id = ObjectId::of(bytes);
            if !loose::exists(&self.objects_dir(), &id)
                && let Ok(Some(found)) = packs.locate(&id)
                && self.pack_dir().join(format!("{}.{}", found.pack, pack::PACK_EXT)).is_file()
            {
                return Ok((id, false));
            }
        }
        loose::write(&self.objects_dir(), bytes)
    }

    /// The pack set, opened (or reopened with `refresh`) on demand. A pack directory
    /// that cannot be listed is an empty set here; fsck reports it.
    pub fn packs(&self, refresh: bool) -> Arc<pack::PackSet> {
        if !refresh
            && let Ok(guard) = self.packs.0.read()
            && let Some(set) = guard.as_ref()
        {
            return Arc::clone(set);
        }
        let set = Arc::new(pack::PackSet::open(&self.pack_dir()).unwrap_or_else(|_| pack::PackSet::empty()));
        if let Ok(mut guard) = self.packs.0.write() {
            *guard = Some(Arc::clone(&set));
        }
        set
    }

    /// Look something up in the packs, reopening them once on a miss.
    fn in_packs<T>(&self, f: impl Fn(&pack::PackSet) -> Result<Option<T>>) -> Result<Option<T>> {
        if let Some(found) = f(&self.packs(false))? {
            return Ok(Some(found));
        }
        f(&self.packs(true))
    }

    /// Read an object's bytes (loose first, then packs), verified against its id.
    pub fn read_object(&self, id: &ObjectId) -> Result<Vec<u8>> {
        if let Some(bytes) = loose::read(&self.objects_dir(), id)? {
            return Ok(bytes);
        }
        self.in_packs(|p| Ok(p.get(id)?.map(|(_, bytes)| bytes)))?
            .ok_or_else(|| Error::ObjectNotFound { prefix: id.to_hex() })
    }

    /// Stored size of an object in bytes, without reading a loose one.
    pub fn object_size(&self, id: &ObjectId) -> Option<u64> {
        if let Ok(meta) = std::fs::metadata(loose::object_path(&self.objects_dir(), id)) {
            return Some(meta.len());
        }
        self.in_packs(|p| Ok(p.locate(id)?.map(|o| o.entry.unpacked_len))).ok().flatten()
    }

    /// Whether the object is stored (loose or packed).
    pub fn has_object(&self, id: &ObjectId) -> bool {
        loose::exists(&self.objects_dir(), id)
            || self.in_packs(|p| Ok(p.contains(id)?.then_some(()))).ok().flatten().is_some()
    }

    /// Read and decode a step.
    pub fn read_step(&self, id: &ObjectId) -> Result<Step> {
        let bytes = self.read_object(id)?;
        Step::decode(&bytes).map_err(|source| Error::InvalidObject { id: *id, source })
    }

    /// Read and decode a tree.
    pub fn read_tree(&self, id: &ObjectId) -> Result<Tree> {
        let bytes = self.read_object(id)?;
        Tree::decode(&bytes).map_err(|source| Error::InvalidObject { id: *id, source })
    }

    /// Every stored object id, loose and packed (sorted, deduplicated).
    pub fn all_object_ids(&self) -> Result<Vec<ObjectId>> {
        let mut ids = loose::all_ids(&self.objects_dir())?;
        for entry in self.packs(true).iter() {
            ids.push(entry?.entry.id);
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// Objects whose hex id starts with `prefix` (validated lowercase hex), loose or packed.
    pub fn object_ids_with_prefix(&self, prefix: &str) -> Result<Vec<ObjectId>> {
        let mut ids = loose::ids_with_prefix(&self.objects_dir(), prefix)?;
        ids.extend(self.packs(false).ids_with_prefix(prefix)?);
        ids.sort();
        ids.dedup();
        Ok(ids)
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| Error::io("resolve", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discover_walks_up_and_reports_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let (store, created) = Store::init(dir.path()).unwrap();
        assert!(created);
        assert!(!Store::init(dir.path()).unwrap().1);
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(Store::discover(&nested).unwrap().root(), store.root());
        let other = tempfile::tempdir().unwrap();
        let err = Store::discover(other.path()).unwrap_err();
        assert_eq!(err.code(), "store_not_found");
    }
}
