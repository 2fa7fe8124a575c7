//! Payload codecs: zstd frames (optionally with a reference prefix, "patch-from") for
//! `AGITPK2`, and the reference's prefix/suffix splice for `AGITPK1`.

use std::cell::RefCell;

use zstd::zstd_safe::{self, CCtx, CDict, CParameter, DCtx, DDict, DParameter, ResetDirective};

use super::PackError;

/// Standard zstd frame magic. Anything else (legacy or skippable frames) is refused, so
/// hostile payloads only ever reach the current decoder.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// Base + target must fit a window of 2^27 bytes: the zstd decoder's default limit, so a
/// delta never needs a reader to raise it (rust-stack §4).
pub(crate) const DELTA_WINDOW_LOG_MAX: u32 = 27;

/// zstd's smallest window log.
const WINDOW_LOG_MIN: u32 = 10;

/// Large delta inputs use long-distance matching, as `zstd --patch-from` does, so matches
/// far back in a big base are found.
const LDM_THRESHOLD: usize = 1 << 23;

fn zstd_err(code: usize) -> &'static str {
    zstd_safe::get_error_name(code)
}

/// A reusable compressor for full entries.
pub(crate) struct Compressor {
    cctx: CCtx<'static>,
    level: i32,
    cdict: Option<CDict<'static>>,
}

impl Compressor {
    /// A compressor at `level`, using `dict` (a pack dictionary) for full entries.
    pub fn new(level: i32, dict: Option<&[u8]>) -> Result<Self, PackError> {
        let cctx = CCtx::try_create().ok_or(PackError::Compression { reason: "cannot allocate a zstd context" })?;
        let cdict = match dict {
            Some(dict) => Some(
                CDict::try_create(dict, level).ok_or(PackError::Compression { reason: "unusable zstd dictionary" })?,
            ),
            None => None,
        };
        Ok(Compressor { cctx, level, cdict })
    }

    /// Whether full entries use the pack dictionary.
    pub fn has_dict(&self) -> bool {
        self.cdict.is_some()
    }

    /// One zstd frame of `raw`, content size recorded, no zstd checksum (with the pack
    /// dictionary, if any).
    pub fn full(&mut self, raw: &[u8]) -> Result<Vec<u8>, PackError> {
        if let Some(cdict) = &self.cdict {
            let mut out = Vec::with_capacity(zstd_safe::compress_bound(raw.len()));
            self.cctx
                .compress_using_cdict(&mut out, raw, cdict)
                .map_err(|code| PackError::Compression { reason: zstd_err(code) })?;
            return Ok(out);
        }
        let cctx = &mut self.cctx;
        let compress = |cctx: &mut CCtx<'static>| -> Result<Vec<u8>, usize> {
            cctx.reset(ResetDirective::SessionAndParameters)?;
            cctx.set_parameter(CParameter::CompressionLevel(self.level))?;
            cctx.set_parameter(CParameter::ContentSizeFlag(true))?;
            cctx.set_parameter(CParameter::ChecksumFlag(false))?;
            let mut out = Vec::with_capacity(zstd_safe::compress_bound(raw.len()));
            cctx.compress2(&mut out, raw)?;
            Ok(out)
        };
        compress(cctx).map_err(|code| PackError::Compression { reason: zstd_err(code) })
    }

    /// One zstd frame of `raw` using `base` as reference prefix. `None` when base and
    /// target together exceed the delta window.
    pub fn delta(&self, base: &[u8], raw: &[u8]) -> Result<Option<Vec<u8>>, PackError> {
        let total = base.len().saturating_add(raw.len());
        if total > 1usize << DELTA_WINDOW_LOG_MAX {
            return Ok(None);
        }
        let window_log = ceil_log2(total).clamp(WINDOW_LOG_MIN, DELTA_WINDOW_LOG_MAX);
        // A fresh context per delta: the prefix is borrowed for the context's lifetime.
        let mut cctx = CCtx::try_create().ok_or(PackError::Compression { reason: "cannot allocate a zstd context" })?;
        let mut run = || -> Result<Vec<u8>, usize> {
            cctx.set_parameter(CParameter::CompressionLevel(self.level))?;
            cctx.set_parameter(CParameter::WindowLog(window_log))?;
            cctx.set_parameter(CParameter::ContentSizeFlag(true))?;
            cctx.set_parameter(CParameter::ChecksumFlag(false))?;
            if total >= LDM_THRESHOLD {
                cctx.set_parameter(CParameter::EnableLongDistanceMatching(true))?;
            }
            cctx.ref_prefix(base)?;
            let mut out = Vec::with_capacity(zstd_safe::compress_bound(raw.len()));
            cctx.compress2(&mut out, raw)?;
            Ok(out)
        };
        run().map(Some).map_err(|code| PackError::Compression { reason: zstd_err(code) })
    }
}

