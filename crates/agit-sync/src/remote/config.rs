//! Choosing a configured remote, and `agit remote add|remove` edits of `config.json`.

use agit_core::Store;
use agit_core::config::{Config, RemoteBackend, RemoteConfig};
use agit_core::store::{durable, lock};

use super::error::RemoteError;
use super::resolve::{check_endpoint, file_url_path};

/// Pick the remote to use (reference `selectRemote`): the named one, or the only one.
/// Unlike the reference, duplicate names are reported whichever remote is asked for.
pub fn select_remote<'a>(config: &'a Config, name: Option<&str>) -> Result<&'a RemoteConfig, RemoteError> {
    if config.remotes.is_empty() {
        return Err(RemoteError::NotConfigured);
    }
    let mut names: Vec<&str> = config.remotes.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    if let Some(dup) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(RemoteError::DuplicateName { name: dup[0].to_string() });
    }
    match name {
        Some(name) => config
            .remotes
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| RemoteError::NotFound { name: name.to_string() }),
        None if config.remotes.len() == 1 => Ok(&config.remotes[0]),
        None => Err(RemoteError::SelectionRequired { names: names.iter().map(|n| n.to_string()).collect() }),
    }
}

/// A remote name must be usable as one directory name: `[A-Za-z0-9._-]+`, not starting
/// with `.`.
pub fn validate_remote_name(name: &str) -> Result<(), RemoteError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 100
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok { Ok(()) } else { Err(RemoteError::InvalidName { name: name.to_string() }) }
}

/// What `agit remote add` was given.
#[derive(Debug, Clone, Default)]
pub struct NewRemote {
    /// The name.
    pub name: String,
    /// `s3://bucket[/prefix]` or `file:///dir`.
    pub url: String,
    /// S3 endpoint (`https://…`, or `http://` for loopback).
    pub endpoint: Option<String>,
    /// S3 region.
    pub region: Option<String>,
    /// Variable holding the access key id.
    pub access_key_env: Option<String>,
    /// Variable holding the secret access key.
    pub secret_key_env: Option<String>,
    /// Variable holding an STS session token.
    pub session_token_env: Option<String>,
    /// Variable holding the encryption secret.
    pub encryption_secret_env: Option<String>,
}

impl NewRemote {
    /// The config entry, validated. S3 remotes are written with every field the
    /// reference requires (so the reference can read the file); directory remotes use
    /// our `backend: "file"` and `url`.
    pub fn to_config(&self) -> Result<RemoteConfig, RemoteError> {
        validate_remote_name(&self.name)?;
        let invalid = |reason: &str| RemoteError::InvalidUrl { url: self.url.clone(), reason: reason.into() };
        let region = self.region.clone().unwrap_or_else(|| "us-east-1".into());
        if let Some(rest) = self.url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(invalid("no bucket (use s3://bucket/prefix)"));
            }
            if !bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-')) {
                return Err(invalid("bucket names use lowercase letters, digits, `.` and `-`"));
            }
            let prefix = prefix.trim_matches('/');
            // Keys are signed unencoded by the reference; keep prefixes to safe characters.
            if !prefix.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/')) {
                return Err(invalid("the prefix may use letters, digits, `.`, `_`, `-` and `/`"));
            }
            if let Some(endpoint) = &self.endpoint {
                check_endpoint(endpoint)?;
            }
            return Ok(RemoteConfig {
                name: self.name.clone(),
                backend: RemoteBackend::S3,
                url: None,
                endpoint: Some(
                    self.endpoint
                        .clone()
                        .map(|e| e.trim_end_matches('/').to_string())
                        .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com")),
                ),
                bucket: Some(bucket.to_string()),
                region,
                prefix: prefix.to_string(),
                access_key_env: Some(
                    self.access_key_env.clone().unwrap_or_else(|| super::resolve::DEFAULT_ACCESS_KEY_ENV.into()),
                ),
                secret_key_env: Some(
                    self.secret_key_env.clone().unwrap_or_else(|| super::resolve::DEFAULT_SECRET_KEY_ENV.into()),
                ),
                session_token_env: self.session_token_env.clone(),
                encryption_secret_env: self.encryption_secret_env.clone(),
            });
        }
        if self.url.starts_with("file://") {
            file_url_path(&self.url)?;
            if self.endpoint.is_some()
                || self.access_key_env.is_some()
                || self.secret_key_env.is_some()
                || self.session_token_env.is_some()
            {
                return Err(invalid("--endpoint and credential variables apply to s3:// remotes only"));
            }
            return Ok(RemoteConfig {
                name: self.name.clone(),
                backend: RemoteBackend::File,
                url: Some(self.url.trim_end_matches('/').to_string()),
                endpoint: None,
                bucket: None,
                region,
                prefix: String::new(),
                access_key_env: None,
                secret_key_env: None,
                session_token_env: None,
                encryption_secret_env: self.encryption_secret_env.clone(),
            });
        }
        Err(invalid("use s3://bucket[/prefix] or file:///absolute/dir"))
    }
}

