//! A trained run's classifier, loaded from the run directory training wrote (its `config.toml`
//! and `model.bpk`) or from those two files' bytes (the browser fetches them), and what it
//! reads in an image.

use std::fmt;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::{ModuleRecord, RecordError};
use burn::tensor::{Bytes, Device};
use serde::Deserialize;

use crate::NUM_CLASSES;
use crate::config::ModelConfig;
use crate::inference::{leading, step_probabilities};
use crate::model::{Classifier, ROW_FEATURES, STEPS};
use crate::preprocess::{PictureError, picture_input};
use crate::record::{ModelFileProblem, Precision, RecordLayout, stored_as};

/// Values in one model input: 28 rows of 28 pixels.
pub const INPUT_LEN: usize = STEPS * ROW_FEATURES;

/// The name of a finished run's weights in its directory.
pub const MODEL_FILE: &str = "model.bpk";
/// The name of a run's config in its directory.
pub const CONFIG_FILE: &str = "config.toml";

/// A trained classifier, ready to read digits on Burn's flex backend (the CPU, or the browser).
#[derive(Debug)]
pub struct TrainedModel {
    classifier: Classifier,
    device: Device,
}

/// Why a run's model cannot be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// A file of the run cannot be read.
    Io {
        /// The file.
        path: PathBuf,
        /// What reading it said.
        error: std::io::Error,
    },
    /// The config has no readable `[model]` table.
    Config(String),
    /// The weights are not this config's classifier (the problem says how).
    Weights(ModelFileProblem),
    /// Burn could not make or apply the record.
    Record(RecordError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            LoadError::Config(problem) => write!(f, "{CONFIG_FILE}: {problem}"),
            LoadError::Weights(problem) => write!(f, "{MODEL_FILE}: {problem}"),
            LoadError::Record(problem) => write!(f, "{MODEL_FILE}: {problem}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// The part of a run's `config.toml` the model needs; the training settings are the
/// application's.
#[derive(Deserialize)]
struct RunConfig {
    model: ModelConfig,
}

impl TrainedModel {
    /// Loads the finished run in `run_dir` (`config.toml` and `model.bpk`).
    pub fn open(run_dir: &Path) -> Result<Self, LoadError> {
        let read = |name: &str| {
            let path = run_dir.join(name);
            std::fs::read(&path).map_err(|error| LoadError::Io { path, error })
        };
        let config = read(CONFIG_FILE)?;
        let weights = read(MODEL_FILE)?;
        Self::from_bytes(&String::from_utf8_lossy(&config), &weights)
    }

    /// Loads a run from its `config.toml`'s text and its `model.bpk`'s bytes.
    pub fn from_bytes(config_toml: &str, weights: &[u8]) -> Result<Self, LoadError> {
        let config: RunConfig =
            toml::from_str(config_toml).map_err(|e| LoadError::Config(e.message().to_string()))?;
        Self::from_weights(&config.model, weights)
    }

    /// Loads the weights of a classifier of architecture `config` from a `model.bpk`'s bytes,
    /// stored as f32 or f16 ([`crate::record::stored_as`]).
    pub fn from_weights(config: &ModelConfig, weights: &[u8]) -> Result<Self, LoadError> {
        let device = Device::flex();
        let fresh = Classifier::new(config, 0, &device);
        let layout = RecordLayout::of(&fresh).map_err(LoadError::Record)?;
        let weights = stored_as(weights, Precision::F32)
            .map_err(|e| LoadError::Weights(ModelFileProblem::unreadable(e)))?;
        layout.check_bytes(&weights).map_err(LoadError::Weights)?;
        let record =
            ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights)).map_err(LoadError::Record)?;
        let classifier = fresh.try_load_record(record).map_err(LoadError::Record)?;
        Ok(Self { classifier, device })
    }

    /// The classifier itself, for Burn code of your own.
    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }

    /// Reads one model input: 28×28 values in [0, 1], row after row, white ink on black as in
    /// MNIST (see [`crate::preprocess`] for pictures).
    pub fn read(&self, pixels: &[f32; INPUT_LEN]) -> Reading {
        let values = step_probabilities(&self.classifier, pixels.to_vec(), &self.device);
        let rows = values
            .chunks_exact(NUM_CLASSES)
            .map(|row| row.try_into().expect("rows of ten"))
            .collect();
        Reading { rows }
    }

    /// Reads the digit in a picture (PNG or JPEG bytes: a photo of paper, a scan, a drawing).
    pub fn read_picture(&self, bytes: &[u8]) -> Result<Reading, PictureError> {
        let pixels = picture_input(bytes)?;
        let input = pixels
            .as_slice()
            .try_into()
            .expect("the picture path makes 28x28 inputs");
        Ok(self.read(input))
    }
}

/// What the model read in one image: the ten class probabilities after each of its 28 rows.
/// The last row's are the answer; the earlier ones are the model's guess so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    rows: Vec<[f32; NUM_CLASSES]>,
}

impl Reading {
    /// The class probabilities after every row, first row first.
    pub fn rows(&self) -> &[[f32; NUM_CLASSES]] {
        &self.rows
    }

    /// The ten class probabilities: the answer.
    pub fn probabilities(&self) -> &[f32; NUM_CLASSES] {
        self.rows.last().expect("a reading has 28 rows")
    }

    /// The most likely class (the digit, for MNIST).
    pub fn digit(&self) -> usize {
        leading(self.probabilities()).0
    }

    /// The most likely class's probability.
    pub fn probability(&self) -> f32 {
        leading(self.probabilities()).1
    }
}
