//! MNIST data: IDX parsing, locating or downloading the files, and batching for training.

pub mod download;
pub mod idx;
pub mod loader;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};

pub use loader::{MnistBatch, MnistLoader};

pub const NUM_CLASSES: usize = 10;

/// One of the four files of an MNIST-format dataset, with the SHA-256 of its uncompressed bytes.
#[derive(Debug, Clone, Copy)]
pub struct DataFile {
    pub name: &'static str,
    pub sha256: &'static str,
}

pub const TRAIN_IMAGES: DataFile = DataFile {
    name: "train-images-idx3-ubyte",
    sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
};
pub const TRAIN_LABELS: DataFile = DataFile {
    name: "train-labels-idx1-ubyte",
    sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
};
pub const TEST_IMAGES: DataFile = DataFile {
    name: "t10k-images-idx3-ubyte",
    sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
};
pub const TEST_LABELS: DataFile = DataFile {
    name: "t10k-labels-idx1-ubyte",
    sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
};
pub const MNIST_FILES: [DataFile; 4] = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];

/// Labelled images sharing one immutable buffer; slicing is free.
#[derive(Debug, Clone)]
pub struct Examples {
    pixels: Arc<[u8]>,
    labels: Arc<[u8]>,
    pub rows: usize,
    pub cols: usize,
    start: usize,
    len: usize,
}

impl Examples {
    pub fn new(pixels: Vec<u8>, labels: Vec<u8>, rows: usize, cols: usize) -> Self {
        assert_eq!(pixels.len(), labels.len() * rows * cols);
        let len = labels.len();
        Self {
            pixels: pixels.into(),
            labels: labels.into(),
            rows,
            cols,
            start: 0,
            len,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The raw 8-bit pixels of example `index`.
    pub fn image(&self, index: usize) -> &[u8] {
        let size = self.rows * self.cols;
        let at = (self.start + index) * size;
        &self.pixels[at..at + size]
    }

    pub fn label(&self, index: usize) -> u8 {
        self.labels[self.start + index]
    }

    /// Examples `from..to` of this view.
    pub fn range(&self, from: usize, to: usize) -> Self {
        assert!(from <= to && to <= self.len);
        Self {
            start: self.start + from,
            len: to - from,
            ..self.clone()
        }
    }

    /// The first `n` examples (all of them when `n` is larger).
    pub fn first(&self, n: usize) -> Self {
        self.range(0, n.min(self.len))
    }

    /// Splits off the last `fraction` as validation data, as Keras's `validation_split` does
    /// (taken before any shuffling, from the end).
    pub fn split_validation(&self, fraction: f64) -> (Self, Self) {
        let valid = (self.len as f64 * fraction).round() as usize;
        let at = self.len - valid.min(self.len);
        (self.range(0, at), self.range(at, self.len))
    }
}

/// The training and test splits of an MNIST-format dataset.
#[derive(Debug, Clone)]
pub struct MnistData {
    pub train: Examples,
    pub test: Examples,
}

impl MnistData {
    /// Loads and validates the four IDX files found in `dir` (gzip'd or raw).
    pub fn load(dir: &Path) -> Result<Self> {
        Ok(Self {
            train: load_split(dir, TRAIN_IMAGES, TRAIN_LABELS)?,
            test: load_split(dir, TEST_IMAGES, TEST_LABELS)?,
        })
    }

    /// Loads only the test split, for evaluation.
    pub fn load_test(dir: &Path) -> Result<Examples> {
        load_split(dir, TEST_IMAGES, TEST_LABELS)
    }
}

/// The path of a data file in `dir`: the gzip'd form if present, else the raw one.
pub fn locate(dir: &Path, file: DataFile) -> Option<PathBuf> {
    [format!("{}.gz", file.name), file.name.to_string()]
        .into_iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

fn load_split(dir: &Path, images: DataFile, labels: DataFile) -> Result<Examples> {
    let find = |file: DataFile| {
        locate(dir, file).ok_or_else(|| {
            Error::file(
                dir.join(format!("{}.gz", file.name)),
                "missing (neither the .gz nor the raw file is there)",
            )
        })
    };
    let images_path = find(images)?;
    let labels_path = find(labels)?;
    let images = idx::parse_images(&images_path, &idx::read_maybe_gzip(&images_path)?)?;
    let labels = idx::parse_labels(
        &labels_path,
        &idx::read_maybe_gzip(&labels_path)?,
        NUM_CLASSES as u8,
    )?;
    if images.count != labels.len() {
        return Err(Error::file(
            &labels_path,
            format!(
                "holds {} labels but {} holds {} images",
                labels.len(),
                images_path.display(),
                images.count
            ),
        ));
    }
    Ok(Examples::new(
        images.pixels,
        labels,
        images.rows,
        images.cols,
    ))
}
