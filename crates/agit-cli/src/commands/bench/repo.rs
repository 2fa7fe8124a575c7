//! Generated repositories for benchmarks: many source-like text files in nested dirs.

use std::path::Path;

use agit_core::Error;

/// Write `files` text files totalling about `files * bytes_each` bytes under `root`,
/// spread over nested directories like a real source tree. Deterministic content.
pub fn generate(root: &Path, files: usize, bytes_each: usize) -> Result<(), Error> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..files {
        let dir = root.join(format!("src/m{:03}/d{:02}", i / 400, (i / 20) % 20));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let mut text = String::with_capacity(bytes_each + 64);
        let mut line = 0;
        while text.len() < bytes_each {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            text.push_str(&format!("fn item_{i}_{line}() -> u64 {{ {} }}\n", state >> 20));
            line += 1;
        }
        let path = dir.join(format!("f{i:05}.rs"));
        std::fs::write(&path, text).map_err(|e| Error::io("write", &path, e))?;
    }
    Ok(())
}

/// Append a line to file number `i` (an edit an agent would make).
pub fn touch(root: &Path, i: usize, round: usize) -> Result<(), Error> {
    let path = root.join(format!("src/m{:03}/d{:02}/f{i:05}.rs", i / 400, (i / 20) % 20));
    let mut text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
    text.push_str(&format!("// edit {round}\n"));
    std::fs::write(&path, text).map_err(|e| Error::io("write", &path, e))
}
