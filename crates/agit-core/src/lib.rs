//! `agit-core`: the storage engine of agit.
//!
//! - [`hash`] — BLAKE3 object ids.
//! - [`object`] — the five object kinds and their byte-exact encodings.
//! - [`store`] — the `.agit/` directory: loose objects, session refs, OS locks, durable writes.
//! - [`index`] — the SQLite query index (`index.db`), a rebuildable cache of objects and refs.
//! - [`config`] — `.agit/config.json`.
//! - [`commit`] — appending a step to a session.
//!
//! Nothing in this crate prints; every fallible call returns [`Error`], whose
//! [`Error::code`] is the stable diagnostic code the CLI reports.

pub mod blame;
pub mod commit;
pub mod config;
pub mod diff;
pub mod error;
pub mod eval;
pub mod fsck;
pub mod gc;
pub mod hash;
pub mod index;
pub mod json;
pub mod object;
pub mod privacy;
pub mod reach;
pub mod restore;
pub mod snapshot;
pub mod store;

pub use error::{Error, Result};
pub use hash::ObjectId;
pub use object::ObjectKind;
pub use store::{SessionRef, Store};

/// The version agit reports (`agit version`, eval objects, bundle manifests).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
