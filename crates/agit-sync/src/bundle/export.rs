//! Writing a bundle (reference `remote.md` §6.4 step 6) as a directory or an archive.
//!
//! The caller selects sessions, runs the fsck and privacy gates, then calls [`export`]
//! with that same selection (the reference selected twice, a race). Objects are exactly
//! what the heads reach (steps, their trees, the trees' blobs), read from loose objects or
//! packs and always written loose. Every file is written to a temp name and renamed; the
//! manifest comes last, after a flush, so a bundle with a manifest is a complete bundle.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use agit_core::object::sniff_kind;
use agit_core::privacy::PrivacyReport;
use agit_core::reach::{Reached, Walker};
use agit_core::store::durable;
use agit_core::store::refs::ref_content;
use agit_core::{ObjectId, ObjectKind, SessionRef, Store};

use super::error::BundleError;
use super::manifest::{
    BUNDLE_FORMAT, MANIFEST_FILE, Manifest, ManifestObject, ManifestPrivacy, ManifestRef, PRIVACY_REPORT_FILE,
    SchemaVersions, bundle_id, object_path,
};
use super::select::Selection;

/// Where a bundle goes.
#[derive(Debug, Clone, Copy)]
pub enum ExportTarget<'a> {
    /// A directory that is empty or does not exist yet (created with its parents).
    Directory(&'a Path),
    /// A `.tar.zst` file that must not exist yet.
    Archive(&'a Path),
}

/// What to export.
#[derive(Debug, Clone, Copy)]
pub struct ExportRequest<'a> {
    /// The filters used (their raw text goes into the manifest).
    pub selection: &'a Selection,
    /// The selected sessions and their heads (from [`super::select_sessions`]).
    pub sessions: &'a [(SessionRef, ObjectId)],
    /// The privacy scan of those sessions.
    pub privacy: &'a PrivacyReport,
    /// Write `privacy-report.json` (the user allowed a sensitive export); only done when
    /// there are findings.
    pub include_privacy_report: bool,
    /// Wall-clock export time (part of the bundle id).
    pub created_at_ms: i64,
}

/// What [`export`] wrote.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    /// The full 64-hex bundle id.
    pub bundle_id: String,
    /// Objects written.
    pub exported_objects: usize,
    /// Session refs written.
    pub exported_refs: usize,
    /// Privacy findings of the exported sessions.
    pub privacy_findings: usize,
    /// The manifest as written.
    pub manifest: Manifest,
}

/// Write a bundle of `request.sessions` to `target`. Fails with `BundlePathNotEmpty` for
/// a non-empty directory and `PathAlreadyExists` for an existing archive, before writing
/// anything. On a later failure, what was written is removed again.
pub fn export(
    store: &Store,
    request: &ExportRequest<'_>,
    target: ExportTarget<'_>,
) -> Result<ExportSummary, BundleError> {
    if request.sessions.is_empty() {
        return Err(BundleError::NoMatchingSessions);
    }
    let mut refs: Vec<ManifestRef> = request
        .sessions
        .iter()
        .map(|(session, head)| ManifestRef {
            path: session.relative_path(),
            origin: session.origin.clone(),
            session_id: session.session_id.clone(),
            head_hash: head.to_hex(),
        })
        .collect();
    refs.sort_by(|a, b| a.path.cmp(&b.path));
    refs.dedup_by(|a, b| a.path == b.path);
    let id = bundle_id(request.created_at_ms, &refs);

    let mut walker = Walker::new(store);
    for (_, head) in request.sessions {
        walker.add_chain(*head)?;
    }
    let mut objects = walker.into_reached();
    objects.sort();

    let findings = request.privacy.findings.len();
    let report = (request.include_privacy_report && findings > 0).then(|| request.privacy.to_json());
    let mut manifest = Manifest {
        bundle_format: BUNDLE_FORMAT.into(),
        bundle_id: id.clone(),
        producer_version: agit_core::VERSION.into(),
        created_at_ms: request.created_at_ms,
        repository_hint: store.workspace().file_name().map(|n| n.to_string_lossy().into_owned()),
        filters: request.selection.raw.clone(),
        object_schema_versions: Some(SchemaVersions::CURRENT),
        refs,
        objects: Vec::with_capacity(objects.len()),
        privacy: ManifestPrivacy {
            clean: findings == 0,
            findings: findings as u64,
            report_path: report.as_ref().map(|_| PRIVACY_REPORT_FILE.to_owned()),
        },
        encryption: None,
    };

    let mut writer: Box<dyn BundleWriter> = match target {
        ExportTarget::Directory(path) => Box::new(DirWriter::create(path)?),
        ExportTarget::Archive(path) => Box::new(ArchiveWriter::create(path, request.created_at_ms)?),
    };
    let written = write_all(store, &mut manifest, &objects, report.as_deref(), writer.as_mut());
    match written {
        Ok(()) => writer.finish(&manifest.to_json())?,
        Err(e) => {
            writer.abandon();
            return Err(e);
        }
    }
    Ok(ExportSummary {
        bundle_id: id,
        exported_objects: manifest.objects.len(),
        exported_refs: manifest.refs.len(),
        privacy_findings: findings,
        manifest,
    })
}

