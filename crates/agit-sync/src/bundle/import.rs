//! Importing a bundle (reference `remote.md` §6.5), all-or-nothing up to the writes.
//!
//! Phase 1 validates the whole bundle and plans every ref update, reading only: the
//! manifest, every object (size, then hash, then kind), reachability from each head,
//! and each ref's fate, including namespaced-ref conflicts (the reference found those
//! mid-way, after writing). Any failure returns before the store is touched.
//!
//! Phase 2 writes objects (store durable writes, re-verifying each hash), namespaced
//! clones, then refs by compare-and-swap; each ref update flushes the filesystem first,
//! so no ref ever points at an object that could be lost.
//!
//! Ref policy, per manifest ref, in order:
//! - no local ref → create it;
//! - local ref equal to the bundle head → unchanged;
//! - named in `--replace-ref` → replace;
//! - local head is an ancestor of the bundle head → fast-forward (the reference namespaced);
//! - bundle head is an ancestor of the local head → unchanged (nothing new to import);
//! - otherwise → namespace: `<session_id>@import-<bundle_id[0..12]>`, a clone of the
//!   bundle chain whose steps carry the new session id and cloned parents and keep
//!   every other field (model, outcome, git fields), encoded by the normal step encoder.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use agit_core::object::{Blame, Step, Tree, sniff_kind};
use agit_core::store::durable;
use agit_core::store::lock::{self, LockMode};
use agit_core::{ObjectId, ObjectKind, SessionRef, Store};

use super::archive;
use super::error::BundleError;
use super::manifest::{BUNDLE_FORMAT, MANIFEST_FILE, Manifest, ManifestObject, is_safe_relative_path, object_path};

/// Options of `agit import`.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Sessions whose local ref may be overwritten by the bundle's head (`--replace-ref`).
    pub replace_refs: Vec<SessionRef>,
}

/// What happened to one bundle ref.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefAction {
    /// There was no local ref; it now points at the bundle head.
    Created,
    /// The local ref already pointed at the bundle head.
    Unchanged,
    /// The local head already contains the bundle head in its history.
    AlreadyContained,
    /// `--replace-ref`: the local ref was overwritten.
    Replaced,
    /// The local head was an ancestor of the bundle head; the ref moved forward.
    FastForwarded,
    /// The histories diverged: a namespaced clone was created.
    Namespaced,
    /// The histories diverged and the namespaced clone already exists (an earlier import).
    NamespacedUnchanged,
}

impl RefAction {
    /// The snake_case name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            RefAction::Created => "created",
            RefAction::Unchanged => "unchanged",
            RefAction::AlreadyContained => "already_contained",
            RefAction::Replaced => "replaced",
            RefAction::FastForwarded => "fast_forwarded",
            RefAction::Namespaced => "namespaced",
            RefAction::NamespacedUnchanged => "namespaced_unchanged",
        }
    }
}

/// One bundle ref and what the import did with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefOutcome {
    /// The session named by the bundle.
    pub session: SessionRef,
    /// Its head in the bundle.
    pub bundle_head: ObjectId,
    /// The local head before the import.
    pub previous: Option<ObjectId>,
    /// What was done.
    pub action: RefAction,
    /// The ref that now holds the bundle's history (the namespaced one when namespaced).
    pub target: SessionRef,
    /// Its head (the clone head when namespaced).
    pub target_head: ObjectId,
}

/// Counters of an import (reference field names, plus `fast_forwarded_refs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// The bundle's 64-hex id.
    pub bundle_id: String,
    /// Objects written.
    pub imported_objects: usize,
    /// Objects already present (loose or packed).
    pub skipped_objects: usize,
    /// Namespaced step clones written.
    pub cloned_steps: usize,
    /// Refs created.
    pub created_refs: usize,
    /// Refs overwritten by `--replace-ref`.
    pub replaced_refs: usize,
    /// Namespaced refs created.
    pub namespaced_refs: usize,
    /// Refs left as they were (equal, already contained, or namespaced earlier).
    pub unchanged_refs: usize,
    /// Refs moved forward to a descendant head.
    pub fast_forwarded_refs: usize,
    /// Per-ref details, in manifest order.
    pub refs: Vec<RefOutcome>,
}

