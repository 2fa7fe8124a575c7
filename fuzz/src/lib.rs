//! Shared checks for agit's fuzz targets (`fuzz_targets/*.rs`).
//!
//! Every target feeds untrusted bytes to one parser and then asserts properties that
//! must hold whatever the bytes were (round trips, bounds, determinism), so a fuzz run
//! finds wrong answers as well as panics. See `scripts/fuzz.sh`.

pub mod hook;
pub mod pack_fixup;

/// Whether `text` is JSON according to `serde_json`. `None` where serde_json refuses
/// valid JSON that our readers accept: nesting deeper than its limit of 128, and
/// numbers beyond `f64` (kept as written by the hook reader).
pub fn serde_json_accepts(text: &[u8]) -> Option<bool> {
    match serde_json::from_slice::<serde::de::IgnoredAny>(text) {
        Ok(_) => Some(true),
        Err(e) => {
            let message = e.to_string();
            if message.contains("recursion limit exceeded") || message.contains("number out of range") {
                None
            } else {
                Some(false)
            }
        }
    }
}

/// A little-endian reader over fuzz input that never fails: past the end it yields
/// zeros, so targets can pull structured choices out of any byte string.
pub struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Input { bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((b, rest)) => {
                self.bytes = rest;
                *b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// Up to `max` bytes (fewer at the end of the input).
    pub fn take(&mut self, max: usize) -> &'a [u8] {
        let n = max.min(self.bytes.len());
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        head
    }

    /// A length-prefixed byte string (`u16` length).
    pub fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.u16());
        self.take(n)
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }
}
