//! `agit uninstall`: remove agit's hooks from every agent config.

use std::io::{self, Write};

use serde::Serialize;

use agit_capture::install::{UninstallReport, UninstallStatus, uninstall};

use super::agents::install_env;
use crate::output::{CliError, EXIT_FAILURE, Report};
use crate::render::Style;

#[derive(Serialize)]
#[serde(transparent)]
pub struct UninstallOutput(UninstallReport);

pub fn run() -> Result<UninstallOutput, CliError> {
    let env = install_env()?;
    Ok(UninstallOutput(uninstall(&env.home, Some(&env.agit_binary))))
}

impl Report for UninstallOutput {
    fn human(&self, out: &mut dyn Write, _: &Style) -> io::Result<()> {
        for e in &self.0.entries {
            let path = e.path.display();
            match e.status {
                UninstallStatus::Removed => {
                    writeln!(out, "agit uninstall: removed {} agit hook(s) from {path}", e.removed_handlers)?
                }
                UninstallStatus::NothingFound => writeln!(out, "agit uninstall: no agit hooks found in {path}")?,
                UninstallStatus::Missing => {}
                UninstallStatus::Skipped | UninstallStatus::Failed => {
                    let why = e.problem.as_ref().map_or("", |p| p.message.as_str());
                    writeln!(out, "agit uninstall: warning: skipped {path}: {why}")?
                }
            }
        }
        Ok(())
    }

    fn exit_code(&self) -> u8 {
        if self.0.is_success() { 0 } else { EXIT_FAILURE }
    }
}
