use super::*;
use crate::object::{Message, ToolCall};

fn sig(f: impl FnOnce(&mut EvalSignals)) -> EvalSignals {
    let mut s = EvalSignals::default();
    f(&mut s);
    s
}

fn step(messages: &[(&str, &str)], calls: &[(&str, &str, Option<&str>)]) -> Step {
    Step {
        parent: None,
        tree: ObjectId::of(b""),
        session_id: "s".into(),
        origin: "codex".into(),
        model: None,
        turn_id: "t".into(),
        causes: vec![],
        timestamp: 1,
        messages: messages.iter().map(|(r, c)| Message { role: (*r).into(), content: (*c).into() }).collect(),
        tool_calls: calls
            .iter()
            .map(|(n, a, r)| ToolCall { tool_name: (*n).into(), args: (*a).into(), result: r.map(Into::into) })
            .collect(),
        outcome: None,
        git_commit: None,
        git_branch: None,
        git_dirty: None,
    }
}

fn rated(d: &crate::object::Dimension) -> (&str, i64, &str, &str) {
    (d.rating.as_str(), d.score, d.confidence.as_str(), d.reasons[0].as_str())
}

#[test]
fn goal_clarity_thresholds() {
    // 55 = 1×15 + 2×20 → good; 50 → mixed; 25 → mixed; 20 → bad; capped at 100.
    let g = goal_clarity(&sig(|s| (s.concrete_terms, s.success_criteria_phrases) = (1, 2)));
    assert_eq!(rated(&g), ("good", 55, "medium", "Initial prompt includes concrete task terms or success criteria."));
    let g = goal_clarity(&sig(|s| (s.concrete_terms, s.success_criteria_phrases) = (2, 1)));
    assert_eq!(
        rated(&g),
        ("mixed", 50, "low", "Initial prompt has some concrete language but limited success criteria.")
    );
    let g = goal_clarity(&sig(|s| (s.concrete_terms, s.success_criteria_phrases) = (3, 0))).score;
    assert_eq!(g, 45);
    let g = goal_clarity(&sig(|s| (s.concrete_terms, s.success_criteria_phrases) = (0, 1)));
    assert_eq!(rated(&g).0, "bad");
    assert_eq!(
        rated(&g),
        ("bad", 20, "medium", "Initial prompt is too vague to infer a clear goal from captured evidence.")
    );
    assert_eq!(goal_clarity(&sig(|s| s.concrete_terms = 2)).rating, "mixed"); // 30
    assert_eq!(goal_clarity(&sig(|s| s.concrete_terms = 1)).rating, "bad"); // 15
    assert_eq!(goal_clarity(&sig(|s| (s.concrete_terms, s.success_criteria_phrases) = (11, 6))).score, 100);
}

#[test]
fn execution_focus_thresholds() {
    let e = execution_focus(&EvalSignals::default());
    assert_eq!(rated(&e), ("unknown", 0, "low", "No tool calls were captured for focus analysis."));
    let e = execution_focus(&sig(|s| (s.tool_calls, s.related_tool_calls) = (2, 1)));
    assert_eq!(rated(&e), ("good", 50, "medium", "Tool activity overlaps with terms from the initial prompt."));
    let e = execution_focus(&sig(|s| (s.tool_calls, s.related_tool_calls) = (3, 1)));
    assert_eq!(rated(&e), ("mixed", 33, "low", "Tool activity has limited textual overlap with the initial prompt."));
}

#[test]
fn failure_recovery_rules() {
    let f = failure_recovery(&EvalSignals::default());
    assert_eq!(rated(&f), ("good", 90, "medium", "No obvious tool failure output was captured."));
    let f = failure_recovery(&sig(|s| (s.error_results, s.recovered_errors, s.repeated_failures) = (3, 1, 1)));
    assert_eq!(rated(&f), ("mixed", 55, "medium", "Captured errors were followed by at least one non-error result."));
    let f = failure_recovery(&sig(|s| (s.error_results, s.repeated_failures) = (2, 1)));
    assert_eq!(rated(&f), ("bad", 15, "high", "The session repeated failure output without captured recovery."));
    let f = failure_recovery(&sig(|s| s.error_results = 1));
    assert_eq!(rated(&f), ("mixed", 40, "medium", "Tool failures were captured without enough evidence of recovery."));
}

