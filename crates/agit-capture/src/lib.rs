//! agit-capture