impl ImportSummary {
    /// Whether the import wrote anything (objects, clones or refs).
    pub fn changed(&self) -> bool {
        self.imported_objects > 0
            || self.cloned_steps > 0
            || self.created_refs > 0
            || self.replaced_refs > 0
            || self.namespaced_refs > 0
            || self.fast_forwarded_refs > 0
    }
}

/// Import the bundle at `path` (a bundle directory, or a `.tar.zst` archive recognised by
/// its zstd magic) into `store`. Nothing is written unless the whole bundle validates and
/// every ref has a conflict-free plan.
pub fn import(store: &Store, path: &Path, options: &ImportOptions) -> Result<ImportSummary, BundleError> {
    let source = Source::open(path)?;
    let bundle = validate(&source)?;
    let plan = plan_refs(store, &source, &bundle, options)?;
    write(store, &source, &bundle, plan)
}

/// Where bundle files are read from: the directory itself, or an unpacked archive.
struct Source {
    root: PathBuf,
    /// Keeps an unpacked archive alive (deleted on drop).
    _unpacked: Option<tempfile::TempDir>,
}

impl Source {
    fn open(path: &Path) -> Result<Source, BundleError> {
        let meta = fs::metadata(path).map_err(|e| BundleError::io("open bundle", path, e))?;
        if meta.is_dir() {
            return Ok(Source { root: path.to_path_buf(), _unpacked: None });
        }
        if archive::is_archive(path)? {
            let unpacked = archive::unpack(path)?;
            return Ok(Source { root: unpacked.path().to_path_buf(), _unpacked: Some(unpacked) });
        }
        Err(BundleError::invalid(
            "BundleArchiveInvalid",
            format!("{} is neither a bundle directory nor a .tar.zst bundle archive", path.display()),
        ))
    }

    /// Metadata of a bundle file, which must be a regular file (not a symlink, FIFO, …).
    fn regular_file(&self, rel: &str) -> Result<(PathBuf, fs::Metadata), BundleError> {
        let path = self.root.join(rel);
        let meta = fs::symlink_metadata(&path).map_err(|e| BundleError::io("read", &path, e))?;
        if !meta.is_file() {
            return Err(BundleError::invalid("BundlePathInvalid", format!("{rel} is not a regular file")));
        }
        Ok((path, meta))
    }

    fn read(&self, rel: &str) -> Result<Vec<u8>, BundleError> {
        let (path, _) = self.regular_file(rel)?;
        fs::read(&path).map_err(|e| BundleError::io("read", &path, e))
    }

    /// An object's bytes, checked against the manifest: size first (without reading a
    /// file of the wrong size), then the hash.
    fn read_object(&self, object: &Declared) -> Result<Vec<u8>, BundleError> {
        let (path, meta) = self.regular_file(&object.path)?;
        let hex = object.id.to_hex();
        let mismatch = |found: u64| {
            BundleError::object(
                "BundleObjectSizeMismatch",
                &hex,
                format!("object {hex} is {found} bytes, the manifest says {}", object.size),
            )
        };
        if meta.len() != object.size {
            return Err(mismatch(meta.len()));
        }
        let bytes = fs::read(&path).map_err(|e| BundleError::io("read", &path, e))?;
        if bytes.len() as u64 != object.size {
            return Err(mismatch(bytes.len() as u64));
        }
        if ObjectId::of(&bytes) != object.id {
            return Err(BundleError::object(
                "BundleHashMismatch",
                &hex,
                format!("object {hex} does not hash to its name"),
            ));
        }
        Ok(bytes)
    }
}

/// A manifest object after the path and hash checks.
#[derive(Debug, Clone)]
struct Declared {
    id: ObjectId,
    size: u64,
    path: String,
    /// `None` when the manifest names no known kind.
    kind: Option<ObjectKind>,
}

/// A bundle that passed every check.
struct Validated {
    manifest: Manifest,
    objects: Vec<Declared>,
    /// `(session, head)` per manifest ref, in manifest order.
    refs: Vec<(SessionRef, ObjectId)>,
    /// Every step reached from a head: its parent.
    parents: HashMap<ObjectId, Option<ObjectId>>,
}

