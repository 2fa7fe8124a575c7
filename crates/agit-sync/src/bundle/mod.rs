//! Portable bundles (`agit-bundle-v1`, reference `remote.md` §6): `agit export` and
//! `agit import`.
//!
//! ```text
//! <bundle>/
//!   objects/<2 hex>/<62 hex>                  raw object bytes (always loose)
//!   refs/sessions/<hex origin>/<hex session>  "<head>\n" (informative; the manifest rules)
//!   privacy-report.json                       only with --allow-sensitive and findings
//!   manifest.json                             written last
//! ```
//!
//! The same layout can travel as one zstd-compressed tar stream (`--archive`, manifest
//! last), see [`archive`].
//!
//! - [`select`]: which sessions an export takes (filters, dates).
//! - [`manifest`]: the manifest types, byte-compatible with the reference, and `bundle_id`.
//! - [`export`]: writes a bundle (directory or archive) from selected session heads.
//! - [`import`]: validates a whole bundle before writing anything, then writes objects and
//!   refs (create, fast-forward, replace or namespace).

pub mod archive;
mod error;
pub mod export;
pub mod import;
pub mod manifest;
pub mod select;
#[cfg(test)]
mod tests;

pub use error::BundleError;
pub use export::{ExportRequest, ExportSummary, ExportTarget, export};
pub use import::{ImportOptions, ImportSummary, RefAction, RefOutcome, import};
pub use manifest::{BUNDLE_FORMAT, MANIFEST_FILE, Manifest, PRIVACY_REPORT_FILE, bundle_id};
pub use select::{RawFilters, Selection, parse_session_arg, select_sessions};
