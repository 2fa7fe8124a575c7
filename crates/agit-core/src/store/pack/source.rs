//! Byte sources for pack decoding (a file read with `pread`, or bytes in memory) and a
//! bounds-checked little-endian cursor, so one decoder serves reads, scans and fuzzing.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use super::PackError;

/// Random-access bytes of known length.
pub(crate) trait Source {
    /// Total length in bytes.
    fn len(&self) -> u64;
    /// Fill `buf` from `offset`; a range past the end is a truncated file.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), PackError>;
}

impl Source for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), PackError> {
        let src = usize::try_from(offset)
            .ok()
            .and_then(|start| self.get(start..start.checked_add(buf.len())?))
            .ok_or_else(|| PackError::file(offset, "unexpected end of file"))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// A file with the length it had when opened (later growth is ignored).
pub(crate) struct FileSource<'a> {
    pub file: &'a File,
    pub len: u64,
}

impl Source for FileSource<'_> {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), PackError> {
        let end = offset.checked_add(buf.len() as u64);
        if end.is_none_or(|end| end > self.len) {
            return Err(PackError::file(offset, "unexpected end of file"));
        }
        self.file.read_exact_at(buf, offset).map_err(|e| match e.kind() {
            // The file shrank under us: same as a truncated pack.
            io::ErrorKind::UnexpectedEof => PackError::file(offset, "unexpected end of file"),
            _ => PackError::Io { op: "read pack", source: e },
        })
    }
}

/// Read `len` bytes at `offset`, after checking the range lies within the source, so an
/// untrusted length never drives an allocation larger than the file.
pub(crate) fn read_vec<S: Source + ?Sized>(src: &S, offset: u64, len: u64) -> Result<Vec<u8>, PackError> {
    let in_bounds = offset.checked_add(len).is_some_and(|end| end <= src.len());
    let len = usize::try_from(len).ok().filter(|_| in_bounds);
    let Some(len) = len else {
        return Err(PackError::file(offset, "entry extends past the end of the file"));
    };
    let mut buf = vec![0u8; len];
    src.read_at(offset, &mut buf)?;
    Ok(buf)
}

/// Little-endian reads from a byte slice; `None` past the end.
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    pub fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        let end = self.pos.checked_add(N)?;
        let out: [u8; N] = self.buf.get(self.pos..end)?.try_into().ok()?;
        self.pos = end;
        Some(out)
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.bytes::<1>().map(|b| b[0])
    }

    pub fn u16(&mut self) -> Option<u16> {
        self.bytes().map(u16::from_le_bytes)
    }

    pub fn u32(&mut self) -> Option<u32> {
        self.bytes().map(u32::from_le_bytes)
    }

    pub fn u64(&mut self) -> Option<u64> {
        self.bytes().map(u64::from_le_bytes)
    }
}
