//! One module per command: parse arguments, call the library, hand a report to the
//! renderer.

mod agents;
pub mod bench;
pub mod between;
pub mod blame;
mod cat;
mod completion;
mod demo;
pub mod diff;
pub mod doctor;
pub mod eval;
pub mod export;
pub mod filters;
pub mod fsck;
pub mod gc;
mod git;
pub mod grep;
mod help;
mod hook;
pub mod import;
mod init;
pub mod log;
mod observe;
mod preflight;
pub mod privacy;
pub mod pull;
pub mod push;
pub mod recall;
mod reindex;
pub mod remote;
pub mod restore;
pub mod sessions;
pub mod show;
pub mod stats;
pub mod status;
mod step_line;
pub mod steps;
pub mod timeline;
mod transfer;
mod uninstall;
mod version;
pub mod watch;

use std::io;

use crate::Context;
use crate::cli::Command;
use crate::output::{self, CliError, Report};

/// Run a command; returns the exit status of a completed command.
pub fn run(command: Command, ctx: &Context) -> Result<u8, CliError> {
    let name = command.name();
    match command {
        Command::Init(args) => emit(name, ctx, &init::run(&args, ctx)?),
        Command::Status(args) => emit(name, ctx, &status::run(&args, ctx)?),
        Command::Timeline(args) => emit(name, ctx, &timeline::run(&args, ctx)?),
        Command::Sessions(args) => emit(name, ctx, &sessions::run(&args, ctx)?),
        Command::Log(args) => emit(name, ctx, &log::run(&args, ctx)?),
        Command::Restore(args) => emit(name, ctx, &restore::run(&args, ctx)?),
        Command::Show(args) => emit(name, ctx, &show::run(&args, ctx)?),
        Command::Diff(args) => emit(name, ctx, &diff::run(&args, ctx)?),
        Command::Steps(args) => emit(name, ctx, &steps::run(&args, ctx)?),
        Command::Between(args) => emit(name, ctx, &between::run(&args, ctx)?),
        Command::Blame(args) => emit(name, ctx, &blame::run(&args, ctx)?),
        Command::Eval(args) => emit(name, ctx, &eval::run(&args, ctx)?),
        Command::Grep(args) => emit(name, ctx, &grep::run(&args, ctx)?),
        Command::Recall(args) => emit(name, ctx, &recall::run(&args, ctx)?),
        Command::Stats(args) => emit(name, ctx, &stats::run(&args, ctx)?),
        Command::Watch(args) => watch::run(&args, ctx),
        Command::Uninstall => emit(name, ctx, &uninstall::run()?),
        Command::Cat(args) => emit(name, ctx, &cat::run(&args, ctx)?),
        Command::Reindex => emit(name, ctx, &reindex::run(ctx)?),
        Command::Fsck(args) => emit(name, ctx, &fsck::run(&args, ctx)?),
        Command::Privacy(args) => emit(name, ctx, &privacy::run(&args, ctx)?),
        Command::Export(args) => emit(name, ctx, &export::run(&args, ctx)?),
        Command::Import(args) => emit(name, ctx, &import::run(&args, ctx)?),
        Command::Gc(args) => emit(name, ctx, &gc::run(&args, ctx)?),
        Command::Remote(args) => emit(name, ctx, &remote::run(&args, ctx)?),
        Command::Push(args) => emit(name, ctx, &push::run(&args, ctx)?),
        Command::Pull(args) => emit(name, ctx, &pull::run(&args, ctx)?),
        Command::Version => emit(name, ctx, &version::run()),
        Command::Observe(args) => observe::run(&args, ctx),
        Command::Demo(args) => emit(name, ctx, &demo::run(&args, ctx)?),
        Command::Doctor(args) => emit(name, ctx, &doctor::run(&args, ctx)?),
        Command::Bench(args) => emit(name, ctx, &bench::run(&args, ctx)?),
        Command::Completion(args) => completion::run(&args, ctx),
        Command::Help(args) => help::run(&args),
        Command::ClaudeHook(args)
        | Command::ClaudeToolBatchHook(args)
        | Command::CodexHook(args)
        | Command::GeminiHook(args)
        | Command::CopilotHook(args)
        | Command::PiHook(args) => Ok(hook::run(name, &args, ctx)),
    }
}

/// The index for object lookups by plumbing commands: an unreadable index is a warning
/// (lookups fall back to the objects on disk), any other failure an error.
pub(crate) fn index_for_lookup(
    store: &agit_core::Store,
    warnings: &mut Vec<output::Diagnostic>,
) -> Result<Option<agit_core::index::Index>, CliError> {
    match agit_core::index::Index::open(store) {
        Ok(index) => Ok(Some(index)),
        Err(e @ agit_core::Error::IndexUnreadable { .. }) => {
            warnings.push(output::diagnostic_for(&e));
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Render a report in the selected mode and return its exit status.
pub(crate) fn emit<R: Report>(name: &str, ctx: &Context, report: &R) -> Result<u8, CliError> {
    let written = if ctx.json {
        output::write_json(name, report)
    } else {
        for warning in report.warnings() {
            warning.print_human("warning");
        }
        let mut text = Vec::new();
        let shown = report
            .human(&mut text, &ctx.style)
            .and_then(|()| crate::render::page(&text, ctx.pager && report.pageable()));
        for error in report.errors() {
            error.print_human("error");
        }
        shown
    };
    match written {
        Ok(()) => Ok(report.exit_code()),
        // A closed pipe (`agit cat x | head`) is not an error of ours.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(report.exit_code()),
        Err(e) => Err(CliError::new(output::Diagnostic::new("output_failed", format!("cannot write output: {e}")))),
    }
}
