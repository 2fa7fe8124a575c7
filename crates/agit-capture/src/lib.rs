//! `agit-capture`: recording agent activity.
//!
//! - [`adapters`] — one per agent: raw hook payload → one normalized [`event::HookEvent`].
//! - [`recorder`] — turn identity, staging, and finalize (snapshot → step → ref + index).
//! - [`runner`] — a hook process end to end, fail-open.
//! - [`hook_log`] — `.agit/log/hook-error.log`.

pub mod adapters;
pub mod event;
pub mod git;
pub mod hook_log;
pub mod install;
pub mod observer;
pub mod outcome;
pub mod recorder;
pub mod runner;