fn validate(source: &Source) -> Result<Validated, BundleError> {
    // 1. The manifest.
    let manifest = Manifest::parse(&source.read(MANIFEST_FILE)?)?;

    // 2. Header fields.
    if manifest.bundle_format != BUNDLE_FORMAT {
        return Err(BundleError::invalid(
            "UnsupportedBundleFormat",
            format!("bundle format `{}` is not {BUNDLE_FORMAT}", manifest.bundle_format),
        ));
    }
    if !agit_core::hash::is_canonical_hex_id(&manifest.bundle_id) {
        return Err(BundleError::invalid("InvalidHash", "bundle_id is not 64 lowercase hex characters"));
    }
    if manifest.encryption.is_some() {
        return Err(BundleError::invalid("UnsupportedBundleEncryption", "encrypted bundles are not supported"));
    }
    if manifest.refs.is_empty() {
        return Err(BundleError::invalid("BundleMissingRefs", "the manifest lists no refs"));
    }
    if manifest.objects.is_empty() {
        return Err(BundleError::invalid("BundleMissingObjects", "the manifest lists no objects"));
    }

    // 3. Refs: safe, canonical paths and valid heads.
    let mut refs = Vec::with_capacity(manifest.refs.len());
    for r in &manifest.refs {
        if !is_safe_relative_path(&r.path) {
            return Err(BundleError::invalid("BundlePathInvalid", format!("unsafe ref path `{}`", r.path)));
        }
        let session = SessionRef::new(r.origin.clone(), r.session_id.clone());
        if r.origin.is_empty() || r.session_id.is_empty() || r.path != session.relative_path() {
            return Err(BundleError::invalid(
                "BundleRefPathInvalid",
                format!("ref path `{}` does not match {}", r.path, session.display_name()),
            ));
        }
        let head = parse_hash(&r.head_hash)?;
        refs.push((session, head));
    }

    // 4. Objects: safe, canonical paths and valid hashes.
    let mut objects = Vec::with_capacity(manifest.objects.len());
    for o in &manifest.objects {
        objects.push(declared(o)?);
    }

    // 5. The privacy report, when declared, must be there.
    if let Some(report) = &manifest.privacy.report_path {
        if !is_safe_relative_path(report) {
            return Err(BundleError::invalid("BundlePathInvalid", format!("unsafe report path `{report}`")));
        }
        source.read(report)?;
    }

    // 6. Every object: no duplicates, size, hash. (Kinds are checked after the walk,
    //    which knows most of them without parsing anything again.)
    let mut present: HashSet<ObjectId> = HashSet::with_capacity(objects.len());
    for object in &objects {
        if !present.insert(object.id) {
            return Err(BundleError::object(
                "BundleDuplicateObject",
                &object.id.to_hex(),
                format!("object {} is listed twice", object.id),
            ));
        }
        source.read_object(object)?;
    }

    // 7. Refs: no duplicates, heads present.
    let mut seen_refs = HashSet::new();
    for (r, (_, head)) in manifest.refs.iter().zip(&refs) {
        if !seen_refs.insert(r.path.as_str()) {
            return Err(BundleError::invalid("BundleDuplicateRef", format!("ref `{}` is listed twice", r.path)));
        }
        if !present.contains(head) {
            return Err(BundleError::object(
                "BundleMissingHeadObject",
                &head.to_hex(),
                format!("the head {head} of {} is not in the bundle", r.path),
            ));
        }
    }

    // 8. Reachability, by context from the heads, then the reference's per-kind check of
    //    everything else.
    let by_id: HashMap<ObjectId, &Declared> = objects.iter().map(|o| (o.id, o)).collect();
    let mut walk = ContextWalk { source, by_id: &by_id, kinds: HashMap::new(), parents: HashMap::new() };
    for (_, head) in &refs {
        walk.chain(*head)?;
    }
    for object in &objects {
        // The reference labels kinds by content; a producer labelling by context (a
        // workspace file that looks like a step is still a blob) is right too. Content
        // is only sniffed when the context does not already agree.
        let agrees = match object.kind {
            None => false,
            Some(kind) => walk.reached_as(&object.id, kind) || kind == sniff_kind(&source.read_object(object)?),
        };
        if !agrees {
            let label = manifest_kind(&manifest, object);
            return Err(BundleError::object(
                "BundleKindMismatch",
                &object.id.to_hex(),
                format!("object {} is listed as `{label}` but is not one", object.id),
            ));
        }
    }
    for object in &objects {
        if walk.kinds.contains_key(&object.id) {
            continue;
        }
        match object.kind {
            Some(ObjectKind::Step) => {
                let step = walk.step(object.id)?;
                walk.require(&step.tree)?;
                if let Some(parent) = step.parent {
                    walk.require(&parent)?;
                }
            }
            Some(ObjectKind::Tree) => {
                for entry in walk.tree(object.id)?.entries {
                    walk.require(&entry.blob)?;
                }
            }
            Some(ObjectKind::Blame) => {
                let bytes = source.read_object(object)?;
                let blame = Blame::decode(&bytes).map_err(|e| undecodable(object.id, &e))?;
                for line in &blame.lines {
                    walk.require(&line.step)?;
                }
            }
            _ => {}
        }
    }
    let parents = walk.parents;
    Ok(Validated { manifest, objects, refs, parents })
}

