//! Bundle errors. Each has a stable diagnostic [`code`](BundleError::code) and the
//! reference's error [`name`](BundleError::name) (`BundleHashMismatch`, `FileNotFound`,
//! …), which the CLI reports as the hint of `export_failed` / `import_failed`.

use std::io;
use std::path::PathBuf;

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A filter or `--replace-ref` value is malformed (a usage error).
    #[error("{message}")]
    InvalidArgument {
        /// The reference wording, e.g. "Invalid --since date; use YYYY-MM-DD.".
        message: String,
    },

    /// No session ref matches the export filters.
    #[error("No recorded sessions match the requested export filters.")]
    NoMatchingSessions,

    /// The bundle is malformed or inconsistent (import validation), or the export target
    /// is unusable. `name` is the reference's error name.
    #[error("{detail}")]
    Invalid {
        /// The reference error name (`BundleObjectSizeMismatch`, …).
        name: &'static str,
        /// What exactly is wrong, for people.
        detail: String,
        /// The object concerned, when there is one.
        hash: Option<String>,
    },

    /// Reading or writing a bundle file failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// The local store failed (reading objects, writing objects or refs).
    #[error(transparent)]
    Store(#[from] agit_core::Error),
}

impl BundleError {
    /// An [`Invalid`](BundleError::Invalid) error without an object.
    pub(crate) fn invalid(name: &'static str, detail: impl Into<String>) -> BundleError {
        BundleError::Invalid { name, detail: detail.into(), hash: None }
    }

    /// An [`Invalid`](BundleError::Invalid) error about one object.
    pub(crate) fn object(name: &'static str, hash: &str, detail: impl Into<String>) -> BundleError {
        BundleError::Invalid { name, detail: detail.into(), hash: Some(hash.to_owned()) }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> BundleError {
        BundleError::Io { op, path: path.into(), source }
    }

    /// The stable diagnostic code of errors that are not a plain export/import failure
    /// (`invalid_argument`, `no_matching_sessions`); `None` for the rest, which the CLI
    /// reports as `export_failed` or `import_failed`.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            BundleError::InvalidArgument { .. } => Some("invalid_argument"),
            BundleError::NoMatchingSessions => Some("no_matching_sessions"),
            _ => None,
        }
    }

    /// The reference-style error name (CamelCase), reported as the diagnostic hint.
    pub fn name(&self) -> String {
        match self {
            BundleError::InvalidArgument { .. } => "InvalidArgument".into(),
            BundleError::NoMatchingSessions => "NoMatchingSessions".into(),
            BundleError::Invalid { name, .. } => (*name).into(),
            BundleError::Io { source, .. } => io_name(source).into(),
            BundleError::Store(e) => camel_case(e.code()),
        }
    }

    /// The object the error is about, if any.
    pub fn hash(&self) -> Option<&str> {
        match self {
            BundleError::Invalid { hash, .. } => hash.as_deref(),
            _ => None,
        }
    }
}

/// The reference's names for the I/O failures a bundle can hit.
fn io_name(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::NotFound => "FileNotFound",
        io::ErrorKind::PermissionDenied => "AccessDenied",
        io::ErrorKind::AlreadyExists => "PathAlreadyExists",
        io::ErrorKind::StorageFull => "NoSpaceLeft",
        io::ErrorKind::NotADirectory => "NotDir",
        io::ErrorKind::IsADirectory => "IsDir",
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => "InvalidData",
        _ => "InputOutput",
    }
}

/// `object_not_found` → `ObjectNotFound`.
fn camel_case(code: &str) -> String {
    code.split('_')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_reference() {
        assert_eq!(camel_case("object_not_found"), "ObjectNotFound");
        let missing = BundleError::io("read", "/x", io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(missing.name(), "FileNotFound");
        assert_eq!(BundleError::NoMatchingSessions.code(), Some("no_matching_sessions"));
        let bad = BundleError::object("BundleHashMismatch", "ab", "content does not hash to its name");
        assert_eq!((bad.name().as_str(), bad.hash(), bad.code()), ("BundleHashMismatch", Some("ab"), None));
    }
}
