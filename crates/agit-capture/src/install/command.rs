//! Building our hook handlers and recognising them again.
//!
//! A handler is ours when it runs an `agit` executable with one of the hook routes
//! ([`ROUTES`]): the program's file name is `agit` (any directory, or bare on `PATH`),
//! or the program is one of the binaries we know we wrote (the `_agit.binary` recorded
//! in the config, the binary being installed now). A known binary run without arguments
//! is ours too (the reference also matched a bare `<binary>`). Both handler forms are
//! understood:
//! - exec form (Claude): `{"command": "<AGIT>", "args": ["claude-hook", "user"]}`;
//! - shell form: `{"command": "<AGIT> codex-hook"}` — split into words with POSIX shell
//!   quoting rules (`'…'`, `"…"`, `\`); anything shell-like beyond plain words (`;`, `|`,
//!   `$(…)`, redirections, `env X=1 agit …`) is not ours.
//!
//! Legacy Copilot `hooks.json` handlers keep the command under `bash` instead of
//! `command`; both keys are checked.

use std::path::Path;

use super::agents::ROUTES;
use super::json::{Json, Object};

/// Quotes `word` for a POSIX shell when it is not a plain word.
pub(crate) fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._+-:@%,=".contains(&b))
        && !word.starts_with('-');
    if plain {
        return word.to_owned();
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('\'');
    for ch in word.chars() {
        if ch == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(ch);
        }
    }
    out.push('\'');
    out
}

/// Splits a shell command string into words. `None` when it uses anything beyond plain
/// words and quotes (operators, expansions, unbalanced quotes).
pub(crate) fn shell_split(command: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = command.chars();
    while let Some(ch) = chars.next() {
        match ch {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => word.push(c),
                            '\n' => {}
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        '$' | '`' => return None,
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next()? {
                    '\n' => {}
                    c => word.push(c),
                }
            }
            ';' | '&' | '|' | '<' | '>' | '(' | ')' | '$' | '`' => return None,
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// The handler object we write for `argv` (the arguments after the binary).
pub(crate) fn handler(binary: &str, argv: &[&str], exec_form: bool) -> Json {
    if exec_form {
        Json::Object(Object::from_pairs([
            ("type", Json::str("command")),
            ("command", Json::str(binary)),
            ("args", Json::Array(argv.iter().map(|a| Json::str(*a)).collect())),
        ]))
    } else {
        let mut command = shell_quote(binary);
        for arg in argv {
            command.push(' ');
            command.push_str(&shell_quote(arg));
        }
        Json::Object(Object::from_pairs([("type", Json::str("command")), ("command", Json::str(command))]))
    }
}

/// The matcher group holding one handler (no `matcher`: every tool / every occurrence).
pub(crate) fn group(handler: Json) -> Json {
    Json::Object(Object::from_pairs([("hooks", Json::Array(vec![handler]))]))
}

/// The program and arguments a handler object runs, if it names a command.
fn handler_argv(handler: &Object) -> Option<Vec<String>> {
    let command = handler.get("command").or_else(|| handler.get("bash"))?.as_str()?;
    match handler.get("args") {
        Some(Json::Array(args)) => {
            let mut argv = vec![command.to_owned()];
            for arg in args {
                argv.push(arg.as_str()?.to_owned());
            }
            Some(argv)
        }
        Some(_) => None,
        None => shell_split(command),
    }
}

fn is_agit_program(program: &str, known_binaries: &[String]) -> bool {
    let name = Path::new(program).file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name == "agit" || name == "agit.exe" || known_binaries.iter().any(|b| b == program)
}

/// Whether `value` is a handler object that runs agit (see the module docs).
pub(crate) fn is_agit_handler(value: &Json, known_binaries: &[String]) -> bool {
    let Some(object) = value.as_object() else {
        return false;
    };
    let Some(argv) = handler_argv(object) else {
        return false;
    };
    let Some((program, args)) = argv.split_first() else {
        return false;
    };
    if !is_agit_program(program, known_binaries) {
        return false;
    }
    match args.first() {
        Some(route) => ROUTES.contains(&route.as_str()),
        // A bare known binary (the reference matched `<binary>` alone too).
        None => known_binaries.iter().any(|b| b == program),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::install::json;

    fn h(text: &str) -> Json {
        json::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn quoting_round_trips_through_split() {
        for path in ["/usr/local/bin/agit", "/Users/Jane Doe/bin/agit", "/tmp/it's/agit", "/a/$HOME/\"x\"", ""] {
            let command = format!("{} codex-hook", shell_quote(path));
            assert_eq!(shell_split(&command).unwrap(), vec![path.to_owned(), "codex-hook".to_owned()]);
        }
        assert_eq!(shell_quote("/usr/bin/agit"), "/usr/bin/agit");
        assert_eq!(shell_quote("a b"), "'a b'");
    }

    #[test]
    fn split_rejects_shell_syntax() {
        for command in ["agit codex-hook; rm -rf /", "agit codex-hook | tee x", "$(which agit) codex-hook", "'open"] {
            assert_eq!(shell_split(command), None, "{command}");
        }
        assert_eq!(shell_split(r#""a\"b" c\ d"#).unwrap(), vec!["a\"b", "c d"]);
    }

    #[test]
    fn recognises_every_written_shape() {
        let known = vec!["/opt/tools/agit-dev".to_owned()];
        for yes in [
            r#"{"type":"command","command":"/usr/bin/agit","args":["claude-hook","user"]}"#,
            r#"{"type":"command","command":"/usr/bin/agit claude-tool-batch-hook"}"#,
            r#"{"command":"agit codex-hook"}"#,
            r#"{"command":"'/Users/Jane Doe/agit' gemini-hook"}"#,
            r#"{"command":"/opt/tools/agit-dev codex-hook"}"#,
            r#"{"command":"/opt/tools/agit-dev"}"#,
            r#"{"type":"command","bash":"/usr/bin/agit copilot-hook"}"#,
            r#"{"command":"~/bin/agit pi-hook # recorder"}"#,
        ] {
            assert!(is_agit_handler(&h(yes), &known), "{yes}");
        }
        for no in [
            r#"{"type":"command","command":"/usr/bin/agit","args":["log"]}"#,
            r#"{"command":"agit status"}"#,
            r#"{"command":"/opt/tools/agit-dev log --all"}"#,
            r#"{"command":"agit"}"#,
            r#"{"command":"/usr/bin/agitate codex-hook"}"#,
            r#"{"command":"env X=1 /usr/bin/agit codex-hook"}"#,
            r#"{"command":"/usr/bin/agit codex-hook && echo hi"}"#,
            r#"{"command":"echo agit codex-hook"}"#,
            r#"{"hooks":[{"command":"agit codex-hook"}]}"#,
            r#""agit codex-hook""#,
        ] {
            assert!(!is_agit_handler(&h(no), &known), "{no}");
        }
    }

    #[test]
    fn written_handlers_are_recognised() {
        for exec in [true, false] {
            let written = handler("/Users/Jane Doe/bin/agit", &["claude-hook", "user"], exec);
            assert!(is_agit_handler(&written, &[]));
        }
    }
}
