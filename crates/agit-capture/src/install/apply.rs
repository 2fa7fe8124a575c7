//! Applying a plan: writing configs and extensions.

use std::path::Path;

use super::agents::{AgentId, InstallKind};
use super::extensions::{render_copilot, render_pi};
use super::files::{backup, mode_of, planned_backup_path, read_optional, write_atomic};
use super::json::{Json, Object};
use super::json_hooks;
use super::plan::{load_extension, load_json_config};
use super::report::{
    AgentInstall, AgentPlan, ConfigState, InstallError, InstallReport, InstallStatus, Plan, Readiness,
};

/// What installing one agent did (or, dry run, would do).
struct Outcome {
    status: InstallStatus,
    backup_path: Option<std::path::PathBuf>,
}

/// Installs every selected agent of `plan` (or only computes the outcome when
/// `dry_run`). Per-agent failures are recorded and the loop continues.
pub(crate) fn apply(plan: Plan, dry_run: bool) -> InstallReport {
    let agents = plan.agents.iter().map(|agent_plan| apply_agent(agent_plan, &plan, dry_run)).collect();
    InstallReport { dry_run, plan, agents }
}

fn apply_agent(agent_plan: &AgentPlan, plan: &Plan, dry_run: bool) -> AgentInstall {
    let agent = agent_plan.agent;
    let mut report = AgentInstall {
        agent,
        display_name: agent.display_name(),
        status: InstallStatus::Skipped,
        config_path: agent_plan.config_path.clone(),
        backup_path: None,
        events: agent.managed_events().iter().map(|m| m.event).collect(),
        problem: None,
    };
    if !agent_plan.requested || agent_plan.readiness == Readiness::BinaryMissing {
        report.problem = agent_plan.problem.clone().filter(|_| agent_plan.requested);
        return report;
    }
    if !agent_plan.selected {
        report.status = InstallStatus::Refused;
        report.problem = agent_plan.problem.clone();
        return report;
    }
    let result = match agent.kind() {
        InstallKind::JsonHooks => install_json(agent, &agent_plan.config_path, &plan.agit_binary, plan.force, dry_run),
        InstallKind::JsExtension => {
            install_extension(agent, &agent_plan.config_path, &plan.agit_binary, plan.force, dry_run)
        }
    };
    match result {
        Ok(outcome) => {
            report.status = outcome.status;
            report.backup_path = outcome.backup_path;
        }
        Err(e) => {
            report.status = if e.force_overrides() { InstallStatus::Refused } else { InstallStatus::Failed };
            report.problem = Some(e.to_problem());
        }
    }
    report
}

/// Re-reads the config (it may have changed since planning), merges our handlers and
/// writes it if anything changed, after backing up the previous bytes.
fn install_json(
    agent: AgentId,
    path: &Path,
    binary: &str,
    force: bool,
    dry_run: bool,
) -> Result<Outcome, InstallError> {
    let loaded = load_json_config(path);
    let (mut root, original) = match (loaded.object, loaded.problem) {
        (Some(object), _) => (object.clone(), Some(object)),
        (None, Some(problem)) if force && problem.force_overrides() => (Object::default(), None),
        (None, Some(problem)) => return Err(problem),
        (None, None) => (Object::default(), None),
    };
    json_hooks::install(&mut root, agent, binary, force).map_err(|shape| InstallError::ConfigUnexpectedShape {
        path: path.to_owned(),
        json_path: shape.json_path,
        found: shape.found,
        expected: shape.expected,
    })?;
    let unchanged = loaded.state == ConfigState::Object && original.as_ref() == Some(&root);
    if unchanged {
        return Ok(Outcome { status: InstallStatus::Unchanged, backup_path: None });
    }
    let existing = loaded.bytes.filter(|b| !b.is_empty());
    if dry_run {
        let backup_path = existing.map(|b| planned_backup_path(path, &b));
        return Ok(Outcome { status: InstallStatus::WouldInstall, backup_path });
    }
    let backup_path = match existing {
        Some(bytes) => Some(backup(path, &bytes, mode_of(path))?),
        None => None,
    };
    write_atomic(path, Json::Object(root).to_pretty().as_bytes())?;
    Ok(Outcome { status: InstallStatus::Installed, backup_path })
}

/// Writes the generated extension (always regenerated; a foreign file at the same path
/// is only replaced with `force`, after a backup).
fn install_extension(
    agent: AgentId,
    path: &Path,
    binary: &str,
    force: bool,
    dry_run: bool,
) -> Result<Outcome, InstallError> {
    let content = match agent {
        AgentId::Pi => render_pi(binary),
        _ => render_copilot(binary),
    };
    let (state, problem) = load_extension(path);
    let foreign = state == ConfigState::Foreign;
    match (state, problem) {
        (ConfigState::Foreign, Some(problem)) if !force => return Err(problem),
        (ConfigState::Unreadable { .. }, Some(problem)) => return Err(problem),
        _ => {}
    }
    let existing = read_optional(path)?;
    if existing.as_deref() == Some(content.as_bytes()) {
        return Ok(Outcome { status: InstallStatus::Unchanged, backup_path: None });
    }
    // A generated file is simply regenerated; a user's own file (forced) is kept aside.
    let foreign_bytes = existing.filter(|_| foreign);
    if dry_run {
        let backup_path = foreign_bytes.map(|b| planned_backup_path(path, &b));
        return Ok(Outcome { status: InstallStatus::WouldInstall, backup_path });
    }
    let backup_path = match foreign_bytes {
        Some(bytes) => Some(backup(path, &bytes, mode_of(path))?),
        None => None,
    };
    write_atomic(path, content.as_bytes())?;
    Ok(Outcome { status: InstallStatus::Installed, backup_path })
}