/// Objects (hash order), ref files, then the privacy report; fills `manifest.objects`.
fn write_all(
    store: &Store,
    manifest: &mut Manifest,
    objects: &[Reached],
    report: Option<&[u8]>,
    writer: &mut dyn BundleWriter,
) -> Result<(), BundleError> {
    for reached in objects {
        let bytes = store.read_object(&reached.id)?;
        let hash = reached.id.to_hex();
        let path = object_path(&hash);
        writer.add(&path, &bytes)?;
        let kind = manifest_kind(reached.kind, &bytes).as_str().to_owned();
        manifest.objects.push(ManifestObject { hash, kind, size: bytes.len() as u64, path });
    }
    for r in &manifest.refs {
        let head = ObjectId::parse(&r.head_hash).ok_or_else(|| BundleError::invalid("InvalidHash", "bad head"))?;
        writer.add(&r.path, ref_content(&head).as_bytes())?;
    }
    if let Some(report) = report {
        writer.add(PRIVACY_REPORT_FILE, report)?;
    }
    Ok(())
}

/// The manifest `kind`: the reference's content rule, so the reference's import (which
/// checks it) accepts every bundle we write. A tree or step reached as such whose bytes
/// open with its canonical type tag is known to sniff as that kind, which saves parsing
/// every tree a second time; anything else is sniffed.
fn manifest_kind(context: ObjectKind, bytes: &[u8]) -> ObjectKind {
    let canonical: &[u8] = match context {
        ObjectKind::Tree => br#"{"type":"tree","#,
        ObjectKind::Step => br#"{"type":"step","#,
        _ => return sniff_kind(bytes),
    };
    if bytes.starts_with(canonical) { context } else { sniff_kind(bytes) }
}

/// Receives bundle files; the manifest always comes last through `finish`.
trait BundleWriter {
    fn add(&mut self, path: &str, bytes: &[u8]) -> Result<(), BundleError>;
    fn finish(self: Box<Self>, manifest: &[u8]) -> Result<(), BundleError>;
    /// Remove what was written after a failure.
    fn abandon(self: Box<Self>);
}

/// Mode of bundle files: other users may read a bundle they are handed.
const BUNDLE_FILE_MODE: u32 = 0o644;

struct DirWriter {
    root: PathBuf,
}

impl DirWriter {
    fn create(root: &Path) -> Result<DirWriter, BundleError> {
        match fs::symlink_metadata(root) {
            Ok(meta) if meta.is_dir() => {
                let mut entries = fs::read_dir(root).map_err(|e| BundleError::io("list", root, e))?;
                if entries.next().is_some() {
                    return Err(not_empty(root));
                }
            }
            Ok(_) => return Err(not_empty(root)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(root).map_err(|e| BundleError::io("create directory", root, e))?;
            }
            Err(e) => return Err(BundleError::io("inspect", root, e)),
        }
        Ok(DirWriter { root: root.to_path_buf() })
    }
}

fn not_empty(path: &Path) -> BundleError {
    BundleError::invalid(
        "BundlePathNotEmpty",
        format!("{} already exists and is not an empty directory", path.display()),
    )
}

impl BundleWriter for DirWriter {
    fn add(&mut self, path: &str, bytes: &[u8]) -> Result<(), BundleError> {
        write_replacing(&self.root.join(path), bytes, false)
    }

