//! `agit`: git for AI coding-agent execution history.

mod cli;
mod commands;
mod output;
mod render;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use cli::Cli;
use output::{CliError, Diagnostic, EXIT_USAGE};

/// What every command gets besides its own arguments.
pub struct Context {
    pub json: bool,
    /// Colour and time zone for human output.
    pub style: render::Style,
    /// Whether long human output may go through a pager.
    pub pager: bool,
    /// The directory agit runs in (after `-C`).
    pub cwd: PathBuf,
}

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    let json_requested = args.iter().any(|a| a == "--json");
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => return usage_error(e, json_requested),
    };
    let cwd = match resolve_cwd(cli.global.directory.as_ref()) {
        Ok(cwd) => cwd,
        Err(e) => return fail("unknown", &CliError::usage("invalid_argument", e), cli.global.json),
    };
    let style = render::Style::new(cli.global.color, cli.global.utc);
    let ctx = Context { json: cli.global.json, style, pager: !cli.global.no_pager, cwd };
    let name = cli.command.name();
    match commands::run(cli.command, &ctx) {
        Ok(code) => ExitCode::from(code),
        Err(e) => fail(name, &e, ctx.json),
    }
}

fn resolve_cwd(dir: Option<&PathBuf>) -> Result<PathBuf, String> {
    let here = std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    match dir {
        None => Ok(here),
        Some(d) => {
            let d = here.join(d);
            if d.is_dir() { Ok(d) } else { Err(format!("-C {}: not a directory", d.display())) }
        }
    }
}

fn usage_error(e: clap::Error, json: bool) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    if json {
        let message = e.kind().as_str().unwrap_or("invalid arguments").to_owned();
        let detail = e.to_string();
        let first_line = detail.lines().next().unwrap_or("").trim_start_matches("error: ").to_owned();
        let diagnostic = Diagnostic::new("invalid_argument", if first_line.is_empty() { message } else { first_line })
            .hint("Run `agit help` for usage.");
        let _ = output::write_json("agit", &output::DiagnosticData { diagnostic: &diagnostic });
    } else {
        let _ = e.print();
    }
    ExitCode::from(EXIT_USAGE)
}

fn fail(command: &str, error: &CliError, json: bool) -> ExitCode {
    if json {
        let _ = output::write_json(command, &output::DiagnosticData { diagnostic: &error.diagnostic });
    } else {
        error.diagnostic.print_human("error");
    }
    let _ = io::stdout().flush();
    ExitCode::from(error.exit)
}
