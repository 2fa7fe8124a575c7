//! `agit demo`: record a realistic sample session through the real hook commands.
//!
//! Creates a small git repository, runs `agit init` there, then plays a three-turn
//! Claude Code session: each turn sends the same hook payloads Claude Code sends
//! (`claude-hook user`, `claude-tool-batch-hook`, `claude-hook assistant`) to a child
//! `agit` process, editing files in between the way the agent would.

use std::io::{self, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use serde::Serialize;
use serde_json::json;

use agit_core::index::Index;
use agit_core::{Error, SessionRef, Store};

use crate::Context;
use crate::cli::DemoArgs;
use crate::output::{CliError, Diagnostic, Report};
use crate::render::Style;

const SESSION: &str = "demo-session-1";

/// One scripted turn: the prompt, the files the agent writes, its tool calls, its reply.
struct Turn {
    prompt: &'static str,
    writes: &'static [(&'static str, &'static str)],
    tools: &'static [(&'static str, &'static str, &'static str)],
    reply: &'static str,
}

const TURNS: [Turn; 3] = [
    Turn {
        prompt: "Add a `greet` function to src/lib.rs that returns \"Hello, <name>!\" and a test for it.",
        writes: &[(
            "src/lib.rs",
            "/// Greets someone by name.\npub fn greet(name: &str) -> String {\n    format!(\"Hello, {name}!\")\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn greets() {\n        assert_eq!(super::greet(\"Ada\"), \"Hello, Ada!\");\n    }\n}\n",
        )],
        tools: &[
            ("Read", r#"{"file_path":"src/lib.rs"}"#, "(empty file)"),
            ("Edit", r#"{"file_path":"src/lib.rs"}"#, "The file src/lib.rs has been updated."),
            ("Bash", r#"{"command":"cargo test"}"#, "test tests::greets ... ok\ntest result: ok. 1 passed; 0 failed"),
        ],
        reply: "Added `greet` with a unit test; `cargo test` passes.",
    },
    Turn {
        prompt: "Handle an empty name: greet(\"\") should return \"Hello, world!\".",
        writes: &[(
            "src/lib.rs",
            "/// Greets someone by name (or the world when the name is empty).\npub fn greet(name: &str) -> String {\n    let name = if name.is_empty() { \"world\" } else { name };\n    format!(\"Hello, {name}!\")\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn greets() {\n        assert_eq!(super::greet(\"Ada\"), \"Hello, Ada!\");\n    }\n\n    #[test]\n    fn greets_the_world() {\n        assert_eq!(super::greet(\"\"), \"Hello, world!\");\n    }\n}\n",
        )],
        tools: &[
            ("Edit", r#"{"file_path":"src/lib.rs"}"#, "The file src/lib.rs has been updated."),
            ("Bash", r#"{"command":"cargo test"}"#, "test result: ok. 2 passed; 0 failed"),
        ],
        reply: "Empty names now greet the world; added a test.",
    },
    Turn {
        prompt: "Document the crate in README.md.",
        writes: &[(
            "README.md",
            "# greeter\n\n`greet(name)` returns a friendly greeting.\n\n```rust\nassert_eq!(greeter::greet(\"Ada\"), \"Hello, Ada!\");\n```\n",
        )],
        tools: &[("Write", r#"{"file_path":"README.md"}"#, "File created successfully at: README.md")],
        reply: "README.md now explains `greet` with an example.",
    },
];

#[derive(Serialize)]
pub struct DemoReport {
    /// The demo repository.
    path: String,
    session: String,
    sessions: i64,
    steps: i64,
    turns: Vec<DemoTurn>,
}

#[derive(Serialize)]
struct DemoTurn {
    step: String,
    turn_id: String,
    prompt: String,
    outcome: Option<String>,
    files: usize,
}

pub fn run(args: &DemoArgs, ctx: &Context) -> Result<DemoReport, CliError> {
    let dir = match &args.dir {
        Some(dir) => ctx.cwd.join(dir),
        None => std::env::temp_dir().join(format!("agit-demo-{}", std::process::id())),
    };
    if dir.exists() && std::fs::read_dir(&dir).map_err(|e| Error::io("read", &dir, e))?.next().is_some() {
        return Err(CliError::new(
            Diagnostic::new("demo_dir_not_empty", format!("{} is not empty", dir.display()))
                .hint("Pass --dir with a new or empty directory."),
        ));
    }
    let exe = std::env::current_exe().map_err(|e| Error::io("locate", "agit", e))?;
    setup_repo(&dir, &exe)?;
    for turn in &TURNS {
        play(&dir, &exe, turn)?;
    }
    summarize(&dir)
}

fn setup_repo(dir: &Path, exe: &Path) -> Result<(), CliError> {
    write(dir, "Cargo.toml", "[package]\nname = \"greeter\"\nversion = \"0.1.0\"\nedition = \"2024\"\n")?;
    write(dir, "src/lib.rs", "")?;
    write(dir, "README.md", "# greeter\n")?;
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &["-c", "user.name=demo", "-c", "user.email=demo@example.invalid", "commit", "-qm", "Start greeter"],
    ] {
        // Without git the demo still records; it just has no git context.
        let _ = Command::new("git").args(args).current_dir(dir).stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
    let status = Command::new(exe).arg("init").current_dir(dir).stdout(Stdio::null()).status();
    match status {
        Ok(s) if s.success() => Ok(()),
        _ => Err(CliError::new(Diagnostic::new("demo_failed", "`agit init` failed in the demo repository"))),
    }
}

fn play(dir: &Path, exe: &Path, turn: &Turn) -> Result<(), CliError> {
    let cwd = dir.display().to_string();
    let base = |event: &str| json!({"session_id": SESSION, "cwd": cwd, "hook_event_name": event, "transcript_path": format!("{cwd}/.claude-demo.jsonl")});
    let mut prompt = base("UserPromptSubmit");
    prompt["prompt"] = json!(turn.prompt);
    hook(dir, exe, &["claude-hook", "user"], &prompt)?;
    for (path, content) in turn.writes {
        write(dir, path, content)?;
    }
    let mut batch = base("PostToolBatch");
    batch["tool_calls"] = turn
        .tools
        .iter()
        .enumerate()
        .map(|(i, (name, input, output))| {
            let input: serde_json::Value = serde_json::from_str(input).unwrap_or(json!({}));
            json!({"tool_name": name, "tool_input": input, "tool_use_id": format!("toolu_{i:02}"), "tool_response": output})
        })
        .collect();
    hook(dir, exe, &["claude-tool-batch-hook"], &batch)?;
    let mut stop = base("Stop");
    stop["last_assistant_message"] = json!(turn.reply);
    stop["stop_hook_active"] = json!(false);
    hook(dir, exe, &["claude-hook", "assistant"], &stop)
}

fn hook(dir: &Path, exe: &Path, args: &[&str], payload: &serde_json::Value) -> Result<(), CliError> {
    let failed = |why: String| {
        CliError::new(Diagnostic::new("demo_failed", format!("hook `agit {}` failed: {why}", args.join(" "))))
    };
    let mut child = Command::new(exe)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(payload.to_string().as_bytes()).map_err(|e| failed(e.to_string()))?;
    }
    let output = child.wait_with_output().map_err(|e| failed(e.to_string()))?;
    if !output.stderr.is_empty() {
        // Hooks exit 0 even on failure; anything on stderr means the turn was not recorded.
        return Err(failed(String::from_utf8_lossy(&output.stderr).trim().to_owned()));
    }
    Ok(())
}

fn write(dir: &Path, rel: &str, content: &str) -> Result<(), CliError> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    std::fs::write(&path, content).map_err(|e| Error::io("write", &path, e))?;
    Ok(())
}

fn summarize(dir: &Path) -> Result<DemoReport, CliError> {
    let store = Store::open(dir)?;
    let index = Index::open(&store)?;
    let count = |sql: &str| -> Result<i64, CliError> {
        Ok(index.conn().query_row(sql, [], |r| r.get(0)).map_err(Error::index("count"))?)
    };
    let mut turns = Vec::new();
    let mut cursor = store.refs().read(&SessionRef::new("claude", SESSION))?;
    while let Some(id) = cursor {
        let step = store.read_step(&id)?;
        let files = store.read_tree(&step.tree)?.entries.len();
        turns.push(DemoTurn {
            step: id.to_hex(),
            turn_id: step.turn_id.clone(),
            prompt: step.messages.first().map(|m| m.content.clone()).unwrap_or_default(),
            outcome: step.outcome.clone(),
            files,
        });
        cursor = step.parent;
    }
    turns.reverse();
    Ok(DemoReport {
        path: dir.display().to_string(),
        session: format!("claude/{SESSION}"),
        sessions: count("select count(*) from sessions where head_hash is not null")?,
        steps: count("select count(*) from steps")?,
        turns,
    })
}

impl Report for DemoReport {
    fn human(&self, out: &mut dyn Write, _: &Style) -> io::Result<()> {
        writeln!(out, "Recorded a sample Claude Code session through agit's hook commands.\n")?;
        writeln!(out, "  repository  {}", self.path)?;
        writeln!(out, "  session     {}", self.session)?;
        writeln!(out, "  steps       {}\n", self.steps)?;
        for turn in &self.turns {
            writeln!(
                out,
                "  {}  {:<10} {:<8} {}",
                &turn.step[..12],
                turn.turn_id,
                turn.outcome.as_deref().unwrap_or("-"),
                turn.prompt
            )?;
        }
        writeln!(out, "\nLook around:")?;
        writeln!(out, "  cd {}", self.path)?;
        writeln!(out, "  agit status                 the dashboard")?;
        writeln!(out, "  agit log                    the session's steps")?;
        writeln!(out, "  agit blame src/lib.rs       which step wrote each line")?;
        writeln!(out, "  agit timeline --json        the same history as JSON")?;
        Ok(())
    }
}
