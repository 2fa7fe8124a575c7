//! Remotes: where shared history lives, and moving objects and session refs there and back.
//!
//! - [`config`] — selecting a configured remote, validating `agit remote add` input.
//! - [`resolve`] — turning a [`RemoteConfig`] plus the environment into a [`Remote`]:
//!   endpoint checks, credentials from named variables, the encryption key.
//! - [`transport`] — the operations both backends provide (S3 through `object_store`, a
//!   directory through the file system), with the reference key layout.
//! - [`tracking`] — what this store knows each remote has (`refs/remotes/<name>/…`, a
//!   known-objects cache), so a repeat push sends only new work.
//! - [`push`] / [`pull`] — the two algorithms, over one transport.

pub mod config;
pub mod error;
pub mod keys;
mod progress;
pub mod pull;
pub mod push;
pub mod resolve;
pub mod tracking;
pub mod transport;

pub use config::{add_remote, remove_remote, select_remote, validate_remote_name};
pub use error::RemoteError;
pub use progress::{NoProgress, Progress};
pub use pull::{PullOptions, PullReport, pull};
pub use push::{PushOptions, PushReport, push};
pub use resolve::{Remote, RemoteLocation, resolve};

use agit_core::config::RemoteConfig;
use agit_core::{ObjectId, SessionRef};
use serde::Serialize;

/// Default number of concurrent transfers.
pub const DEFAULT_JOBS: usize = 16;

/// A session ref that could not be moved: the remote and local heads disagree and
/// neither contains the other (or the remote moved while we were updating it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefConflict {
    /// `refs/sessions/<hex origin>/<hex session>`.
    pub path: String,
    /// The session (decoded).
    #[serde(skip)]
    pub session: SessionRef,
    /// Our head.
    #[serde(serialize_with = "agit_core::json::ser_object_id")]
    pub local_hash: ObjectId,
    /// The remote's head.
    #[serde(serialize_with = "agit_core::json::ser_object_id")]
    pub remote_hash: ObjectId,
}

/// A short description of a configured remote, for `agit remote list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteSummary {
    /// Its name.
    pub name: String,
    /// `s3` or `file`.
    pub backend: &'static str,
    /// `s3://bucket/prefix` or `file:///dir`.
    pub url: String,
    /// The S3 endpoint (`null` for directories).
    pub endpoint: Option<String>,
    /// The S3 region (`null` for directories).
    pub region: Option<String>,
    /// Whether objects are encrypted (an encryption secret variable is named).
    pub encrypted: bool,
    /// Names of the environment variables credentials are read from.
    pub credential_env: Vec<String>,
}

impl RemoteSummary {
    /// Describe one configured remote.
    pub fn of(remote: &RemoteConfig) -> RemoteSummary {
        use agit_core::config::RemoteBackend;
        let (backend, url, endpoint, region, credential_env) = match remote.backend {
            RemoteBackend::File => ("file", remote.url.clone().unwrap_or_default(), None, None, Vec::new()),
            RemoteBackend::S3 => {
                let bucket = remote.bucket.clone().unwrap_or_default();
                let prefix = keys::trim_prefix(&remote.prefix);
                let url = if prefix.is_empty() { format!("s3://{bucket}") } else { format!("s3://{bucket}/{prefix}") };
                let endpoint = Some(resolve::endpoint_or_default(remote));
                let mut env = vec![
                    remote.access_key_env.clone().unwrap_or_else(|| resolve::DEFAULT_ACCESS_KEY_ENV.into()),
                    remote.secret_key_env.clone().unwrap_or_else(|| resolve::DEFAULT_SECRET_KEY_ENV.into()),
                ];
                env.extend(remote.session_token_env.clone());
                ("s3", url, endpoint, Some(remote.region.clone()), env)
            }
        };
        RemoteSummary {
            name: remote.name.clone(),
            backend,
            url,
            endpoint,
            region,
            encrypted: remote.encryption_secret_env.is_some(),
            credential_env,
        }
    }
}
