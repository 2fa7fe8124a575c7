//! What push and pull share: remote selection and resolution from the config, progress
//! bars, and the mapping of transfer failures and conflicts to diagnostics.

use std::cell::{Cell, RefCell};
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

use agit_core::Store;
use agit_core::config::{Config, RemoteConfig};
use agit_sync::remote::{Progress, RefConflict, Remote, RemoteError, resolve, select_remote};

use crate::Context;
use crate::commands::remote::remote_diagnostic;
use crate::output::{CliError, Diagnostic};

/// Reads a variable for credential resolution.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The config and the selected remote's entry.
pub fn selected_remote(store: &Store, name: Option<&str>) -> Result<(Config, RemoteConfig), CliError> {
    let config = Config::load(&store.config_path())?;
    let entry = select_remote(&config, name).map_err(|e| CliError::new(remote_diagnostic(&e)))?.clone();
    Ok((config, entry))
}

/// Resolve credentials and the key; failures are `<command>_failed` like any transfer
/// failure (the reference reports them from inside push/pull).
pub fn resolve_remote(entry: &RemoteConfig, failed: &Failure) -> Result<Remote, CliError> {
    resolve(entry, &env_var).map_err(|e| failed.error(&e))
}

/// How a transfer command reports a failure.
pub struct Failure {
    /// `push_failed` or `pull_failed`.
    pub code: &'static str,
    /// Reference message.
    pub message: &'static str,
}

impl Failure {
    /// The diagnostic for `error`: the reference code and message, with the reference
    /// error name and our explanation as the hint. Selection and store errors keep
    /// their own codes.
    pub fn error(&self, error: &RemoteError) -> CliError {
        match error {
            RemoteError::Store(e) => CliError::new(crate::output::diagnostic_for(e)),
            e if e.is_selection() => CliError::new(remote_diagnostic(e)),
            e => {
                let name = e.reference_name();
                let hint = if name.is_empty() { e.to_string() } else { format!("{name}: {e}") };
                CliError::new(Diagnostic::new(self.code, self.message).hint(hint).path(".agit/config.json"))
            }
        }
    }
}

/// The `remote_conflict` diagnostic of one conflict (reference shape: the hint names
/// the ref and both heads).
pub fn conflict_diagnostic(message: &str, conflict: &RefConflict) -> Diagnostic {
    Diagnostic::new("remote_conflict", message)
        .hint(format!(
            "{} local={} remote={}",
            conflict.path,
            conflict.local_hash.to_hex(),
            conflict.remote_hash.to_hex()
        ))
        .path(conflict.path.clone())
}

/// Progress bars on stderr, only on a terminal and not in JSON mode.
pub struct Bars {
    enabled: bool,
    bar: RefCell<Option<ProgressBar>>,
    bytes: Cell<u64>,
}

impl Bars {
    pub fn new(ctx: &Context) -> Bars {
        Bars { enabled: !ctx.json && std::io::stderr().is_terminal(), bar: RefCell::new(None), bytes: Cell::new(0) }
    }
}

impl Progress for Bars {
    fn start(&self, phase: &'static str, total: Option<u64>) {
        if !self.enabled {
            return;
        }
        let bar = match total {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        };
        let template = if total.is_some() {
            "{prefix:>9} [{bar:30}] {pos}/{len} objects  {msg}  {elapsed}"
        } else {
            "{prefix:>9} {spinner} {pos} objects  {msg}  {elapsed}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(phase);
        self.bytes.set(0);
        bar.enable_steady_tick(Duration::from_millis(200));
        *self.bar.borrow_mut() = Some(bar);
    }

    fn advance(&self, objects: u64, bytes: u64) {
        if let Some(bar) = self.bar.borrow().as_ref() {
            bar.inc(objects);
            if bytes > 0 {
                let total = self.bytes.get() + bytes;
                self.bytes.set(total);
                let secs = bar.elapsed().as_secs_f64().max(0.001);
                bar.set_message(format!("{}  {}/s", HumanBytes(total), HumanBytes((total as f64 / secs) as u64)));
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }
}
