//! Rendering: the `cli-json-v1` envelope on stdout, human diagnostics on stderr.

use std::io::{self, Write};

use serde::Serialize;

use agit_core::Error;

/// The JSON output schema every `--json` command emits.
pub const SCHEMA_VERSION: &str = "cli-json-v1";

/// Exit status of a failed command (findings, runtime errors).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status of a usage error.
pub const EXIT_USAGE: u8 = 2;

/// A command's result: serializable for `--json`, printable for people.
pub trait Report: Serialize {
    /// Write the human form.
    fn human(&self, out: &mut dyn Write, style: &crate::render::Style) -> io::Result<()>;

    /// Whether long output may go through a pager (not for raw bytes or streams).
    fn pageable(&self) -> bool {
        true
    }

    /// 0 unless the report itself is a failure (e.g. findings).
    fn exit_code(&self) -> u8 {
        0
    }

    /// Diagnostics to show alongside a successful report (stderr in human mode).
    fn warnings(&self) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Failures to show after a report that is itself a failure (`exit_code` 1), such
    /// as each `remote_conflict` of a push (stderr, `error:` label, in human mode).
    fn errors(&self) -> Vec<Diagnostic> {
        Vec::new()
    }
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    schema_version: &'static str,
    command: &'a str,
    data: T,
}

/// Write one envelope line to stdout.
pub fn write_json<T: Serialize>(command: &str, data: &T) -> io::Result<()> {
    let mut line =
        serde_json::to_vec(&Envelope { schema_version: SCHEMA_VERSION, command, data }).map_err(io::Error::other)?;
    line.push(b'\n');
    let mut stdout = io::stdout().lock();
    stdout.write_all(&line)?;
    stdout.flush()
}

/// The diagnostic shape of `cli-json-v1` (keys in reference order, nulls emitted).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: String,
    pub message: String,
    pub hint: Option<String>,
    pub path: Option<String>,
    pub hash: Option<String>,
    pub candidates: Option<Vec<String>>,
}

impl Diagnostic {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Diagnostic { code: code.into(), message: message.into(), hint: None, path: None, hash: None, candidates: None }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn hash(mut self, hash: impl Into<String>) -> Self {
        self.hash = Some(hash.into());
        self
    }

    /// Print as `error: …` / `hint: …` lines (or `warning:` for non-fatal ones).
    pub fn print_human(&self, label: &str) {
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "{label}: {}", self.message);
        if let Some(path) = &self.path {
            let _ = writeln!(err, "  path: {path}");
        }
        if let Some(candidates) = &self.candidates {
            let _ = writeln!(err, "candidates:");
            for c in candidates {
                let _ = writeln!(err, "  - {c}");
            }
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(err, "hint: {hint}");
        }
    }
}

/// `data` of an error envelope.
#[derive(Serialize)]
pub struct DiagnosticData<'a> {
    pub diagnostic: &'a Diagnostic,
}

/// A failed command: its diagnostic and exit status.
#[derive(Debug)]
pub struct CliError {
    pub diagnostic: Box<Diagnostic>,
    pub exit: u8,
}

impl CliError {
    pub fn new(diagnostic: Diagnostic) -> Self {
        CliError { diagnostic: Box::new(diagnostic), exit: EXIT_FAILURE }
    }

    pub fn usage(code: &str, message: impl Into<String>) -> Self {
        CliError { diagnostic: Box::new(Diagnostic::new(code, message)), exit: EXIT_USAGE }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.diagnostic.hint = Some(hint.into());
        self
    }
}

impl From<Error> for CliError {
    fn from(error: Error) -> Self {
        CliError::new(diagnostic_for(&error))
    }
}

/// Map a library error to its diagnostic, with a hint that says what to do next.
pub fn diagnostic_for(error: &Error) -> Diagnostic {
    let d = Diagnostic::new(error.code(), error.to_string());
    match error {
        Error::StoreNotFound { .. } => Diagnostic::new("store_not_found", "Not an agit repository.")
            .hint("Run `agit init` from the repository root to start recording.")
            .path("."),
        Error::ObjectNotFound { prefix } => d.hint("Use a longer or different hash prefix.").hash(prefix.clone()),
        Error::AmbiguousPrefix { prefix, candidates } => Diagnostic {
            candidates: Some(candidates.iter().map(|c| c.to_hex()).collect()),
            ..d.hint("Use a longer hash prefix.").hash(prefix.clone())
        },
        Error::InvalidPrefix { prefix, .. } => d.hint("Give 1 to 64 hexadecimal characters.").hash(prefix.clone()),
        Error::ObjectHashMismatch { id, path } => d
            .hint("The object file is corrupt; restore it from a remote, a bundle or a backup.")
            .path(path.display().to_string())
            .hash(id.to_hex()),
        Error::InvalidObject { id, .. } => d.hash(id.to_hex()),
        Error::InvalidRef { path, .. } => d
            .hint("A session ref must hold exactly one 64-character step hash followed by a newline.")
            .path(path.display().to_string()),
        Error::CasConflict { path, .. } => d.path(path.display().to_string()),
        Error::SessionNotFound { query: None } => Diagnostic::new("session_not_found", "No sessions recorded yet.")
            .hint("Run `agit init`, then use your agent."),
        Error::SessionNotFound { .. } => d.hint("Pass <origin>/<session-id>, or run `agit sessions` to list them."),
        Error::AmbiguousSession { candidates, .. } => {
            Diagnostic { candidates: Some(candidates.clone()), ..d.hint("Pass <origin>/<session-id> to disambiguate.") }
        }
        Error::LockTimeout { path, .. } => d
            .hint("Another agit process holds this lock; wait for it, or raise AGIT_LOCK_TIMEOUT_MS.")
            .path(path.display().to_string()),
        Error::InvalidConfig { path, .. } => d
            .hint("Fix the JSON in .agit/config.json, or move it aside to use the defaults.")
            .path(path.display().to_string()),
        Error::IndexUnreadable { path, .. } => {
            d.hint("Run `agit reindex` to rebuild the index from objects and refs.").path(path.display().to_string())
        }
        Error::Index { .. } => d.hint("Run `agit reindex` to rebuild the index from objects and refs."),
        Error::Io { path, .. } => d.path(path.display().to_string()),
        Error::NoBlame { .. } => Diagnostic::new("no_blame", "No blame recorded for this path.")
            .hint("Blame is recorded as agents change files; run `agit reindex` if the index was rebuilt."),
        Error::FileTooLarge { .. } => d.hint("Pass --no-limits to show it anyway."),
        _ => d,
    }
}
