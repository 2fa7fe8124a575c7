//! `agit grep <query>`: search recorded messages, tool arguments and tool results.

use std::io::{self, Write};

use serde::Serialize;

use agit_core::Store;
use agit_core::index::{Index, MAX_SNIPPET_TOKENS, SearchFilter, SearchHit, SearchOrder, compile_pattern, fts_query};
use agit_core::privacy::Detector;

use super::filters::{FilterArgs, RedactionArgs, shown};
use super::step_line::short;
use crate::Context;
use crate::output::{CliError, Report};
use crate::render::Style;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortArg {
    /// Most relevant first (bm25).
    Rank,
    /// Newest first.
    Time,
}

#[derive(Debug, clap::Args)]
pub struct GrepArgs {
    /// Words to find (every word must appear; no search operators), or a regex with --regex.
    pub query: String,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// How many matches to show.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    /// Snippet length in tokens (words).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=MAX_SNIPPET_TOKENS as i64))]
    pub context: u32,
    /// Result order (regex matches are always newest first).
    #[arg(long, value_enum, default_value_t = SortArg::Rank)]
    pub sort: SortArg,
    /// Treat the query as a regular expression (Rust `regex` syntax).
    #[arg(long, conflicts_with = "content")]
    pub regex: bool,
    /// Search the captured contents of workspace files instead of prompts and tool activity.
    #[arg(long)]
    pub content: bool,
    #[command(flatten)]
    pub redaction: RedactionArgs,
}

#[derive(Serialize)]
pub struct GrepReport {
    query: String,
    origin: Option<String>,
    session: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: u32,
    context: u32,
    redacted: bool,
    /// Whether captured file contents were searched (`entry_kind` `content`, label = path).
    content: bool,
    /// `rank` or `time` (the order actually used).
    sort: &'static str,
    regex: bool,
    /// Snippets are already redacted when `redacted` is true.
    matches: Vec<SearchHit>,
}

pub fn run(args: &GrepArgs, ctx: &Context) -> Result<GrepReport, CliError> {
    let query = args.query.trim();
    if query.is_empty() {
        return Err(CliError::usage("invalid_argument", "Query must not be empty."));
    }
    let filter = SearchFilter { step: args.filter.to_filter()?, ..SearchFilter::default() };
    let pattern = args
        .regex
        .then(|| {
            compile_pattern(query)
                .map_err(|e| CliError::usage("invalid_argument", format!("Invalid --regex pattern: {e}")))
        })
        .transpose()?;
    let store = Store::discover(&ctx.cwd)?;
    let mut index = Index::open(&store)?;
    if args.content {
        index.catch_up_content(&store)?;
    }
    let detector = args.redaction.detector(&store)?;
    let (limit, context) = (args.limit as usize, args.context as usize);
    let (mut matches, sort) = match &pattern {
        Some(re) => (index.search_regex(re, &filter, limit, context)?, "time"),
        None if args.content => {
            let fts = fts_query(query).unwrap_or_default();
            let mut hits = index.search_content(&fts, &filter, limit, context)?;
            if args.sort == SortArg::Time {
                hits.sort_by(|a, b| (b.timestamp, &b.step_hash).cmp(&(a.timestamp, &a.step_hash)));
                (hits, "time")
            } else {
                (hits, "rank")
            }
        }
        None => match args.sort {
            SortArg::Rank => (index.search(query, &filter, SearchOrder::Rank, limit, context)?, "rank"),
            SortArg::Time => (index.search(query, &filter, SearchOrder::Time, limit, context)?, "time"),
        },
    };
    if let Some(d) = &detector {
        for hit in &mut matches {
            hit.snippet = redact_snippet(&hit.snippet, d);
        }
    }
    Ok(GrepReport {
        query: query.to_owned(),
        origin: args.filter.origin.clone(),
        session: args.filter.session.clone(),
        since: args.filter.since.clone(),
        until: args.filter.until.clone(),
        limit: args.limit,
        context: args.context,
        redacted: detector.is_some(),
        content: args.content,
        sort,
        regex: args.regex,
        matches,
    })
}

/// Redact a snippet whose matches are wrapped in `[`…`]`. The markers can split a
/// secret (`token=[sekrit]`), so detection runs on the text without them; when it
/// finds something the redacted plain text is shown (without highlights).
pub(crate) fn redact_snippet(snippet: &str, detector: &Detector) -> String {
    let plain: String = snippet.chars().filter(|c| !matches!(c, '[' | ']')).collect();
    let redacted = detector.redact_str(&plain);
    if redacted != plain { redacted } else { shown(snippet, Some(detector)) }
}

/// `message user`, `tool args Bash`, …
pub(crate) fn source(kind: &str, label: &str) -> String {
    match kind {
        "message" if matches!(label, "user" | "assistant") => format!("message {label}"),
        "message" => "message".to_owned(),
        "tool_args" => format!("tool args {label}"),
        "tool_result" => format!("tool result {label}"),
        other => format!("{other} {label}"),
    }
}

impl Report for GrepReport {
    fn human(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        if self.matches.is_empty() {
            return writeln!(out, "No matches for \"{}\".", self.query);
        }
        for (i, hit) in self.matches.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            writeln!(
                out,
                "{}  {}  turn {}  {}  step {}",
                style.time(hit.timestamp),
                style.bold(&format!("{}/{}", hit.origin, hit.session_id)),
                hit.turn_id,
                style.meta(&source(&hit.entry_kind, &hit.label)),
                style.hash(short(&hit.step_hash, 12)),
            )?;
            writeln!(out, "  {}", hit.snippet)?;
        }
        Ok(())
    }
}
