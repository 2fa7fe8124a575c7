//! agit-sync
//!
//! Moving history between machines: remote object envelopes ([`envelope`], the
//! `AGITRM01`/`AGITRM02` formats shared with the reference `agit`).

pub mod envelope;
