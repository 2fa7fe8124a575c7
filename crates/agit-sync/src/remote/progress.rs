//! Progress callbacks: the library reports, the CLI decides whether to draw a bar.

/// Receives progress of a long transfer. Calls come from the thread running the
/// transfer; implementations must be cheap.
pub trait Progress {
    /// A phase starts (`"upload"`, `"download"`, …) with this many objects to handle,
    /// if known.
    fn start(&self, phase: &'static str, total: Option<u64>);
    /// `objects` more objects handled, `bytes` more bytes transferred.
    fn advance(&self, objects: u64, bytes: u64);
    /// The phase is over.
    fn finish(&self);
}

/// Reports nothing (JSON mode, off a terminal, tests).
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _phase: &'static str, _total: Option<u64>) {}
    fn advance(&self, _objects: u64, _bytes: u64) {}
    fn finish(&self) {}
}
