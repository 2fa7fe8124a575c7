//! Where agent configs live and which `agit` binary hooks should run.

use agit_capture::install::{InstallEnv, InstallError, preferred_agit_binary};
use agit_core::Error;

use crate::output::{CliError, Diagnostic, EXIT_USAGE};

/// The install environment of this process: `$HOME`, `$PATH`, and this binary (preferring
/// a PATH entry that resolves to the same file, so configs survive reinstalls).
pub fn install_env() -> Result<InstallEnv, CliError> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).ok_or_else(|| {
        CliError::new(Diagnostic::new("home_not_set", "HOME is not set; agent configs live under it."))
    })?;
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    let exe = std::env::current_exe().map_err(|e| Error::io("locate", "agit", e))?;
    Ok(InstallEnv { home: home.into(), agit_binary: preferred_agit_binary(&exe, &path_var), path_var })
}

/// Map an installer error to a diagnostic (unknown agent names are usage errors).
pub fn install_error(error: InstallError) -> CliError {
    let problem = error.to_problem();
    let mut d = Diagnostic::new(problem.code, problem.message);
    if let Some(path) = problem.path {
        d = d.path(path.display().to_string());
    }
    let mut e = CliError::new(d);
    if error.code() == "unknown_agent" {
        e.exit = EXIT_USAGE;
        e = e.with_hint("Known agents: claude, codex, gemini, copilot, pi.");
    }
    e
}
