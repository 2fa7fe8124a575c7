//! Staging keys: the name of a turn's staging file `tmp/<key>.json`.

/// Lowercase hex BLAKE3 of `u64le(len) ‖ bytes` for origin, session id and turn id. The
/// length prefixes stop separator-injection collisions (`a/b` + `c` vs `a` + `b/c`).
pub fn staging_key(origin: &str, session_id: &str, turn_id: &str) -> String {
    let mut hasher = blake3::Hasher::new();
    for part in [origin, session_id, turn_id] {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefixes_separate_fields() {
        assert_ne!(staging_key("ab", "c", "t"), staging_key("a", "bc", "t"));
        assert_eq!(staging_key("o", "s", "t").len(), 64);
    }
}
