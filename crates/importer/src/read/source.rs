//! Where the bytes of an import file come from, and the file's digest for the ledger.
//!
//! A run reads a file more than once: its header to tell the kind before the run starts, its
//! rows inside the run, and its rows again when unsorted input has to be sorted in memory. A
//! regular file is simply opened again each time, so memory stays flat in its size. A pipe,
//! a FIFO or standard input (`-`) can be read only once (a second open of a FIFO waits for a
//! writer that never comes): it is read whole into memory when the run opens it, and every
//! reader reads that copy. Either way the digest is the SHA-256 of the file's bytes, so the
//! same content has the same digest however it came.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// How FILE `-` (standard input) is named in problems, the summary and the ledger.
pub const STDIN_LABEL: &str = "<stdin>";

/// The bytes of one input file, to be read as often as the run needs.
#[derive(Debug, Clone)]
pub enum Source {
    /// A regular file (or anything else that can be opened again and read from the start).
    File(PathBuf),
    /// What was read from a pipe, a FIFO or standard input.
    Bytes(Shared),
}

/// Bytes read once and shared by every reader of them.
#[derive(Debug, Clone)]
pub struct Shared(Arc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// The SHA-256 (lower-case hex) and size in bytes of a file's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    pub sha256: String,
    pub size: u64,
}

/// Whether FILE on the command line means standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// How problems and the ledger name FILE: its path as given, or [`STDIN_LABEL`].
pub fn label(path: &Path) -> Arc<str> {
    if is_stdin(path) {
        Arc::from(STDIN_LABEL)
    } else {
        Arc::from(path.display().to_string())
    }
}

impl Source {
    /// The source of FILE of the command line, and the digest of its contents. A regular file
    /// (or a directory, which then fails to read with the system's own words) is read once for
    /// the digest and opened again by each reader; anything else is read whole now.
    pub fn open(path: &Path) -> io::Result<(Source, FileDigest)> {
        if is_stdin(path) {
            return Self::read_whole(io::stdin().lock());
        }
        let metadata = std::fs::metadata(path)?;
        if metadata.is_file() || metadata.is_dir() {
            let digest = hash(File::open(path)?)?;
            Ok((Source::File(path.to_path_buf()), digest))
        } else {
            Self::read_whole(File::open(path)?)
        }
    }

    fn read_whole(mut from: impl Read) -> io::Result<(Source, FileDigest)> {
        let mut bytes = Vec::new();
        from.read_to_end(&mut bytes)?;
        let digest = FileDigest {
            sha256: hex(&Sha256::digest(&bytes)),
            size: bytes.len() as u64,
        };
        Ok((Source::Bytes(Shared(Arc::new(bytes))), digest))
    }

    /// A new reader from the first byte.
    pub fn reader(&self) -> io::Result<Reader> {
        match self {
            Source::File(path) => Ok(Reader::File(File::open(path)?)),
            Source::Bytes(bytes) => Ok(Reader::Bytes(io::Cursor::new(bytes.clone()))),
        }
    }
}

/// One reader of a [`Source`].
#[derive(Debug)]
pub enum Reader {
    File(File),
    Bytes(io::Cursor<Shared>),
}

impl Reader {
    /// The size of what is read, in bytes (0 when the system cannot tell).
    pub fn size(&self) -> u64 {
        match self {
            Reader::File(file) => file.metadata().map_or(0, |m| m.len()),
            Reader::Bytes(cursor) => cursor.get_ref().0.len() as u64,
        }
    }
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Reader::File(file) => file.read(buf),
            Reader::Bytes(cursor) => cursor.read(buf),
        }
    }
}

impl Seek for Reader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            Reader::File(file) => file.seek(to),
            Reader::Bytes(cursor) => cursor.seek(to),
        }
    }
}

/// The digest of everything `file` holds, read in pieces.
fn hash(mut file: File) -> io::Result<FileDigest> {
    let mut hasher = Sha256::new();
    let size = io::copy(&mut file, &mut hasher)?;
    Ok(FileDigest {
        sha256: hex(&hasher.finalize()),
        size,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_and_the_same_bytes_from_a_pipe_have_one_digest() {
        let text = b"region,indicator,period,value\n68,hi_participants,2024,5\n";
        let path = std::env::temp_dir().join(format!("ansinh-source-{}.csv", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let (file, from_file) = Source::open(&path).unwrap();
        let (bytes, from_pipe) = Source::read_whole(&text[..]).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(file, Source::File(_)));
        assert!(matches!(bytes, Source::Bytes(_)));
        assert_eq!(from_file, from_pipe);
        // `sha256sum` of the same bytes: the digest the ledger has always recorded.
        assert_eq!(
            from_file.sha256,
            "55cd87ab027548d18f5a689aacfb72ed46e4bf6a03e2abd0a920970251939f0e"
        );
        assert_eq!(from_file.size, text.len() as u64);
    }

    #[test]
    fn every_reader_of_read_bytes_starts_at_the_first_byte() {
        let (source, _) = Source::read_whole(&b"abc"[..]).unwrap();
        for _ in 0..2 {
            let mut reader = source.reader().unwrap();
            let mut text = String::new();
            reader.read_to_string(&mut text).unwrap();
            assert_eq!((text.as_str(), reader.size()), ("abc", 3));
        }
    }
}
