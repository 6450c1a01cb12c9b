//! A trained run's classifier, loaded from the run directory training wrote (its `config.toml`
//! and `model.bpk`) or from those two files' bytes (the browser fetches them), on any Burn
//! device, and what it reads in model inputs and pictures.

use std::fmt;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::{ModuleRecord, RecordError};
use burn::tensor::{Bytes, Device};
use serde::Deserialize;

use crate::ModelInput;
use crate::config::ModelConfig;
use crate::inference::{Detail, Reading, read};
use crate::model::{Classifier, RecurrentKernel};
use crate::preprocess::{PictureError, picture_input};
use crate::record::{ModelFileProblem, Precision, RecordLayout, stored_as};

/// The name of a finished run's weights in its directory.
pub const MODEL_FILE: &str = "model.bpk";
/// The name of a run's config in its directory.
pub const CONFIG_FILE: &str = "config.toml";

/// A trained classifier on a device, ready to read digits.
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
    /// Loads the finished run in `run_dir` (`config.toml` and `model.bpk`) onto `device`.
    pub fn open(run_dir: &Path, device: &Device) -> Result<Self, LoadError> {
        let read = |name: &str| {
            let path = run_dir.join(name);
            std::fs::read(&path).map_err(|error| LoadError::Io { path, error })
        };
        let config = read(CONFIG_FILE)?;
        let weights = read(MODEL_FILE)?;
        Self::from_bytes(&String::from_utf8_lossy(&config), &weights, device)
    }

    /// Loads a run from its `config.toml`'s text and its `model.bpk`'s bytes onto `device`.
    pub fn from_bytes(
        config_toml: &str,
        weights: &[u8],
        device: &Device,
    ) -> Result<Self, LoadError> {
        let config: RunConfig =
            toml::from_str(config_toml).map_err(|e| LoadError::Config(e.message().to_string()))?;
        Self::from_weights(&config.model, weights, device)
    }

    /// Loads the weights of a classifier of architecture `config` from a model file's bytes
    /// (a run's `model.bpk` or a checkpoint's), stored as f32 or f16
    /// ([`crate::record::stored_as`]), onto `device`. The file is checked against the
    /// architecture before Burn reads it: Burn panics on a tensor of another type.
    pub fn from_weights(
        config: &ModelConfig,
        weights: &[u8],
        device: &Device,
    ) -> Result<Self, LoadError> {
        let fresh = Classifier::new(config, 0, device);
        let layout = RecordLayout::of(&fresh).map_err(LoadError::Record)?;
        let weights = stored_as(weights, Precision::F32)
            .map_err(|e| LoadError::Weights(ModelFileProblem::unreadable(e)))?;
        layout.check_bytes(&weights).map_err(LoadError::Weights)?;
        let record =
            ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights)).map_err(LoadError::Record)?;
        let classifier = fresh.try_load_record(record).map_err(LoadError::Record)?;
        Ok(Self {
            classifier,
            device: device.clone(),
        })
    }

    /// The same model, its recurrent layer run by `kernel` (the fused CPU op by default,
    /// where the crate is built with it).
    pub fn with_kernel(self, kernel: RecurrentKernel) -> Self {
        Self {
            classifier: self.classifier.with_kernel(kernel),
            ..self
        }
    }

    /// The classifier itself, for Burn code of your own.
    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }

    /// The classifier, to train on or to hand to Burn code of your own.
    pub fn into_classifier(self) -> Classifier {
        self.classifier
    }

    /// Reads a batch of model inputs, one forward pass per
    /// [`INFERENCE_BATCH`](crate::inference::INFERENCE_BATCH) of them, the readings in input
    /// order; with [`Detail::Rows`] each reading also holds the probabilities after each row.
    pub fn read_batch(&self, inputs: &[ModelInput], detail: Detail) -> Vec<Reading> {
        read(&self.classifier, inputs, detail, &self.device)
    }

    /// Reads one model input (see [`crate::preprocess`] for pictures).
    pub fn read(&self, input: &ModelInput, detail: Detail) -> Reading {
        let mut readings = self.read_batch(std::slice::from_ref(input), detail);
        readings.pop().expect("one reading per input")
    }

    /// Reads the digit in a picture (PNG or JPEG bytes: a photo of paper, a scan, a drawing).
    pub fn read_picture(&self, bytes: &[u8], detail: Detail) -> Result<Reading, PictureError> {
        Ok(self.read(&picture_input(bytes)?, detail))
    }
}