#[test]
fn verification_and_completion_rules() {
    let v = verification(&sig(|s| s.verification_commands = 1));
    assert_eq!(rated(&v), ("good", 85, "high", "Captured tool calls include a test, build, or check command."));
    let v = verification(&EvalSignals::default());
    assert_eq!(rated(&v), ("bad", 10, "medium", "No test, build, or check command was captured."));
    let c = completion_signal(&sig(|s| s.final_summary_terms = 2));
    assert_eq!(rated(&c), ("good", 80, "medium", "Final assistant message mentions change or verification signals."));
    let c = completion_signal(&sig(|s| s.final_summary_terms = 1));
    assert_eq!(rated(&c), ("mixed", 50, "low", "Final assistant message has a limited completion signal."));
    let c = completion_signal(&EvalSignals::default());
    assert_eq!(
        rated(&c),
        ("bad", 10, "medium", "Final assistant message does not clearly summarize changes or verification.")
    );
}

#[test]
fn churn_risk_thresholds() {
    let c = churn_risk(&sig(|s| s.steps = 3));
    assert_eq!(rated(&c), ("good", 90, "medium", "No repeated command or repeated failure churn was detected."));
    let c = churn_risk(&sig(|s| s.steps = 4));
    assert_eq!(rated(&c), ("mixed", 55, "medium", "Some repeated activity suggests mild churn risk."));
    assert_eq!(churn_risk(&sig(|s| s.repeated_commands = 1)).rating, "mixed");
    let c = churn_risk(&sig(|s| (s.repeated_commands, s.repeated_failures) = (1, 1)));
    assert_eq!(rated(&c), ("bad", 20, "high", "Repeated commands or failures suggest high churn risk."));
    assert_eq!(churn_risk(&sig(|s| s.steps = 5)).rating, "bad");
}

fn dims_with(ratings: [&str; 6]) -> crate::object::Dimensions {
    let mut d = dimensions(&EvalSignals::default());
    for (slot, rating) in [
        &mut d.goal_clarity,
        &mut d.execution_focus,
        &mut d.failure_recovery,
        &mut d.verification,
        &mut d.completion_signal,
        &mut d.churn_risk,
    ]
    .into_iter()
    .zip(ratings)
    {
        slot.rating = rating.into();
    }
    d
}

#[test]
fn classification_rules() {
    assert_eq!(classify(&dims_with(["bad", "bad", "bad", "good", "good", "good"])), "bad");
    assert_eq!(classify(&dims_with(["good", "good", "good", "good", "mixed", "unknown"])), "good");
    assert_eq!(classify(&dims_with(["good", "good", "good", "good", "good", "bad"])), "mixed");
    assert_eq!(classify(&dims_with(["good", "good", "good", "mixed", "mixed", "unknown"])), "mixed");
    assert_eq!(classify(&dims_with(["mixed", "unknown", "mixed", "mixed", "mixed", "unknown"])), "unknown");
    assert_eq!(classify(&dims_with(["bad", "bad", "mixed", "mixed", "mixed", "unknown"])), "mixed");
}

#[test]
fn confidence_rules() {
    assert_eq!(assessment_confidence(&sig(|s| (s.steps, s.tool_calls) = (2, 2))), "high");
    assert_eq!(assessment_confidence(&sig(|s| (s.steps, s.tool_calls) = (2, 1))), "medium");
    assert_eq!(assessment_confidence(&sig(|s| (s.steps, s.tool_calls) = (1, 5))), "medium");
    assert_eq!(assessment_confidence(&sig(|s| (s.steps, s.tool_calls) = (3, 0))), "low");
    assert_eq!(assessment_confidence(&EvalSignals::default()), "low");
}