fn ceil_log2(n: usize) -> u32 {
    if n <= 1 { 0 } else { usize::BITS - (n - 1).leading_zeros() }
}

thread_local! {
    /// Full entries decode with a per-thread context (creating one costs an allocation).
    static DCTX: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
}

/// What a frame was compressed against.
#[derive(Clone, Copy)]
pub(crate) enum Reference<'a> {
    /// Nothing: a plain frame.
    None,
    /// The base object's bytes as reference prefix (delta).
    Prefix(&'a [u8]),
    /// The pack dictionary.
    Dict(&'a DDict<'static>),
}

/// Decode one zstd frame that must expand to exactly `expected` bytes. The frame must be
/// the whole payload and declare `expected` as its content size before anything is
/// allocated; the output buffer is exactly `expected` bytes, so a lying frame cannot make
/// the decoder write more.
pub(crate) fn decompress(payload: &[u8], reference: Reference<'_>, expected: u64) -> Result<Vec<u8>, &'static str> {
    if !payload.starts_with(&ZSTD_MAGIC) {
        return Err("payload is not a zstd frame");
    }
    match zstd_safe::find_frame_compressed_size(payload) {
        Ok(n) if n == payload.len() => {}
        Ok(_) => return Err("payload has bytes after its zstd frame"),
        Err(code) => return Err(zstd_err(code)),
    }
    match zstd_safe::get_frame_content_size(payload) {
        Ok(Some(n)) if n == expected => {}
        Ok(Some(_)) => return Err("zstd frame content size disagrees with unpacked_len"),
        Ok(None) => return Err("zstd frame does not record its content size"),
        Err(_) => return Err("invalid zstd frame header"),
    }
    let expected = usize::try_from(expected).map_err(|_| "unpacked_len does not fit in memory")?;
    let mut out = Vec::new();
    out.try_reserve_exact(expected).map_err(|_| "cannot allocate unpacked_len bytes")?;
    let written = match reference {
        Reference::Prefix(prefix) => {
            let mut dctx = DCtx::try_create().ok_or("cannot allocate a zstd context")?;
            dctx.set_parameter(DParameter::WindowLogMax(DELTA_WINDOW_LOG_MAX)).map_err(zstd_err)?;
            dctx.ref_prefix(prefix).map_err(zstd_err)?;
            dctx.decompress(&mut out, payload).map_err(zstd_err)?
        }
        reference => DCTX.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.is_none() {
                *slot = DCtx::try_create();
            }
            let Some(dctx) = slot.as_mut() else { return Err("cannot allocate a zstd context") };
            match reference {
                Reference::Dict(ddict) => dctx.decompress_using_ddict(&mut out, payload, ddict).map_err(zstd_err),
                _ => dctx.decompress(&mut out, payload).map_err(zstd_err),
            }
        })?,
    };
    if written != expected || out.len() != expected {
        return Err("decompressed length disagrees with unpacked_len");
    }
    Ok(out)
}

