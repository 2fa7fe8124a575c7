//! Workspace-relative path safety (reference `store/path_safety`, `storage.md` §13).
//!
//! A tree entry or a requested path is written under the restore root only when it is a
//! plain relative path: `/`-separated segments, none empty, `.`, `..` or the store
//! directory. The error names are the reference's and appear verbatim in `agit restore`
//! output (item reasons and the `unsafe_path` hint).

use std::fmt;

/// Why a path is not a safe workspace-relative path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathError {
    /// The path is empty.
    EmptyPath,
    /// The path starts with `/`.
    AbsolutePath,
    /// The path contains a `\` (a separator on Windows, ambiguous everywhere).
    BackslashPath,
    /// The path contains a NUL byte.
    NullBytePath,
    /// A segment is empty (`a//b`, or a trailing `/`).
    EmptySegment,
    /// A segment is `.`.
    DotSegment,
    /// A segment is `..`.
    ParentSegment,
    /// The first segment is the store directory `.agit` (compared ignoring ASCII case, so
    /// case-insensitive filesystems cannot be used to reach the store).
    StorePath,
    /// Windows only: a drive prefix such as `C:`.
    #[cfg(windows)]
    WindowsDrivePath,
    /// Windows only: a reserved device name (CON, PRN, AUX, NUL, COM1–9, LPT1–9).
    #[cfg(windows)]
    WindowsReservedName,
}

impl PathError {
    /// The reference's error name (stable; shown to users and in JSON).
    pub fn name(self) -> &'static str {
        match self {
            PathError::EmptyPath => "EmptyPath",
            PathError::AbsolutePath => "AbsolutePath",
            PathError::BackslashPath => "BackslashPath",
            PathError::NullBytePath => "NullBytePath",
            PathError::EmptySegment => "EmptySegment",
            PathError::DotSegment => "DotSegment",
            PathError::ParentSegment => "ParentSegment",
            PathError::StorePath => "StorePath",
            #[cfg(windows)]
            PathError::WindowsDrivePath => "WindowsDrivePath",
            #[cfg(windows)]
            PathError::WindowsReservedName => "WindowsReservedName",
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for PathError {}

/// Check that `path` is a safe workspace-relative path (reference
/// `validateWorkspaceRelativePath`): not empty, not absolute, no `\` or NUL, and every
/// `/`-segment non-empty and neither `.` nor `..`; the first segment is not `.agit`.
pub fn validate_workspace_relative_path(path: &str) -> Result<(), PathError> {
    if path.is_empty() {
        return Err(PathError::EmptyPath);
    }
    if path.starts_with('/') {
        return Err(PathError::AbsolutePath);
    }
    if path.contains('\\') {
        return Err(PathError::BackslashPath);
    }
    if path.contains('\0') {
        return Err(PathError::NullBytePath);
    }
    #[cfg(windows)]
    {
        let b = path.as_bytes();
        if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
            return Err(PathError::WindowsDrivePath);
        }
    }
    for (i, segment) in path.split('/').enumerate() {
        match segment {
            "" => return Err(PathError::EmptySegment),
            "." => return Err(PathError::DotSegment),
            ".." => return Err(PathError::ParentSegment),
            s if i == 0 && s.eq_ignore_ascii_case(crate::store::STORE_DIR) => return Err(PathError::StorePath),
            #[cfg(windows)]
            s if is_windows_reserved(s) => return Err(PathError::WindowsReservedName),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(windows)]
fn is_windows_reserved(segment: &str) -> bool {
    let stem = segment.split('.').next().unwrap_or("").to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && matches!(stem.as_bytes()[3], b'1'..=b'9'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_paths_pass() {
        for ok in [
            "a",
            "a.txt",
            "src/main.rs",
            "a/b/c/d",
            ".github/workflows/ci.yml",
            "x/.agit",
            ".agitignore",
            "..a",
            "a..",
            "...",
            "sp ace/é",
        ] {
            assert_eq!(validate_workspace_relative_path(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn every_error_name() {
        let cases: [(&str, PathError, &str); 14] = [
            ("", PathError::EmptyPath, "EmptyPath"),
            ("/etc/passwd", PathError::AbsolutePath, "AbsolutePath"),
            ("/", PathError::AbsolutePath, "AbsolutePath"),
            ("a\\b", PathError::BackslashPath, "BackslashPath"),
            ("a\0b", PathError::NullBytePath, "NullBytePath"),
            ("a//b", PathError::EmptySegment, "EmptySegment"),
            ("a/", PathError::EmptySegment, "EmptySegment"),
            ("./a", PathError::DotSegment, "DotSegment"),
            ("a/./b", PathError::DotSegment, "DotSegment"),
            ("../x", PathError::ParentSegment, "ParentSegment"),
            ("a/../../x", PathError::ParentSegment, "ParentSegment"),
            (".agit/objects/x", PathError::StorePath, "StorePath"),
            (".agit", PathError::StorePath, "StorePath"),
            (".AGIT/config.json", PathError::StorePath, "StorePath"),
        ];
        for (path, error, name) in cases {
            let got = validate_workspace_relative_path(path);
            assert_eq!(got, Err(error), "{path:?}");
            assert_eq!(error.name(), name);
            assert_eq!(error.to_string(), name);
        }
    }

    #[test]
    fn checks_run_in_reference_order() {
        // Absolute wins over backslash, backslash over NUL, NUL over segment checks.
        assert_eq!(validate_workspace_relative_path("/a\\b"), Err(PathError::AbsolutePath));
        assert_eq!(validate_workspace_relative_path("a\\b\0"), Err(PathError::BackslashPath));
        assert_eq!(validate_workspace_relative_path("../a\0"), Err(PathError::NullBytePath));
        // Segments are checked left to right.
        assert_eq!(validate_workspace_relative_path(".agit/../x"), Err(PathError::StorePath));
        assert_eq!(validate_workspace_relative_path("a/./../b"), Err(PathError::DotSegment));
    }
}