fn manifest_kind<'a>(manifest: &'a Manifest, object: &Declared) -> &'a str {
    manifest.objects.iter().find(|o| o.path == object.path).map_or("?", |o| o.kind.as_str())
}

fn parse_hash(text: &str) -> Result<ObjectId, BundleError> {
    if !agit_core::hash::is_canonical_hex_id(text) {
        return Err(BundleError::invalid("InvalidHash", format!("`{text}` is not 64 lowercase hex characters")));
    }
    ObjectId::parse(text).ok_or_else(|| BundleError::invalid("InvalidHash", format!("`{text}` is not a hash")))
}

fn declared(o: &ManifestObject) -> Result<Declared, BundleError> {
    if !is_safe_relative_path(&o.path) {
        return Err(BundleError::invalid("BundlePathInvalid", format!("unsafe object path `{}`", o.path)));
    }
    if o.hash.len() != agit_core::hash::HEX_LEN {
        return Err(BundleError::invalid("InvalidHash", format!("`{}` is not 64 characters", o.hash)));
    }
    if o.path != object_path(&o.hash) {
        return Err(BundleError::object(
            "BundleObjectPathInvalid",
            &o.hash,
            format!("object path `{}` does not match its hash", o.path),
        ));
    }
    let id = parse_hash(&o.hash)?;
    Ok(Declared { id, size: o.size, path: o.path.clone(), kind: ObjectKind::parse(&o.kind) })
}

fn undecodable(id: ObjectId, e: &dyn std::fmt::Display) -> BundleError {
    BundleError::object("BundleObjectInvalid", &id.to_hex(), format!("object {id} cannot be read: {e}"))
}

/// The walk from the heads: what each object is by how it is reached.
struct ContextWalk<'a> {
    source: &'a Source,
    by_id: &'a HashMap<ObjectId, &'a Declared>,
    /// How each reached object was reached: a bit per kind, since the same bytes can be
    /// both a snapshot file and a step (a bundle's objects committed to a workspace).
    kinds: HashMap<ObjectId, u8>,
    parents: HashMap<ObjectId, Option<ObjectId>>,
}

impl ContextWalk<'_> {
    fn bit(kind: ObjectKind) -> u8 {
        1 << (kind as u8)
    }

    fn mark(&mut self, id: ObjectId, kind: ObjectKind) {
        *self.kinds.entry(id).or_insert(0) |= Self::bit(kind);
    }

    /// Whether the walk reached `id` as a `kind`.
    fn reached_as(&self, id: &ObjectId, kind: ObjectKind) -> bool {
        self.kinds.get(id).is_some_and(|bits| bits & Self::bit(kind) != 0)
    }

    fn require(&self, id: &ObjectId) -> Result<&Declared, BundleError> {
        self.by_id.get(id).copied().ok_or_else(|| {
            BundleError::object(
                "BundleReachabilityMissingObject",
                &id.to_hex(),
                format!("object {id} is referenced but not in the bundle"),
            )
        })
    }

    fn step(&self, id: ObjectId) -> Result<Step, BundleError> {
        let bytes = self.source.read_object(self.require(&id)?)?;
        Step::decode(&bytes).map_err(|e| undecodable(id, &e))
    }

    fn tree(&self, id: ObjectId) -> Result<Tree, BundleError> {
        let bytes = self.source.read_object(self.require(&id)?)?;
        Tree::decode(&bytes).map_err(|e| undecodable(id, &e))
    }

    /// Every step from `head` back to the root, with trees and blobs.
    fn chain(&mut self, head: ObjectId) -> Result<(), BundleError> {
        let mut cursor = Some(head);
        while let Some(id) = cursor {
            // Stop at a step already walked (not merely reached as a blob).
            if self.parents.contains_key(&id) {
                break;
            }
            let step = self.step(id).map_err(|e| match e {
                BundleError::Invalid { name: "BundleObjectInvalid", hash, .. } if id == head => BundleError::Invalid {
                    name: "BundleHeadNotStep",
                    detail: format!("the head {id} is not a step"),
                    hash,
                },
                other => other,
            })?;
            self.mark(id, ObjectKind::Step);
            self.parents.insert(id, step.parent);
            if !self.reached_as(&step.tree, ObjectKind::Tree) {
                let tree = self.tree(step.tree)?;
                self.mark(step.tree, ObjectKind::Tree);
                for entry in &tree.entries {
                    self.require(&entry.blob)?;
                    self.mark(entry.blob, ObjectKind::Blob);
                }
            }
            cursor = step.parent;
        }
        Ok(())
    }
}

