//! Which sessions an export takes (reference `remote.md` §6.3).
//!
//! Candidates are the session refs on disk (lock and temp files are not refs, so they
//! no longer abort an export). Filters are ANDed: `--origin` and `--session` match
//! exactly; `--since`/`--until` select a session when *any* step of its chain lies in
//! `[since 00:00 UTC, the day after until 00:00 UTC)`. A selected session is always
//! exported whole.

use agit_core::{ObjectId, SessionRef, Store};

use super::error::BundleError;
use super::manifest::Filters;

/// The filters as typed (they go into the manifest verbatim).
pub type RawFilters = Filters;

/// Parsed filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// The raw strings, for the manifest.
    pub raw: RawFilters,
    /// Exact origin.
    pub origin: Option<String>,
    /// Exact origin and session id.
    pub session: Option<SessionRef>,
    /// Inclusive lower bound, epoch ms (UTC midnight).
    pub since_ms: Option<i64>,
    /// Exclusive upper bound, epoch ms (UTC midnight of the day after `until`).
    pub until_ms: Option<i64>,
}

impl Selection {
    /// Validate raw filters, with the reference's messages.
    pub fn parse(raw: RawFilters) -> Result<Selection, BundleError> {
        let session = raw.session.as_deref().map(|s| parse_session_arg(s, "--session")).transpose()?;
        let since_ms = raw.since.as_deref().map(|d| parse_date(d, "--since")).transpose()?;
        let until_ms = raw.until.as_deref().map(|d| parse_date(d, "--until").map(|ms| ms + MS_PER_DAY)).transpose()?;
        if let (Some(since), Some(until)) = (since_ms, until_ms)
            && since >= until
        {
            return Err(BundleError::InvalidArgument {
                message: "--since must be earlier than --until (the --until date is exclusive).".into(),
            });
        }
        Ok(Selection { origin: raw.origin.clone(), session, since_ms, until_ms, raw })
    }

    fn has_dates(&self) -> bool {
        self.since_ms.is_some() || self.until_ms.is_some()
    }

    fn in_window(&self, timestamp: i64) -> bool {
        self.since_ms.is_none_or(|s| timestamp >= s) && self.until_ms.is_none_or(|u| timestamp < u)
    }
}

const MS_PER_DAY: i64 = 86_400_000;

/// Split `origin/session-id` at the first `/`; both sides must be non-empty.
/// `flag` names the option in the message ("Invalid --session value; use
/// origin/session-id.").
pub fn parse_session_arg(value: &str, flag: &str) -> Result<SessionRef, BundleError> {
    match value.split_once('/') {
        Some((origin, session)) if !origin.is_empty() && !session.is_empty() => Ok(SessionRef::new(origin, session)),
        _ => Err(BundleError::InvalidArgument { message: format!("Invalid {flag} value; use origin/session-id.") }),
    }
}

/// `YYYY-MM-DD` (exactly 10 characters, a real calendar day) → UTC midnight in epoch ms.
pub fn parse_date(value: &str, flag: &str) -> Result<i64, BundleError> {
    let invalid = || BundleError::InvalidArgument { message: format!("Invalid {flag} date; use YYYY-MM-DD.") };
    let b = value.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(invalid());
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = &b[range];
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return Err(invalid());
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(invalid());
    }
    Ok(days_from_civil(year, month, day) * MS_PER_DAY)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The session heads matching `selection`, sorted by ref path. Refs that do not decode
/// are skipped (fsck reports them); a step that cannot be read while checking dates is
/// an error.
pub fn select_sessions(store: &Store, selection: &Selection) -> Result<Vec<(SessionRef, ObjectId)>, BundleError> {
    let mut out = Vec::new();
    for (session, head) in agit_core::reach::session_heads(store)? {
        if selection.origin.as_ref().is_some_and(|o| *o != session.origin) {
            continue;
        }
        if selection.session.as_ref().is_some_and(|s| *s != session) {
            continue;
        }
        if selection.has_dates() && !chain_has_step_in_window(store, head, selection)? {
            continue;
        }
        out.push((session, head));
    }
    Ok(out)
}

fn chain_has_step_in_window(store: &Store, head: ObjectId, selection: &Selection) -> Result<bool, BundleError> {
    let mut seen = std::collections::HashSet::new();
    let mut cursor = Some(head);
    while let Some(id) = cursor {
        // A corrupt chain with a cycle must not loop forever.
        if !seen.insert(id) {
            break;
        }
        let step = store.read_step(&id)?;
        if selection.in_window(step.timestamp) {
            return Ok(true);
        }
        cursor = step.parent;
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: BundleError) -> String {
        e.to_string()
    }

    #[test]
    fn dates_are_exact_calendar_days() {
        assert_eq!(parse_date("1970-01-01", "--since").unwrap(), 0);
        assert_eq!(parse_date("2026-05-01", "--since").unwrap(), 1_777_593_600_000);
        assert_eq!(parse_date("2024-02-29", "--since").unwrap(), 1_709_164_800_000);
        assert!(parse_date("2000-02-29", "--since").is_ok());
        for bad in [
            "2023-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-5-01",
            "2026-05-01T",
            "abcd-ef-gh",
            "2026/05/01",
            "+026-05-01",
        ] {
            assert_eq!(
                message(parse_date(bad, "--until").unwrap_err()),
                "Invalid --until date; use YYYY-MM-DD.",
                "{bad}"
            );
        }
    }

    #[test]
    fn until_is_exclusive_next_midnight_and_must_follow_since() {
        let raw = |since: &str, until: &str| RawFilters {
            since: Some(since.into()),
            until: Some(until.into()),
            ..RawFilters::default()
        };
        let one_day = Selection::parse(raw("2026-05-01", "2026-05-01")).unwrap();
        assert_eq!(one_day.until_ms.unwrap() - one_day.since_ms.unwrap(), MS_PER_DAY);
        assert!(one_day.in_window(one_day.since_ms.unwrap()));
        assert!(!one_day.in_window(one_day.until_ms.unwrap()));
        let err = Selection::parse(raw("2026-05-02", "2026-05-01")).unwrap_err();
        assert_eq!(message(err), "--since must be earlier than --until (the --until date is exclusive).");
    }

    #[test]
    fn session_values_split_at_the_first_slash() {
        assert_eq!(parse_session_arg("claude/a/b", "--session").unwrap(), SessionRef::new("claude", "a/b"));
        for bad in ["claude", "/x", "claude/", ""] {
            assert_eq!(
                message(parse_session_arg(bad, "--replace-ref").unwrap_err()),
                "Invalid --replace-ref value; use origin/session-id."
            );
        }
    }
}
