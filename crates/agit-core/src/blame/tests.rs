//! End-to-end blame: a scripted multi-session history recorded incrementally, checked line
//! by line, then reproduced exactly by a full rebuild.

use std::collections::BTreeMap;

use tempfile::TempDir;

use super::record::{record_commit_with, record_with_cap};
use super::*;
use crate::commit::{AppendOutcome, append_step};
use crate::error::Error;
use crate::hash::ObjectId;
use crate::index::schema::meta_keys;
use crate::index::{Index, ObjectRecord, rebuild};
use crate::object::{Blame, BlameLine, Message, ObjectKind, Step, Tree, TreeEntry};
use crate::snapshot::rules::DEFAULT_MAX_FILE_BYTES;
use crate::store::Store;

struct Repo {
    _dir: TempDir,
    store: Store,
    index: Index,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::init(dir.path()).unwrap();
        let index = Index::open(&store).unwrap();
        Repo { _dir: dir, store, index }
    }

    /// Commit a step whose tree holds exactly `files`, then record its blame.
    fn commit(&mut self, origin: &str, session: &str, turn: &str, files: &[(&str, &[u8])]) -> ObjectId {
        let (id, step) = self.commit_only(origin, session, turn, files);
        let outcome =
            record_commit_with(&mut self.index, &self.store, &id, &step, FINALIZE_CHANGE_LIMIT, DEFAULT_MAX_FILE_BYTES)
                .unwrap();
        assert!(matches!(outcome, BlameCommitOutcome::Recorded(_)), "{outcome:?}");
        id
    }

    /// Commit a step without recording blame.
    fn commit_only(&mut self, origin: &str, session: &str, turn: &str, files: &[(&str, &[u8])]) -> (ObjectId, Step) {
        let mut objects = Vec::new();
        let entries = files
            .iter()
            .map(|(path, content)| {
                let (id, _) = self.store.write_object(content).unwrap();
                objects.push(ObjectRecord { id, kind: ObjectKind::Blob, size: content.len() as u64 });
                // A file named `huge*` claims an original size over the cap, as the tree
                // of a snapshot that skipped its content would.
                let size = if path.starts_with("huge") { DEFAULT_MAX_FILE_BYTES + 1 } else { content.len() as u64 };
                TreeEntry::file(*path, id, size)
            })
            .collect();
        self.commit_entries(origin, session, turn, entries, objects)
    }

    fn commit_entries(
        &mut self,
        origin: &str,
        session: &str,
        turn: &str,
        entries: Vec<TreeEntry>,
        mut objects: Vec<ObjectRecord>,
    ) -> (ObjectId, Step) {
        let tree = Tree::new(entries).encode();
        let (tree_id, _) = self.store.write_object(&tree).unwrap();
        objects.push(ObjectRecord { id: tree_id, kind: ObjectKind::Tree, size: tree.len() as u64 });
        let step = Step {
            parent: None,
            tree: tree_id,
            session_id: session.into(),
            origin: origin.into(),
            model: Some(format!("{origin}-model")),
            turn_id: turn.into(),
            causes: vec![],
            timestamp: self.index.next_step_timestamp(1_700_000_000_000).unwrap(),
            messages: vec![Message { role: "user".into(), content: format!("{turn} prompt") }],
            tool_calls: vec![],
            outcome: Some("success".into()),
            git_commit: None,
            git_branch: None,
            git_dirty: None,
        };
        match append_step(&self.store, &mut self.index, step, &objects).unwrap() {
            AppendOutcome::Committed { id, step } => (id, *step),
            other => panic!("{other:?}"),
        }
    }

    fn view(&self, path: &str) -> Option<BlameView> {
        blame_lookup(&self.index, &self.store, path, None, Some(DEFAULT_MAX_FILE_BYTES)).unwrap()
    }

    /// (line text, attributed step) of the latest blame of `path`.
    fn blame(&self, path: &str) -> Vec<(String, ObjectId)> {
        self.view(path).unwrap().lines.into_iter().map(|l| (l.text, l.step)).collect()
    }

    fn rows_for(&self, path: &str) -> usize {
        self.index
            .conn()
            .query_row("select count(*) from blame_maps where path=?1", [path], |r| r.get::<_, i64>(0))
            .unwrap() as usize
    }

    fn flag(&self) -> Option<String> {
        self.index.meta(meta_keys::BLAME_NEEDS_REINDEX).unwrap()
    }

    /// Every `blame_maps` row and every blame-kind `objects` row, as text.
    fn blame_state(&self) -> (Vec<String>, Vec<String>) {
        let dump = |sql: &str| -> Vec<String> {
            let mut st = self.index.conn().prepare(sql).unwrap();
            let columns = st.column_count();
            st.query_map([], |r| {
                (0..columns)
                    .map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}")))
                    .collect::<Result<Vec<_>, _>>()
                    .map(|c| c.join("|"))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
        };
        (
            dump("select * from blame_maps order by path, step_hash"),
            dump("select hash, kind, size from objects where kind='blame' order by hash"),
        )
    }
}

