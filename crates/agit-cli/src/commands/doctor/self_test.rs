//! `agit doctor --self-test`: each installed agent's own hook commands, run on a
//! synthetic turn into a scratch store (see `agit_capture::install::self_test`).

use std::path::Path;
use std::time::Duration;

use agit_capture::install::{AgentId, SelfTestOutcome, SelfTestResult, self_test};
use agit_core::{Error, Store};

use super::{Check, check};
use crate::output::CliError;

/// How long one hook command may take (a finalize of a small scratch store takes
/// milliseconds; a hook stuck on a lock would otherwise hang doctor).
const HOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// Run the self-test and turn each agent's result into a check.
pub(super) fn run(store: &Store) -> Result<(Vec<SelfTestResult>, Vec<Check>), CliError> {
    let Some(home) = std::env::var_os("HOME") else {
        return Ok((Vec::new(), vec![check("hook_self_test_skipped", "warn", "hook self-test: HOME is not set")]));
    };
    let exe = std::env::current_exe().ok();
    let scratch = tempfile::Builder::new()
        .prefix("agit-self-test-")
        .tempdir()
        .map_err(|e| Error::io("create", std::env::temp_dir(), e))?;
    let results =
        self_test(Path::new(&home), exe.as_deref(), scratch.path(), Some(&store.config_path()), HOOK_TIMEOUT)?;
    let mut checks: Vec<Check> = results.iter().map(result_check).collect();
    if checks.is_empty() {
        checks.push(check("hook_self_test_none", "info", "hook self-test: no agent has agit hooks installed"));
    }
    Ok((results, checks))
}

fn result_check(r: &SelfTestResult) -> Check {
    let name = r.agent.display_name();
    let detail = r.detail.as_deref().unwrap_or("no detail");
    let reinit = format!("Run `agit init --agent {}` to rewrite its hooks.", r.agent.as_str());
    match r.outcome {
        SelfTestOutcome::Recorded => {
            check("hook_self_test_ok", "ok", format!("{name}: self-test turn recorded through its hooks ({})", via(r)))
        }
        SelfTestOutcome::CaptureDisabled => check(
            "hook_self_test_capture_disabled",
            "warn",
            format!("{name}: hooks run, but capture is disabled for {} ({detail})", r.agent.as_str()),
        )
        .hint("Add it to privacy.enabled_origins in .agit/config.json to record it."),
        SelfTestOutcome::NotRecorded => {
            check("hook_self_test_failed", "error", format!("{name}: self-test turn was not recorded ({detail})"))
                .hint(&reinit)
        }
        SelfTestOutcome::NoHookCommand => {
            check("hook_self_test_no_command", "error", format!("{name}: {detail}")).hint(&reinit)
        }
    }
}

/// The stop hook as run, shortened for the one-line message.
fn via(r: &SelfTestResult) -> String {
    let shown = r.stop.as_ref().map(|h| h.display()).unwrap_or_default();
    match r.agent {
        AgentId::Copilot | AgentId::Pi => format!("extension runs `{shown}`"),
        _ => format!("`{shown}`"),
    }
}
