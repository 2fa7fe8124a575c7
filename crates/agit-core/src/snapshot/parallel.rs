//! A scoped parallel map over a slice, for hashing and writing (no thread pool crate:
//! a snapshot spawns a handful of threads at most, which costs microseconds).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// `items.iter().map(f).collect()` on up to `workers` threads, results in input order.
/// The first error stops the remaining work and is returned; a panic is propagated.
pub(super) fn map<T: Sync, R: Send>(items: &[T], workers: usize, f: impl Fn(&T) -> Result<R> + Sync) -> Result<Vec<R>> {
    let workers = workers.min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    let done: Vec<Vec<(usize, R)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(k) else { break };
                        match f(item) {
                            Ok(result) => done.push((k, result)),
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                first_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                                break;
                            }
                        }
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    // Without an error every position was claimed by exactly one worker.
    let mut out: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    for (k, result) in done.into_iter().flatten() {
        out[k] = Some(result);
    }
    Ok(out.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_stops_on_the_first_error() {
        let items: Vec<u32> = (0..1000).collect();
        for workers in [0, 1, 2, 7] {
            assert_eq!(map(&items, workers, |&x| Ok(x * 2)).unwrap(), items.iter().map(|x| x * 2).collect::<Vec<_>>());
        }
        let err =
            map(
                &items,
                4,
                |&x| {
                    if x == 500 { Err(Error::io("test", "x", std::io::Error::other("boom"))) } else { Ok(x) }
                },
            )
            .unwrap_err();
        assert_eq!(err.code(), "io_error");
    }
}