/// The planned fate of one manifest ref.
struct Planned {
    outcome: RefOutcome,
    /// Namespaced clones to write (oldest first), with their bytes.
    clones: Vec<(ObjectId, Vec<u8>)>,
}

fn plan_refs(
    store: &Store,
    source: &Source,
    bundle: &Validated,
    options: &ImportOptions,
) -> Result<Vec<Planned>, BundleError> {
    let short_id = &bundle.manifest.bundle_id[..12];
    let mut plans = Vec::with_capacity(bundle.refs.len());
    // Every ref the import will leave pointing somewhere, to catch two plans for one ref.
    let mut targets: HashMap<SessionRef, ObjectId> = HashMap::new();
    for (session, head) in &bundle.refs {
        let local = store.refs().read(session)?;
        let mut clones = Vec::new();
        let (action, target, target_head) = match local {
            None => (RefAction::Created, session.clone(), *head),
            Some(local) if local == *head => (RefAction::Unchanged, session.clone(), *head),
            Some(_) if options.replace_refs.contains(session) => (RefAction::Replaced, session.clone(), *head),
            Some(local) if bundle_chain_contains(&bundle.parents, *head, local) => {
                (RefAction::FastForwarded, session.clone(), *head)
            }
            Some(local) if local_chain_contains(store, local, *head)? => {
                (RefAction::AlreadyContained, session.clone(), local)
            }
            Some(_) => {
                let namespaced =
                    SessionRef::new(session.origin.clone(), format!("{}@import-{short_id}", session.session_id));
                clones = clone_chain(source, bundle, *head, &namespaced.session_id)?;
                let clone_head = clones.last().map_or(*head, |(id, _)| *id);
                match store.refs().read(&namespaced)? {
                    None => (RefAction::Namespaced, namespaced, clone_head),
                    Some(existing) if existing == clone_head => {
                        (RefAction::NamespacedUnchanged, namespaced, clone_head)
                    }
                    Some(existing) => {
                        return Err(BundleError::invalid(
                            "BundleRefConflict",
                            format!(
                                "{} conflicts with the local {}, and the namespaced ref {} already points at {}",
                                session.display_name(),
                                local.map_or_else(String::new, |l| l.short(12)),
                                namespaced.display_name(),
                                existing.short(12)
                            ),
                        ));
                    }
                }
            }
        };
        if let Some(other) = targets.insert(target.clone(), target_head)
            && other != target_head
        {
            return Err(BundleError::invalid(
                "BundleRefConflict",
                format!("two bundle refs would set {} to different heads", target.display_name()),
            ));
        }
        plans.push(Planned {
            outcome: RefOutcome {
                session: session.clone(),
                bundle_head: *head,
                previous: local,
                action,
                target,
                target_head,
            },
            clones,
        });
    }
    Ok(plans)
}

/// Whether `ancestor` is on the bundle chain from `head` (every step of which the
/// validation walk recorded).
fn bundle_chain_contains(parents: &HashMap<ObjectId, Option<ObjectId>>, head: ObjectId, ancestor: ObjectId) -> bool {
    let mut cursor = Some(head);
    let mut steps = 0usize;
    while let Some(id) = cursor {
        if id == ancestor {
            return true;
        }
        // The chain is acyclic (ids are hashes of content naming the parent), but a bound
        // costs nothing.
        steps += 1;
        if steps > parents.len() {
            return false;
        }
        cursor = parents.get(&id).copied().flatten();
    }
    false
}