fn expect(pairs: &[(&str, ObjectId)]) -> Vec<(String, ObjectId)> {
    pairs.iter().map(|(t, s)| ((*t).to_owned(), *s)).collect()
}

#[test]
fn scripted_multi_session_history() {
    let mut r = Repo::new();
    let placeholder = b"[[agit snapshot metadata-only path=secret.txt bytes=10]]\n";

    // s1 (claude) turn 1: first snapshot, every line of every text file → s1.
    let s1 = r.commit(
        "claude",
        "s1",
        "t1",
        &[
            ("a.txt", b"alpha\nbeta\ngamma\n"),
            ("b.txt", b"one\ntwo\n"),
            ("bin.dat", b"\x00\x01binary"),
            ("huge.log", b"pretend this is big"),
            ("secret.txt", placeholder),
        ],
    );
    assert_eq!(r.blame("a.txt"), expect(&[("alpha", s1), ("beta", s1), ("gamma", s1), ("", s1)]));
    assert_eq!(r.blame("b.txt"), expect(&[("one", s1), ("two", s1), ("", s1)]));
    // Binary, oversized and placeholder files never get blame.
    for path in ["bin.dat", "huge.log", "secret.txt"] {
        assert!(r.view(path).is_none(), "{path}");
    }

    // s2 (codex), another session: edit a line, append a line; b.txt deleted.
    let s2 = r.commit(
        "codex",
        "s2",
        "t1",
        &[
            ("a.txt", b"alpha\nBETA\ngamma\ndelta\n"),
            ("bin.dat", b"\x00\x01binary"),
            ("huge.log", b"pretend this is big"),
            ("secret.txt", placeholder),
        ],
    );
    assert_eq!(r.blame("a.txt"), expect(&[("alpha", s1), ("BETA", s2), ("gamma", s1), ("delta", s2), ("", s1)]));
    // Deletion records nothing: b.txt keeps its last blame.
    assert_eq!(r.rows_for("b.txt"), 1);

    // A human edits `gamma` between steps; s1's next turn adds c.txt. The human's line is
    // attributed to the next recorded step.
    let s3 = r.commit(
        "claude",
        "s1",
        "t2",
        &[("a.txt", b"alpha\nBETA\ngamma (human)\ndelta\n"), ("c.txt", b"fn main() {}\n"), ("r.txt", b"a")],
    );
    assert_eq!(
        r.blame("a.txt"),
        expect(&[("alpha", s1), ("BETA", s2), ("gamma (human)", s3), ("delta", s2), ("", s1)])
    );
    assert_eq!(r.blame("c.txt"), expect(&[("fn main() {}", s3), ("", s3)]));

    // b.txt re-created: diffed against its stale last blame (from s1).
    let s4 = r.commit(
        "codex",
        "s2",
        "t2",
        &[
            ("a.txt", b"alpha\nBETA\ngamma (human)\ndelta\n"),
            ("b.txt", b"one\nTWO\nthree\n"),
            ("c.txt", b"fn main() {}\n"),
            ("r.txt", b"a\na"),
        ],
    );
    assert_eq!(r.blame("b.txt"), expect(&[("one", s1), ("TWO", s4), ("three", s4), ("", s1)]));
    // a.txt unchanged: no new row, no new object.
    assert_eq!(r.rows_for("a.txt"), 3);
    // [a] → [a, a]: the old line is kept first, the appended one is new.
    assert_eq!(r.blame("r.txt"), expect(&[("a", s3), ("a", s4)]));

    // Rename c.txt → d.txt (same content): the new path has no history, every line → s5.
    // Deleting the first line of a.txt keeps the others' attribution.
    let s5 = r.commit(
        "claude",
        "s1",
        "t3",
        &[
            ("a.txt", b"BETA\ngamma (human)\ndelta\n"),
            ("b.txt", b"one\nTWO\nthree\n"),
            ("d.txt", b"fn main() {}\n"),
            ("r.txt", b"a\na"),
        ],
    );
    assert_eq!(r.blame("d.txt"), expect(&[("fn main() {}", s5), ("", s5)]));
    assert_eq!(r.blame("a.txt"), expect(&[("BETA", s2), ("gamma (human)", s3), ("delta", s2), ("", s1)]));
    assert_eq!(r.rows_for("c.txt"), 1);

    // A third session: insert at the top; r.txt [a(s3), a(s4)] → [b, a]. Myers' tie goes
    // to delete, which keeps the *first* `a` (see `myers::hand_checked_true_tie`).
    let s6 = r.commit(
        "gemini",
        "s3",
        "t1",
        &[
            ("a.txt", b"header\nBETA\ngamma (human)\ndelta\n"),
            ("b.txt", b"one\nTWO\nthree\n"),
            ("d.txt", b"fn main() {}\n"),
            ("r.txt", b"b\na"),
        ],
    );
    assert_eq!(
        r.blame("a.txt"),
        expect(&[("header", s6), ("BETA", s2), ("gamma (human)", s3), ("delta", s2), ("", s1)])
    );
    assert_eq!(r.blame("r.txt"), expect(&[("b", s6), ("a", s3)]));

    // Metadata comes from the steps rows.
    let view = r.view("a.txt").unwrap();
    assert_eq!(view.step, s6);
    let line = &view.lines[1];
    assert_eq!((line.origin.as_str(), line.model.as_deref()), ("codex", Some("codex-model")));
    let s2_ts =
        r.index.conn().query_row("select timestamp from steps where hash=?1", [s2.to_hex()], |r| r.get::<_, i64>(0));
    assert_eq!(line.timestamp, s2_ts.unwrap());

    // As of s3 (timestamp, hash): the version s3 recorded.
    let s3_ts: i64 =
        r.index.conn().query_row("select timestamp from steps where hash=?1", [s3.to_hex()], |r| r.get(0)).unwrap();
    let at = blame_lookup(&r.index, &r.store, "a.txt", Some((s3_ts, s3)), None).unwrap().unwrap();
    assert_eq!(at.step, s3);
    let steps: Vec<_> = at.lines.iter().map(|l| l.step).collect();
    assert_eq!(steps, [s1, s2, s3, s2, s1]);
    // As of s4 (which did not change a.txt): still s3's version.
    let s4_ts: i64 =
        r.index.conn().query_row("select timestamp from steps where hash=?1", [s4.to_hex()], |r| r.get(0)).unwrap();
    let at = blame_lookup(&r.index, &r.store, "a.txt", Some((s4_ts, s4)), None).unwrap().unwrap();
    assert_eq!(at.step, s3);
    // Before the first step nothing is recorded.
    assert!(blame_lookup(&r.index, &r.store, "a.txt", Some((0, s1)), None).unwrap().is_none());
    assert!(r.flag().is_none());

    // A full rebuild replays the same steps and reproduces every row and object.
    let before = r.blame_state();
    // a.txt: s1 s2 s3 s5 s6; b.txt: s1 s4; c.txt: s3; d.txt: s5; r.txt: s3 s4 s6.
    assert_eq!(before.0.len(), 5 + 2 + 1 + 1 + 3);
    let Repo { _dir, store, index } = r;
    drop(index);
    let stats = rebuild(&store).unwrap();
    assert!(stats.problems.is_empty(), "{:?}", stats.problems);
    let r = Repo { _dir, index: Index::open(&store).unwrap(), store };
    assert_eq!(r.blame_state(), before);
    assert!(r.flag().is_none());
    assert_eq!(r.blame("r.txt"), expect(&[("b", s6), ("a", s3)]));
}

