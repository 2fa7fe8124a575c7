//! What a snapshot leaves out: the reference's default directories and secret-like file
//! names (plus the ones its ADR listed but it never shipped), the size cap, the binary
//! rule, and the root `.agitignore` in gitignore syntax.

use std::path::Path;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// Directories never entered, matched by basename at any depth (reference defaults).
pub const DEFAULT_SKIP_DIRS: [&str; 13] = [
    ".git",
    ".agit",
    "node_modules",
    "target",
    ".venv",
    "dist",
    "build",
    ".cache",
    "vendor",
    "__pycache__",
    "zig-cache",
    ".zig-cache",
    "zig-out",
];

/// Secret-like file names, exact (`.envrc` is ours: the reference documented it only).
pub const SECRET_NAMES: [&str; 8] =
    [".env", ".envrc", "id_rsa", "id_ecdsa", "id_ed25519", "id_dsa", "id_ecdsa_sk", "id_ed25519_sk"];

/// Secret-like file name suffixes (`.gpg` and `.asc` are ours, as above).
pub const SECRET_SUFFIXES: [&str; 10] = [".key", ".pem", ".p12", ".p8", ".pfx", ".crt", ".cer", ".csr", ".gpg", ".asc"];

/// Secret-like file name prefixes.
pub const SECRET_PREFIXES: [&str; 1] = [".env."];

/// Default per-file size cap: 16 MiB. A file of exactly this size is kept.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Environment variable overriding the size cap (trimmed positive decimal).
pub const MAX_FILE_BYTES_ENV: &str = "AGIT_MAX_FILE_BYTES";

/// A file with a NUL byte in its first this-many bytes is binary and skipped.
pub const BINARY_SNIFF_BYTES: usize = 8192;

/// The ignore file read from the repository root.
pub const AGITIGNORE: &str = ".agitignore";

/// Whether a directory with this basename is never entered. Exact, case-sensitive
/// match, as in the reference (`Build/` may well be source code).
pub fn is_default_skip_dir(name: &str) -> bool {
    DEFAULT_SKIP_DIRS.contains(&name)
}

/// Whether a file with this basename looks like a secret. ASCII case-insensitive (unlike
/// the reference): `SERVER.KEY` is as secret as `server.key`, and skipping one file too
/// many is the safe mistake here.
pub fn is_secret_name(name: &str) -> bool {
    // Called for every file: compare in place rather than allocate a lowercase copy.
    let name = name.as_bytes();
    let ends_with = |s: &str| name.len() >= s.len() && name[name.len() - s.len()..].eq_ignore_ascii_case(s.as_bytes());
    let starts_with = |p: &str| name.len() >= p.len() && name[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    SECRET_NAMES.iter().any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
        || SECRET_SUFFIXES.iter().copied().any(ends_with)
        || SECRET_PREFIXES.iter().copied().any(starts_with)
}

/// Parse an `AGIT_MAX_FILE_BYTES` value: a trimmed positive decimal, anything else (unset,
/// empty, zero, invalid) means the default.
pub fn parse_max_file_bytes(value: Option<&str>) -> u64 {
    match value.map(str::trim).and_then(|v| v.parse::<u64>().ok()) {
        Some(n) if n > 0 => n,
        _ => DEFAULT_MAX_FILE_BYTES,
    }
}

/// The size cap in force for this process (`AGIT_MAX_FILE_BYTES`, else the default).
pub fn max_file_bytes_from_env() -> u64 {
    parse_max_file_bytes(std::env::var(MAX_FILE_BYTES_ENV).ok().as_deref())
}

/// Whether `bytes` (the start of a file) marks it as binary.
pub fn looks_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(BINARY_SNIFF_BYTES)].contains(&0)
}

/// The root `.agitignore`, compiled with ripgrep's gitignore engine: paths, `**`,
/// negation, anchored `/x`, directory-only `x/`, exactly as git reads a `.gitignore` at
/// the root. Only the root file is read (as in the reference); `.gitignore` files never
/// affect snapshots.
#[derive(Debug, Clone)]
pub struct AgitIgnore {
    matcher: Gitignore,
    /// Lines that could not be used (invalid UTF-8 or an invalid glob); they are skipped.
    pub invalid_lines: usize,
}

impl AgitIgnore {
    /// No patterns.
    pub fn empty() -> AgitIgnore {
        AgitIgnore { matcher: Gitignore::empty(), invalid_lines: 0 }
    }

    /// Read `<root>/.agitignore`. A missing or unreadable file means no patterns
    /// (defaults only), as in the reference.
    pub fn load(root: &Path) -> AgitIgnore {
        match std::fs::read(root.join(AGITIGNORE)) {
            Ok(bytes) => AgitIgnore::parse(&bytes),
            Err(_) => AgitIgnore::empty(),
        }
    }

