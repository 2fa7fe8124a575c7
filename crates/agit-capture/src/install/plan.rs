//! Planning: which agents are present, what their configs look like, what `init` would do.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::agents::{AgentId, InstallKind};
use super::extensions::is_generated;
use super::files::{planned_backup_path, read_optional};
use super::json::{self, Json, Object};
use super::report::{AgentPlan, ConfigState, InstallError, Plan, Problem, Readiness};
use super::{InstallEnv, InstallRequest};

/// Looks `name` up in a `PATH` value: the first entry holding an executable regular
/// file of that name. Empty entries (the current directory) are skipped.
pub fn find_in_path(name: &str, path_var: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// The `agit` path to write into hooks (ADR 005): an `agit` on `PATH` that resolves to
/// the same file as `current_exe` (stable across upgrades that replace the target),
/// else `current_exe` itself.
pub fn preferred_agit_binary(current_exe: &Path, path_var: &OsStr) -> PathBuf {
    let Ok(real) = std::fs::canonicalize(current_exe) else {
        return current_exe.to_owned();
    };
    std::env::split_paths(path_var)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join("agit"))
        .find(|candidate| std::fs::canonicalize(candidate).is_ok_and(|c| c == real))
        .unwrap_or_else(|| current_exe.to_owned())
}

/// A config file as read: its state, and the parsed object / raw bytes when usable.
pub(crate) struct LoadedConfig {
    pub state: ConfigState,
    pub bytes: Option<Vec<u8>>,
    pub object: Option<Object>,
    pub problem: Option<InstallError>,
}

/// Reads and classifies a JSON agent config.
pub(crate) fn load_json_config(path: &Path) -> LoadedConfig {
    let bytes = match read_optional(path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return LoadedConfig { state: ConfigState::Missing, bytes: None, object: None, problem: None },
        Err(e) => {
            let state = ConfigState::Unreadable { message: e.to_string() };
            return LoadedConfig { state, bytes: None, object: None, problem: Some(e) };
        }
    };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return LoadedConfig {
            state: ConfigState::Empty,
            bytes: Some(bytes),
            object: Some(Object::default()),
            problem: None,
        };
    }
    match json::parse(&bytes) {
        Ok(Json::Object(object)) => {
            LoadedConfig { state: ConfigState::Object, bytes: Some(bytes), object: Some(object), problem: None }
        }
        Ok(other) => {
            let found = other.type_name();
            LoadedConfig {
                state: ConfigState::NotObject { found },
                bytes: Some(bytes),
                object: None,
                problem: Some(InstallError::ConfigNotObject { path: path.to_owned(), found }),
            }
        }
        Err(e) => LoadedConfig {
            state: ConfigState::Malformed { message: e.message, offset: e.offset, line: e.line, column: e.column },
            bytes: Some(bytes),
            object: None,
            problem: Some(InstallError::ConfigMalformed {
                path: path.to_owned(),
                message: e.message,
                offset: e.offset,
                line: e.line,
                column: e.column,
            }),
        },
    }
}

/// Reads and classifies an extension file.
pub(crate) fn load_extension(path: &Path) -> (ConfigState, Option<InstallError>) {
    match read_optional(path) {
        Ok(None) => (ConfigState::Missing, None),
        Ok(Some(bytes)) if is_generated(&bytes) => (ConfigState::Generated, None),
        Ok(Some(_)) => (ConfigState::Foreign, Some(InstallError::ExtensionNotGenerated { path: path.to_owned() })),
        Err(e) => (ConfigState::Unreadable { message: e.to_string() }, Some(e)),
    }
}

