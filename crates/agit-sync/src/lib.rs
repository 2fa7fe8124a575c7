//! agit-sync
//!
//! Moving history between machines: remote object envelopes ([`envelope`], the
//! `AGITRM01`/`AGITRM02` formats shared with the reference `agit`) and remotes
//! ([`remote`]: configuration, S3 and directory transports, push and pull).

pub mod bundle;
pub mod envelope;
pub mod remote;
