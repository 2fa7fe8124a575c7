//! Arguments shared by the views: step filters, limits and display redaction.

use clap::Args;

use agit_core::Store;
use agit_core::config::Config;
use agit_core::index::StepFilter;
use agit_core::privacy::Detector;

use crate::output::CliError;
use crate::render::parse_date_ms;

/// `--origin`, `--session`, `--since`, `--until`.
#[derive(Debug, Clone, Args)]
pub struct FilterArgs {
    /// Only this agent (claude, codex, gemini, copilot, pi, jsonl).
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,
    /// Only this session: `origin/session-id`, or a bare session id.
    #[arg(long, value_name = "SESSION")]
    pub session: Option<String>,
    /// Only steps on or after this day (UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub since: Option<String>,
    /// Only steps on or before this day (UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub until: Option<String>,
}

impl FilterArgs {
    /// Validate into a query filter (usage errors exit 2).
    pub fn to_filter(&self) -> Result<StepFilter, CliError> {
        let date = |flag: &str, value: &Option<String>| -> Result<Option<i64>, CliError> {
            value
                .as_deref()
                .map(|v| {
                    parse_date_ms(v).ok_or_else(|| {
                        CliError::usage("invalid_argument", format!("Invalid {flag} date `{v}`; use YYYY-MM-DD."))
                    })
                })
                .transpose()
        };
        let since_ms = date("--since", &self.since)?;
        // --until is inclusive of the whole day: exclusive at the next midnight.
        let until_ms = date("--until", &self.until)?.map(|ms| ms + 86_400_000);
        if let (Some(s), Some(u)) = (since_ms, until_ms)
            && s >= u
        {
            return Err(CliError::usage("invalid_argument", "--since must be on or before --until."));
        }
        let (mut origin, mut session_id) = (self.origin.clone(), None);
        if let Some(session) = &self.session {
            match session.split_once('/') {
                Some((o, id)) => {
                    if origin.as_deref().is_some_and(|given| given != o) {
                        return Err(CliError::usage(
                            "invalid_argument",
                            format!(
                                "--origin {} does not match the session's origin `{o}`.",
                                self.origin.as_deref().unwrap_or("")
                            ),
                        ));
                    }
                    origin = Some(o.to_owned());
                    session_id = Some(id.to_owned());
                }
                None => session_id = Some(session.clone()),
            }
        }
        Ok(StepFilter { origin, session_id, since_ms, until_ms, after_rowid: None })
    }
}

/// `--redacted` / `--full` (the last one given wins).
#[derive(Debug, Clone, Args)]
pub struct RedactionArgs {
    /// Hide secrets in displayed text (default: privacy.display.redacted_by_default).
    #[arg(long, overrides_with = "full")]
    pub redacted: bool,
    /// Show text as recorded, without display redaction.
    #[arg(long, overrides_with = "redacted")]
    pub full: bool,
}

impl RedactionArgs {
    /// The detector to redact with, or `None` when showing text in full. An unreadable
    /// config redacts (fail closed).
    pub fn detector(&self, store: &Store) -> Result<Option<Detector>, CliError> {
        let config = Config::load(&store.config_path());
        let on = if self.redacted {
            true
        } else if self.full {
            false
        } else {
            config.as_ref().map_or(true, |c| c.privacy.display.redacted_by_default)
        };
        if !on {
            return Ok(None);
        }
        let literals = config.map(|c| c.privacy.custom_literals).unwrap_or_default();
        Ok(Some(Detector::new(&literals)))
    }
}

/// Redact `text` when a detector is given.
pub fn shown(text: &str, detector: Option<&Detector>) -> String {
    match detector {
        Some(d) => d.redact_str(text),
        None => text.to_owned(),
    }
}
