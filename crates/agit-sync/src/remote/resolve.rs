//! From a configured remote and the environment to something we can talk to
//! (reference `remote.md` §2.1, in its order): endpoint shape, plain HTTP only to
//! loopback, credentials from the named variables (never from the config), then the
//! encryption key (Argon2id, derived once per command).

use std::path::PathBuf;

use agit_core::config::{RemoteBackend, RemoteConfig};

use super::error::RemoteError;
use super::keys::{KeyLayout, trim_prefix};
use crate::envelope::EnvelopeKey;

/// Access key variable used when the config names none.
pub const DEFAULT_ACCESS_KEY_ENV: &str = "AWS_ACCESS_KEY_ID";
/// Secret key variable used when the config names none.
pub const DEFAULT_SECRET_KEY_ENV: &str = "AWS_SECRET_ACCESS_KEY";
/// Session token variable read (if set) when the config names none.
pub const DEFAULT_SESSION_TOKEN_ENV: &str = "AWS_SESSION_TOKEN";

/// Where a resolved remote lives.
#[derive(Clone)]
pub enum RemoteLocation {
    /// An S3-compatible bucket, path-style.
    S3 {
        /// `http(s)://host[:port]`, no trailing `/`.
        endpoint: String,
        /// Bucket name.
        bucket: String,
        /// SigV4 region.
        region: String,
        /// Access key id.
        access_key: String,
        /// Secret access key.
        secret_key: String,
        /// STS session token.
        session_token: Option<String>,
    },
    /// A directory (same key layout, files instead of keys).
    Dir {
        /// Absolute directory path.
        path: PathBuf,
    },
}

impl std::fmt::Debug for RemoteLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Credentials never reach logs.
        match self {
            Self::S3 { endpoint, bucket, region, .. } => {
                write!(f, "S3 {{ endpoint: {endpoint:?}, bucket: {bucket:?}, region: {region:?} }}")
            }
            Self::Dir { path } => write!(f, "Dir {{ path: {path:?} }}"),
        }
    }
}

/// A remote ready to use.
#[derive(Debug, Clone)]
pub struct Remote {
    /// The configured name.
    pub name: String,
    /// Where it lives.
    pub location: RemoteLocation,
    /// Its key layout (prefix).
    pub layout: KeyLayout,
    /// The encryption key, when `encryption_secret_env` is configured.
    pub key: Option<EnvelopeKey>,
    /// A string that changes whenever the remote's storage location changes; the local
    /// record of what the remote has is discarded when it does.
    pub identity: String,
}

/// The configured endpoint, or AWS's regional endpoint when none is set.
pub fn endpoint_or_default(remote: &RemoteConfig) -> String {
    match &remote.endpoint {
        Some(e) if !e.trim().is_empty() => e.trim_end_matches('/').to_string(),
        _ => format!("https://s3.{}.amazonaws.com", remote.region),
    }
}