/// Whether `needle` is on the local chain from `head`. An unreadable local step ends
/// the search (the answer is then "no", and the bundle is namespaced, losing nothing).
fn local_chain_contains(store: &Store, head: ObjectId, needle: ObjectId) -> Result<bool, BundleError> {
    let mut seen = HashSet::new();
    let mut cursor = Some(head);
    while let Some(id) = cursor {
        if id == needle {
            return Ok(true);
        }
        if !seen.insert(id) {
            return Ok(false);
        }
        cursor = match store.read_step(&id) {
            Ok(step) => step.parent,
            Err(_) => return Ok(false),
        };
    }
    Ok(false)
}

/// Clones of the bundle chain ending at `head` with `session_id`, oldest first: each
/// step keeps every field except its session id and its parent (the previous clone).
fn clone_chain(
    source: &Source,
    bundle: &Validated,
    head: ObjectId,
    session_id: &str,
) -> Result<Vec<(ObjectId, Vec<u8>)>, BundleError> {
    let by_id: HashMap<ObjectId, &Declared> = bundle.objects.iter().map(|o| (o.id, o)).collect();
    let mut chain = Vec::new();
    let mut cursor = Some(head);
    while let Some(id) = cursor {
        if chain.len() > bundle.parents.len() {
            break;
        }
        chain.push(id);
        cursor = bundle.parents.get(&id).copied().flatten();
    }
    let mut clones: Vec<(ObjectId, Vec<u8>)> = Vec::with_capacity(chain.len());
    for id in chain.into_iter().rev() {
        let declared = by_id.get(&id).ok_or_else(|| {
            BundleError::object("BundleReachabilityMissingObject", &id.to_hex(), format!("step {id} is missing"))
        })?;
        let mut step = Step::decode(&source.read_object(declared)?).map_err(|e| undecodable(id, &e))?;
        step.session_id = session_id.to_owned();
        step.parent = clones.last().map(|(clone, _)| *clone);
        let bytes = step.encode();
        clones.push((ObjectId::of(&bytes), bytes));
    }
    Ok(clones)
}

fn write(
    store: &Store,
    source: &Source,
    bundle: &Validated,
    plans: Vec<Planned>,
) -> Result<ImportSummary, BundleError> {
    let mut summary = ImportSummary { bundle_id: bundle.manifest.bundle_id.clone(), ..ImportSummary::default() };
    // Shared gc.lock: a concurrent gc must not prune these objects before the refs that
    // keep them alive are written.
    let _gc = lock::acquire(&store.gc_lock_path(), LockMode::Shared, lock::lock_timeout())?;
    for object in &bundle.objects {
        if store.has_object(&object.id) {
            summary.skipped_objects += 1;
            continue;
        }
        // Re-read and re-verify: the bundle directory may have changed since validation.
        let bytes = source.read_object(object)?;
        store.write_object(&bytes)?;
        summary.imported_objects += 1;
    }
    for plan in &plans {
        for (_, bytes) in &plan.clones {
            if store.write_object(bytes)?.1 {
                summary.cloned_steps += 1;
            }
        }
    }
    let mut refs_written = false;
    for plan in plans {
        let o = &plan.outcome;
        let expected = match o.action {
            RefAction::Created | RefAction::Namespaced => None,
            RefAction::Replaced | RefAction::FastForwarded => o.previous,
            RefAction::Unchanged | RefAction::AlreadyContained | RefAction::NamespacedUnchanged => {
                summary.unchanged_refs += 1;
                summary.refs.push(plan.outcome);
                continue;
            }
        };
        // Compare-and-swap against what planning saw: a ref that moved meanwhile is a
        // conflict, never silently overwritten. The swap flushes objects first.
        store.refs().compare_and_swap(&o.target, expected, o.target_head)?;
        refs_written = true;
        match o.action {
            RefAction::Created => summary.created_refs += 1,
            RefAction::Namespaced => summary.namespaced_refs += 1,
            RefAction::Replaced => summary.replaced_refs += 1,
            _ => summary.fast_forwarded_refs += 1,
        }
        summary.refs.push(plan.outcome);
    }
    if !refs_written && (summary.imported_objects > 0 || summary.cloned_steps > 0) {
        durable::sync_filesystem(store.root())?;
    }
    Ok(summary)
}
