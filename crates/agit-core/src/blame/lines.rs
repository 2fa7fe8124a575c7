//! The canonical line splitter of blame-v1 (reference `formats.md` §5.1).
//!
//! Recording, reindex and rendering all split with this one function, so a blame
//! object's line count always matches the blob it describes.

/// Split `bytes` into lines: every piece between `\n`s is a line (so `""` is one empty
/// line and a trailing newline yields a final empty line), with one or more trailing
/// `\r` stripped from each piece, as Zig's `trimEnd(piece, "\r")` does.
pub fn split_lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.split(|&b| b == b'\n').map(trim_trailing_cr).collect()
}

/// Number of lines [`split_lines`] would produce, without allocating.
pub fn count_lines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count() + 1
}

fn trim_trailing_cr(piece: &[u8]) -> &[u8] {
    let end = piece.iter().rposition(|&b| b != b'\r').map_or(0, |i| i + 1);
    &piece[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        split_lines(text.as_bytes()).into_iter().map(|l| std::str::from_utf8(l).unwrap()).collect()
    }

    #[test]
    fn reference_examples() {
        assert_eq!(split(""), [""]);
        assert_eq!(split("a"), ["a"]);
        assert_eq!(split("a\n"), ["a", ""]);
        assert_eq!(split("a\r\n"), ["a", ""]);
        assert_eq!(split("a\n\n"), ["a", "", ""]);
    }

    #[test]
    fn strips_every_trailing_cr_but_keeps_inner_ones() {
        assert_eq!(split("a\r\r\r\nb"), ["a", "b"]);
        assert_eq!(split("\r"), [""]);
        assert_eq!(split("\r\r\n\r"), ["", ""]);
        assert_eq!(split("a\rb\r\n"), ["a\rb", ""]);
        // A lone CR is not a line break.
        assert_eq!(split("a\rb"), ["a\rb"]);
    }

    #[test]
    fn count_matches_split() {
        for text in ["", "a", "a\n", "\n\n", "a\r\nb\r\n", "x\ny"] {
            assert_eq!(count_lines(text.as_bytes()), split_lines(text.as_bytes()).len(), "{text:?}");
        }
    }
}