/// Resolve `remote` against the environment (`env` looks a variable up; the CLI passes
/// `std::env::var`, tests pass a map).
pub fn resolve(remote: &RemoteConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Remote, RemoteError> {
    let layout = KeyLayout::new(&remote.prefix);
    let (location, identity) = match remote.backend {
        RemoteBackend::File => {
            let url = remote.url.as_deref().unwrap_or_default();
            let path = file_url_path(url)?;
            let identity = format!("file {} {}", path.display(), trim_prefix(&remote.prefix));
            (RemoteLocation::Dir { path }, identity)
        }
        RemoteBackend::S3 => {
            let endpoint = endpoint_or_default(remote);
            check_endpoint(&endpoint)?;
            let bucket = remote.bucket.clone().unwrap_or_default();
            if bucket.is_empty() {
                return Err(RemoteError::InvalidUrl {
                    url: remote.name.clone(),
                    reason: "no bucket is configured".into(),
                });
            }
            let access_env = remote.access_key_env.as_deref().unwrap_or(DEFAULT_ACCESS_KEY_ENV);
            let secret_env = remote.secret_key_env.as_deref().unwrap_or(DEFAULT_SECRET_KEY_ENV);
            let access_key = credential(env, access_env, "access key id")?;
            let secret_key = credential(env, secret_env, "secret access key")?;
            let session_token = match &remote.session_token_env {
                Some(name) => Some(credential(env, name, "session token")?),
                // The standard variable is optional when no name is configured.
                None if remote.access_key_env.is_none() => {
                    env(DEFAULT_SESSION_TOKEN_ENV).filter(|v| !v.trim().is_empty())
                }
                None => None,
            };
            let identity = format!("s3 {endpoint} {bucket} {}", trim_prefix(&remote.prefix));
            let location = RemoteLocation::S3 {
                endpoint,
                bucket,
                region: remote.region.clone(),
                access_key,
                secret_key,
                session_token,
            };
            (location, identity)
        }
    };
    let key = match &remote.encryption_secret_env {
        Some(variable) => {
            let secret = env(variable).unwrap_or_default();
            Some(
                EnvelopeKey::from_secret(secret.as_bytes())
                    .map_err(|source| RemoteError::EncryptionSecret { variable: variable.clone(), source })?,
            )
        }
        None => None,
    };
    Ok(Remote { name: remote.name.clone(), location, layout, key, identity })
}

/// Whether the remote's encryption secret is usable without deriving the key (the push
/// privacy gate: configured, set, and at least 16 bytes after trimming).
pub fn encryption_configured(remote: &RemoteConfig, env: &dyn Fn(&str) -> Option<String>) -> bool {
    remote
        .encryption_secret_env
        .as_deref()
        .and_then(env)
        .is_some_and(|secret| secret.trim_matches([' ', '\t', '\r', '\n']).len() >= crate::envelope::MIN_SECRET_BYTES)
}

fn credential(env: &dyn Fn(&str) -> Option<String>, variable: &str, what: &'static str) -> Result<String, RemoteError> {
    let value = env(variable).unwrap_or_default();
    let trimmed = value.trim_matches([' ', '\t', '\r', '\n']);
    if trimmed.is_empty() {
        return Err(RemoteError::MissingCredential { variable: variable.to_string(), what });
    }
    Ok(trimmed.to_string())
}

/// Check an endpoint: `http` or `https`, a host, no path beyond `/`, no query or
/// fragment, and plain `http` only to `localhost`, `127.0.0.1` or `::1`.
pub fn check_endpoint(endpoint: &str) -> Result<(), RemoteError> {
    let invalid = |reason: &str| RemoteError::InvalidEndpoint { endpoint: endpoint.into(), reason: reason.into() };
    let url = url::Url::parse(endpoint).map_err(|e| invalid(&e.to_string()))?;
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| invalid("it has no host"))?;
    if !matches!(url.path(), "" | "/") {
        return Err(invalid("it must not have a path (the bucket is configured separately)"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(host) => Ok(()),
        "http" => Err(RemoteError::InsecureEndpoint { endpoint: endpoint.into() }),
        _ => Err(invalid("the scheme must be http or https")),
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1" || host == "[::1]" || host == "::1"
}

/// The directory of a `file:///abs/dir` URL.
pub fn file_url_path(url: &str) -> Result<PathBuf, RemoteError> {
    let invalid = |reason: &str| RemoteError::InvalidUrl { url: url.into(), reason: reason.into() };
    let rest = url.strip_prefix("file://").ok_or_else(|| invalid("a directory remote needs a file:///path URL"))?;
    let path = PathBuf::from(rest);
    if !path.is_absolute() {
        return Err(invalid("the path must be absolute (file:///path)"));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn s3(endpoint: &str) -> RemoteConfig {
        RemoteConfig {
            name: "origin".into(),
            backend: RemoteBackend::S3,
            url: None,
            endpoint: Some(endpoint.into()),
            bucket: Some("b".into()),
            region: "us-east-1".into(),
            prefix: "/team/".into(),
            access_key_env: Some("A".into()),
            secret_key_env: Some("S".into()),
            session_token_env: None,
            encryption_secret_env: None,
        }
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn endpoint_rules_follow_the_reference() {
        for ok in ["http://127.0.0.1:9000", "http://LOCALHOST:1", "http://[::1]:8333/", "https://s3.example.com"] {
            check_endpoint(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        assert!(matches!(check_endpoint("http://example.com"), Err(RemoteError::InsecureEndpoint { .. })));
        for bad in ["ftp://x", "https://x/bucket", "https://x/?a=1", "https://x/#f", "not a url"] {
            assert!(matches!(check_endpoint(bad), Err(RemoteError::InvalidEndpoint { .. })), "{bad}");
        }
    }

    #[test]
    fn credentials_come_from_the_named_variables() {
        let config = s3("http://127.0.0.1:9000");
        let err = resolve(&config, &env(&[("A", "key")])).unwrap_err();
        assert!(matches!(err, RemoteError::MissingCredential { ref variable, .. } if variable == "S"));
        let err = resolve(&config, &env(&[("A", "key"), ("S", " \t")])).unwrap_err();
        assert_eq!(err.reference_name(), "MissingRemoteCredential");
        let remote = resolve(&config, &env(&[("A", " key\n"), ("S", "secret")])).unwrap();
        let RemoteLocation::S3 { access_key, .. } = &remote.location else { panic!() };
        assert_eq!(access_key, "key");
        assert_eq!(remote.layout.refs_prefix(), "team/refs/sessions/");
        assert!(remote.key.is_none());
        assert!(!format!("{remote:?}").contains("secret"));
    }

    #[test]
    fn encryption_secret_rules() {
        let mut config = s3("http://127.0.0.1:9000");
        config.encryption_secret_env = Some("E".into());
        let base = [("A", "k"), ("S", "s")];
        let err = resolve(&config, &env(&base)).unwrap_err();
        assert_eq!(err.reference_name(), "MissingEncryptionSecret");
        let err = resolve(&config, &env(&[base[0], base[1], ("E", "short")])).unwrap_err();
        assert_eq!(err.reference_name(), "WeakEncryptionSecret");
        assert!(!encryption_configured(&config, &env(&[("E", "   ")])));
        assert!(encryption_configured(&config, &env(&[("E", "0123456789abcdef")])));
    }

    #[test]
    fn file_urls_must_be_absolute() {
        assert_eq!(file_url_path("file:///tmp/r").unwrap(), PathBuf::from("/tmp/r"));
        assert!(file_url_path("file://rel/dir").is_err());
        assert!(file_url_path("/tmp/r").is_err());
    }
}