#[test]
fn a_set_flag_turns_incremental_blame_off_until_reindex() {
    let mut r = Repo::new();
    r.index.set_meta(meta_keys::BLAME_NEEDS_REINDEX, "1").unwrap();
    let (id, step) = r.commit_only("claude", "s", "t1", &[("x.txt", b"x\n")]);
    let outcome = record_blame_for_commit(&mut r.index, &r.store, &id, &step).unwrap();
    assert_eq!(outcome, BlameCommitOutcome::SkippedNeedsReindex);
    assert_eq!(r.rows_for("x.txt"), 0);
    let stats = reindex_blame(&mut r.index, &r.store).unwrap();
    assert!(stats.failures.is_empty());
    assert_eq!((stats.steps, stats.recorded.rows), (1, 1));
    assert!(r.flag().is_none());
    assert_eq!(r.blame("x.txt"), expect(&[("x", id), ("", id)]));
}

/// Arrivals (pull, import): an index behind the refs is replayed and blame rebuilt; a flag
/// left by a process killed between its replay and its rebuild makes the next call
/// rebuild although the index is in sync; with neither, blame is left alone.
#[test]
fn reconcile_arrivals_rebuilds_after_a_replay_or_an_interrupted_one() {
    let mut r = Repo::new();
    let (id, _) = r.commit_only("claude", "s", "t1", &[("x.txt", b"x\n")]);
    let quiet = reconcile_arrivals(&r.store, &mut r.index).unwrap();
    assert_eq!((quiet.repaired, r.rows_for("x.txt")), (0, 0), "in sync and no flag: no rebuild");

    r.index.set_meta(meta_keys::BLAME_NEEDS_REINDEX, "1").unwrap();
    let resumed = reconcile_arrivals(&r.store, &mut r.index).unwrap();
    assert_eq!(resumed.repaired, 0);
    assert!(r.flag().is_none());
    assert_eq!(r.blame("x.txt"), expect(&[("x", id), ("", id)]));

    // Objects and a ref arrive unindexed (as a pull writes them): the index is behind.
    let mut other = Repo::new();
    let (arrived, _) = other.commit_only("codex", "t", "t1", &[("y.txt", b"y\n")]);
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(other.store.root().join("objects/."))
        .arg(r.store.root().join("objects"))
        .status()
        .unwrap();
    assert!(copied.success());
    let session = crate::store::SessionRef::new("codex", "t");
    let target = r.store.refs().path(&session);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::copy(other.store.refs().path(&session), &target).unwrap();
    let replayed = reconcile_arrivals(&r.store, &mut r.index).unwrap();
    assert_eq!(replayed.repaired, 1);
    assert!(r.flag().is_none());
    assert_eq!(r.blame("y.txt"), expect(&[("y", arrived), ("", arrived)]));
    assert_eq!(r.blame("x.txt"), expect(&[("x", id), ("", id)]));
}