    /// Compile gitignore-syntax text. Bad lines are skipped and counted, never fatal: an
    /// ignore file with a typo must not stop recording.
    pub fn parse(text: &[u8]) -> AgitIgnore {
        // Paths are always matched relative to the root, so the builder's root is unused.
        let mut builder = GitignoreBuilder::new("");
        let mut invalid_lines = 0;
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let Ok(mut line) = std::str::from_utf8(raw) else {
                invalid_lines += 1;
                continue;
            };
            if i == 0 {
                line = line.trim_start_matches('\u{feff}');
            }
            if builder.add_line(None, line).is_err() {
                invalid_lines += 1;
            }
        }
        match builder.build() {
            Ok(matcher) => AgitIgnore { matcher, invalid_lines },
            Err(_) => AgitIgnore { matcher: Gitignore::empty(), invalid_lines: invalid_lines.max(1) },
        }
    }

    /// Whether the workspace-relative path (`/`-separated) is ignored. Parents are not
    /// consulted: the walk never enters an ignored directory, which is also why a
    /// negation cannot re-include a file below an ignored directory (as in git).
    pub fn is_ignored(&self, rel: &str, is_dir: bool) -> bool {
        self.matcher.matched(rel, is_dir).is_ignore()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_include_the_documented_extras() {
        for name in [
            ".env",
            ".env.local",
            ".envrc",
            "id_rsa",
            "id_ed25519_sk",
            "server.key",
            "cert.PEM",
            "a.p8",
            "x.pfx",
            "y.crt",
            "z.cer",
            "r.csr",
            "k.p12",
            "backup.gpg",
            "pub.asc",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["env", ".environment", "id_rsa.pub", "keys.rs", "pem", "notes.txt", "x.envrc.bak"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn default_dirs_are_exact_basenames() {
        assert!(is_default_skip_dir("node_modules"));
        assert!(is_default_skip_dir(".zig-cache"));
        assert!(!is_default_skip_dir("Build"));
        assert!(!is_default_skip_dir("targets"));
    }

    #[test]
    fn size_cap_parsing() {
        assert_eq!(parse_max_file_bytes(None), DEFAULT_MAX_FILE_BYTES);
        assert_eq!(parse_max_file_bytes(Some(" 1024\n")), 1024);
        for bad in ["", "0", "-5", "1e6", "12 kb", "0x10"] {
            assert_eq!(parse_max_file_bytes(Some(bad)), DEFAULT_MAX_FILE_BYTES, "{bad:?}");
        }
    }

    #[test]
    fn binary_rule_looks_only_at_the_first_8192_bytes() {
        assert!(!looks_binary(b"plain text"));
        assert!(looks_binary(b"a\0b"));
        let mut late = vec![b'a'; BINARY_SNIFF_BYTES];
        late.push(0);
        assert!(!looks_binary(&late));
        late[BINARY_SNIFF_BYTES - 1] = 0;
        assert!(looks_binary(&late));
    }

    #[test]
    fn agitignore_gitignore_semantics() {
        let ig = AgitIgnore::parse(
            b"\xef\xbb\xbf*.log\r\n!keep.log\n/anchored.txt\ndocs/**/draft.md\nout/\n# comment\n\n  \nsub/only.txt\n",
        );
        assert_eq!(ig.invalid_lines, 0);
        // Unanchored basename glob at any depth, and negation re-including a file.
        assert!(ig.is_ignored("a.log", false));
        assert!(ig.is_ignored("x/y/b.log", false));
        assert!(!ig.is_ignored("keep.log", false));
        assert!(!ig.is_ignored("x/keep.log", false));
        // Anchored to the root only.
        assert!(ig.is_ignored("anchored.txt", false));
        assert!(!ig.is_ignored("x/anchored.txt", false));
        // `**` matches zero or more directories.
        assert!(ig.is_ignored("docs/draft.md", false));
        assert!(ig.is_ignored("docs/a/b/draft.md", false));
        assert!(!ig.is_ignored("other/docs/draft.md", false));
        // Trailing `/` matches directories only.
        assert!(ig.is_ignored("out", true));
        assert!(ig.is_ignored("deep/out", true));
        assert!(!ig.is_ignored("out", false));
        // A pattern with a slash is relative to the root.
        assert!(ig.is_ignored("sub/only.txt", false));
        assert!(!ig.is_ignored("x/sub/only.txt", false));
    }

    #[test]
    fn agitignore_bad_lines_are_skipped() {
        let ig = AgitIgnore::parse(b"a{b\n\xff\xfe\nb.txt\n");
        assert_eq!(ig.invalid_lines, 2);
        assert!(ig.is_ignored("b.txt", false));
        assert!(!AgitIgnore::empty().is_ignored("b.txt", false));
    }
}
