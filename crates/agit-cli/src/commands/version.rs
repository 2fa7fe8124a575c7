//! `agit version`.

use std::io::{self, Write};

use serde::Serialize;

use crate::output::Report;
use crate::render::Style;

#[derive(Serialize)]
pub struct VersionReport {
    version: &'static str,
}

pub fn run() -> VersionReport {
    VersionReport { version: agit_core::VERSION }
}

impl Report for VersionReport {
    fn human(&self, out: &mut dyn Write, _: &Style) -> io::Result<()> {
        writeln!(out, "agit {}", self.version)
    }
}
