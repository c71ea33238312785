//! The shared MRT dumps: find them, and read them (plain, gzip or bzip2) into bytes.
//!
//! Compression is recognised by magic bytes, not by file name. A compressed
//! stream that ends early (the `*_firstMB.bz2` samples are cut inside a bzip2
//! block) is returned with everything that decompressed and the error that
//! stopped it, so tests can check both.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use bzip2::read::MultiBzDecoder;
use flate2::read::MultiGzDecoder;

/// Every MRT file in the shared data folder, by file name.
pub const MRT_FILES: &[&str] = &[
    "bird-mrtdump_bgp.mrt",
    "bird-mrtdump_rib.mrt",
    "bird6-mrtdump_bgp.mrt",
    "bird6-mrtdump_rib.mrt",
    "bird_bgp.mrt",
    "bview.20020722.2337.gz",
    "bview.64k_stream_overflow.gz",
    "bview.ipv4_unicast_add_path.gz",
    "bview.ipv6_unicast_add_path.gz",
    "openbgpd_bgp.mrt",
    "openbgpd_rib_table-v2.mrt",
    "openbgpd_rib_table.mrt",
    "quagga_bgp.mrt",
    "quagga_rib.mrt",
    "rib.20140523.0600_firstMB.bz2",
    "updates.20070211.0141.gz",
    "updates.20100722.2015.gz",
    "updates.20160811.1600.gz",
    "updates.20190101.0000.gz",
    "updates.et-header.2015.gz",
    "updates.long_withdrawal.gz",
];

/// The shared data folder (`<repo>/../shared/data`).
pub fn data_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")).to_path_buf()
}

/// The path of the MRT file `name` in the shared data folder.
pub fn mrt_path(name: &str) -> PathBuf {
    data_dir().join("mrt").join(name)
}

/// How a file is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (RFC 1952), magic `1f 8b`.
    Gzip,
    /// bzip2, magic `BZh`.
    Bzip2,
}

impl Compression {
    /// Recognise the compression from the first bytes of a file.
    pub fn detect(magic: &[u8]) -> Compression {
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

/// A file's decompressed bytes, and the error that ended decompression early, if any.
#[derive(Debug)]
pub struct Loaded {
    /// Everything that could be read.
    pub bytes: Vec<u8>,
    /// How the file was compressed.
    pub compression: Compression,
    /// Why reading stopped before the end of the stream (a cut compressed file).
    pub error: Option<io::Error>,
}

/// Read and decompress the file at `path`. Only opening the file can fail; a
/// stream that ends early is reported in [`Loaded::error`].
pub fn read_path(path: &Path) -> io::Result<Loaded> {
    let mut raw = Vec::new();
    File::open(path)?.read_to_end(&mut raw)?;
    let compression = Compression::detect(&raw);
    let mut bytes = Vec::new();
    let res = match compression {
        Compression::None => {
            return Ok(Loaded {
                bytes: raw,
                compression,
                error: None,
            })
        }
        Compression::Gzip => read_all(MultiGzDecoder::new(&raw[..]), &mut bytes),
        Compression::Bzip2 => read_all(MultiBzDecoder::new(&raw[..]), &mut bytes),
    };
    Ok(Loaded {
        bytes,
        compression,
        error: res.err(),
    })
}

/// Read until the end or the first error, keeping everything read before the error.
fn read_all<R: Read>(r: R, out: &mut Vec<u8>) -> io::Result<()> {
    let mut r = BufReader::with_capacity(1 << 16, r);
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        match r.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Read the shared MRT file `name` (see [`MRT_FILES`]).
pub fn read_mrt(name: &str) -> io::Result<Loaded> {
    read_path(&mrt_path(name))
}

/// The decompressed bytes of the shared MRT file `name`, panicking with the
/// path if the file is missing (test helper).
pub fn load_mrt(name: &str) -> Vec<u8> {
    let path = mrt_path(name);
    match read_path(&path) {
        Ok(l) => l.bytes,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_file_exists_and_decompresses() {
        for name in MRT_FILES {
            let l = read_mrt(name).unwrap();
            assert!(!l.bytes.is_empty(), "{name}");
            let expect = if name.ends_with(".gz") {
                Compression::Gzip
            } else if name.ends_with(".bz2") {
                Compression::Bzip2
            } else {
                Compression::None
            };
            assert_eq!(l.compression, expect, "{name}");
            assert_eq!(l.error.is_some(), name.ends_with("_firstMB.bz2"), "{name}");
        }
    }

    #[test]
    fn cut_bzip2_keeps_what_decompressed() {
        // SOURCES.md: 15,274,550 bytes decompress before the stream ends early.
        let l = read_mrt("rib.20140523.0600_firstMB.bz2").unwrap();
        assert_eq!(l.bytes.len(), 15_274_550);
        assert!(l.error.is_some());
    }

    #[test]
    fn gzip_size_matches_sources() {
        // SOURCES.md: updates.et-header.2015.gz is 13,511,326 bytes uncompressed.
        assert_eq!(load_mrt("updates.et-header.2015.gz").len(), 13_511_326);
    }
}
