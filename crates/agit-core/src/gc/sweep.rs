//! What is on disk (loose objects, packs, temp leftovers), what to do with each object,
//! and doing it in a crash-safe order.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{PrunedObject, RemovedFile};
use crate::error::{Error, Result};
use crate::hash::{HEX_LEN, ObjectId};
use crate::object::ObjectKind;
use crate::store::pack::{IDX_EXT, MAX_OBJECT_LEN, PACK_EXT, PackEncoding, PackSet};
use crate::store::{Store, durable, loose};

/// A loose object file.
#[derive(Debug, Clone)]
pub(super) struct LooseObject {
    pub id: ObjectId,
    pub path: PathBuf,
    pub size: u64,
    pub mtime: SystemTime,
}

/// A usable pack and what it holds.
#[derive(Debug, Clone)]
pub(super) struct PackFile {
    pub name: String,
    pub path: PathBuf,
    pub idx_path: PathBuf,
    pub pack_bytes: u64,
    /// 0 when the pack has no idx.
    pub idx_bytes: u64,
    pub mtime: SystemTime,
    /// The reference's `AGITPK1` format (always repacked).
    pub v1: bool,
    pub deltas: u64,
    /// Entries: id and object size.
    pub entries: Vec<(ObjectId, u64)>,
}

/// A crash leftover of an atomic write.
#[derive(Debug, Clone)]
pub(super) struct TempFile {
    pub path: PathBuf,
    pub size: u64,
    pub mtime: SystemTime,
    /// A temp file or an idx without its pack in `objects/pack/`: only gc writes and
    /// removes packs, under `gc.lock`, so while gc holds it exclusively any such file is
    /// a leftover whatever its age.
    pub any_age: bool,
}

/// Everything stored, as of one scan.
#[derive(Debug, Default)]
pub(super) struct Inventory {
    pub loose: Vec<LooseObject>,
    pub packs: Vec<PackFile>,
    /// Packs that could not be opened, with their size; never touched.
    pub broken: Vec<(PathBuf, u64)>,
    pub temp: Vec<TempFile>,
    /// Object sizes (loose file size, else packed object size).
    sizes: HashMap<ObjectId, u64>,
}

/// Names of atomic-write leftovers: `durable`'s and the pack writer's temp files, torn
/// object repairs, index rebuilds.
fn is_temp_name(name: &str) -> bool {
    name.starts_with(".tmp-") || name.starts_with(".repair-") || name.starts_with("index.db.rebuild-")
}

fn list(dir: &Path) -> Result<Vec<fs::DirEntry>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        out.push(entry.map_err(|e| Error::io("list", dir, e))?);
    }
    out.sort_by_key(|e| e.file_name());
    Ok(out)
}

