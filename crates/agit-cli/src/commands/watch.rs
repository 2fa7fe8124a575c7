//! `agit watch`: follow newly finalized steps.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;

use agit_core::Store;
use agit_core::index::{Index, StepFilter, StepRow};

use super::filters::{FilterArgs, RedactionArgs, shown};
use super::step_line::write_step;
use crate::Context;
use crate::output::{self, CliError};

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// How often to look for new steps, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(10..))]
    pub interval: u64,
    /// Print what has been finalized since the start once, then exit.
    #[arg(long)]
    pub once: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub redaction: RedactionArgs,
}

#[derive(Serialize)]
struct StepEvent<'a> {
    event: &'static str,
    step: &'a StepRow,
}

#[derive(Serialize)]
struct SummaryEvent {
    event: &'static str,
    steps: u64,
}

/// Set by SIGINT/SIGTERM so watch can print its summary and exit 0.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

pub fn run(args: &WatchArgs, ctx: &Context) -> Result<u8, CliError> {
    let mut filter: StepFilter = args.filter.to_filter()?;
    let store = Store::discover(&ctx.cwd)?;
    let detector = args.redaction.detector(&store)?;
    // Start after what exists now: watch shows only steps finalized from here on.
    filter.after_rowid = Some(Index::open(&store)?.max_step_rowid()?);
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
    let mut seen = 0u64;
    if !ctx.json {
        eprintln!("Watching for new steps in {} (Ctrl-C to stop)…", store.root().display());
    }
    loop {
        std::thread::sleep(Duration::from_millis(args.interval));
        // A fresh connection each poll: holds index.lock only briefly, so reindex can swap.
        let index = Index::open(&store)?;
        for mut row in index.steps_after(&filter)? {
            filter.after_rowid = Some(row.rowid);
            row.preview = row.preview.as_deref().map(|p| shown(p, detector.as_ref()));
            seen += 1;
            let written = if ctx.json {
                output::write_json("watch", &StepEvent { event: "step", step: &row })
            } else {
                let mut out = io::stdout().lock();
                write_step(&mut out, &ctx.style, &row).and_then(|()| writeln!(out)).and_then(|()| out.flush())
            };
            if written.is_err() {
                return Ok(0); // stdout closed (e.g. `| head`): stop quietly
            }
        }
        drop(index);
        if args.once || STOP.load(Ordering::SeqCst) {
            break;
        }
    }
    if ctx.json {
        let _ = output::write_json("watch", &SummaryEvent { event: "summary", steps: seen });
    } else {
        println!("watched {seen} new step(s)");
    }
    Ok(0)
}