#[test]
fn out_of_order_recording_is_detected_and_reindex_repairs_it() {
    let mut r = Repo::new();
    let (a, step_a) = r.commit_only("claude", "s1", "t1", &[("x.txt", b"one\n")]);
    let (b, step_b) = r.commit_only("codex", "s2", "t1", &[("x.txt", b"one\ntwo\n")]);
    // The later step records first (as a concurrent finalize could).
    let cap = DEFAULT_MAX_FILE_BYTES;
    record_commit_with(&mut r.index, &r.store, &b, &step_b, FINALIZE_CHANGE_LIMIT, cap).unwrap();
    let err = record_commit_with(&mut r.index, &r.store, &a, &step_a, FINALIZE_CHANGE_LIMIT, cap).unwrap_err();
    assert!(matches!(err, Error::BlameOutOfOrder { .. }), "{err:?}");
    assert_eq!(err.code(), "blame_out_of_order");
    assert_eq!(r.flag().as_deref(), Some("1"));
    let (c, step_c) = r.commit_only("claude", "s1", "t2", &[("x.txt", b"one\ntwo\nthree\n")]);
    let outcome = record_commit_with(&mut r.index, &r.store, &c, &step_c, FINALIZE_CHANGE_LIMIT, cap).unwrap();
    assert_eq!(outcome, BlameCommitOutcome::SkippedNeedsReindex);

    let stats = reindex_blame(&mut r.index, &r.store).unwrap();
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert!(r.flag().is_none());
    assert_eq!(r.blame("x.txt"), expect(&[("one", a), ("two", b), ("three", c), ("", a)]));
}