/// Size and mtime without following symlinks; `None` when the file vanished.
fn stat(path: &Path) -> Result<Option<(u64, SystemTime)>> {
    match fs::symlink_metadata(path) {
        Ok(meta) => Ok(Some((meta.len(), meta.modified().unwrap_or(SystemTime::UNIX_EPOCH)))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("stat", path, e)),
    }
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Inventory {
    /// List loose objects, packs (with their entries) and temp leftovers.
    pub fn scan(store: &Store) -> Result<Inventory> {
        let mut inv = Inventory::default();
        inv.scan_loose(&store.objects_dir())?;
        inv.scan_packs(&store.pack_dir())?;
        inv.scan_temp(store.root(), &store.objects_dir())?;
        for object in &inv.loose {
            inv.sizes.insert(object.id, object.size);
        }
        for pack in &inv.packs {
            for (id, size) in &pack.entries {
                inv.sizes.entry(*id).or_insert(*size);
            }
        }
        Ok(inv)
    }

    fn scan_loose(&mut self, objects_dir: &Path) -> Result<()> {
        for shard in list(objects_dir)? {
            let shard_name = shard.file_name().to_string_lossy().into_owned();
            let path = shard.path();
            if is_temp_name(&shard_name) {
                self.add_temp(path, false)?;
                continue;
            }
            if shard_name.len() != 2 || !is_lower_hex(&shard_name) || !path.is_dir() {
                continue; // `pack/`, or something fsck reports
            }
            for file in list(&path)? {
                let name = file.file_name().to_string_lossy().into_owned();
                if is_temp_name(&name) {
                    self.add_temp(file.path(), false)?;
                    continue;
                }
                if name.len() != HEX_LEN - 2 || !is_lower_hex(&name) {
                    continue;
                }
                let Some(id) = ObjectId::parse(&format!("{shard_name}{name}")) else { continue };
                let file_path = file.path();
                if let Some((size, mtime)) = stat(&file_path)? {
                    self.loose.push(LooseObject { id, path: file_path, size, mtime });
                }
            }
        }
        Ok(())
    }

    fn scan_packs(&mut self, pack_dir: &Path) -> Result<()> {
        let entries = list(pack_dir)?;
        for entry in &entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            // An idx whose pack is gone is what a gc killed between deleting the two
            // leaves (packs are published before their idx, so never the reverse).
            let stray_idx = name
                .strip_suffix(&format!(".{IDX_EXT}"))
                .is_some_and(|stem| stem.len() == HEX_LEN && !pack_dir.join(format!("{stem}.{PACK_EXT}")).exists());
            if is_temp_name(&name) || stray_idx {
                self.add_temp(entry.path(), true)?;
            }
        }
        let set = PackSet::open(pack_dir)?;
        for broken in set.broken() {
            let size = stat(&broken.path)?.map_or(0, |(size, _)| size);
            self.broken.push((broken.path.clone(), size));
        }
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for name in set.pack_names() {
            let path = pack_dir.join(format!("{name}.{PACK_EXT}"));
            let idx_path = pack_dir.join(format!("{name}.{IDX_EXT}"));
            let Some((pack_bytes, mtime)) = stat(&path)? else { continue };
            let idx_bytes = stat(&idx_path)?.map_or(0, |(size, _)| size);
            by_name.insert(name.to_owned(), self.packs.len());
            self.packs.push(PackFile {
                name: name.to_owned(),
                path,
                idx_path,
                pack_bytes,
                idx_bytes,
                mtime,
                v1: false,
                deltas: 0,
                entries: Vec::new(),
            });
        }
        for object in set.iter() {
            let object = object?;
            let Some(pack) = by_name.get(&*object.pack).and_then(|i| self.packs.get_mut(*i)) else { continue };
            let entry = object.entry;
            pack.v1 |= matches!(entry.encoding, PackEncoding::Full | PackEncoding::SpliceDelta);
            pack.deltas += u64::from(entry.encoding.is_delta());
            pack.entries.push((entry.id, entry.unpacked_len));
        }
        Ok(())
    }

    /// Temp leftovers anywhere under `.agit/` outside `objects/` (scanned with the
    /// objects): `tmp/`, `refs/`, `log/`, `observers/`, the root (index rebuilds).
    fn scan_temp(&mut self, root: &Path, objects_dir: &Path) -> Result<()> {
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in list(&dir)? {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                let Ok(kind) = entry.file_type() else { continue };
                if kind.is_dir() {
                    if path != objects_dir {
                        stack.push(path);
                    }
                } else if kind.is_file() && is_temp_name(&name) {
                    self.add_temp(path, false)?;
                }
            }
        }
        Ok(())
    }

    fn add_temp(&mut self, path: PathBuf, any_age: bool) -> Result<()> {
        if let Some((size, mtime)) = stat(&path)? {
            self.temp.push(TempFile { path, size, mtime, any_age });
        }
        Ok(())
    }

    /// Bytes of loose objects, packs and pack indexes (the object store on disk).
    pub fn object_bytes(&self) -> u64 {
        let loose: u64 = self.loose.iter().map(|o| o.size).sum();
        let packs: u64 = self.packs.iter().map(|p| p.pack_bytes + p.idx_bytes).sum();
        let broken: u64 = self.broken.iter().map(|(_, size)| size).sum();
        loose + packs + broken
    }

    /// Distinct stored objects.
    pub fn distinct_objects(&self) -> usize {
        self.sizes.len()
    }

    /// The size of a stored object, `None` when it is not stored.
    pub fn size_of(&self, id: &ObjectId) -> Option<u64> {
        self.sizes.get(id).copied()
    }

    /// How many of `ids` are stored, and their total size.
    pub fn stored_size_of<'a>(&self, ids: impl Iterator<Item = &'a ObjectId>) -> (u64, u64) {
        ids.filter_map(|id| self.size_of(id)).fold((0, 0), |(n, bytes), size| (n + 1, bytes + size))
    }

    /// The pack called `name`, if it is usable.
    pub fn pack_named(&self, name: &str) -> Option<&PackFile> {
        self.packs.iter().find(|p| p.name == name)
    }

    /// The store's only pack, if it holds exactly `target` (then nothing is rewritten).
    pub fn reusable_pack(&self, target: &HashSet<ObjectId>) -> Option<&PackFile> {
        let [pack] = self.packs.as_slice() else { return None };
        let exact = !pack.v1
            && self.broken.is_empty()
            && pack.entries.len() == target.len()
            && pack.entries.iter().all(|(id, _)| target.contains(id));
        exact.then_some(pack)
    }
}

