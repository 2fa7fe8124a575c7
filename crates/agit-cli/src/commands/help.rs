//! `agit help [COMMAND]`.

use clap::CommandFactory;

use crate::cli::{Cli, HelpArgs};
use crate::output::CliError;

pub fn run(args: &HelpArgs) -> Result<u8, CliError> {
    let mut root = Cli::command();
    let Some(name) = &args.command else {
        root.print_long_help().map_err(print_failed)?;
        return Ok(0);
    };
    let Some(sub) = root.find_subcommand_mut(name) else {
        return Err(CliError::usage("invalid_argument", format!("no such command `{name}`"))
            .with_hint("Run `agit help` to list the commands."));
    };
    let mut sub = sub.clone().bin_name(format!("agit {name}"));
    sub.print_long_help().map_err(print_failed)?;
    Ok(0)
}

fn print_failed(e: std::io::Error) -> CliError {
    CliError::new(crate::output::Diagnostic::new("output_failed", format!("cannot write help: {e}")))
}
