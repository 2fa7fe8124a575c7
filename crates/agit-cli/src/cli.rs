//! Command-line definition (clap derive). Every command carries examples in its help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// git for AI coding-agent execution history.
///
/// agit records what coding agents do — prompts, tool calls and a snapshot of the
/// workspace per step — into a local content-addressed store `.agit/`, so you can see
/// what happened between git commits.
#[derive(Debug, Parser)]
#[command(
    name = "agit",
    version,
    disable_help_subcommand = true,
    after_help = "Examples:\n  agit init                 start recording in this repository\n  agit cat 8e4c             print an object by hash prefix\n  agit reindex              rebuild the query index from objects and refs\n  agit help cat             show help for one command\n\nEvery command accepts --json for cli-json-v1 output on stdout."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print one cli-json-v1 envelope on stdout instead of human output.
    #[arg(long, global = true)]
    pub json: bool,
    /// Run as if agit was started in this directory.
    #[arg(short = 'C', value_name = "DIR", global = true)]
    pub directory: Option<PathBuf>,
    /// When to use colour (also honours NO_COLOR).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    /// Show times in UTC instead of local time.
    #[arg(long, global = true)]
    pub utc: bool,
    /// Never send long output through a pager (AGIT_PAGER, PAGER, or less).
    #[arg(long, global = true)]
    pub no_pager: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the .agit/ store here and install hooks for the agents on PATH.
    #[command(
        after_help = "Examples:\n  agit init                  create .agit/ and hook up every agent found on PATH\n  agit init --agent claude   only Claude Code\n  agit init --dry-run        show the plan, change nothing\n  agit init --no-hooks       only create the store\n\nThe store goes at the git work-tree root (or the current directory), and .agit/ is\nadded to .git/info/exclude. Hooks are added next to your own hooks in each agent's\nconfig (~/.claude/settings.json, ~/.codex/hooks.json, ~/.gemini/settings.json, and\ngenerated Copilot/Pi extensions); the original file is kept as <config>.agit.bak.\n`agit uninstall` removes exactly what init added."
    )]
    Init(InitArgs),
    /// Remove agit's hooks from every agent config (the store is left alone).
    #[command(
        after_help = "Examples:\n  agit uninstall\n  agit uninstall --json\n\nOnly agit's own entries are removed; your other hooks and settings stay as they are.\nGenerated Copilot/Pi extensions are deleted. .agit/ and backups are never touched."
    )]
    Uninstall,
    /// Show the investigation dashboard.
    #[command(
        after_help = "Examples:\n  agit status\n  agit status --json\n\nCounts, the latest capture, recent sessions, configured agents, the git branch,\nand anything pending (staged turns, index drift, hook errors)."
    )]
    Status(crate::commands::status::StatusArgs),
    /// Show recent recorded steps across sessions, newest first.
    #[command(
        after_help = "Examples:\n  agit timeline\n  agit timeline --origin claude --since 2026-11-01 --limit 50\n  agit timeline --session codex/0199a7c2 --json"
    )]
    Timeline(crate::commands::timeline::TimelineArgs),
    /// List recorded sessions.
    #[command(after_help = "Examples:\n  agit sessions\n  agit sessions --limit 10 --json")]
    Sessions(crate::commands::sessions::SessionsArgs),
    /// Show which recorded step last changed each line of a file.
    #[command(
        after_help = "Examples:\n  agit blame src/main.rs\n  agit blame ./lib.rs -L 10,40\n  agit blame src/main.rs --step 3fa9c01b --json\n\nBlame is recorded at every finalize across all sessions (human edits between\nsteps are attributed to the next step); this is a lookup, not a recomputation."
    )]
    Blame(crate::commands::blame::BlameArgs),
    /// Assess a session, commit, range or date window with fixed, explainable rules.
    #[command(
        after_help = "Examples:\n  agit eval                          the most recent session\n  agit eval --session codex/0199a7c2 --json\n  agit eval --commit HEAD            steps recorded on HEAD or its parent\n  agit eval --range v1.2.0..main --no-save\n  agit eval --since 2026-11-01 --origin claude --lookahead 2d\n  agit eval --list --json            recorded evaluations, newest first\n\nEach run is saved as an eval object (unless --no-save). Failure reports in later\nsteps within the lookahead (default 24h) downgrade a good result to mixed."
    )]
    Eval(crate::commands::eval::EvalArgs),
    /// Search recorded messages, tool arguments and tool results.
    #[command(
        after_help = "Examples:\n  agit grep \"connection refused\"          every word must appear, best matches first\n  agit grep migration --sort time --limit 5\n  agit grep 'panic(ked)?' --regex --origin claude\n  agit grep token --session codex/0199a7c2 --since 2026-11-01 --json\n\nWords are matched literally (no search operators); snippets wrap matches in [...]."
    )]
    Grep(crate::commands::grep::GrepArgs),
    /// Find earlier attempts at a problem or a file, failures first.
    #[command(
        after_help = "Examples:\n  agit recall \"flaky test\"\n  agit recall --path src/lib.rs --outcome failure\n  agit recall migration --path db/schema.sql --json\n  agit recall timeout --judged bad --limit 5\n\n--path matches every step that added, modified or deleted the file (binary and\nlarge files included). Failed steps come first, then unknown, then successful ones."
    )]
    Recall(crate::commands::recall::RecallArgs),
    /// Summarize recorded activity: counts, tools, models, outcomes, most-changed paths.
    #[command(
        after_help = "Examples:\n  agit stats\n  agit stats --session claude/4f1c2e --json\n  agit stats --origin codex --since 2026-11-01 --steps 2000\n\nMost-changed paths compare each of the newest --steps steps with its parent step."
    )]
    Stats(crate::commands::stats::StatsArgs),
    /// Show steps recorded while git HEAD was a commit in <from>..<to>.
    #[command(
        after_help = "Examples:\n  agit between v1.2.0            steps from the v1.2.0 commit up to HEAD\n  agit between main~5 main --json\n\nA step belongs to a commit when HEAD was that commit when it was recorded; the\n<from> commit's own steps are included. Git runs at the repository root."
    )]
    Between(crate::commands::between::BetweenArgs),
    /// Follow newly recorded steps.
    #[command(
        after_help = "Examples:\n  agit watch\n  agit watch --origin claude --interval 250\n  agit watch --json             one JSON line per step, then a summary on Ctrl-C\n  agit watch --once --json      the steps finalized since it started, then exit"
    )]
    Watch(crate::commands::watch::WatchArgs),
    /// Show a session's steps (default: the most recent session).
    #[command(
        after_help = "Examples:\n  agit log\n  agit log claude/4f1c2e\n  agit log 4f1c2e --limit 5 --json\n\nA bare session id must be unique across agents; otherwise pass origin/session-id."
    )]
    Log(crate::commands::log::LogArgs),
    /// Restore files from a recorded snapshot.
    #[command(
        after_help = "Examples:\n  agit restore 3fa9c01b -- src/lib.rs         one file, if it does not exist\n  agit restore 3fa9c01b -- src/               every file under src/\n  agit restore 3fa9c01b --all --dry-run       show what would be written\n  agit restore 3fa9c01b --all --to /tmp/old   the whole snapshot in another directory\n  agit restore 3fa9c01b --force -- README.md  overwrite (the old content is saved first)\n\nExisting files are skipped unless --force. With --force, the current content of every\nfile about to be overwritten is first recorded as a step of session agit/restore-safety,\nand the command to undo is printed. Symlinks are never followed: a symlink in a parent\ndirectory refuses the file, and --force replaces a symlinked file by a regular file,\nleaving the link's target untouched. Paths that are absolute, contain `..`, or point\ninto .agit/ or .git/ are refused; one bad entry does not stop the others."
    )]
    Restore(crate::commands::restore::RestoreArgs),
    /// Show one step: prompt, answer, tool calls, and optionally its files and changes.
    #[command(
        after_help = "Examples:\n  agit show 3fa9c01b               the step: messages, tool calls with their output\n  agit show 3fa9c01b --stat --patch what it changed, as a summary and a patch\n  agit show 3fa9c01b --files        the files of its snapshot\n  agit show 3fa9c01b --full-output --json\n\nLong messages, tool arguments and results are trimmed to 20 lines (2 KB) each\nunless --full-output is given."
    )]
    Show(crate::commands::show::ShowArgs),
    /// Show what changed between snapshots as a unified diff.
    #[command(
        after_help = "Examples:\n  agit diff 3fa9c01b                 the step against its parent step\n  agit diff 3fa9c01b 77e0d2aa        from the first step's snapshot to the second's\n  agit diff --session claude/4f1c2e  the whole session\n  agit diff 3fa9c01b --stat -- src   a summary, only under src/\n  agit diff 3fa9c01b -U1 --color never | git apply\n\nThe patch is in git's format, so `git apply` accepts it. Binary files and files\nover AGIT_MAX_FILE_BYTES are reported, not shown. Paths after `--` are files or\ndirectories, relative to the current directory; they also filter --json changes."
    )]
    Diff(crate::commands::diff::DiffArgs),
    /// Print a session's steps as JSON (steps-v1), for tools.
    #[command(
        after_help = "Examples:\n  agit steps --json\n  agit steps claude/4f1c2e --json --include-step-objects\n  agit steps 4f1c2e --json --include-step-objects --no-diffs\n\nJSON only: without --json it fails with `format_required`."
    )]
    Steps(crate::commands::steps::StepsArgs),
    /// Print the raw bytes of an object.
    #[command(
        after_help = "Examples:\n  agit cat 8e4c7c1b            raw bytes of the object with this hash prefix\n  agit cat 8e4c7c1b --json     kind, size and (UTF-8) text as JSON\n\nA prefix that matches several objects lists the candidates."
    )]
    Cat(CatArgs),
    /// Rebuild the query index (index.db) from objects and refs.
    #[command(
        after_help = "Examples:\n  agit reindex\n  agit reindex --json\n\nThe index is a cache: it is rebuilt into a new file and swapped in atomically.\nSteps are indexed only when reachable from a session ref."
    )]
    Reindex,
    /// Check the store's integrity (read-only): objects, packs, links, refs, index, locks.
    #[command(
        after_help = "Examples:\n  agit fsck                  scan; exit 1 on corruption, 0 with warnings only\n  agit fsck --json\n  agit fsck --reindex        rebuild index.db when the scan found no corruption\n\nNothing is created or modified (except index.db with --reindex). Kinds come from\nhow objects are reached: a file in a snapshot is a blob even if it looks like a step."
    )]
    Fsck(crate::commands::fsck::FsckArgs),
    /// Scan recorded history for secrets (`agit privacy scan`).
    #[command(
        subcommand_required = true,
        disable_help_subcommand = true,
        after_help = "Examples:\n  agit privacy scan\n  agit privacy scan --json"
    )]
    Privacy(crate::commands::privacy::PrivacyArgs),
    /// Write recorded sessions to a portable bundle directory or archive.
    #[command(
        after_help = "Examples:\n  agit export dist/bundle\n  agit export --session claude/session-123 dist/bundle\n  agit export --since 2026-05-01 --until 2026-05-31 dist/bundle\n  agit export --archive dist/history.tar.zst\n\nThe store is checked with fsck and the selected sessions are scanned for secrets\nfirst; findings block the export (nothing is written) unless --allow-sensitive is\ngiven, which adds privacy-report.json (rule names and places, no secret values).\nA selected session is exported whole. PATH must be an empty or new directory, or\nwith --archive a new file (one tar stream compressed with zstd)."
    )]
    Export(crate::commands::export::ExportArgs),
    /// Import a portable bundle after validating hashes and ref conflicts.
    #[command(
        after_help = "Examples:\n  agit import dist/bundle\n  agit import --replace-ref claude/session-123 dist/bundle\n  agit import dist/history.tar.zst\n\nEverything is validated before anything is written: the manifest, every object's\nsize, hash and kind, what each head reaches, and what happens to each ref. A local\nref that the bundle extends is fast-forwarded; a diverged one is kept and the\nbundle's history is imported as <session>@import-<bundle id> unless --replace-ref\nnames it. Importing the same bundle twice changes nothing."
    )]
    Import(crate::commands::import::ImportArgs),
    /// Repack reachable objects into one pack; prune old unreachable ones.
    #[command(
        after_help = "Examples:\n  agit gc                          pack, prune unreachable objects older than 2 hours\n  agit gc --dry-run                show what would be pruned, packed and removed\n  agit gc --grace 0                prune every unreachable object now\n  agit gc --prune-before 2026-01-01 --json\n\nKept: every session's steps, trees and files, blame and evaluation objects. An\nunreachable object goes only once it is older than --grace (loose: file time; packed:\npack time). Everything kept ends up in one pack (zstd, deltas against earlier\nversions); superseded packs and loose copies are deleted only after the new pack is on\ndisk, so an interrupted gc loses nothing. --prune-before drops whole sessions whose\nlatest step is older than the day. Agents keep recording while the pack is written;\nthey wait only while old files are deleted and the index is rebuilt."
    )]
    Gc(crate::commands::gc::GcArgs),
    /// Manage remotes: S3-compatible buckets or directories to push history to.
    #[command(
        after_help = "Examples:\n  agit remote add origin s3://team-bucket/agit --endpoint https://s3.eu-west-1.amazonaws.com\n  agit remote add backup file:///mnt/backup/agit\n  agit remote list\n  agit remote remove backup"
    )]
    Remote(crate::commands::remote::RemoteArgs),
    /// Upload store history to a configured remote.
    #[command(
        after_help = "Examples:\n  agit push                        push to the only configured remote\n  agit push --remote backup        push to a named remote\n  agit push --dry-run              show what would be uploaded\n  agit push --json                 machine-readable push stats\n\nBefore uploading, push runs `agit fsck` (errors block) and a privacy scan of every\nsession: findings block a plaintext push unless the remote has encryption_secret_env\nset or --allow-sensitive is given. Objects go first, then each session ref moves by\ncompare-and-swap, fast-forward only; every diverged ref is reported (remote_conflict,\nexit 1). A repeat push with nothing new sends no object requests.\n\nEnvironment: AGIT_REMOTE_TIMEOUT_MS (per request, default 30000), AGIT_REMOTE_RETRIES\n(default 4)."
    )]
    Push(crate::commands::push::PushArgs),
    /// Download store history from a configured remote.
    #[command(
        after_help = "Examples:\n  agit pull                        pull from the only configured remote\n  agit pull --remote backup        pull from a named remote\n  agit pull --json                 machine-readable pull stats\n\nEvery object is verified against its hash before it is written; local refs move\nonly forward; a diverged session is reported (remote_conflict, exit 1) and the\nothers still update. The index is always reconciled afterwards."
    )]
    Pull(crate::commands::pull::PullArgs),
    /// Record a transcript from an observer source (today: `jsonl`).
    #[command(
        after_help = "Examples:\n  agit observe --once --input session.jsonl jsonl\n  agit observe --input session.jsonl jsonl      keep following the file (Ctrl-C to stop)\n\nOne JSON object per line:\n  {\"session_id\":\"s1\",\"cwd\":\"/repo\",\"role\":\"user\",\"content\":\"fix the bug\"}\n  {\"session_id\":\"s1\",\"cwd\":\"/repo\",\"role\":\"tool\",\"tool_name\":\"Bash\",\"args\":\"cargo test\",\"result\":\"ok\"}\n  {\"session_id\":\"s1\",\"cwd\":\"/repo\",\"role\":\"assistant\",\"content\":\"fixed\"}\nA checkpoint in .agit/observers/ makes reruns record only new lines, exactly once."
    )]
    Observe(ObserveArgs),
    /// Record a sample agent session in a new repository and show it.
    #[command(
        after_help = "Examples:\n  agit demo                     create a demo repository in the temp directory\n  agit demo --dir /tmp/try-agit\n\nThe session goes through the same hook commands Claude Code runs, so what you\nsee is exactly what recording your own agent produces."
    )]
    Demo(DemoArgs),
    /// Measure agit against git and other peers on generated data (prints ratios).
    #[command(
        after_help = "Examples:\n  agit bench --quick            a small run (about a minute)\n  agit bench capture --json\n\nEach line: our median, the peer's median, the ratio, and whether it is inside the\nbudget. Build with --release for meaningful numbers. Timings are evidence, never a\npass/fail test."
    )]
    Bench(crate::commands::bench::BenchArgs),
    /// Check store health, staging, locks and agent hooks; --repair fixes what is safe.
    #[command(
        after_help = "Examples:\n  agit doctor\n  agit doctor --locks --stats --last-hook-error\n  agit doctor --repair     replay refs into the index, commit stranded turns\n  agit doctor --self-test  run each agent's hook commands on a test turn\n\nProblems are reported, never silently repaired. Exit 1 when a check fails.\n--self-test runs the prompt and stop hooks exactly as each agent's config has them\n(Copilot and Pi: the binary their extension spawns) with a synthetic payload whose\nworkspace is a scratch store, so real history is untouched."
    )]
    Doctor(crate::commands::doctor::DoctorArgs),
    /// Print the agit version.
    #[command(after_help = "Examples:\n  agit version\n  agit version --json")]
    Version,
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  agit completion bash > ~/.local/share/bash-completion/completions/agit\n  agit completion zsh > \"${fpath[1]}/_agit\"\n  agit completion fish > ~/.config/fish/completions/agit.fish"
    )]
    Completion(CompletionArgs),
    /// Claude Code hook: `claude-hook user|assistant|session-start` (reads the payload on stdin).
    #[command(name = "claude-hook", hide = true)]
    ClaudeHook(HookArgs),
    /// Claude Code tool hook (PostToolBatch or per-tool PostToolUse payloads).
    #[command(name = "claude-tool-batch-hook", hide = true)]
    ClaudeToolBatchHook(HookArgs),
    /// Codex CLI hook.
    #[command(name = "codex-hook", hide = true)]
    CodexHook(HookArgs),
    /// Gemini CLI hook.
    #[command(name = "gemini-hook", hide = true)]
    GeminiHook(HookArgs),
    /// Copilot CLI hook (called by the generated extension).
    #[command(name = "copilot-hook", hide = true)]
    CopilotHook(HookArgs),
    /// Pi hook (called by the generated extension).
    #[command(name = "pi-hook", hide = true)]
    PiHook(HookArgs),
    /// Show help for agit or one of its commands.
    #[command(after_help = "Examples:\n  agit help\n  agit help cat")]
    Help(HelpArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Install hooks only for this agent (repeatable): claude, codex, gemini, copilot, pi.
    #[arg(long = "agent", value_name = "NAME")]
    pub agents: Vec<String>,
    /// Show what would be done; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Replace agent configs that are not valid JSON objects (the old bytes are backed up).
    #[arg(long)]
    pub force: bool,
    /// Create the store only; leave agent configs alone.
    #[arg(long, conflicts_with_all = ["agents", "force"])]
    pub no_hooks: bool,
}

