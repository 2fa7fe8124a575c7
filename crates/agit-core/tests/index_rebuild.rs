//! The incremental write path and a full rebuild must produce the same index rows.

use std::collections::BTreeMap;

use agit_core::blame::{BlameCommitOutcome, record_blame_for_commit};
use agit_core::commit::{AppendOutcome, append_step};
use agit_core::index::{Index, ObjectRecord, rebuild};
use agit_core::object::{Message, ObjectKind, Step, ToolCall, Tree, TreeEntry};
use agit_core::{ObjectId, Store};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Turn {
    session: (u8, u8),
    prompt: String,
    files: BTreeMap<String, String>,
    calls: Vec<(String, String, Option<String>)>,
}

fn turn() -> impl Strategy<Value = Turn> {
    (
        (0u8..2, 0u8..3),
        "\\PC{0,40}",
        prop::collection::btree_map("[a-c]{1,2}(/[a-c]{1,2})?", "[a-z \n]{0,30}", 0..4),
        prop::collection::vec(("[A-Z][a-z]{0,6}", "\\PC{0,20}", prop::option::of("[a-z0-9 ]{0,20}")), 0..3),
    )
        .prop_map(|(session, prompt, files, calls)| Turn { session, prompt, files, calls })
}

fn write_turn(store: &Store, index: &mut Index, n: usize, turn: &Turn) -> AppendOutcome {
    let mut objects = Vec::new();
    let mut entries = Vec::new();
    for (path, content) in &turn.files {
        let (id, _) = store.write_object(content.as_bytes()).unwrap();
        objects.push(ObjectRecord { id, kind: ObjectKind::Blob, size: content.len() as u64 });
        entries.push(TreeEntry::file(path.clone(), id, content.len() as u64));
    }
    // "a" and "a/b" cannot both be files; keep the first of such pairs.
    entries.dedup_by(|b, a| b.path.starts_with(&format!("{}/", a.path)));
    let tree = Tree::new(entries).encode();
    let (tree_id, _) = store.write_object(&tree).unwrap();
    objects.push(ObjectRecord { id: tree_id, kind: ObjectKind::Tree, size: tree.len() as u64 });
    let origin = ["claude", "codex"][usize::from(turn.session.0)];
    let step = Step {
        parent: None,
        tree: tree_id,
        session_id: format!("s{}", turn.session.1),
        origin: origin.into(),
        model: Some("m".into()),
        turn_id: format!("agturn:{n}"),
        causes: vec![],
        timestamp: index.next_step_timestamp(1_700_000_000_000).unwrap(),
        messages: vec![
            Message { role: "user".into(), content: turn.prompt.clone() },
            Message { role: "assistant".into(), content: "done".into() },
        ],
        tool_calls: turn
            .calls
            .iter()
            .map(|(n, a, r)| ToolCall { tool_name: n.clone(), args: a.clone(), result: r.clone() })
            .collect(),
        outcome: Some("unknown".into()),
        git_commit: None,
        git_branch: None,
        git_dirty: None,
    };
    let outcome = append_step(store, index, step, &objects).unwrap();
    // Finalize records blame after each commit; a rebuild replays it.
    if let AppendOutcome::Committed { id, step } = &outcome {
        let blame = record_blame_for_commit(index, store, id, step).unwrap();
        assert!(matches!(blame, BlameCommitOutcome::Recorded(_)));
    }
    outcome
}

/// Every row that is derivable from objects and refs (counters and wall-clock columns
/// excluded), as sorted text.
fn rows(index: &Index) -> BTreeMap<&'static str, Vec<String>> {
    let queries = [
        ("sessions", "select origin, session_id, head_hash from sessions order by 1, 2"),
        ("steps", "select * from steps order by hash"),
        ("messages", "select step_hash, seq, role, content from messages order by 1, 2"),
        ("tool_calls", "select step_hash, seq, tool_name, args, result from tool_calls order by 1, 2"),
        (
            "search",
            "select entry_kind, origin, session_id, turn_id, step_hash, timestamp, seq, label, content
             from search_entries order by step_hash, entry_kind, seq",
        ),
        ("objects", "select hash, kind, size from objects order by hash"),
        ("evaluations", "select * from evaluations order by hash"),
        ("blame_maps", "select * from blame_maps order by path, step_hash"),
        ("meta", "select key, value from meta where key not like 'metrics.%' order by key"),
    ];
    let mut out = BTreeMap::new();
    for (name, sql) in queries {
        let mut stmt = index.conn().prepare(sql).unwrap();
        let columns = stmt.column_count();
        let found = stmt
            .query_map([], |r| {
                (0..columns)
                    .map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}")))
                    .collect::<Result<Vec<_>, _>>()
                    .map(|cols| cols.join("|"))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        out.insert(name, found);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn rebuild_matches_incremental(turns in prop::collection::vec(turn(), 1..12)) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::init(dir.path()).unwrap();
        let mut index = Index::open(&store).unwrap();
        for (n, t) in turns.iter().enumerate() {
            let outcome = write_turn(&store, &mut index, n, t);
            prop_assert!(matches!(outcome, AppendOutcome::Committed { .. }), "turn {} not committed", n);
        }
        let incremental = rows(&index);
        drop(index);
        let stats = rebuild(&store).unwrap();
        prop_assert!(stats.problems.is_empty(), "{:?}", stats.problems);
        let rebuilt = rows(&Index::open(&store).unwrap());
        for (table, found) in &incremental {
            prop_assert_eq!(found, &rebuilt[table], "table {}", table);
        }
    }
}

#[test]
fn a_turn_id_is_recorded_once_and_the_chain_links() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::init(dir.path()).unwrap();
    let mut index = Index::open(&store).unwrap();
    let t = Turn { session: (0, 0), prompt: "p".into(), files: BTreeMap::new(), calls: vec![] };
    let AppendOutcome::Committed { id: first, .. } = write_turn(&store, &mut index, 1, &t) else { panic!() };
    let again = write_turn(&store, &mut index, 1, &t);
    assert_eq!(again, AppendOutcome::DuplicateTurn { existing: first });
    let AppendOutcome::Committed { step, .. } = write_turn(&store, &mut index, 2, &t) else { panic!() };
    assert_eq!(step.parent, Some(first));
}

#[test]
fn reconcile_replays_steps_whose_ref_moved_past_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::init(dir.path()).unwrap();
    let mut index = Index::open(&store).unwrap();
    let t = Turn { session: (1, 1), prompt: "p".into(), files: BTreeMap::new(), calls: vec![] };
    write_turn(&store, &mut index, 1, &t);
    // Another tool advances the ref with a step the index has never seen.
    let session = agit_core::SessionRef::new("codex", "s1");
    let head = store.refs().read(&session).unwrap().unwrap();
    let mut next = store.read_step(&head).unwrap();
    next.parent = Some(head);
    next.turn_id = "external".into();
    next.timestamp += 10;
    let (next_id, _) = store.write_object(&next.encode()).unwrap();
    store.refs().compare_and_swap(&session, Some(head), next_id).unwrap();
    let state = agit_core::index::reconcile_session(&store, &mut index, &session).unwrap();
    assert_eq!(state, agit_core::index::SessionState::Repaired { steps: 1 });
    assert!(index.has_step(&next_id).unwrap());
    let head_row: String = index
        .conn()
        .query_row("select head_hash from sessions where origin='codex' and session_id='s1'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ObjectId::parse(&head_row), Some(next_id));
}