/// Validates the binary path and the requested agent names.
pub(crate) fn validate(env: &InstallEnv, request: &InstallRequest) -> Result<(String, Vec<AgentId>), InstallError> {
    let binary = env.agit_binary.to_str().ok_or_else(|| InstallError::InvalidAgitBinary {
        path: env.agit_binary.clone(),
        reason: "the path is not valid UTF-8",
    })?;
    if !env.agit_binary.is_absolute() {
        return Err(InstallError::InvalidAgitBinary {
            path: env.agit_binary.clone(),
            reason: "the path is not absolute",
        });
    }
    let mut requested = Vec::new();
    for name in &request.agents {
        let agent = AgentId::parse(name.trim())?;
        if !requested.contains(&agent) {
            requested.push(agent);
        }
    }
    Ok((binary.to_owned(), requested))
}

/// Builds the plan (reads files, writes nothing).
pub(crate) fn build(env: &InstallEnv, request: &InstallRequest) -> Result<Plan, InstallError> {
    let (agit_binary, requested) = validate(env, request)?;
    let agents = AgentId::ALL.into_iter().map(|agent| plan_agent(env, agent, &requested, request.force)).collect();
    Ok(Plan { agit_binary, force: request.force, requested, agents })
}

fn plan_agent(env: &InstallEnv, agent: AgentId, requested: &[AgentId], force: bool) -> AgentPlan {
    let config_path = agent.config_path(&env.home);
    let binary = find_in_path(agent.binary_name(), &env.path_var);
    let (config, problem, backup_path) = match agent.kind() {
        InstallKind::JsonHooks => {
            let loaded = load_json_config(&config_path);
            let backup = loaded.bytes.as_deref().map(|b| planned_backup_path(&config_path, b));
            (loaded.state, loaded.problem, backup)
        }
        InstallKind::JsExtension => {
            let (state, problem) = load_extension(&config_path);
            (state, problem, None)
        }
    };
    let readiness = if binary.is_none() {
        Readiness::BinaryMissing
    } else {
        match (&config, force) {
            (ConfigState::Unreadable { .. }, _) => Readiness::ConfigUnreadable,
            (_, true) => Readiness::Ready,
            (ConfigState::Malformed { .. }, false) => Readiness::ConfigMalformed,
            (ConfigState::NotObject { .. }, false) => Readiness::ConfigNotObject,
            (ConfigState::Foreign, false) => Readiness::ExtensionNotGenerated,
            _ => Readiness::Ready,
        }
    };
    let is_requested = requested.is_empty() || requested.contains(&agent);
    let problem: Option<Problem> = match readiness {
        Readiness::BinaryMissing => Some(InstallError::BinaryMissing { agent }.to_problem()),
        _ => problem.map(|p| p.to_problem()),
    };
    AgentPlan {
        agent,
        display_name: agent.display_name(),
        kind: agent.kind(),
        binary,
        config_path,
        config,
        requested: is_requested,
        readiness,
        selected: is_requested && readiness == Readiness::Ready,
        backup_path,
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn exe(dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn path_lookup_needs_an_executable_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        fs::create_dir_all(a.join("codex")).unwrap(); // a directory is not a binary
        fs::create_dir_all(&b).unwrap();
        fs::write(b.join("gemini"), "").unwrap(); // not executable
        let codex = exe(&b, "codex");
        let path_var = std::env::join_paths([&a, &b]).unwrap();
        assert_eq!(find_in_path("codex", &path_var), Some(codex));
        assert_eq!(find_in_path("gemini", &path_var), None);
    }

    #[test]
    fn prefers_a_path_entry_resolving_to_the_running_binary() {
        let dir = tempfile::tempdir().unwrap();
        let real_dir = dir.path().join("cellar/agit/1.0/bin");
        fs::create_dir_all(&real_dir).unwrap();
        let real = exe(&real_dir, "agit");
        let bin = dir.path().join("bin");
        fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(&real, bin.join("agit")).unwrap();
        let path_var = std::env::join_paths([&bin]).unwrap();
        assert_eq!(preferred_agit_binary(&real, &path_var), bin.join("agit"));
        assert_eq!(preferred_agit_binary(&real, OsStr::new("")), real);
    }
}
