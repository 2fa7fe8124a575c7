//! The operations push and pull need, over both backends: S3 (through `object_store`:
//! path-style requests to a custom endpoint, SigV4, retries with backoff, timeouts,
//! conditional puts) and a directory (the same key layout as files; ref updates
//! compare-and-swap under an OS lock on `<ref>.lock`).
//!
//! Object bodies are envelopes; callers encode and decode them. Every request on an
//! object key is counted, so a caller can prove a repeat push sent none.

use std::collections::HashSet;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use agit_core::store::lock::{self, LockMode};
use agit_core::store::{durable, refs};
use agit_core::{ObjectId, SessionRef};
use futures::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, S3ConditionalPut};
use object_store::path::Path as KeyPath;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig,
    UpdateVersion,
};

use super::error::RemoteError;
use super::keys::KeyLayout;
use super::resolve::{Remote, RemoteLocation};

/// Timeouts and retries (environment: `AGIT_REMOTE_TIMEOUT_MS`, `AGIT_REMOTE_RETRIES`).
#[derive(Debug, Clone, Copy)]
pub struct TransportSettings {
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries of a failed request (5xx, transport errors) with exponential backoff.
    pub retries: usize,
    /// Connections kept per host (match the number of concurrent transfers).
    pub connections: usize,
}

impl TransportSettings {
    /// Defaults, overridden by `AGIT_REMOTE_TIMEOUT_MS` and `AGIT_REMOTE_RETRIES`.
    pub fn from_env(connections: usize) -> TransportSettings {
        let number = |name: &str| std::env::var(name).ok().and_then(|v| v.trim().parse::<u64>().ok());
        TransportSettings {
            timeout: Duration::from_millis(number("AGIT_REMOTE_TIMEOUT_MS").unwrap_or(30_000).max(1)),
            retries: number("AGIT_REMOTE_RETRIES").map_or(4, |n| n as usize),
            connections,
        }
    }
}

/// A remote head with what is needed to replace it conditionally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteHead {
    /// The step the remote ref names.
    pub head: ObjectId,
    version: RefVersion,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum RefVersion {
    /// S3: the ETag (and version id) of the ref object.
    S3(Option<String>, Option<String>),
    /// Directory: the content itself is the version.
    Dir,
}

/// Outcome of a conditional ref write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefWrite {
    /// The ref now holds the new head.
    Written,
    /// Someone else changed the ref first (412, or it already existed).
    Raced,
}

/// One remote's storage.
pub struct Transport {
    backend: Backend,
    layout: KeyLayout,
    object_requests: AtomicU64,
    ref_requests: AtomicU64,
}

enum Backend {
    S3(Arc<AmazonS3>),
    Dir(PathBuf),
}

fn transport_error(error: object_store::Error) -> RemoteError {
    match error {
        object_store::Error::PermissionDenied { source, .. } | object_store::Error::Unauthenticated { source, .. } => {
            RemoteError::AccessDenied { detail: source.to_string() }
        }
        other => RemoteError::Transport { detail: other.to_string() },
    }
}

impl Transport {
    /// Connect to `remote` (nothing is sent until the first operation).
    pub fn open(remote: &Remote, settings: TransportSettings) -> Result<Transport, RemoteError> {
        let backend = match &remote.location {
            RemoteLocation::Dir { path } => Backend::Dir(path.clone()),
            RemoteLocation::S3 { endpoint, bucket, region, access_key, secret_key, session_token } => {
                let retry = RetryConfig {
                    backoff: BackoffConfig {
                        init_backoff: Duration::from_millis(100),
                        max_backoff: Duration::from_secs(5),
                        base: 2.0,
                    },
                    max_retries: settings.retries,
                    retry_timeout: settings.timeout.saturating_mul(2).max(Duration::from_secs(10)),
                };
                let options = ClientOptions::new()
                    .with_timeout(settings.timeout)
                    .with_connect_timeout(settings.timeout.min(Duration::from_secs(10)))
                    .with_pool_max_idle_per_host(settings.connections.max(1))
                    .with_allow_http(true);
                let mut builder = AmazonS3Builder::new()
                    .with_endpoint(endpoint)
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(access_key)
                    .with_secret_access_key(secret_key)
                    // Resolution already refused plain http to anything but loopback.
                    .with_allow_http(true)
                    .with_virtual_hosted_style_request(false)
                    .with_conditional_put(S3ConditionalPut::ETagMatch)
                    .with_retry(retry)
                    .with_client_options(options);
                if let Some(token) = session_token {
                    builder = builder.with_token(token);
                }
                Backend::S3(Arc::new(builder.build().map_err(transport_error)?))
            }
        };
        Ok(Transport {
            backend,
            layout: remote.layout.clone(),
            object_requests: AtomicU64::new(0),
            ref_requests: AtomicU64::new(0),
        })
    }

