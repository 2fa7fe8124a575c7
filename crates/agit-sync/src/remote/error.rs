//! Errors of remote operations. Each has a stable snake_case [`RemoteError::code`] and,
//! where the reference has one, the reference error name ([`RemoteError::reference_name`])
//! that the reference prints as the hint of `push_failed` / `pull_failed`.

use crate::envelope::EnvelopeError;

/// Something went wrong selecting, reaching or talking to a remote.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// No remotes are configured.
    #[error("No remotes are configured in .agit/config.json.")]
    NotConfigured,
    /// `--remote NAME` names no configured remote.
    #[error("The requested remote does not exist.")]
    NotFound {
        /// The name asked for.
        name: String,
    },
    /// Two remotes share a name.
    #[error("The configured remotes contain duplicate names.")]
    DuplicateName {
        /// The duplicated name.
        name: String,
    },
    /// Several remotes and no `--remote`.
    #[error("Multiple remotes are configured; choose one with --remote.")]
    SelectionRequired {
        /// The configured names.
        names: Vec<String>,
    },
    /// `agit remote add` with a name already in use.
    #[error("a remote named `{name}` already exists")]
    AlreadyExists {
        /// The name.
        name: String,
    },
    /// A remote name with characters that cannot be a directory name.
    #[error("invalid remote name `{name}`: use letters, digits, `.`, `_` and `-`, not starting with `.`")]
    InvalidName {
        /// The name.
        name: String,
    },
    /// A URL that is neither `s3://bucket[/prefix]` nor `file:///dir`.
    #[error("invalid remote URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The endpoint is not an `http(s)://host[:port][/]` URL.
    #[error("invalid remote endpoint `{endpoint}`: {reason}")]
    InvalidEndpoint {
        /// The endpoint.
        endpoint: String,
        /// What is wrong.
        reason: String,
    },
    /// Plain HTTP to a host other than loopback.
    #[error("refusing plain http to `{endpoint}`: only loopback hosts may use http://")]
    InsecureEndpoint {
        /// The endpoint.
        endpoint: String,
    },
    /// A credential variable is unset or blank.
    #[error("environment variable `{variable}` ({what}) is not set or is blank")]
    MissingCredential {
        /// The variable name.
        variable: String,
        /// Which credential.
        what: &'static str,
    },
    /// The encryption secret variable is unset, blank or too short.
    #[error("encryption secret from `{variable}`: {source}")]
    EncryptionSecret {
        /// The variable name.
        variable: String,
        /// Why it was refused.
        #[source]
        source: EnvelopeError,
    },
    /// The server refused our credentials (wrong key id or signature).
    #[error("the remote refused the credentials: {detail}")]
    AccessDenied {
        /// The server's answer.
        detail: String,
    },
    /// Network failure, timeout, or an unexpected status after retries.
    #[error("remote request failed: {detail}")]
    Transport {
        /// What failed.
        detail: String,
    },
    /// The remote said an object exists (it is named by a ref) but it is gone.
    #[error("object {id} is missing on the remote")]
    ObjectMissing {
        /// The object id.
        id: String,
    },
    /// A remote object did not decode or verify (wrong key, tampering, wrong content).
    #[error("remote object {id}: {source}")]
    Envelope {
        /// The object id.
        id: String,
        /// Why it was rejected.
        #[source]
        source: EnvelopeError,
    },
    /// A remote ref or listing that does not follow the layout.
    #[error("invalid remote response: {detail}")]
    InvalidResponse {
        /// What was wrong.
        detail: String,
    },
    /// A local store operation failed.
    #[error(transparent)]
    Store(#[from] agit_core::Error),
    /// A local file (tracking record, directory remote) failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// Which path.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl RemoteError {
    /// Stable diagnostic code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotConfigured => "remote_not_configured",
            Self::NotFound { .. } => "remote_not_found",
            Self::DuplicateName { .. } => "remote_duplicate_name",
            Self::SelectionRequired { .. } => "remote_selection_required",
            Self::AlreadyExists { .. } => "remote_exists",
            Self::InvalidName { .. } => "remote_invalid_name",
            Self::InvalidUrl { .. } => "remote_invalid_url",
            Self::InvalidEndpoint { .. } => "remote_invalid_endpoint",
            Self::InsecureEndpoint { .. } => "remote_insecure_endpoint",
            Self::MissingCredential { .. } => "remote_missing_credential",
            Self::EncryptionSecret { source, .. } => source.code(),
            Self::AccessDenied { .. } => "remote_access_denied",
            Self::Transport { .. } => "remote_transport_failed",
            Self::ObjectMissing { .. } => "remote_object_not_found",
            Self::Envelope { source, .. } => source.code(),
            Self::InvalidResponse { .. } => "remote_invalid_response",
            Self::Store(e) => e.code(),
            Self::Io { .. } => "io_error",
        }
    }

    /// The reference's error name for the same failure (its `push_failed` hint), so
    /// scripts written for the reference keep matching.
    pub fn reference_name(&self) -> &'static str {
        match self {
            Self::NotConfigured => "RemoteNotConfigured",
            Self::NotFound { .. } => "RemoteNotFound",
            Self::DuplicateName { .. } => "DuplicateRemoteName",
            Self::SelectionRequired { .. } => "RemoteSelectionRequired",
            Self::InvalidEndpoint { .. } | Self::InvalidUrl { .. } => "InvalidRemoteEndpoint",
            Self::InsecureEndpoint { .. } => "InsecureRemoteEndpoint",
            Self::MissingCredential { .. } => "MissingRemoteCredential",
            Self::EncryptionSecret { source, .. } | Self::Envelope { source, .. } => match source {
                EnvelopeError::MissingEncryptionSecret => "MissingEncryptionSecret",
                EnvelopeError::WeakEncryptionSecret { .. } => "WeakEncryptionSecret",
                EnvelopeError::AuthenticationFailed => "AuthenticationFailed",
                EnvelopeError::ObjectHashMismatch { .. } => "ObjectHashMismatch",
                _ => "InvalidRemoteObjectFormat",
            },
            Self::AccessDenied { .. } => "RemoteUnexpectedStatus",
            Self::Transport { .. } => "RemoteTransportFailed",
            Self::ObjectMissing { .. } => "RemoteObjectNotFound",
            Self::InvalidResponse { .. } => "InvalidRemoteResponse",
            Self::AlreadyExists { .. } | Self::InvalidName { .. } | Self::Store(_) | Self::Io { .. } => "",
        }
    }

    /// Whether this is about choosing the remote (reported under its own code) rather
    /// than a failure while talking to it (reported as `push_failed` / `pull_failed`).
    pub fn is_selection(&self) -> bool {
        matches!(
            self,
            Self::NotConfigured | Self::NotFound { .. } | Self::DuplicateName { .. } | Self::SelectionRequired { .. }
        )
    }

    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> RemoteError {
        RemoteError::Io { action, path: path.display().to_string(), source }
    }
}