/// Hook commands take the payload on stdin; arguments after the subcommand are ignored
/// (except `claude-hook`'s first one), as agents may append their own.
#[derive(Debug, Args)]
pub struct HookArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to create the demo repository (must be new or empty).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ObserveArgs {
    /// The observer source.
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// The transcript file to read.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Do one pass and exit (otherwise keep following the input for new lines).
    #[arg(long)]
    pub once: bool,
    /// How often to look for new lines when following, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub interval: u64,
}

#[derive(Debug, Args)]
pub struct CatArgs {
    /// Object hash or unique prefix (1–64 hex characters).
    pub hash: String,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Nushell,
    Powershell,
    Elvish,
}

#[derive(Debug, Args)]
pub struct HelpArgs {
    /// The command to explain.
    pub command: Option<String>,
}

impl Command {
    /// The command's usage name, as in the JSON envelope.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Init(_) => "init",
            Command::Uninstall => "uninstall",
            Command::Status(_) => "status",
            Command::Timeline(_) => "timeline",
            Command::Sessions(_) => "sessions",
            Command::Log(_) => "log",
            Command::Restore(_) => "restore",
            Command::Show(_) => "show",
            Command::Diff(_) => "diff",
            Command::Steps(_) => "steps",
            Command::Between(_) => "between",
            Command::Blame(_) => "blame",
            Command::Eval(_) => "eval",
            Command::Grep(_) => "grep",
            Command::Recall(_) => "recall",
            Command::Stats(_) => "stats",
            Command::Watch(_) => "watch",
            Command::Cat(_) => "cat",
            Command::Reindex => "reindex",
            Command::Fsck(_) => "fsck",
            Command::Privacy(_) => "privacy",
            Command::Export(_) => "export",
            Command::Import(_) => "import",
            Command::Gc(_) => "gc",
            Command::Remote(_) => "remote",
            Command::Push(_) => "push",
            Command::Pull(_) => "pull",
            Command::Version => "version",
            Command::Observe(_) => "observe",
            Command::Demo(_) => "demo",
            Command::Doctor(_) => "doctor",
            Command::Bench(_) => "bench",
            Command::Completion(_) => "completion",
            Command::Help(_) => "help",
            Command::ClaudeHook(_) => "claude-hook",
            Command::ClaudeToolBatchHook(_) => "claude-tool-batch-hook",
            Command::CodexHook(_) => "codex-hook",
            Command::GeminiHook(_) => "gemini-hook",
            Command::CopilotHook(_) => "copilot-hook",
            Command::PiHook(_) => "pi-hook",
        }
    }
}