#[test]
fn recording_the_same_step_twice_is_idempotent() {
    let mut r = Repo::new();
    r.commit("claude", "s", "t1", &[("x.txt", b"one\n")]);
    let (id, step) = r.commit_only("claude", "s", "t2", &[("x.txt", b"one\ntwo\n")]);
    let cap = DEFAULT_MAX_FILE_BYTES;
    record_commit_with(&mut r.index, &r.store, &id, &step, FINALIZE_CHANGE_LIMIT, cap).unwrap();
    let before = r.blame_state();
    let again = record_commit_with(&mut r.index, &r.store, &id, &step, FINALIZE_CHANGE_LIMIT, cap).unwrap();
    assert!(matches!(again, BlameCommitOutcome::Recorded(BlameRecordStats { rows: 1, objects_written: 0, .. })));
    assert_eq!(r.blame_state(), before);
}

#[test]
fn too_many_changed_files_fails_and_leaves_the_flag_set() {
    let mut r = Repo::new();
    let (id, step) = r.commit_only("claude", "s", "t1", &[("a", b"1"), ("b", b"2"), ("c", b"3")]);
    let err = record_commit_with(&mut r.index, &r.store, &id, &step, 2, DEFAULT_MAX_FILE_BYTES).unwrap_err();
    assert!(matches!(err, Error::BlameChangeLimitExceeded { limit: 2 }));
    assert_eq!(err.code(), "blame_change_limit_exceeded");
    assert_eq!(r.flag().as_deref(), Some("1"));
    assert_eq!(r.blame_state().0.len(), 0);
    // Exactly at the limit is fine; rebuild has no limit.
    let stats = record_with_cap(r.index.conn(), &r.store, &id, &step, Some(3), DEFAULT_MAX_FILE_BYTES).unwrap();
    assert_eq!(stats.rows, 3);
}

#[test]
fn a_blame_that_does_not_match_its_blob_needs_reindex() {
    let mut r = Repo::new();
    let first = r.commit("claude", "s", "t1", &[("x.txt", b"one\ntwo\n")]);
    // Corrupt the recorded blame: one line instead of three.
    let bad = Blame { path: "x.txt".into(), lines: vec![BlameLine { step: first }] };
    let (bad_id, _) = r.store.write_object(&bad.encode()).unwrap();
    r.index.conn().execute("update blame_maps set blame_hash=?1", [bad_id.to_hex()]).unwrap();
    let (id, step) = r.commit_only("claude", "s", "t2", &[("x.txt", b"one\ntwo\nthree\n")]);
    let err = record_commit_with(&mut r.index, &r.store, &id, &step, FINALIZE_CHANGE_LIMIT, DEFAULT_MAX_FILE_BYTES)
        .unwrap_err();
    assert!(matches!(err, Error::BlameLengthMismatch { blame_lines: 1, file_lines: 3, .. }), "{err:?}");
    assert_eq!(r.flag().as_deref(), Some("1"));
    assert_eq!(r.rows_for("x.txt"), 1);
}