/// Add a remote to `config.json` (under its lock; the file is replaced atomically).
pub fn add_remote(store: &Store, new: &NewRemote) -> Result<RemoteConfig, RemoteError> {
    let entry = new.to_config()?;
    edit_config(store, |config| {
        if config.remotes.iter().any(|r| r.name == entry.name) {
            return Err(RemoteError::AlreadyExists { name: entry.name.clone() });
        }
        config.remotes.push(entry.clone());
        Ok(())
    })?;
    Ok(entry)
}

/// Remove a remote from `config.json` and forget what we recorded about it.
pub fn remove_remote(store: &Store, name: &str) -> Result<RemoteConfig, RemoteError> {
    let mut removed = None;
    edit_config(store, |config| {
        let index = config
            .remotes
            .iter()
            .position(|r| r.name == name)
            .ok_or_else(|| RemoteError::NotFound { name: name.to_string() })?;
        removed = Some(config.remotes.remove(index));
        Ok(())
    })?;
    super::tracking::forget(store, name)?;
    removed.ok_or_else(|| RemoteError::NotFound { name: name.to_string() })
}

fn edit_config(store: &Store, edit: impl FnOnce(&mut Config) -> Result<(), RemoteError>) -> Result<(), RemoteError> {
    let path = store.config_path();
    let mut lock_path = path.clone().into_os_string();
    lock_path.push(".lock");
    let _guard = lock::acquire(lock_path.as_ref(), lock::LockMode::Exclusive, lock::lock_timeout())?;
    let mut config = Config::load(&path)?;
    edit(&mut config)?;
    durable::replace(&path, config.to_pretty_json().as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(names: &[&str]) -> Config {
        let mut c = Config::default();
        for n in names {
            c.remotes.push(
                NewRemote { name: n.to_string(), url: "file:///tmp/x".into(), ..Default::default() }
                    .to_config()
                    .unwrap(),
            );
        }
        c
    }

    #[test]
    fn selection_follows_the_reference_and_catches_duplicates_always() {
        assert!(matches!(select_remote(&config(&[]), None), Err(RemoteError::NotConfigured)));
        assert_eq!(select_remote(&config(&["a"]), None).unwrap().name, "a");
        assert!(matches!(select_remote(&config(&["a", "b"]), None), Err(RemoteError::SelectionRequired { .. })));
        assert_eq!(select_remote(&config(&["a", "b"]), Some("b")).unwrap().name, "b");
        assert!(matches!(select_remote(&config(&["a"]), Some("z")), Err(RemoteError::NotFound { .. })));
        assert!(matches!(select_remote(&config(&["a", "a", "b"]), Some("b")), Err(RemoteError::DuplicateName { .. })));
    }

    #[test]
    fn s3_urls_become_reference_shaped_entries() {
        let entry = NewRemote {
            name: "team".into(),
            url: "s3://agit-bucket/team/x/".into(),
            endpoint: Some("http://127.0.0.1:8333/".into()),
            ..Default::default()
        }
        .to_config()
        .unwrap();
        assert_eq!(entry.bucket.as_deref(), Some("agit-bucket"));
        assert_eq!(entry.prefix, "team/x");
        assert_eq!(entry.endpoint.as_deref(), Some("http://127.0.0.1:8333"));
        assert_eq!(entry.access_key_env.as_deref(), Some("AWS_ACCESS_KEY_ID"));
        assert!(entry.url.is_none());
        for bad in ["s3://", "s3://Bad_Bucket", "s3://b/pre fix", "http://x", "file://rel"] {
            let r = NewRemote { name: "n".into(), url: bad.into(), ..Default::default() }.to_config();
            assert!(r.is_err(), "{bad}");
        }
        let insecure = NewRemote {
            name: "n".into(),
            url: "s3://b".into(),
            endpoint: Some("http://example.com".into()),
            ..Default::default()
        };
        assert!(matches!(insecure.to_config(), Err(RemoteError::InsecureEndpoint { .. })));
    }

    #[test]
    fn names_must_be_directory_safe() {
        for ok in ["origin", "team-1", "a.b_c"] {
            validate_remote_name(ok).unwrap();
        }
        for bad in ["", ".hidden", "a/b", "a b", ".."] {
            assert!(validate_remote_name(bad).is_err(), "{bad}");
        }
    }
}