/// Apply an `AGITPK1` splice delta: `u64 prefix, u64 suffix, u64 replacement_len,
/// replacement`; result `base[..prefix] ++ replacement ++ base[len - suffix..]`. Every
/// rejection rule of the reference decoder is kept.
pub(crate) fn apply_splice(base: &[u8], payload: &[u8], unpacked_len: u64) -> Result<Vec<u8>, &'static str> {
    let mut cur = super::source::Cursor::new(payload);
    let (Some(prefix), Some(suffix), Some(repl_len)) = (cur.u64(), cur.u64(), cur.u64()) else {
        return Err("delta payload is shorter than 24 bytes");
    };
    let base_len = base.len() as u64;
    if prefix > base_len || suffix > base_len || prefix.checked_add(suffix).is_none_or(|s| s > base_len) {
        return Err("delta prefix/suffix exceed the base");
    }
    if repl_len.checked_add(24) != Some(payload.len() as u64) {
        return Err("delta replacement length disagrees with the payload");
    }
    // Each term is bounded by the base or payload length, so the sum cannot overflow.
    if prefix + repl_len + suffix != unpacked_len {
        return Err("delta result length disagrees with unpacked_len");
    }
    // All three are within in-memory slices, so they fit usize.
    let (prefix, suffix) = (prefix as usize, suffix as usize);
    let head = base.get(..prefix).ok_or("delta prefix exceeds the base")?;
    let tail = base.get(base.len() - suffix..).ok_or("delta suffix exceeds the base")?;
    let replacement = payload.get(24..).ok_or("delta payload is shorter than 24 bytes")?;
    let mut out = Vec::with_capacity(head.len() + replacement.len() + tail.len());
    out.extend_from_slice(head);
    out.extend_from_slice(replacement);
    out.extend_from_slice(tail);
    Ok(out)
}

/// Encode an `AGITPK1` splice delta of `target` against `base` (the reference writer's
/// algorithm: longest common prefix, then longest common suffix of the rest).
pub(crate) fn make_splice(base: &[u8], target: &[u8]) -> Vec<u8> {
    let prefix = base.iter().zip(target).take_while(|(a, b)| a == b).count();
    let (base_rest, target_rest) = (&base[prefix..], &target[prefix..]);
    let suffix = base_rest.iter().rev().zip(target_rest.iter().rev()).take_while(|(a, b)| a == b).count();
    let replacement = &target_rest[..target_rest.len() - suffix];
    let mut out = Vec::with_capacity(24 + replacement.len());
    out.extend_from_slice(&(prefix as u64).to_le_bytes());
    out.extend_from_slice(&(suffix as u64).to_le_bytes());
    out.extend_from_slice(&(replacement.len() as u64).to_le_bytes());
    out.extend_from_slice(replacement);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_round_trips_and_rejects_bad_payloads() {
        let base = b"hello brave new world".to_vec();
        let target = b"hello old world".to_vec();
        let d = make_splice(&base, &target);
        assert_eq!(apply_splice(&base, &d, target.len() as u64).unwrap(), target);
        assert!(apply_splice(&base, &d[..20], 15).is_err());
        assert!(apply_splice(&base, &d, 16).is_err());
        let mut huge = d.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(apply_splice(&base, &huge, 15).is_err());
        let mut long = d.clone();
        long.push(0);
        assert!(apply_splice(&base, &long, 15).is_err());
    }

    #[test]
    fn zstd_delta_round_trips_and_checks_lengths() {
        let base: Vec<u8> = (0..50_000u32).flat_map(|i| format!("line {i}\n").into_bytes()).collect();
        let mut target = base.clone();
        target.extend_from_slice(b"one more line\n");
        let c = Compressor::new(3, None).unwrap();
        let d = c.delta(&base, &target).unwrap().unwrap();
        assert!(d.len() < 100, "delta is {} bytes", d.len());
        assert_eq!(decompress(&d, Reference::Prefix(&base), target.len() as u64).unwrap(), target);
        assert!(decompress(&d, Reference::Prefix(&base), target.len() as u64 + 1).is_err());
        assert!(decompress(&d, Reference::None, target.len() as u64).is_err());
        assert!(decompress(&d[..d.len() - 1], Reference::Prefix(&base), target.len() as u64).is_err());
        let mut full = Compressor::new(3, None).unwrap();
        let f = full.full(&target).unwrap();
        assert_eq!(decompress(&f, Reference::None, target.len() as u64).unwrap(), target);
        let mut trailing = f.clone();
        trailing.push(0);
        assert!(decompress(&trailing, Reference::None, target.len() as u64).is_err());
        assert!(decompress(b"not zstd", Reference::None, 8).is_err());
        assert_eq!(decompress(&full.full(b"").unwrap(), Reference::None, 0).unwrap(), b"");
    }
}
