//! `agit observe <source> --input FILE`: record a transcript through an observer.

use std::io::{self, Write};

use serde::Serialize;

use agit_capture::observer::{ObserveError, ObserveReport, observe};
use agit_core::Store;

use crate::Context;
use crate::cli::ObserveArgs;
use crate::output::{CliError, Diagnostic, EXIT_FAILURE, Report};
use crate::render::Style;

#[derive(Serialize)]
#[serde(transparent)]
struct ObserveOutput(ObserveReport);

pub fn run(args: &ObserveArgs, ctx: &Context) -> Result<u8, CliError> {
    let store = Store::discover(&ctx.cwd)?;
    let input = ctx.cwd.join(&args.input);
    loop {
        let report = observe(&store, &args.source, &input).map_err(observe_error)?;
        let code = super::emit("observe", ctx, &ObserveOutput(report))?;
        if args.once || code != 0 {
            return Ok(code);
        }
        std::thread::sleep(std::time::Duration::from_millis(args.interval.max(50)));
    }
}

fn observe_error(e: ObserveError) -> CliError {
    let hint = match &e {
        ObserveError::UnknownSource(_) => Some("The available source is `jsonl`."),
        ObserveError::InvalidCheckpoint { .. } => Some("Delete the checkpoint file to read the input from the start."),
        ObserveError::InputTooLarge { .. } => Some("Split the transcript into smaller files."),
        ObserveError::Store(_) => None,
    };
    match e {
        ObserveError::Store(inner) => inner.into(),
        other => {
            let mut d = Diagnostic::new(other.code(), other.to_string());
            if let Some(hint) = hint {
                d = d.hint(hint);
            }
            CliError::new(d)
        }
    }
}

impl Report for ObserveOutput {
    fn human(&self, out: &mut dyn Write, _: &Style) -> io::Result<()> {
        let r = &self.0;
        writeln!(out, "observe: processed {} event(s) from {}", r.processed_events, r.source)?;
        writeln!(
            out,
            "  prompts={} tool_calls={} finalized_turns={} skipped_disabled={} already_recorded={}",
            r.prompts, r.tool_calls, r.finalized_turns, r.skipped_disabled_events, r.already_recorded
        )?;
        writeln!(out, "  checkpoint={} (line {})", r.checkpoint, r.watermark)
    }

    fn pageable(&self) -> bool {
        false
    }

    fn exit_code(&self) -> u8 {
        if self.0.invalid_lines.is_empty() { 0 } else { EXIT_FAILURE }
    }

    fn warnings(&self) -> Vec<Diagnostic> {
        self.0
            .invalid_lines
            .iter()
            .map(|l| {
                Diagnostic::new("invalid_observer_event", format!("line {}: {}", l.line, l.reason))
                    .hint("The line was skipped; fix it and append it again to record it.")
            })
            .collect()
    }
}
