//! Prefix-lookup budget (DECISIONS §5): resolving an object hash prefix in a store of
//! 1,000,000 objects takes under 1 ms.
//!
//! The objects (`bench-object-<i>`, the reference's `bench-resolve-prefix` set) are
//! written straight into one pack through the library, with their index rows, as a gc
//! leaves a store. Lookups then go through `resolve_prefix`, exactly what `agit cat
//! <prefix>` calls: with the index (its normal path), without it (the pack idx, the
//! fallback when index.db is unusable), and for prefixes that match nothing (index miss,
//! then the loose shard and every pack idx are searched).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agit_core::index::{Index, ObjectRecord, resolve_prefix};
use agit_core::store::pack::{PackInput, PackOptions, PackWriter};
use agit_core::{Error, ObjectId, ObjectKind, Store};

use super::{BenchLine, median_ms};
use crate::output::{CliError, Diagnostic};

/// Median lookup budget, milliseconds.
const BUDGET_MS: f64 = 1.0;
/// Hex digits per looked-up prefix (the reference benchmark's 12).
const PREFIX_LEN: usize = 12;

pub fn run(base: &Path, quick: bool, repeat: usize) -> Result<Vec<BenchLine>, CliError> {
    let count: usize = if quick { 100_000 } else { 1_000_000 };
    let lookups: usize = if quick { 2_000 } else { 10_000 };
    let ws = base.join("prefix");
    std::fs::create_dir_all(&ws).map_err(|e| Error::io("create", &ws, e))?;
    let (store, _) = Store::init(&ws)?;

    let build = Instant::now();
    let mut index = Index::open(&store)?;
    let options = PackOptions { level: 1, max_depth: 0, base_cache_bytes: 1 << 20, dictionary: None };
    let mut writer = PackWriter::new(&store.pack_dir(), &options)?;
    let mut ids = Vec::with_capacity(count);
    let mut records = Vec::with_capacity(count);
    for i in 0..count {
        let bytes = format!("bench-object-{i}").into_bytes();
        let id = ObjectId::of(&bytes);
        records.push(ObjectRecord { id, kind: ObjectKind::Blob, size: bytes.len() as u64 });
        ids.push(id);
        writer.add(PackInput { id, kind: ObjectKind::Blob, bytes, delta_base_hint: None })?;
    }
    let info = writer.finish()?;
    index.record_objects(&records)?;
    drop((index, records));
    let build = build.elapsed();

    // As `agit cat` does: a fresh store handle and the index opened once.
    let store = Store::open(&ws)?;
    let index = Index::open_existing(&store)?.ok_or_else(|| {
        CliError::new(Diagnostic::new("bench_failed", "the benchmark index was not usable after it was built"))
    })?;
    let mut rng: u64 = 0x0bad_5eed_1234_5678;
    let mut sample = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let picks: Vec<ObjectId> = (0..lookups).map(|_| ids[(sample() % count as u64) as usize]).collect();

    let time_lookups =
        |index: Option<&Index>, prefixes: &[(String, Option<ObjectId>)]| -> Result<Vec<Duration>, CliError> {
            // Warm up: first touches of the idx and the SQLite pages are not lookups.
            for (prefix, _) in prefixes.iter().take(50) {
                let _ = resolve_prefix(&store, index, prefix);
            }
            let mut times = Vec::with_capacity(prefixes.len());
            for (prefix, expected) in prefixes {
                let start = Instant::now();
                let found = resolve_prefix(&store, index, prefix);
                times.push(start.elapsed());
                match (found, expected) {
                    (Ok(id), Some(want)) if id == *want => {}
                    (Err(Error::ObjectNotFound { .. }), None) => {}
                    (other, _) => {
                        return Err(CliError::new(Diagnostic::new(
                            "bench_failed",
                            format!("prefix {prefix} resolved to {other:?}, expected {expected:?}"),
                        )));
                    }
                }
            }
            Ok(times)
        };
    let present: Vec<(String, Option<ObjectId>)> =
        picks.iter().map(|id| (id.to_hex()[..PREFIX_LEN].to_owned(), Some(*id))).collect();
    // Prefixes of ids that are not stored (hashes of other content; a 12-hex collision
    // with a million ids has odds of about 1 in 280 million, and would be reported).
    let absent: Vec<(String, Option<ObjectId>)> = (0..lookups / 4)
        .map(|i| (ObjectId::of(format!("absent-{i}").as_bytes()).to_hex()[..PREFIX_LEN].to_owned(), None))
        .collect();
    let mut with_index = time_lookups(Some(&index), &present)?;
    let mut without_index = time_lookups(None, &present)?;
    let mut missing = time_lookups(Some(&index), &absent)?;

    // The whole command, process start included (informational).
    let exe = std::env::current_exe().map_err(|e| Error::io("locate", "agit", e))?;
    let mut process = Vec::new();
    for id in picks.iter().take(repeat.max(3)) {
        let start = Instant::now();
        let status = Command::new(&exe)
            .args(["cat", &id.to_hex()[..PREFIX_LEN]])
            .current_dir(&ws)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| Error::io("run", &exe, e))?;
        process.push(start.elapsed());
        if !status.success() {
            return Err(CliError::new(Diagnostic::new("bench_failed", format!("agit cat {id} failed"))));
        }
    }
    let process_ms = median_ms(&mut process);

    let label = if count >= 1_000_000 { format!("{}M", count / 1_000_000) } else { format!("{}k", count / 1000) };
    let setup = format!(
        "{count} objects in one pack ({:.1} MB + idx {:.1} MB, built with index rows in {:.1} s)",
        info.pack_len as f64 / 1e6,
        info.idx_len as f64 / 1e6,
        build.as_secs_f64()
    );
    let line = |name: String, samples: &mut Vec<Duration>, detail: String| {
        let p99 = percentile_ms(samples, 99);
        let ms = median_ms(samples);
        BenchLine {
            name,
            ours_ms: ms,
            peer_ms: None,
            peer: format!("absolute budget {BUDGET_MS} ms"),
            ratio: ms / BUDGET_MS,
            budget: format!("median < {BUDGET_MS} ms"),
            within_budget: ms < BUDGET_MS,
            detail: format!("{detail}; p99 {p99:.3} ms"),
        }
    };
    Ok(vec![
        line(
            format!("prefix lookup, {label} objects (index, as agit cat)"),
            &mut with_index,
            format!(
                "median of {lookups} random {PREFIX_LEN}-hex prefixes; {setup}; `agit cat <prefix>` end to end {process_ms:.1} ms incl. process start"
            ),
        ),
        line(
            format!("prefix lookup, {label} objects (pack idx, no index)"),
            &mut without_index,
            format!("median of {lookups}; the fallback when index.db is unusable"),
        ),
        line(
            format!("prefix lookup, {label} objects (no match)"),
            &mut missing,
            format!("median of {}; index miss, then loose shard and pack idx", absent.len()),
        ),
    ])
}

/// The `pct`-th percentile in milliseconds (sorts `samples`).
fn percentile_ms(samples: &mut [Duration], pct: usize) -> f64 {
    samples.sort();
    let i = (samples.len().saturating_sub(1) * pct / 100).min(samples.len().saturating_sub(1));
    samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
