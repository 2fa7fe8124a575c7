//! Which agents have agit hooks installed (for `status` and `doctor`), read-only.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::agents::{AgentId, InstallKind};
use super::extensions::is_generated;
use super::json_hooks;
use super::plan::load_json_config;

/// Whether one agent is hooked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentHookStatus {
    pub agent: AgentId,
    pub display_name: &'static str,
    pub config_path: PathBuf,
    /// Number of agit handlers found (1 for a generated extension).
    pub handlers: usize,
}

impl AgentHookStatus {
    pub fn installed(&self) -> bool {
        self.handlers > 0
    }
}

/// Count agit's handlers in each agent's config under `home`, recognising them exactly
/// as `uninstall` does (running its matcher on a copy; nothing is written).
pub fn hook_status(home: &Path, agit_binary: Option<&Path>) -> Vec<AgentHookStatus> {
    let known: Vec<String> = agit_binary.and_then(Path::to_str).map(str::to_owned).into_iter().collect();
    AgentId::ALL
        .into_iter()
        .map(|agent| {
            let config_path = agent.config_path(home);
            let handlers = match agent.kind() {
                InstallKind::JsonHooks => {
                    load_json_config(&config_path).object.map_or(0, |mut root| json_hooks::uninstall(&mut root, &known))
                }
                InstallKind::JsExtension => {
                    std::fs::read(&config_path).map_or(0, |bytes| usize::from(is_generated(&bytes)))
                }
            };
            AgentHookStatus { agent, display_name: agent.display_name(), config_path, handlers }
        })
        .collect()
}
