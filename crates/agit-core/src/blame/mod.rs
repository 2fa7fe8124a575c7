//! blame-v1: which step last changed each line of each text file (reference
//! `formats.md` §5, ADR 035).
//!
//! - [`lines`] — the canonical line splitter shared by recording and rendering.
//! - [`myers`] — the reference's Myers diff with its exact tie-break (bounded, with an
//!   `imara-diff` fallback for pathological inputs).
//! - [`compute_blame`] — carry attributions across one edit.
//! - [`record_step_blame`] — blame for every changed file of a step; wrapped crash-safely
//!   by [`record_blame_for_commit`] (finalize) and replayed by [`rebuild_blame`] (reindex).
//! - [`blame_lookup`] — the recorded blame of a path, for `agit blame`.
//!
//! Blame objects are referenced only from the `blame_maps` index table. Attribution is
//! whatever changed between two recorded snapshots of a path (across all sessions),
//! including edits a human made in between, which go to the next recorded step.

mod compute;
pub mod lines;
mod lookup;
pub mod myers;
mod record;

#[cfg(test)]
mod tests;

pub use compute::compute_blame;
pub use lines::split_lines;
pub use lookup::{BlameView, BlameViewLine, blame_lookup};
pub use record::{
    BlameCommitOutcome, BlameRebuildStats, BlameRecordStats, FINALIZE_CHANGE_LIMIT, METADATA_ONLY_PREFIX,
    blame_lock_path, rebuild_blame, reconcile_arrivals, record_blame_for_commit, record_step_blame, reindex_blame,
};
