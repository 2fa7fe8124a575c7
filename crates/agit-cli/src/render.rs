//! Presentation helpers shared by the human renderers: colour, time, pager.

use std::io::{self, IsTerminal, Write};
use std::process::{Command, Stdio};

use crate::cli::ColorChoice;

/// How human output looks: colour on or off, times in UTC or local time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    pub utc: bool,
}

impl Style {
    /// Colour follows `--color`; `auto` means a terminal on stdout and no `NO_COLOR`.
    pub fn new(choice: ColorChoice, utc: bool) -> Style {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal()
            }
        };
        Style { color, utc }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }

    pub fn hash(&self, text: &str) -> String {
        self.paint("33", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn added(&self, text: &str) -> String {
        self.paint("32", text)
    }

    pub fn removed(&self, text: &str) -> String {
        self.paint("31", text)
    }

    pub fn meta(&self, text: &str) -> String {
        self.paint("36", text)
    }

    /// An outcome label coloured by meaning.
    pub fn outcome(&self, outcome: &str) -> String {
        match outcome {
            "success" => self.added(outcome),
            "failure" => self.removed(outcome),
            other => self.dim(other),
        }
    }

    /// `YYYY-MM-DD HH:MM:SS` in local time (or UTC with `--utc`); `(unknown)` for ≤ 0.
    pub fn time(&self, ms: i64) -> String {
        if ms <= 0 {
            return "(unknown)".into();
        }
        let secs = ms.div_euclid(1000);
        let offset = if self.utc { 0 } else { local_offset_secs(secs) };
        format_utc(secs + offset)
    }
}

/// The local UTC offset at `secs` (0 when the C library cannot tell).
fn local_offset_secs(secs: i64) -> i64 {
    let t: libc::time_t = secs as libc::time_t;
    // SAFETY: zeroed `tm` is a valid out-parameter; localtime_r is thread-safe.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if ok { tm.tm_gmtoff } else { 0 }
}

/// Format Unix seconds as `YYYY-MM-DD HH:MM:SS` (proleptic Gregorian, no time zone).
pub fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// (year, month, day) → days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parse `YYYY-MM-DD` to UTC midnight in milliseconds.
pub fn parse_date_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = text[0..4].parse().ok()?;
    let m: u32 = text[5..7].parse().ok()?;
    let d: u32 = text[8..10].parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > 31 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // Reject dates like 2026-02-31 that normalise to another day.
    (civil_from_days(days) == (y, m, d)).then_some(days * 86_400_000)
}

/// Write `text` to stdout, through a pager when stdout is a terminal and the text is
/// longer than the screen (`AGIT_PAGER`, else `PAGER`, else `less -FRX`).
pub fn page(text: &[u8], allowed: bool) -> io::Result<()> {
    let stdout = io::stdout();
    if allowed && stdout.is_terminal() && line_count(text) > terminal_rows() {
        let pager = std::env::var("AGIT_PAGER")
            .ok()
            .or_else(|| std::env::var("PAGER").ok())
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| "less -FRX".into());
        if pager.trim() != "cat"
            && let Ok(mut child) = Command::new("sh").arg("-c").arg(&pager).stdin(Stdio::piped()).spawn()
        {
            if let Some(mut stdin) = child.stdin.take() {
                // The pager may quit early (q); that is not an error.
                let _ = stdin.write_all(text);
            }
            child.wait()?;
            return Ok(());
        }
    }
    let mut out = stdout.lock();
    out.write_all(text)?;
    out.flush()
}

fn line_count(text: &[u8]) -> usize {
    text.iter().filter(|b| **b == b'\n').count()
}

fn terminal_rows() -> usize {
    // SAFETY: TIOCGWINSZ fills a winsize struct; a failure leaves the zeroed default.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    if ok && ws.ws_row > 0 { usize::from(ws.ws_row) } else { 24 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00");
        assert_eq!(format_utc(1_700_000_000), "2023-11-14 22:13:20");
        assert_eq!(parse_date_ms("2023-11-14"), Some(1_699_920_000_000));
        assert_eq!(parse_date_ms("2024-02-29").map(|ms| format_utc(ms / 1000)), Some("2024-02-29 00:00:00".into()));
        assert_eq!(parse_date_ms("2023-02-29"), None);
        assert_eq!(parse_date_ms("2023-1-14"), None);
        assert_eq!(Style { color: false, utc: true }.time(0), "(unknown)");
        assert_eq!(Style { color: false, utc: true }.time(1_700_000_000_123), "2023-11-14 22:13:20");
    }
}
