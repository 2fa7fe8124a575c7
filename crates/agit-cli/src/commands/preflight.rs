//! Checks commands run before they move history off this machine (push, export).

use agit_core::Store;
use agit_core::fsck::{Status, fsck};
use agit_core::store::lock::{self, LockMode};

use crate::output::{CliError, Diagnostic};

/// The hint of every `fsck_failed` refusal (reference wording).
pub const FSCK_FAILED_HINT: &str = "Run `agit fsck` to inspect integrity findings before retrying.";

/// Fail with `fsck_failed` (message `refusing`, e.g. "Refusing to export from a corrupt
/// local store.") unless a full `agit fsck` scan of `store` finds no error. Copying a
/// corrupt store elsewhere would spread the damage, so push and export check first.
/// The hint names the first error finding after the reference's wording.
///
/// The scan runs under `gc.lock` shared so a concurrent `gc` cannot move objects
/// between packs and loose files under it (which would read as missing objects).
pub fn require_healthy_store(store: &Store, refusing: &str) -> Result<(), CliError> {
    let report = {
        let _gc = lock::acquire(&store.gc_lock_path(), LockMode::Shared, lock::lock_timeout())?;
        fsck(store)?
    };
    if report.healthy() {
        return Ok(());
    }
    let first = report.checks.iter().find(|c| c.status == Status::Error);
    let hint = match first {
        Some(check) => format!("{FSCK_FAILED_HINT} First finding: {}: {}", check.code, check.message),
        None => FSCK_FAILED_HINT.to_owned(),
    };
    Err(CliError::new(Diagnostic::new("fsck_failed", refusing).hint(hint).path(".agit")))
}
