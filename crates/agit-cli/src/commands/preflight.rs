//! Checks commands run before they move history off this machine (push, export).

use agit_core::Store;
use agit_core::fsck::fsck;

use crate::output::{CliError, Diagnostic};

/// The hint of every `fsck_failed` refusal (reference wording).
pub const FSCK_FAILED_HINT: &str = "Run `agit fsck` to inspect integrity findings before retrying.";

/// Fail with `fsck_failed` (message `refusing`, e.g. "Refusing to export from a corrupt
/// local store.") unless a full `agit fsck` scan of `store` finds no error. Copying a
/// corrupt store elsewhere would spread the damage, so push and export check first.
pub fn require_healthy_store(store: &Store, refusing: &str) -> Result<(), CliError> {
    let report = fsck(store)?;
    if report.healthy() {
        return Ok(());
    }
    Err(CliError::new(Diagnostic::new("fsck_failed", refusing).hint(FSCK_FAILED_HINT).path(".agit")))
}