#[test]
fn lookup_falls_back_for_steps_missing_from_the_index_and_truncates() {
    let mut r = Repo::new();
    let s1 = r.commit("claude", "s", "t1", &[("x.txt", b"one\ntwo\n")]);
    let s2 = r.commit("codex", "s2", "t1", &[("x.txt", b"one\nTWO\n")]);
    let ts2: i64 = r
        .index
        .conn()
        .query_row("select timestamp from blame_maps where step_hash=?1", [s2.to_hex()], |r| r.get(0))
        .unwrap();
    // s2's steps row is gone: origin and timestamp come from its blame_maps row.
    r.index.conn().execute("delete from messages where step_hash=?1", [s2.to_hex()]).unwrap();
    r.index.conn().execute("delete from steps where hash=?1", [s2.to_hex()]).unwrap();
    // A blame naming a step the index has never seen, and one line short of the blob.
    let ghost = ObjectId::of(b"ghost");
    let blame = Blame { path: "x.txt".into(), lines: vec![BlameLine { step: ghost }, BlameLine { step: s2 }] };
    let (blame_id, _) = r.store.write_object(&blame.encode()).unwrap();
    r.index
        .conn()
        .execute("update blame_maps set blame_hash=?1 where step_hash=?2", [blame_id.to_hex(), s2.to_hex()])
        .unwrap();
    let view = r.view("x.txt").unwrap();
    assert_eq!(view.lines.len(), 2);
    assert_eq!(
        (view.lines[0].origin.as_str(), view.lines[0].model.as_deref(), view.lines[0].timestamp),
        ("unknown", None, 0)
    );
    assert_eq!(
        (view.lines[1].origin.as_str(), view.lines[1].model.as_deref(), view.lines[1].timestamp),
        ("codex", None, ts2)
    );
    assert_eq!(view.lines[1].text, "TWO");
    let _ = s1;
}

#[test]
fn lookup_refuses_files_over_the_cap() {
    let mut r = Repo::new();
    r.commit("claude", "s", "t1", &[("x.txt", b"0123456789\n")]);
    let err = blame_lookup(&r.index, &r.store, "x.txt", None, Some(5)).unwrap_err();
    assert_eq!(err.code(), "file_too_large");
    assert!(blame_lookup(&r.index, &r.store, "x.txt", None, None).unwrap().is_some());
    assert!(blame_lookup(&r.index, &r.store, "nope", None, None).unwrap().is_none());
    assert_eq!(Error::NoBlame { path: "nope".into() }.code(), "no_blame");
}

#[test]
fn crlf_and_empty_files() {
    let mut r = Repo::new();
    let s1 = r.commit("claude", "s", "t1", &[("e.txt", b""), ("w.txt", b"a\r\nb\r\n")]);
    assert_eq!(r.blame("e.txt"), expect(&[("", s1)]));
    // Only line endings changed: the canonical splitter sees the same lines, but the blob
    // changed, so a row is recorded with every attribution kept.
    let s2 = r.commit("claude", "s", "t2", &[("e.txt", b"x"), ("w.txt", b"a\nb\n")]);
    assert_eq!(r.blame("w.txt"), expect(&[("a", s1), ("b", s1), ("", s1)]));
    assert_eq!(r.rows_for("w.txt"), 2);
    // "" (one empty line) → "x": a replacement.
    assert_eq!(r.blame("e.txt"), expect(&[("x", s2)]));
    let mut by_path = BTreeMap::new();
    for path in ["e.txt", "w.txt"] {
        by_path.insert(path, r.rows_for(path));
    }
    assert_eq!(by_path, BTreeMap::from([("e.txt", 2), ("w.txt", 2)]));
}
