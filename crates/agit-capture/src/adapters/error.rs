//! Adapter errors, with the reference's stable codes and error-kind names.

use std::fmt;

/// Why a hook command line or payload was rejected.
///
/// [`AdapterError::code`] is the stable diagnostic code of `capture.md` §10 and
/// [`AdapterError::error_kind`] the reference's error name; both go into
/// `hook-error.log` unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    /// `agit claude-hook` without its `user|assistant|session-start` argument.
    #[error("claude hook subcommand is required")]
    MissingSubcommand,
    /// `agit claude-hook <value>` with an unknown argument.
    #[error("unknown claude hook subcommand `{value}` (expected user, assistant or session-start)")]
    UnknownSubcommand {
        /// The argument given.
        value: String,
    },
    /// The payload is larger than the accepted maximum; it was not parsed.
    #[error("hook payload exceeds the maximum accepted size ({payload_bytes} bytes > {max_payload_bytes} bytes)")]
    HookPayloadTooLarge {
        /// Size of the payload.
        payload_bytes: usize,
        /// The cap in force (`AGIT_HOOK_MAX_BYTES`, default 16 MiB).
        max_payload_bytes: usize,
    },
    /// The payload is not valid JSON.
    #[error(
        "hook payload is not valid JSON ({kind}) at byte offset {} (line {}, column {})",
        position.offset,
        position.line,
        position.column
    )]
    InvalidPayload {
        /// What is wrong.
        kind: JsonErrorKind,
        /// Where.
        position: JsonPosition,
    },
    /// The payload is valid JSON but its root is not an object.
    #[error("hook payload must be a JSON object, not {found}")]
    PayloadNotObject {
        /// The JSON type found at the root.
        found: &'static str,
    },
    /// A field the event needs is absent.
    #[error("hook payload is missing required field `{field}`")]
    MissingRequiredField {
        /// The field (dotted path for nested fields).
        field: &'static str,
    },
    /// A field is present with the wrong JSON type.
    #[error("hook payload field `{field}` must be {expected}, not {found}")]
    InvalidFieldType {
        /// The field (dotted path for nested fields).
        field: &'static str,
        /// The JSON type required (`a string`, `an object`, `an array`).
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// `hook_event_name` is not an event this route handles.
    #[error("hook event `{name}` is not handled by {adapter}")]
    UnknownEventName {
        /// The adapter (hook command) that received it.
        adapter: &'static str,
        /// The event name received.
        name: String,
    },
}

impl AdapterError {
    /// The stable snake_case diagnostic code (`oversized_payload`, `invalid_json_payload`, …).
    pub fn code(&self) -> &'static str {
        match self {
            AdapterError::MissingSubcommand => "missing_subcommand",
            AdapterError::UnknownSubcommand { .. } => "unknown_subcommand",
            AdapterError::HookPayloadTooLarge { .. } => "oversized_payload",
            AdapterError::InvalidPayload { .. } | AdapterError::PayloadNotObject { .. } => "invalid_json_payload",
            AdapterError::MissingRequiredField { .. } => "missing_required_field",
            AdapterError::InvalidFieldType { .. } => "invalid_field_type",
            AdapterError::UnknownEventName { .. } => "unknown_event_name",
        }
    }

    /// The reference's error name, logged as `error_kind` (`InvalidPayload`, …).
    pub fn error_kind(&self) -> &'static str {
        match self {
            AdapterError::MissingSubcommand => "MissingSubcommand",
            AdapterError::UnknownSubcommand { .. } => "UnknownSubcommand",
            AdapterError::HookPayloadTooLarge { .. } => "HookPayloadTooLarge",
            AdapterError::InvalidPayload { .. } | AdapterError::PayloadNotObject { .. } => "InvalidPayload",
            AdapterError::MissingRequiredField { .. } => "MissingRequiredField",
            AdapterError::InvalidFieldType { .. } => "InvalidFieldType",
            AdapterError::UnknownEventName { .. } => "UnknownEventName",
        }
    }

    /// The fixed human message of the code, logged as `message` (the `Display` text adds
    /// the specifics).
    pub fn message(&self) -> &'static str {
        match self {
            AdapterError::MissingSubcommand => "claude hook subcommand is required",
            AdapterError::UnknownSubcommand { .. } => "unknown claude hook subcommand",
            AdapterError::HookPayloadTooLarge { .. } => "hook payload exceeds the maximum accepted size",
            AdapterError::InvalidPayload { .. } | AdapterError::PayloadNotObject { .. } => {
                "hook payload is not valid JSON"
            }
            AdapterError::MissingRequiredField { .. } => "hook payload is missing a required field",
            AdapterError::InvalidFieldType { .. } => "hook payload field has the wrong type",
            AdapterError::UnknownEventName { .. } => "unknown hook event name",
        }
    }

    /// The payload field concerned, logged as `field`: `$` for JSON errors (as the
    /// reference), `hook_event_name` for an unknown event.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            AdapterError::InvalidPayload { .. } | AdapterError::PayloadNotObject { .. } => Some("$"),
            AdapterError::MissingRequiredField { field } | AdapterError::InvalidFieldType { field, .. } => Some(field),
            AdapterError::UnknownEventName { .. } => Some("hook_event_name"),
            AdapterError::MissingSubcommand
            | AdapterError::UnknownSubcommand { .. }
            | AdapterError::HookPayloadTooLarge { .. } => None,
        }
    }

    /// Where a JSON syntax error was found (`parse_offset`, `parse_line`, `parse_column`).
    pub fn position(&self) -> Option<JsonPosition> {
        match self {
            AdapterError::InvalidPayload { position, .. } => Some(*position),
            _ => None,
        }
    }
}

