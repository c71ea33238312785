//! Reading an MRT file record by record: plain, gzip or bzip2 (by magic bytes), streamed.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bzip2::read::MultiBzDecoder;
use flate2::read::MultiGzDecoder;
use reflector_core::mrt::{record_len, HEADER_LEN};

/// How the file is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain MRT.
    None,
    /// gzip (magic `1f 8b`).
    Gzip,
    /// bzip2 (magic `BZh`).
    Bzip2,
}

impl Compression {
    /// Recognise the compression from a file's first bytes.
    pub fn detect(magic: &[u8]) -> Self {
        if magic.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if magic.starts_with(b"BZh") {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }

    /// A lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
        }
    }
}

/// Counts the bytes read from the file itself (before decompression), for progress.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Why reading stopped.
#[derive(Debug)]
pub enum End {
    /// The stream ended cleanly after a complete record.
    Clean,
    /// The stream ended (or failed) inside a record.
    Truncated {
        /// Offset of the incomplete record.
        offset: u64,
        /// How many of its bytes were there.
        have: usize,
        /// How many it announced (header included), when its header was complete.
        want: Option<usize>,
        /// The read error that ended the stream (a cut compressed file), if any.
        io_error: Option<String>,
    },
}

/// An MRT file opened for streaming.
pub struct RecordReader {
    inner: BufReader<Box<dyn Read>>,
    /// How the file is compressed.
    pub compression: Compression,
    /// Size of the file on disk.
    pub file_len: u64,
    /// Bytes of the file consumed so far (shared with the progress display).
    pub file_pos: Arc<AtomicU64>,
    offset: u64,
    buf: Vec<u8>,
}

impl RecordReader {
    /// Open `path` and recognise its compression.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let file_len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let file_pos = Arc::new(AtomicU64::new(0));
        let mut raw = BufReader::with_capacity(
            1 << 16,
            Counting {
                inner: file,
                count: Arc::clone(&file_pos),
            },
        );
        let compression = Compression::detect(raw.fill_buf()?);
        let inner: Box<dyn Read> = match compression {
            Compression::None => Box::new(raw),
            Compression::Gzip => Box::new(MultiGzDecoder::new(raw)),
            Compression::Bzip2 => Box::new(MultiBzDecoder::new(raw)),
        };
        Ok(RecordReader {
            inner: BufReader::with_capacity(1 << 16, inner),
            compression,
            file_len,
            file_pos,
            offset: 0,
            buf: Vec::with_capacity(1 << 16),
        })
    }

    /// Decompressed bytes consumed so far (the offset of the next record).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next whole record (header included) and its offset, or why there is none.
    pub fn next_record(&mut self) -> Result<(u64, &[u8]), End> {
        self.buf.clear();
        let offset = self.offset;
        let got = read_up_to(&mut self.inner, &mut self.buf, HEADER_LEN);
        if self.buf.is_empty() && got.is_ok() {
            return Err(End::Clean);
        }
        let want = match (&got, record_len(&self.buf)) {
            (Ok(()), Ok(Some(n))) => n,
            _ => {
                return Err(End::Truncated {
                    offset,
                    have: self.buf.len(),
                    want: None,
                    io_error: got.err().map(|e| e.to_string()),
                })
            }
        };
        let got = read_up_to(&mut self.inner, &mut self.buf, want);
        if self.buf.len() < want || got.is_err() {
            return Err(End::Truncated {
                offset,
                have: self.buf.len(),
                want: Some(want),
                io_error: got.err().map(|e| e.to_string()),
            });
        }
        self.offset += want as u64;
        Ok((offset, &self.buf))
    }
}

/// Append bytes from `r` to `buf` until it holds `total` bytes or the stream ends.
///
/// Growth follows the bytes really read, so a corrupt length field cannot
/// make us allocate gigabytes up front.
fn read_up_to<R: Read>(r: &mut R, buf: &mut Vec<u8>, total: usize) -> io::Result<()> {
    let need = total.saturating_sub(buf.len()) as u64;
    r.take(need).read_to_end(buf).map(|_| ())
}
