//! `.agit/config.json`: privacy/capture policy and remotes.
//!
//! The reference schema is accepted as is and parsed strictly (unknown or duplicate keys
//! are errors, so a typo never silently disables a privacy setting). Remotes gain
//! `backend: "file"` and `url` (DECISIONS §2, improvement 7).

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The only config version there is.
pub const CONFIG_VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_version")]
    pub version: u32,
    #[serde(default)]
    pub privacy: PrivacyConfig,
    #[serde(default)]
    pub remotes: Vec<RemoteConfig>,
}

fn default_version() -> u32 {
    CONFIG_VERSION
}

impl Default for Config {
    fn default() -> Self {
        Config { version: CONFIG_VERSION, privacy: PrivacyConfig::default(), remotes: Vec::new() }
    }
}

/// How much of one kind of text is kept at record time (irreversible).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureLevel {
    #[default]
    Full,
    Redacted,
    MetadataOnly,
    Disabled,
}

/// Capture level per kind of text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureConfig {
    pub prompts: CaptureLevel,
    pub assistant: CaptureLevel,
    pub tool_args: CaptureLevel,
    pub tool_results: CaptureLevel,
    pub snapshots: CaptureLevel,
}

impl CaptureConfig {
    /// Every class disabled: what hooks use when the config cannot be read (fail closed).
    pub fn all_disabled() -> Self {
        let d = CaptureLevel::Disabled;
        CaptureConfig { prompts: d, assistant: d, tool_args: d, tool_results: d, snapshots: d }
    }
}

/// Display-time redaction default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DisplayConfig {
    pub redacted_by_default: bool,
}

/// The `privacy` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Empty means every origin records; otherwise an exact-match allow-list.
    pub enabled_origins: Vec<String>,
    pub capture: CaptureConfig,
    pub display: DisplayConfig,
    /// Extra case-sensitive literal secrets (empty strings are ignored).
    pub custom_literals: Vec<String>,
}

/// Where a remote lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RemoteBackend {
    #[default]
    S3,
    File,
}

/// One configured remote. Credentials are never stored: only the names of environment
/// variables that hold them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteConfig {
    pub name: String,
    #[serde(default)]
    pub backend: RemoteBackend,
    /// `s3://bucket/prefix` or `file:///dir` (ours; the reference uses the fields below).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default)]
    pub prefix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_secret_env: Option<String>,
}

fn default_region() -> String {
    "us-east-1".into()
}

impl Config {
    /// Load from `path`. A missing file means all defaults.
    pub fn load(path: &Path) -> Result<Config> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => {
                return Err(Error::InvalidConfig { path: path.to_path_buf(), reason: e.to_string() });
            }
        };
        Config::parse(&bytes).map_err(|reason| Error::InvalidConfig { path: path.to_path_buf(), reason })
    }

    /// Parse config bytes strictly.
    pub fn parse(bytes: &[u8]) -> std::result::Result<Config, String> {
        let config: Config = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if config.version != CONFIG_VERSION {
            return Err(format!("unsupported config version {} (expected {CONFIG_VERSION})", config.version));
        }
        Ok(config)
    }

    /// Pretty JSON for writing (people edit this file).
    pub fn to_pretty_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_config_shape_parses() {
        let text = r#"{"version":1,"privacy":{"enabled_origins":["claude"],"capture":{"prompts":"full","assistant":"redacted","tool_args":"metadata_only","tool_results":"disabled","snapshots":"full"},"display":{"redacted_by_default":true},"custom_literals":["hunter2"]},"remotes":[{"name":"origin","backend":"s3","endpoint":"http://127.0.0.1:9000","bucket":"b","region":"us-east-1","prefix":"team","access_key_env":"A","secret_key_env":"S","session_token_env":null,"encryption_secret_env":"E"}]}"#;
        let config = Config::parse(text.as_bytes()).unwrap();
        assert_eq!(config.privacy.capture.tool_results, CaptureLevel::Disabled);
        assert_eq!(config.remotes[0].encryption_secret_env.as_deref(), Some("E"));
        assert_eq!(Config::parse(config.to_pretty_json().as_bytes()).unwrap(), config);
    }

    #[test]
    fn strictness() {
        assert_eq!(Config::parse(b"{}").unwrap(), Config::default());
        assert!(Config::parse(br#"{"version":2}"#).unwrap_err().contains("unsupported config version"));
        assert!(Config::parse(br#"{"privacy":{"captur":{}}}"#).unwrap_err().contains("unknown field"));
        assert!(Config::parse(br#"{"privacy":{"capture":{"prompts":"some"}}}"#).is_err());
        assert!(Config::parse(b"{not json").is_err());
    }
}
