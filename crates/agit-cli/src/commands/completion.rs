//! `agit completion <shell>`: static completion scripts from the clap definition.

use clap::CommandFactory;
use clap_complete::{Shell as ClapShell, generate};

use crate::Context;
use crate::cli::{Cli, CompletionArgs, Shell};
use crate::output::CliError;

pub fn run(args: &CompletionArgs, ctx: &Context) -> Result<u8, CliError> {
    if ctx.json {
        return Err(CliError::usage(
            "invalid_argument",
            "completion prints a shell script; --json is not supported here",
        ));
    }
    let mut command = Cli::command();
    let mut out = std::io::stdout();
    match args.shell {
        Shell::Bash => generate(ClapShell::Bash, &mut command, "agit", &mut out),
        Shell::Zsh => generate(ClapShell::Zsh, &mut command, "agit", &mut out),
        Shell::Fish => generate(ClapShell::Fish, &mut command, "agit", &mut out),
        Shell::Powershell => generate(ClapShell::PowerShell, &mut command, "agit", &mut out),
        Shell::Elvish => generate(ClapShell::Elvish, &mut command, "agit", &mut out),
        Shell::Nushell => generate(clap_complete_nushell::Nushell, &mut command, "agit", &mut out),
    }
    Ok(0)
}
