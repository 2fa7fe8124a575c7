//! 16 threads advance the same ref by compare-and-swap: exactly one winner per round and
//! the ref file is never torn.

use std::sync::{Arc, Barrier};

use agit_core::store::SessionRef;
use agit_core::{ObjectId, Store};

#[test]
fn one_winner_per_round() {
    const THREADS: usize = 16;
    const ROUNDS: usize = 20;
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::init(dir.path()).unwrap();
    let session = SessionRef::new("claude", "race");
    let start = Arc::new(Barrier::new(THREADS));
    let end = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (store, session, start, end) = (store.clone(), session.clone(), start.clone(), end.clone());
            std::thread::spawn(move || {
                let mut wins = Vec::new();
                for round in 0..ROUNDS {
                    let current = store.refs().read(&session).expect("ref never torn");
                    start.wait();
                    let new = ObjectId::of(format!("{round}-{t}").as_bytes());
                    match store.refs().compare_and_swap(&session, current, new) {
                        Ok(()) => wins.push(round),
                        Err(e) => assert_eq!(e.code(), "cas_conflict", "{e}"),
                    }
                    end.wait();
                }
                wins
            })
        })
        .collect();
    let mut winners = vec![0usize; ROUNDS];
    for h in handles {
        for round in h.join().unwrap() {
            winners[round] += 1;
        }
    }
    assert_eq!(winners, vec![1; ROUNDS]);
    let content = std::fs::read_to_string(store.refs().path(&session)).unwrap();
    assert_eq!(content.len(), 65);
}
