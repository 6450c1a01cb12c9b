//! The IDX file format of the MNIST distribution: big-endian header, then raw unsigned bytes.
//!
//! Files may be gzip'd (as distributed) or raw. Every check happens before anything large is
//! allocated, so a corrupt header cannot make us reserve gigabytes.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{AtFile, Error, Result};

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Far above any real MNIST-format file (the training images are 47 MB), far below harm.
const MAX_DECODED_BYTES: u64 = 512 * 1024 * 1024;

/// A stack of 8-bit grayscale images, row-major, one after another.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxImages {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

/// Reads the bytes of a possibly gzip'd file, refusing anything absurdly large.
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).doing(path, "cannot read")?;
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(raw.as_slice())
        .take(MAX_DECODED_BYTES + 1)
        .read_to_end(&mut decoded)
        .doing(path, "corrupt gzip data")?;
    if decoded.len() as u64 > MAX_DECODED_BYTES {
        return Err(Error::file(path, "decompresses to more than 512 MiB"));
    }
    Ok(decoded)
}

/// Parses an IDX image file (magic 0x803, three dimensions).
pub fn parse_images(path: &Path, bytes: &[u8]) -> Result<IdxImages> {
    let dims = parse_header(path, bytes, IMAGES_MAGIC, 3, "image")?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    if rows == 0 || cols == 0 {
        return Err(Error::file(
            path,
            format!("image size {rows}x{cols} is empty"),
        ));
    }
    let pixels = payload(path, bytes, &dims)?;
    Ok(IdxImages {
        count,
        rows,
        cols,
        pixels: pixels.to_vec(),
    })
}

/// Parses an IDX label file (magic 0x801, one dimension) whose labels are digits 0–9.
pub fn parse_labels(path: &Path, bytes: &[u8], num_classes: u8) -> Result<Vec<u8>> {
    let dims = parse_header(path, bytes, LABELS_MAGIC, 1, "label")?;
    let labels = payload(path, bytes, &dims)?;
    if let Some((index, label)) = labels.iter().enumerate().find(|(_, l)| **l >= num_classes) {
        return Err(Error::file(
            path,
            format!(
                "label {label} at index {index} is out of range 0–{}",
                num_classes - 1
            ),
        ));
    }
    Ok(labels.to_vec())
}

/// Validates the magic number and returns the declared dimensions.
fn parse_header(
    path: &Path,
    bytes: &[u8],
    magic: u32,
    ndims: usize,
    kind: &str,
) -> Result<Vec<usize>> {
    let header_len = 4 + 4 * ndims;
    if bytes.len() < header_len {
        return Err(Error::file(
            path,
            format!(
                "too short for an IDX {kind} file: {} bytes, the header alone is {header_len}",
                bytes.len()
            ),
        ));
    }
    let word = |i: usize| u32::from_be_bytes(bytes[4 * i..4 * i + 4].try_into().unwrap());
    let found = word(0);
    if found != magic {
        return Err(Error::file(
            path,
            format!("not an IDX {kind} file: magic number {found:#010x}, expected {magic:#010x}"),
        ));
    }
    Ok((1..=ndims).map(|i| word(i) as usize).collect())
}

/// The data after the header, which must be exactly as long as the dimensions declare.
fn payload<'a>(path: &Path, bytes: &'a [u8], dims: &[usize]) -> Result<&'a [u8]> {
    let header_len = 4 + 4 * dims.len();
    let expected = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .unwrap_or(u64::MAX);
    let actual = (bytes.len() - header_len) as u64;
    let shape = dims
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("x");
    if actual < expected {
        return Err(Error::file(
            path,
            format!(
                "truncated: header declares {shape} = {expected} bytes of data, file holds {actual}"
            ),
        ));
    }
    if actual > expected {
        return Err(Error::file(
            path,
            format!(
                "{} unexpected bytes after the {shape} data",
                actual - expected
            ),
        ));
    }
    Ok(&bytes[header_len..])
}

/// The largest image an IDX file may declare, far above MNIST's 28x28: a header asking for more
/// is corrupt, and is refused before anything is allocated.
const MAX_IMAGE_PIXELS: usize = 4096 * 4096;

/// The images of an IDX image file, read a batch at a time, so that memory does not grow with
/// the file (for `predict` on files of any length). Gzip'd files are decompressed as they go.
pub struct IdxImageStream {
    path: PathBuf,
    reader: Box<dyn Read>,
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    /// Images read so far.
    read: usize,
}

impl IdxImageStream {
    /// Opens `path` if it is an IDX image file; `Ok(None)` when it is something else.
    pub fn open(path: &Path) -> Result<Option<Self>> {
        let mut buffered = BufReader::new(File::open(path).doing(path, "cannot read")?);
        let gzipped = buffered
            .fill_buf()
            .doing(path, "cannot read")?
            .starts_with(&GZIP_MAGIC);
        let mut reader: Box<dyn Read> = if gzipped {
            Box::new(flate2::read::GzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        let mut header = [0u8; 16];
        let got = read_up_to(&mut reader, &mut header).doing(path, "corrupt gzip data")?;
        let word = |i: usize| u32::from_be_bytes(header[4 * i..4 * i + 4].try_into().unwrap());
        if got < 4 || word(0) != IMAGES_MAGIC {
            return Ok(None);
        }
        let dims = parse_header(path, &header[..got], IMAGES_MAGIC, 3, "image")?;
        let (count, rows, cols) = (dims[0], dims[1], dims[2]);
        if rows == 0 || cols == 0 || rows * cols > MAX_IMAGE_PIXELS {
            return Err(Error::file(
                path,
                format!("image size {rows}x{cols} is not a plausible image"),
            ));
        }
        Ok(Some(Self {
            path: path.to_path_buf(),
            reader,
            count,
            rows,
            cols,
            read: 0,
        }))
    }

    /// The next (at most) `n` images, each `rows x cols` bytes; empty once all are read. A file
    /// shorter or longer than its header declares is an error naming it.
    pub fn next_batch(&mut self, n: usize) -> Result<Vec<Vec<u8>>> {
        let size = self.rows * self.cols;
        let wanted = n.min(self.count - self.read);
        let mut images = Vec::with_capacity(wanted);
        for _ in 0..wanted {
            let mut image = vec![0u8; size];
            let got = read_up_to(&mut self.reader, &mut image).map_err(|e| self.corrupt(e))?;
            if got < size {
                return Err(Error::file(
                    &self.path,
                    format!(
                        "truncated: header declares {} images, the file ends in image {}",
                        self.count, self.read
                    ),
                ));
            }
            images.push(image);
            self.read += 1;
        }
        if wanted == 0 {
            let mut extra = [0u8; 1];
            if read_up_to(&mut self.reader, &mut extra).map_err(|e| self.corrupt(e))? > 0 {
                return Err(Error::file(
                    &self.path,
                    format!("unexpected bytes after the {} declared images", self.count),
                ));
            }
        }
        Ok(images)
    }

    pub(crate) fn images_read(&self) -> usize {
        self.read
    }

    fn corrupt(&self, error: std::io::Error) -> Error {
        Error::file(&self.path, format!("cannot read: {error}"))
    }
}

/// Fills as much of `buffer` as the reader has; the count is short only at the end.
fn read_up_to(reader: &mut dyn Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