    fn finish(self: Box<Self>, manifest: &[u8]) -> Result<(), BundleError> {
        // Everything else is on disk before the manifest that declares the bundle complete.
        durable::sync_filesystem(&self.root)?;
        write_replacing(&self.root.join(MANIFEST_FILE), manifest, true)?;
        durable::sync_dir(&self.root)?;
        Ok(())
    }

    fn abandon(self: Box<Self>) {
        // The directory was empty (or absent) before: empty it again. Best effort; the
        // error being reported matters more than a leftover temp file.
        if let Ok(entries) = fs::read_dir(&self.root) {
            for entry in entries.flatten() {
                let path = entry.path();
                let _ = if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
            }
        }
    }
}

/// Write `bytes` to a temp file beside `target` and rename it over `target`.
fn write_replacing(target: &Path, bytes: &[u8], sync: bool) -> Result<(), BundleError> {
    let dir = target.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| BundleError::io("create directory", dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .permissions(fs::Permissions::from_mode(BUNDLE_FILE_MODE))
        .tempfile_in(dir)
        .map_err(|e| BundleError::io("create temp file in", dir, e))?;
    tmp.write_all(bytes).map_err(|e| BundleError::io("write", target, e))?;
    if sync && durable::fsync_enabled() {
        tmp.as_file().sync_all().map_err(|e| BundleError::io("fsync", target, e))?;
    }
    tmp.persist(target).map_err(|e| BundleError::io("rename into", target, e.error))?;
    Ok(())
}

fn io_at<'a>(op: &'static str, path: &'a Path) -> impl Fn(io::Error) -> BundleError + 'a {
    move |e| BundleError::io(op, path, e)
}

type ArchiveStream = tar::Builder<zstd::Encoder<'static, BufWriter<tempfile::NamedTempFile>>>;

struct ArchiveWriter {
    target: PathBuf,
    builder: ArchiveStream,
    mtime: u64,
}

impl ArchiveWriter {
    fn create(target: &Path, created_at_ms: i64) -> Result<ArchiveWriter, BundleError> {
        match fs::symlink_metadata(target) {
            Ok(_) => {
                return Err(BundleError::invalid(
                    "PathAlreadyExists",
                    format!("{} already exists; an archive is never overwritten", target.display()),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(BundleError::io("inspect", target, e)),
        }
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&dir).map_err(|e| BundleError::io("create directory", &dir, e))?;
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .permissions(fs::Permissions::from_mode(BUNDLE_FILE_MODE))
            .tempfile_in(&dir)
            .map_err(|e| BundleError::io("create temp file in", &dir, e))?;
        let encoder = zstd::Encoder::new(BufWriter::new(tmp), super::archive::ZSTD_LEVEL)
            .map_err(|e| BundleError::io("start compressing", target, e))?;
        let mut builder = tar::Builder::new(encoder);
        builder.mode(tar::HeaderMode::Deterministic);
        let mtime = u64::try_from(created_at_ms / 1000).unwrap_or(0);
        Ok(ArchiveWriter { target: target.to_path_buf(), builder, mtime })
    }
}

impl BundleWriter for ArchiveWriter {
    fn add(&mut self, path: &str, bytes: &[u8]) -> Result<(), BundleError> {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(bytes.len() as u64);
        header.set_mode(BUNDLE_FILE_MODE);
        header.set_mtime(self.mtime);
        header.set_uid(0);
        header.set_gid(0);
        self.builder.append_data(&mut header, path, bytes).map_err(|e| BundleError::io("archive", &self.target, e))
    }

    fn finish(mut self: Box<Self>, manifest: &[u8]) -> Result<(), BundleError> {
        self.add(MANIFEST_FILE, manifest)?;
        let target = self.target;
        let encoder = self.builder.into_inner().map_err(io_at("finish archive", &target))?;
        let buffered = encoder.finish().map_err(io_at("finish compressing", &target))?;
        let tmp = buffered.into_inner().map_err(|e| io_at("write", &target)(e.into_error()))?;
        if durable::fsync_enabled() {
            tmp.as_file().sync_all().map_err(io_at("fsync", &target))?;
        }
        // Never replace a file that appeared meanwhile.
        tmp.persist_noclobber(&target).map_err(|e| io_at("rename into", &target)(e.error))?;
        if let Some(dir) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            durable::sync_dir(dir)?;
        }
        Ok(())
    }

    fn abandon(self: Box<Self>) {
        // Dropping the builder drops the temp file, which deletes it.
    }
}