    /// Requests sent on object keys so far.
    pub fn object_requests(&self) -> u64 {
        self.object_requests.load(Ordering::Relaxed)
    }

    /// Requests sent on ref keys (including listings) so far.
    pub fn ref_requests(&self) -> u64 {
        self.ref_requests.load(Ordering::Relaxed)
    }

    fn dir_path(root: &Path, key: &str) -> PathBuf {
        root.join(key)
    }

    /// Whether the remote holds object `id`.
    pub async fn has_object(&self, id: &ObjectId) -> Result<bool, RemoteError> {
        self.object_requests.fetch_add(1, Ordering::Relaxed);
        let key = self.layout.object(id);
        match &self.backend {
            Backend::S3(s3) => match s3.head(&KeyPath::from(key)).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(transport_error(e)),
            },
            Backend::Dir(root) => Ok(Self::dir_path(root, &key).is_file()),
        }
    }

    /// The envelope stored for `id`, or `None` when the remote lacks it.
    pub async fn get_object(&self, id: &ObjectId) -> Result<Option<Vec<u8>>, RemoteError> {
        self.object_requests.fetch_add(1, Ordering::Relaxed);
        let key = self.layout.object(id);
        match &self.backend {
            Backend::S3(s3) => match s3.get(&KeyPath::from(key)).await {
                Ok(result) => Ok(Some(result.bytes().await.map_err(transport_error)?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(transport_error(e)),
            },
            Backend::Dir(root) => {
                let path = Self::dir_path(root, &key);
                match fs::read(&path) {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(RemoteError::io("read", &path, e)),
                }
            }
        }
    }

    /// Store the envelope of `id` (idempotent: the key is the content's id).
    pub async fn put_object(&self, id: &ObjectId, envelope: Vec<u8>) -> Result<(), RemoteError> {
        self.object_requests.fetch_add(1, Ordering::Relaxed);
        let key = self.layout.object(id);
        match &self.backend {
            Backend::S3(s3) => {
                s3.put(&KeyPath::from(key), PutPayload::from(envelope)).await.map_err(transport_error)?;
                Ok(())
            }
            Backend::Dir(root) => {
                let path = Self::dir_path(root, &key);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(|e| RemoteError::io("create", parent, e))?;
                }
                // Flushed once by `flush` before any ref names the object.
                durable::write_new_deferred(&path, &envelope, 0o444)?;
                Ok(())
            }
        }
    }

    /// Make every object written so far durable before refs name them (directories;
    /// S3 acknowledges a PUT only once it is stored).
    pub async fn flush(&self) -> Result<(), RemoteError> {
        match &self.backend {
            Backend::S3(_) => Ok(()),
            Backend::Dir(root) => Ok(durable::sync_filesystem(root)?),
        }
    }

    /// Every object stored on the remote (one listing instead of a HEAD per object,
    /// worth it when many objects are to be checked).
    pub async fn list_objects(&self) -> Result<HashSet<ObjectId>, RemoteError> {
        self.object_requests.fetch_add(1, Ordering::Relaxed);
        let prefix = self.layout.objects_prefix();
        let mut ids = HashSet::new();
        match &self.backend {
            Backend::S3(s3) => {
                let listing_prefix = KeyPath::from(prefix.trim_end_matches('/'));
                let mut stream = s3.list(Some(&listing_prefix));
                while let Some(meta) = stream.next().await {
                    let key = meta.map_err(transport_error)?.location.to_string();
                    ids.extend(self.layout.parse_object_key(&key));
                }
            }
            Backend::Dir(root) => {
                let dir = Self::dir_path(root, &prefix);
                let shards = match fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == ErrorKind::NotFound => return Ok(ids),
                    Err(e) => return Err(RemoteError::io("list", &dir, e)),
                };
                for shard in shards.flatten() {
                    let Ok(files) = fs::read_dir(shard.path()) else { continue };
                    for file in files.flatten() {
                        let key = format!(
                            "{prefix}{}/{}",
                            shard.file_name().to_string_lossy(),
                            file.file_name().to_string_lossy()
                        );
                        ids.extend(self.layout.parse_object_key(&key));
                    }
                }
            }
        }
        Ok(ids)
    }

    /// Every session with a ref on the remote, sorted by key.
    pub async fn list_refs(&self) -> Result<Vec<SessionRef>, RemoteError> {
        self.ref_requests.fetch_add(1, Ordering::Relaxed);
        let prefix = self.layout.refs_prefix();
        let mut keys: Vec<String> = Vec::new();
        match &self.backend {
            Backend::S3(s3) => {
                let listing_prefix = KeyPath::from(prefix.trim_end_matches('/'));
                let mut stream = s3.list(Some(&listing_prefix));
                while let Some(meta) = stream.next().await {
                    keys.push(meta.map_err(transport_error)?.location.to_string());
                }
            }
            Backend::Dir(root) => {
                let dir = Self::dir_path(root, &prefix);
                let origins = match fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(e) => return Err(RemoteError::io("list", &dir, e)),
                };
                for origin in origins.flatten() {
                    let Ok(sessions) = fs::read_dir(origin.path()) else { continue };
                    for session in sessions.flatten() {
                        if session.file_type().is_ok_and(|t| t.is_file()) {
                            keys.push(format!(
                                "{prefix}{}/{}",
                                origin.file_name().to_string_lossy(),
                                session.file_name().to_string_lossy()
                            ));
                        }
                    }
                }
            }
        }
        keys.sort();
        // Lock and temp files of directory remotes, and foreign keys, are not refs.
        Ok(keys.iter().filter_map(|k| self.layout.parse_ref_key(k)).collect())
    }

    /// The remote head of `session`, or `None` when it has no ref.
    pub async fn get_ref(&self, session: &SessionRef) -> Result<Option<RemoteHead>, RemoteError> {
        self.ref_requests.fetch_add(1, Ordering::Relaxed);
        let key = self.layout.session_ref(session);
        let (bytes, version) = match &self.backend {
            Backend::S3(s3) => match s3.get(&KeyPath::from(key.clone())).await {
                Ok(result) => {
                    let version = RefVersion::S3(result.meta.e_tag.clone(), result.meta.version.clone());
                    (result.bytes().await.map_err(transport_error)?.to_vec(), version)
                }
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(transport_error(e)),
            },
            Backend::Dir(root) => {
                let path = Self::dir_path(root, &key);
                match fs::read(&path) {
                    Ok(bytes) => (bytes, RefVersion::Dir),
                    Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(RemoteError::io("read", &path, e)),
                }
            }
        };
        let head = refs::parse_ref_content(&bytes).ok_or_else(|| RemoteError::InvalidResponse {
            detail: format!("remote ref {key} does not hold a 64-character step hash"),
        })?;
        Ok(Some(RemoteHead { head, version }))
    }

    /// Point the remote ref of `session` at `head`, only if it still is `expected`
    /// (`None`: only if it does not exist). Never overwrites a ref someone else moved.
    pub async fn put_ref(
        &self,
        session: &SessionRef,
        head: &ObjectId,
        expected: Option<&RemoteHead>,
    ) -> Result<RefWrite, RemoteError> {
        self.ref_requests.fetch_add(1, Ordering::Relaxed);
        let key = self.layout.session_ref(session);
        let body = refs::ref_content(head).into_bytes();
        match &self.backend {
            Backend::S3(s3) => {
                let mode = match expected {
                    None => PutMode::Create,
                    Some(RemoteHead { version: RefVersion::S3(e_tag, version), .. }) => {
                        PutMode::Update(UpdateVersion { e_tag: e_tag.clone(), version: version.clone() })
                    }
                    Some(RemoteHead { version: RefVersion::Dir, .. }) => {
                        return Err(RemoteError::InvalidResponse { detail: "ref version from another backend".into() });
                    }
                };
                let options = PutOptions { mode, ..Default::default() };
                match s3.put_opts(&KeyPath::from(key), PutPayload::from(body), options).await {
                    Ok(_) => Ok(RefWrite::Written),
                    Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => {
                        Ok(RefWrite::Raced)
                    }
                    Err(e) => Err(transport_error(e)),
                }
            }
            Backend::Dir(root) => {
                let path = Self::dir_path(root, &key);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(|e| RemoteError::io("create", parent, e))?;
                }
                let mut lock_path = path.clone().into_os_string();
                lock_path.push(".lock");
                let _guard = lock::acquire(Path::new(&lock_path), LockMode::Exclusive, lock::lock_timeout())?;
                let current = match fs::read(&path) {
                    Ok(bytes) => refs::parse_ref_content(&bytes),
                    Err(e) if e.kind() == ErrorKind::NotFound => None,
                    Err(e) => return Err(RemoteError::io("read", &path, e)),
                };
                if current != expected.map(|e| e.head) {
                    return Ok(RefWrite::Raced);
                }
                durable::replace(&path, &body)?;
                Ok(RefWrite::Written)
            }
        }
    }
}