#[test]
fn evidence_hash_sorts_and_concatenates() {
    assert_eq!(captured_evidence_hash::<&str>(&[]), blake3::hash(b"").to_hex().to_string());
    assert_eq!(captured_evidence_hash::<&str>(&[]), "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
    let a = "a".repeat(64);
    let b = "b".repeat(64);
    let expected = blake3::hash(format!("{a}{b}").as_bytes()).to_hex().to_string();
    assert_eq!(captured_evidence_hash(&[&b, &a]), expected);
    assert_eq!(captured_evidence_hash(&[&a, &b]), expected);
}

#[test]
fn verification_terms_across_ecosystems() {
    for cmd in [
        "cargo test --workspace",
        "cargo nextest run",
        "go test ./...",
        "pytest -q",
        "python -m pytest tests/",
        "python3 -m pytest",
        "npm test",
        "pnpm test",
        "yarn test",
        "bun test",
        "npm run test -- --watch=false",
        "yarn run test",
        "npx vitest run",
        "vitest",
        "npx jest --ci",
        "make test",
        "make check",
        "./gradlew test",
        "gradle check",
        "mvn test",
        "./mvnw verify",
        "dotnet test MySln.sln",
        "zig build test",
        "zig build",
        "zig fmt --check && zig build check-fmt",
        r#"{"command":"CARGO TEST -p x"}"#,
    ] {
        assert!(is_verification_command(cmd), "{cmd}");
    }
    for cmd in ["ls -la", "cat majestic.txt", "git status", "echo protox", "cargo build", "npm install"] {
        assert!(!is_verification_command(cmd), "{cmd}");
    }
}

#[test]
fn lookahead_parsing() {
    assert_eq!(parse_lookahead("0"), Some(0));
    assert_eq!(parse_lookahead("24h"), Some(86_400_000));
    assert_eq!(parse_lookahead("2d"), Some(172_800_000));
    assert_eq!(parse_lookahead("0h"), Some(0));
    for bad in ["", "h", "1", "1m", "-1h", "1.5h", "x1d", "99999999999999999999d", "1 h"] {
        assert_eq!(parse_lookahead(bad), None, "{bad}");
    }
    assert_eq!(EvalOptions::default().lookahead_ms, 86_400_000);
}

#[test]
fn tokens_skip_short_words_and_stopwords() {
    assert_eq!(
        prompt_tokens("Fix the parser: should handle `a/b` JSON-input!"),
        vec!["parser", "handle", "json", "input"]
    );
}

#[test]
fn signals_count_calls_errors_and_terms() {
    let s1 = step(
        &[("user", "Implement the parser; tests should pass"), ("assistant", "working")],
        &[
            ("Bash", "cargo test parser", Some("error: 1 failed")),
            ("Bash", "cargo test parser", Some("error again")),
            ("Read", "src/lib.rs", None),
            ("Bash", "cargo test parser", Some("ok")),
        ],
    );
    let s2 = step(&[("assistant", "Implemented and tested the parser."), ("assistant", "")], &[]);
    let s = collect_signals(&[&s1, &s2]);
    assert_eq!(
        s,
        EvalSignals {
            concrete_terms: 2,           // implement, test
            success_criteria_phrases: 2, // should, pass
            tool_calls: 4,
            related_tool_calls: 3, // "parser" in args ("tests" does not occur in any call)
            error_results: 2,
            recovered_errors: 1,
            repeated_failures: 1,
            verification_commands: 3,
            final_summary_terms: 2,
            repeated_commands: 1,
            steps: 2,
        }
    );
    let a = assess(&s);
    // 4 good, churn bad (one repeated command + one repeated failure) → mixed.
    assert_eq!((a.classification.as_str(), a.confidence.as_str()), ("mixed", "high"));
    assert_eq!(a.dimensions.churn_risk.rating, "bad");
    assert!(dimension_list(&a.dimensions).iter().all(|(_, d)| d.signals == s));
}

#[test]
fn follow_up_downgrades_good_only() {
    let later = step(&[("user", "The CI failed after that")], &[]);
    let tool = step(&[("user", "hello")], &[("Bash", "gh run view", Some("Workflow has failed"))]);
    let quiet = step(&[("user", "thanks")], &[]);
    let f = follow_up(&[("h1".into(), &later), ("h2".into(), &tool), ("h3".into(), &quiet)]);
    assert_eq!(f.classification_delta, "downgrade");
    assert_eq!(
        f.signals.iter().map(|s| (s.step_hash.as_str(), s.phrase)).collect::<Vec<_>>(),
        [("h1", "ci failed"), ("h2", "workflow has failed")]
    );
    let mut good = assess(&EvalSignals::default());
    good.classification = "good".into();
    let c = current_assessment(&good, &f);
    assert_eq!((c.classification.as_str(), c.confidence.as_str()), ("mixed", "high"));
    good.classification = "bad".into();
    let c = current_assessment(&good, &f);
    assert_eq!((c.classification.as_str(), c.confidence.as_str()), ("bad", "high"));
    let none = follow_up(&[("h3".into(), &quiet)]);
    assert_eq!(none.classification_delta, "none");
    let c = current_assessment(&good, &none);
    assert_eq!((c.classification.as_str(), c.confidence.as_str()), ("bad", "low"));
}

#[test]
fn patterns_need_the_scope_signal_and_count_support() {
    let good = sig(|s| s.verification_commands = 1);
    let failing = sig(|s| (s.error_results, s.repeated_failures) = (2, 1));
    let baseline: Vec<_> = [good, good, good, failing].iter().map(|s| (*s, assess(s))).collect();
    let p = patterns(&good, &assess(&good), &baseline);
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].phrase, p[0].association, p[0].support, p[0].confidence),
        ("verification command", "higher_rated_sessions", 3, "medium")
    );
    let p = patterns(&failing, &assess(&failing), &baseline);
    assert_eq!(
        (p[0].phrase, p[0].dimension, p[0].support, p[0].confidence),
        ("repeated failure output", "failure_recovery", 1, "low")
    );
    assert!(patterns(&EvalSignals::default(), &assess(&EvalSignals::default()), &baseline).is_empty());
}
