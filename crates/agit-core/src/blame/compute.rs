//! `computeBlame` (reference `formats.md` §5.3): carry attributions across one edit.

use super::myers::{DiffOp, diff_lines};
use crate::error::{Error, Result};
use crate::hash::ObjectId;
use crate::object::{Blame, BlameLine};

/// The blame of `new_lines` at `step`, given the previous version's lines and blame.
///
/// Lines the diff keeps inherit their attribution from `old_blame` (or `step` when there
/// is no old blame); inserted lines are attributed to `step`; deleted lines vanish.
/// Fails with [`Error::BlameLengthMismatch`] when `old_blame` does not have one entry per
/// old line, because the attributions could not be lined up.
pub fn compute_blame(
    path: &str,
    old_lines: &[&[u8]],
    new_lines: &[&[u8]],
    old_blame: Option<&Blame>,
    step: ObjectId,
) -> Result<Blame> {
    compute_blame_script(path, old_lines, new_lines, old_blame, step).map(|(blame, _)| blame)
}

/// [`compute_blame`], also telling whether the diff was the reference's exact script
/// (`false` when the fallback diff was used; see [`super::myers`]).
pub(crate) fn compute_blame_script(
    path: &str,
    old_lines: &[&[u8]],
    new_lines: &[&[u8]],
    old_blame: Option<&Blame>,
    step: ObjectId,
) -> Result<(Blame, bool)> {
    if let Some(old) = old_blame
        && old.lines.len() != old_lines.len()
    {
        return Err(Error::BlameLengthMismatch {
            path: path.to_owned(),
            blame_lines: old.lines.len(),
            file_lines: old_lines.len(),
        });
    }
    let script = diff_lines(old_lines, new_lines);
    let mut lines = Vec::with_capacity(new_lines.len());
    let mut old_idx = 0usize;
    for op in script.ops {
        match op {
            DiffOp::Equal => {
                let inherited = old_blame.and_then(|b| b.lines.get(old_idx)).map_or(step, |l| l.step);
                lines.push(BlameLine { step: inherited });
                old_idx += 1;
            }
            DiffOp::Insert => lines.push(BlameLine { step }),
            DiffOp::Delete => old_idx += 1,
        }
    }
    Ok((Blame { path: path.to_owned(), lines }, script.exact))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blame::lines::split_lines;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes([n; 32])
    }

    fn blame_of(path: &str, steps: &[u8]) -> Blame {
        Blame { path: path.into(), lines: steps.iter().map(|&s| BlameLine { step: id(s) }).collect() }
    }

    fn steps(blame: &Blame) -> Vec<u8> {
        blame.lines.iter().map(|l| l.step.as_bytes()[0]).collect()
    }

    #[test]
    fn first_version_is_all_new_step() {
        let new = split_lines(b"a\nb\n");
        let blame = compute_blame("f", &[], &new, None, id(1)).unwrap();
        assert_eq!(steps(&blame), [1, 1, 1]);
        assert_eq!(blame.path, "f");
    }

    #[test]
    fn kept_lines_inherit_and_changed_lines_move() {
        let old = split_lines(b"a\nb\nc\n");
        let new = split_lines(b"a\nB\nc\nd\n");
        let prior = blame_of("f", &[1, 2, 3, 4]);
        let blame = compute_blame("f", &old, &new, Some(&prior), id(9)).unwrap();
        // a kept, b→B replaced, c kept, d inserted, final empty line kept.
        assert_eq!(steps(&blame), [1, 9, 3, 9, 4]);
    }

    #[test]
    fn repeated_lines_follow_the_reference_tie_break() {
        // old `a b a`, new `b a b`: delete old a, keep b and the second a, insert b
        // (see the hand-checked case in `myers`).
        let old = split_lines(b"a\nb\na");
        let new = split_lines(b"b\na\nb");
        let prior = blame_of("f", &[1, 2, 3]);
        let blame = compute_blame("f", &old, &new, Some(&prior), id(9)).unwrap();
        assert_eq!(steps(&blame), [2, 3, 9]);
    }

    #[test]
    fn without_old_blame_even_kept_lines_take_the_step() {
        let old = split_lines(b"a\n");
        let new = split_lines(b"a\nb\n");
        let blame = compute_blame("f", &old, &new, None, id(5)).unwrap();
        assert_eq!(steps(&blame), [5, 5, 5]);
    }

    #[test]
    fn mismatched_old_blame_is_an_error() {
        let old = split_lines(b"a\nb");
        let err = compute_blame("f", &old, &old, Some(&blame_of("f", &[1])), id(2)).unwrap_err();
        assert_eq!(err.code(), "blame_length_mismatch");
        assert!(matches!(err, Error::BlameLengthMismatch { blame_lines: 1, file_lines: 2, .. }));
    }
}
