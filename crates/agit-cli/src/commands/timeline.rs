//! `agit timeline`: recent steps across sessions, newest first.

use std::io::{self, Write};

use serde::Serialize;

use agit_core::Store;
use agit_core::index::{Index, StepRow};

use super::filters::{FilterArgs, RedactionArgs, shown};
use super::step_line::write_step;
use crate::Context;
use crate::output::{CliError, Report};
use crate::render::Style;

#[derive(Debug, clap::Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// How many steps to show.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    #[command(flatten)]
    pub redaction: RedactionArgs,
}

#[derive(Serialize)]
pub struct TimelineReport {
    redacted: bool,
    /// Previews are already redacted when `redacted` is true.
    steps: Vec<StepRow>,
}

pub fn run(args: &TimelineArgs, ctx: &Context) -> Result<TimelineReport, CliError> {
    let filter = args.filter.to_filter()?;
    let store = Store::discover(&ctx.cwd)?;
    let index = Index::open(&store)?;
    let detector = args.redaction.detector(&store)?;
    let mut steps = index.timeline(&filter, args.limit as usize)?;
    if let Some(d) = &detector {
        for row in &mut steps {
            row.preview = row.preview.as_deref().map(|p| shown(p, Some(d)));
        }
    }
    Ok(TimelineReport { redacted: detector.is_some(), steps })
}

impl Report for TimelineReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if self.steps.is_empty() {
            return writeln!(out, "No recorded steps match the requested filters.");
        }
        for (i, row) in self.steps.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            write_step(out, style, row)?;
        }
        Ok(())
    }
}
