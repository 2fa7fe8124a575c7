//! The hook commands agents call (`agit codex-hook`, …). Always exit 0: recording must
//! never block or fail the agent; problems go to stderr and `.agit/log/hook-error.log`.

use agit_capture::adapters::max_payload_bytes;
use agit_capture::runner::{HookRun, run_hook};

use crate::Context;
use crate::cli::HookArgs;

pub fn run(command: &str, args: &HookArgs, ctx: &Context) -> u8 {
    let max_bytes = max_payload_bytes(std::env::var("AGIT_HOOK_MAX_BYTES").ok().as_deref());
    let run = HookRun { command, arg: args.args.first().map(String::as_str), process_cwd: &ctx.cwd, max_bytes };
    run_hook(run, &mut std::io::stdin().lock(), &mut std::io::stderr().lock());
    0
}
