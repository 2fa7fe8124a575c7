//! `agit remote add|list|remove`: manage the remotes in `.agit/config.json`.

use std::io::{self, Write};

use serde::Serialize;

use agit_core::Store;
use agit_core::config::Config;
use agit_sync::remote::config::NewRemote;
use agit_sync::remote::{RemoteError, RemoteSummary, add_remote, remove_remote};

use crate::Context;
use crate::output::{CliError, Diagnostic, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct RemoteArgs {
    #[command(subcommand)]
    pub command: RemoteCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum RemoteCommand {
    /// Add a remote: an S3 bucket (s3://bucket/prefix) or a directory (file:///dir).
    #[command(
        after_help = "Examples:\n  agit remote add origin s3://team-bucket/agit --endpoint https://s3.eu-west-1.amazonaws.com --region eu-west-1\n  agit remote add local s3://agit --endpoint http://127.0.0.1:8333 --access-key-env S3_KEY --secret-key-env S3_SECRET\n  agit remote add backup file:///mnt/backup/agit --encryption-secret-env AGIT_SECRET\n\nCredentials are never stored: the config names the environment variables that hold\nthem (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN by default).\nPlain http:// is accepted only for localhost, 127.0.0.1 and ::1."
    )]
    Add(AddArgs),
    /// List the configured remotes.
    #[command(after_help = "Examples:\n  agit remote list\n  agit remote list --json")]
    List,
    /// Remove a remote from the config and forget what was recorded about it.
    #[command(after_help = "Examples:\n  agit remote remove backup\n\nNothing on the remote itself is deleted.")]
    Remove {
        /// The remote's name.
        name: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Name to refer to the remote by (letters, digits, `.`, `_`, `-`).
    pub name: String,
    /// s3://bucket[/prefix] or file:///absolute/dir.
    pub url: String,
    /// S3 endpoint URL (default: AWS's endpoint for the region).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// S3 region (default us-east-1).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Environment variable holding the access key id.
    #[arg(long, value_name = "VAR")]
    pub access_key_env: Option<String>,
    /// Environment variable holding the secret access key.
    #[arg(long, value_name = "VAR")]
    pub secret_key_env: Option<String>,
    /// Environment variable holding an STS session token.
    #[arg(long, value_name = "VAR")]
    pub session_token_env: Option<String>,
    /// Environment variable holding the client-side encryption secret (≥ 16 bytes);
    /// objects are then encrypted before they leave this machine.
    #[arg(long, value_name = "VAR")]
    pub encryption_secret_env: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RemoteOutput {
    /// `added`, `list` or `removed`.
    action: &'static str,
    remotes: Vec<RemoteSummary>,
}

/// A library error about remotes as a diagnostic (selection errors keep the reference's
/// codes and `.agit/config.json` path).
pub fn remote_diagnostic(error: &RemoteError) -> Diagnostic {
    match error {
        RemoteError::Store(e) => crate::output::diagnostic_for(e),
        RemoteError::NotConfigured => Diagnostic::new(error.code(), error.to_string())
            .hint("Add one with `agit remote add <name> s3://bucket/prefix` or `file:///dir`.")
            .path(".agit/config.json"),
        RemoteError::NotFound { name } => Diagnostic::new(error.code(), error.to_string())
            .hint(format!("No remote is named `{name}`; run `agit remote list`."))
            .path(".agit/config.json"),
        RemoteError::SelectionRequired { names } => Diagnostic::new(error.code(), error.to_string())
            .hint(format!("Configured: {}", names.join(", ")))
            .path(".agit/config.json"),
        RemoteError::DuplicateName { name } => Diagnostic::new(error.code(), error.to_string())
            .hint(format!("Rename or remove one of the remotes named `{name}` in .agit/config.json."))
            .path(".agit/config.json"),
        _ => Diagnostic::new(error.code(), error.to_string()),
    }
}

pub fn run(args: &RemoteArgs, ctx: &Context) -> Result<RemoteOutput, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let fail = |e: RemoteError| CliError::new(remote_diagnostic(&e));
    match &args.command {
        RemoteCommand::Add(add) => {
            let new = NewRemote {
                name: add.name.clone(),
                url: add.url.clone(),
                endpoint: add.endpoint.clone(),
                region: add.region.clone(),
                access_key_env: add.access_key_env.clone(),
                secret_key_env: add.secret_key_env.clone(),
                session_token_env: add.session_token_env.clone(),
                encryption_secret_env: add.encryption_secret_env.clone(),
            };
            let entry = add_remote(&store, &new).map_err(fail)?;
            Ok(RemoteOutput { action: "added", remotes: vec![RemoteSummary::of(&entry)] })
        }
        RemoteCommand::List => {
            let config = Config::load(&store.config_path())?;
            Ok(RemoteOutput { action: "list", remotes: config.remotes.iter().map(RemoteSummary::of).collect() })
        }
        RemoteCommand::Remove { name } => {
            let entry = remove_remote(&store, name).map_err(fail)?;
            Ok(RemoteOutput { action: "removed", remotes: vec![RemoteSummary::of(&entry)] })
        }
    }
}

impl Report for RemoteOutput {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        match self.action {
            "added" | "removed" => {
                for r in &self.remotes {
                    writeln!(out, "{} remote {} ({})", self.action, style.bold(&r.name), r.url)?;
                }
            }
            _ if self.remotes.is_empty() => writeln!(out, "no remotes configured")?,
            _ => {
                for r in &self.remotes {
                    let mut details = Vec::new();
                    if let Some(endpoint) = &r.endpoint {
                        details.push(format!("endpoint={endpoint}"));
                    }
                    if let Some(region) = &r.region {
                        details.push(format!("region={region}"));
                    }
                    details.push(format!("encrypted={}", if r.encrypted { "yes" } else { "no" }));
                    writeln!(out, "{}\t{}\t{}", style.bold(&r.name), r.url, details.join(" "))?;
                }
            }
        }
        Ok(())
    }
}