/// What to do with every stored object.
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// Objects stored afterwards.
    pub kept: u64,
    /// Of those, unreachable but younger than the grace period.
    pub young_kept: u64,
    /// Loose copies of objects in the kept pack.
    pub loose_removed: u64,
    /// Reachable loose objects too large for a pack.
    pub oversized: u64,
    pub pruned: Vec<PrunedObject>,
    /// Objects to write out loose (with this mtime) before their packs go.
    pub unpack: Vec<(ObjectId, SystemTime)>,
    pub delete_loose: Vec<PathBuf>,
    pub remove_packs: Vec<PackFile>,
}

/// The youngest copy of an object in the packs being removed.
struct OldCopy<'a> {
    mtime: SystemTime,
    size: u64,
    pack: &'a str,
}

impl Plan {
    /// The plan with `keep` as the pack that stays (the new one, or the reused one).
    pub fn new(
        inv: &Inventory,
        reached: &HashMap<ObjectId, ObjectKind>,
        keep: Option<&PackFile>,
        grace: Duration,
        now: SystemTime,
    ) -> Plan {
        let keep_ids: HashSet<ObjectId> =
            keep.map(|p| p.entries.iter().map(|(id, _)| *id).collect()).unwrap_or_default();
        Plan::build(inv, reached, keep.map(|p| p.name.as_str()), &keep_ids, grace, now)
    }

    /// The plan if a new pack held exactly `target` (dry run: nothing is written).
    pub fn hypothetical(
        inv: &Inventory,
        reached: &HashMap<ObjectId, ObjectKind>,
        target: &HashSet<ObjectId>,
        grace: Duration,
        now: SystemTime,
    ) -> Plan {
        Plan::build(inv, reached, None, target, grace, now)
    }

