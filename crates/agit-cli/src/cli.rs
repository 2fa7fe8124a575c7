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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the .agit/ store in this repository.
    #[command(
        after_help = "Examples:\n  agit init          create .agit/ at the git work-tree root (or here)\n  agit init --json  report what was created as JSON\n\nInside a git work tree, .agit/ is added to .git/info/exclude so git ignores it."
    )]
    Init(InitArgs),
    /// Show recorded sessions and steps counts.
    #[command(after_help = "Examples:\n  agit status\n  agit status --json")]
    Status,
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
    /// Print the agit version.
    #[command(after_help = "Examples:\n  agit version\n  agit version --json")]
    Version,
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  agit completion bash > ~/.local/share/bash-completion/completions/agit\n  agit completion zsh > \"${fpath[1]}/_agit\"\n  agit completion fish > ~/.config/fish/completions/agit.fish"
    )]
    Completion(CompletionArgs),
    /// Show help for agit or one of its commands.
    #[command(after_help = "Examples:\n  agit help\n  agit help cat")]
    Help(HelpArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {}

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
            Command::Status => "status",
            Command::Cat(_) => "cat",
            Command::Reindex => "reindex",
            Command::Version => "version",
            Command::Completion(_) => "completion",
            Command::Help(_) => "help",
        }
    }
}
