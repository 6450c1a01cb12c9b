//! MNIST data: IDX parsing, locating or downloading the files, and batching for training.

pub mod augment;
pub(crate) mod distort;
pub mod download;
pub mod idx;
pub mod loader;
pub(crate) mod number_loader;
pub mod numbers;
pub mod page_generator;
pub mod pages;
pub mod styles;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::DataConfig;
use crate::error::{Error, Result};

pub use loader::MnistBatch;
pub(crate) use loader::MnistLoader;

pub use lstm_mnist_model::NUM_CLASSES;
use lstm_mnist_model::{COLUMNS, ROWS};

/// One of the four files of an MNIST-format dataset, with the SHA-256 of its uncompressed bytes.
#[derive(Debug, Clone, Copy)]
pub struct DataFile {
    pub name: &'static str,
    pub sha256: &'static str,
}

pub(crate) const TRAIN_IMAGES: DataFile = DataFile {
    name: "train-images-idx3-ubyte",
    sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
};
pub(crate) const TRAIN_LABELS: DataFile = DataFile {
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

/// Fashion-MNIST: Zalando's clothing images in MNIST's format and file names.
pub(crate) const FASHION_MNIST_FILES: [DataFile; 4] = [
    DataFile {
        name: TRAIN_IMAGES.name,
        sha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    },
    DataFile {
        name: TRAIN_LABELS.name,
        sha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    },
    DataFile {
        name: TEST_IMAGES.name,
        sha256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    },
    DataFile {
        name: TEST_LABELS.name,
        sha256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
];

/// Where a dataset comes from and what its classes are called.
#[derive(Debug)]
pub struct DatasetSource {
    /// Directory name in the cache.
    pub id: &'static str,
    pub files: [DataFile; 4],
    /// Base URL of the `.gz` files.
    pub mirror: &'static str,
    /// Environment variable naming a directory that holds the files.
    pub(crate) dir_env: &'static str,
    /// Where a system package installs the files, looked at before the cache.
    pub system_dir: Option<&'static str>,
    /// Class names, where the class is not simply the digit.
    pub class_names: Option<[&'static str; NUM_CLASSES]>,
}

pub const MNIST: DatasetSource = DatasetSource {
    id: "mnist",
    files: MNIST_FILES,
    mirror: "https://storage.googleapis.com/cvdf-datasets/mnist/",
    dir_env: "MNIST_DIR",
    system_dir: None,
    class_names: None,
};

pub const FASHION_MNIST: DatasetSource = DatasetSource {
    id: "fashion-mnist",
    files: FASHION_MNIST_FILES,
    mirror: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    dir_env: "FASHION_MNIST_DIR",
    // Debian's and Ubuntu's `dataset-fashion-mnist` package.
    system_dir: Some("/usr/share/datasets/fashion-mnist"),
    class_names: Some([
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]),
};

impl crate::config::Dataset {
    pub fn source(self) -> &'static DatasetSource {
        match self {
            crate::config::Dataset::Mnist => &MNIST,
            crate::config::Dataset::FashionMnist => &FASHION_MNIST,
        }
    }
}

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

    /// Example `index` as a grayscale image.
    pub(crate) fn gray_image(&self, index: usize) -> image::GrayImage {
        image::GrayImage::from_raw(
            self.cols as u32,
            self.rows as u32,
            self.image(index).to_vec(),
        )
        .expect("an example holds rows x cols pixels")
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
            train: Self::load_train(dir)?,
            test: Self::load_test(dir)?,
        })
    }

    /// Loads only the training split.
    pub(crate) fn load_train(dir: &Path) -> Result<Examples> {
        load_split(dir, TRAIN_IMAGES, TRAIN_LABELS)
    }

    /// Loads only the test split, for evaluation.
    pub fn load_test(dir: &Path) -> Result<Examples> {
        load_split(dir, TEST_IMAGES, TEST_LABELS)
    }
}

/// The test images a run of `data` is scored on, from the dataset in `dir`: the test split, or
/// its first `test_samples`. Training's report, `evaluate`, `robustness` and the imports all
/// take them from here, so that their figures agree to the digit.
pub(crate) fn test_set(data: &DataConfig, dir: &Path) -> Result<Examples> {
    Ok(MnistData::load_test(dir)?.first(data.test_samples.unwrap_or(usize::MAX)))
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
    if (images.rows, images.cols) != (ROWS, COLUMNS) {
        return Err(Error::file(
            &images_path,
            format!(
                "holds {}x{} images; the models read {ROWS}x{COLUMNS} images",
                images.rows, images.cols
            ),
        ));
    }
    if images.count == 0 {
        return Err(Error::file(&images_path, "holds no images"));
    }
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