/// A place in the payload: 0-based byte offset, 1-based line and 1-based byte column
/// (the conventions of the reference's Zig JSON diagnostics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonPosition {
    /// Bytes before the error.
    pub offset: usize,
    /// Line number, counting `\n`.
    pub line: usize,
    /// Column in bytes within the line.
    pub column: usize,
}

impl JsonPosition {
    /// The position of byte `offset` in `bytes` (clamped to its length).
    pub fn locate(bytes: &[u8], offset: usize) -> JsonPosition {
        let offset = offset.min(bytes.len());
        let before = bytes.get(..offset).unwrap_or_default();
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        JsonPosition {
            offset,
            line: 1 + before.iter().filter(|&&b| b == b'\n').count(),
            column: offset - line_start + 1,
        }
    }
}

/// What made a payload invalid JSON. Messages never quote payload bytes (they may hold
/// secrets; the redacted snippet shows context instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// The input ended inside a value (or was empty).
    UnexpectedEnd,
    /// A byte that cannot start a value.
    UnexpectedCharacter,
    /// A misspelt `true`, `false` or `null`.
    InvalidLiteral,
    /// A malformed number.
    InvalidNumber,
    /// A malformed `\` escape in a string.
    InvalidEscape,
    /// A raw control character (below U+0020) inside a string.
    ControlCharacterInString,
    /// Something other than a string where an object key belongs.
    ExpectedKey,
    /// No `:` after an object key.
    ExpectedColon,
    /// No `,` or closing bracket after a value in an object or array.
    ExpectedCommaOrEnd,
    /// Data after the top-level value.
    TrailingCharacters,
    /// An object key that appeared before in the same object (the reference's parser
    /// rejects duplicates; accepting one would make the payload ambiguous).
    DuplicateKey,
    /// Arrays/objects nested deeper than the parser allows.
    NestingTooDeep,
}

impl fmt::Display for JsonErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonErrorKind::UnexpectedEnd => "unexpected end of input",
            JsonErrorKind::UnexpectedCharacter => "unexpected character",
            JsonErrorKind::InvalidLiteral => "invalid literal",
            JsonErrorKind::InvalidNumber => "invalid number",
            JsonErrorKind::InvalidEscape => "invalid escape sequence",
            JsonErrorKind::ControlCharacterInString => "control character in string",
            JsonErrorKind::ExpectedKey => "expected a string object key",
            JsonErrorKind::ExpectedColon => "expected ':' after object key",
            JsonErrorKind::ExpectedCommaOrEnd => "expected ',' or a closing bracket",
            JsonErrorKind::TrailingCharacters => "trailing characters after the JSON value",
            JsonErrorKind::DuplicateKey => "duplicate object key",
            JsonErrorKind::NestingTooDeep => "nesting too deep",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_byte_columns() {
        let text = b"{\n  \"a\": x\n}";
        assert_eq!(JsonPosition::locate(text, 0), JsonPosition { offset: 0, line: 1, column: 1 });
        assert_eq!(JsonPosition::locate(text, 9), JsonPosition { offset: 9, line: 2, column: 8 });
        // Past the end clamps (EOF errors point just after the last byte).
        assert_eq!(JsonPosition::locate(text, 99).offset, text.len());
        assert_eq!(JsonPosition::locate(b"", 0).column, 1);
    }

    #[test]
    fn codes_and_kinds_are_the_reference_ones() {
        let cases: Vec<(AdapterError, &str, &str)> = vec![
            (AdapterError::MissingSubcommand, "missing_subcommand", "MissingSubcommand"),
            (AdapterError::UnknownSubcommand { value: "x".into() }, "unknown_subcommand", "UnknownSubcommand"),
            (
                AdapterError::HookPayloadTooLarge { payload_bytes: 2, max_payload_bytes: 1 },
                "oversized_payload",
                "HookPayloadTooLarge",
            ),
            (
                AdapterError::InvalidPayload {
                    kind: JsonErrorKind::UnexpectedEnd,
                    position: JsonPosition::locate(b"", 0),
                },
                "invalid_json_payload",
                "InvalidPayload",
            ),
            (AdapterError::PayloadNotObject { found: "an array" }, "invalid_json_payload", "InvalidPayload"),
            (AdapterError::MissingRequiredField { field: "prompt" }, "missing_required_field", "MissingRequiredField"),
            (
                AdapterError::InvalidFieldType { field: "cwd", expected: "a string", found: "a number" },
                "invalid_field_type",
                "InvalidFieldType",
            ),
            (
                AdapterError::UnknownEventName { adapter: "codex-hook", name: "Nope".into() },
                "unknown_event_name",
                "UnknownEventName",
            ),
        ];
        for (error, code, kind) in cases {
            assert_eq!(error.code(), code);
            assert_eq!(error.error_kind(), kind);
            assert!(!error.message().is_empty());
            assert!(!error.to_string().is_empty());
        }
    }

    #[test]
    fn json_errors_render_like_the_reference() {
        let error = AdapterError::InvalidPayload {
            kind: JsonErrorKind::ExpectedColon,
            position: JsonPosition::locate(b"{\"a\" 1}", 5),
        };
        assert_eq!(
            error.to_string(),
            "hook payload is not valid JSON (expected ':' after object key) at byte offset 5 (line 1, column 6)"
        );
        assert_eq!(error.field(), Some("$"));
        assert_eq!(error.position().map(|p| p.column), Some(6));
    }
}