    fn build(
        inv: &Inventory,
        reached: &HashMap<ObjectId, ObjectKind>,
        keep_name: Option<&str>,
        keep_ids: &HashSet<ObjectId>,
        grace: Duration,
        now: SystemTime,
    ) -> Plan {
        let young = |mtime: SystemTime| now.duration_since(mtime).map_or(true, |age| age < grace);
        let mut old: HashMap<ObjectId, OldCopy<'_>> = HashMap::new();
        let mut plan = Plan::default();
        for pack in &inv.packs {
            if Some(pack.name.as_str()) == keep_name {
                continue;
            }
            plan.remove_packs.push(pack.clone());
            for (id, size) in &pack.entries {
                let copy = OldCopy { mtime: pack.mtime, size: *size, pack: &pack.name };
                match old.get(id) {
                    Some(existing) if existing.mtime >= pack.mtime => {}
                    _ => {
                        old.insert(*id, copy);
                    }
                }
            }
        }
        let loose: HashMap<ObjectId, &LooseObject> = inv.loose.iter().map(|o| (o.id, o)).collect();
        let mut ids: Vec<ObjectId> = loose.keys().chain(old.keys()).copied().collect();
        for pack in &inv.packs {
            if Some(pack.name.as_str()) == keep_name {
                ids.extend(pack.entries.iter().map(|(id, _)| *id));
            }
        }
        ids.sort();
        ids.dedup();
        for id in ids {
            let l = loose.get(&id).copied();
            let p = old.get(&id);
            if keep_ids.contains(&id) {
                plan.kept += 1;
                if let Some(l) = l {
                    plan.delete_loose.push(l.path.clone());
                    plan.loose_removed += 1;
                }
                continue;
            }
            let reachable = reached.contains_key(&id);
            let youngest = match (l, p) {
                (Some(l), Some(p)) => l.mtime.max(p.mtime),
                (Some(l), None) => l.mtime,
                (None, Some(p)) => p.mtime,
                (None, None) => continue,
            };
            if reachable || young(youngest) {
                plan.kept += 1;
                plan.young_kept += u64::from(!reachable);
                match (l, p) {
                    (None, Some(p)) => plan.unpack.push((id, p.mtime)),
                    (Some(l), _) if reachable && l.size > MAX_OBJECT_LEN => plan.oversized += 1,
                    _ => {}
                }
                continue;
            }
            let (size, location) = match (l, p) {
                (Some(l), Some(p)) if p.mtime > l.mtime => (p.size, format!("pack {}", p.pack)),
                (Some(l), _) => (l.size, "loose".to_owned()),
                (None, Some(p)) => (p.size, format!("pack {}", p.pack)),
                (None, None) => continue,
            };
            if let Some(l) = l {
                plan.delete_loose.push(l.path.clone());
            }
            plan.pruned.push(PrunedObject { hash: id.to_hex(), size, location });
        }
        plan
    }

    /// Whether carrying out the plan deletes anything.
    pub fn deletes_anything(&self) -> bool {
        !self.delete_loose.is_empty() || !self.remove_packs.is_empty()
    }

    /// Carry it out: objects leaving a removed pack are written loose and flushed first,
    /// then packs and loose files are deleted. A crash in between leaves duplicates,
    /// never a missing object.
    pub fn execute(&self, store: &Store) -> Result<()> {
        if !self.unpack.is_empty() {
            let packs = PackSet::open(&store.pack_dir())?;
            for (id, mtime) in &self.unpack {
                let (_, bytes) = packs.get(id)?.ok_or_else(|| Error::ObjectNotFound { prefix: id.to_hex() })?;
                loose::write(&store.objects_dir(), &bytes)?;
                // Keep the object's age: it was as old as its pack (best effort; a
                // failure only keeps it one grace period longer).
                if let Ok(file) = fs::File::open(loose::object_path(&store.objects_dir(), id)) {
                    let _ = file.set_modified(*mtime);
                }
            }
            durable::sync_filesystem(store.root())?;
        }
        for pack in &self.remove_packs {
            // The pack first: an idx without its pack is ignored, a pack without its idx
            // would still be scanned.
            remove(&pack.path)?;
            remove(&pack.idx_path)?;
        }
        for path in &self.delete_loose {
            remove(path)?;
        }
        if self.deletes_anything() {
            durable::sync_filesystem(store.root())?;
        }
        Ok(())
    }
}

fn remove(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

/// Temp files younger than this are never removed, whatever the grace period: writers
/// of staging, turn state, refs and loose objects do not hold `gc.lock`, and `--grace 0`
/// must not pull a file from under a write in progress (writes take milliseconds).
const MIN_TEMP_AGE: Duration = Duration::from_secs(3600);

/// Remove (or, with `dry_run`, list) temp leftovers older than `grace` (and at least
/// [`MIN_TEMP_AGE`]), and pack-directory leftovers of any age (see
/// [`TempFile::any_age`]; the caller holds `gc.lock` exclusively).
pub(super) fn remove_temp_files(
    store: &Store,
    inv: &Inventory,
    grace: Duration,
    now: SystemTime,
    dry_run: bool,
) -> Result<Vec<RemovedFile>> {
    let mut out = Vec::new();
    for temp in &inv.temp {
        let stale = temp.any_age || now.duration_since(temp.mtime).is_ok_and(|age| age >= grace.max(MIN_TEMP_AGE));
        if !stale {
            continue;
        }
        if !dry_run {
            remove(&temp.path)?;
        }
        out.push(RemovedFile { path: store.display_path(&temp.path), size: temp.size });
    }
    Ok(out)
}
