//! One module per command: parse arguments, call the library, hand a report to the
//! renderer.

mod cat;
mod completion;
mod help;
mod init;
mod reindex;
mod status;
mod version;

use std::io;

use crate::Context;
use crate::cli::Command;
use crate::output::{self, CliError, Report};

/// Run a command; returns the exit status of a completed command.
pub fn run(command: Command, ctx: &Context) -> Result<u8, CliError> {
    let name = command.name();
    match command {
        Command::Init(args) => emit(name, ctx, &init::run(&args, ctx)?),
        Command::Status => emit(name, ctx, &status::run(ctx)?),
        Command::Cat(args) => emit(name, ctx, &cat::run(&args, ctx)?),
        Command::Reindex => emit(name, ctx, &reindex::run(ctx)?),
        Command::Version => emit(name, ctx, &version::run()),
        Command::Completion(args) => completion::run(&args, ctx),
        Command::Help(args) => help::run(&args),
    }
}

/// Render a report in the selected mode and return its exit status.
fn emit<R: Report>(name: &str, ctx: &Context, report: &R) -> Result<u8, CliError> {
    let written = if ctx.json {
        output::write_json(name, report)
    } else {
        for warning in report.warnings() {
            warning.print_human("warning");
        }
        let mut stdout = io::stdout().lock();
        report.human(&mut stdout)
    };
    match written {
        Ok(()) => Ok(report.exit_code()),
        // A closed pipe (`agit cat x | head`) is not an error of ours.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(report.exit_code()),
        Err(e) => Err(CliError::new(output::Diagnostic::new("output_failed", format!("cannot write output: {e}")))),
    }
}
