//! Experiment configuration: the TOML files in `configs/`, validated into typed values.
//!
//! Every section rejects unknown keys so that a typo in a config is an error rather than a
//! silently ignored setting.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use crate::cell::Cell;
use crate::error::{AtFile, Result};
use crate::fsutil::read_text_bounded;
pub use lstm_mnist_model::config::{Bias, MAX_HIDDEN, ModelConfig};

/// Upper bounds that no sensible experiment reaches; past them a typo would exhaust memory or
/// run for days before saying anything. (What fits this machine's memory is checked too, by
/// `training::check_fits_in_memory`.)
pub(crate) const MAX_BATCH_SIZE: usize = 60_000;
/// A config is a few hundred bytes; a file this large is not one (or is `/dev/zero`).
pub(crate) const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// A complete, validated experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Directory name of the run under the artifacts root (checked by `run_dir::check_name`).
    pub name: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default)]
    pub model: ModelConfig,
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    #[serde(default)]
    pub training: TrainingConfig,
    #[serde(default)]
    pub data: DataConfig,
    /// `[tracking]`: where training also logs the run; off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<TrackingConfig>,
}

/// `[tracking]`: experiment trackers that training logs to, beside the run directory (which
/// stays complete either way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackingConfig {
    /// An MLflow tracking server's URI (`http://host:5000`); `$MLFLOW_TRACKING_URI` wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlflow: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    pub kind: OptimizerKind,
    pub learning_rate: f64,
    #[serde(default)]
    pub momentum: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    pub epochs: usize,
    pub batch_size: usize,
    #[serde(default)]
    pub validation_split: f64,
    /// Keras's `EarlyStopping` callback; off when absent (the seed experiment has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStoppingConfig>,
}

/// `[training.early_stopping]`: stop once the monitored validation metric has not improved for
/// `patience` epochs, as Keras's `EarlyStopping(monitor, patience, restore_best_weights)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStoppingConfig {
    #[serde(default)]
    pub monitor: Monitor,
    #[serde(default)]
    pub patience: usize,
    /// End with the weights of the best epoch rather than the last one.
    #[serde(default)]
    pub restore_best_weights: bool,
}

/// The validation metric early stopping watches (Keras's names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    /// Lower is better.
    #[default]
    ValLoss,
    /// Higher is better.
    ValAccuracy,
}

impl fmt::Display for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Monitor::ValLoss => "val_loss",
            Monitor::ValAccuracy => "val_accuracy",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    pub dataset: Dataset,
    /// Use only the first N training images (quick runs); all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_samples: Option<usize>,
    /// Use only the first N test images; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_samples: Option<usize>,
    /// `[data.augment]`: random distortions of the training images; off when absent (the seed
    /// experiment has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augment: Option<AugmentConfig>,
}

/// `[data.augment]`: each training image is distorted anew every epoch, the distortion of image
/// i in epoch e drawn from (seed, e, i) alone. Every key is optional; a present table with no
/// keys gives the defaults below. A value of 0 switches that distortion off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AugmentConfig {
    /// Largest rotation either way, in degrees (default 12).
    pub rotation: f64,
    /// The zoom factor's range (default [0.85, 1.1]).
    pub scale: [f64; 2],
    /// Largest horizontal shear (slant) either way, in degrees (default 15).
    pub shear: f64,
    /// Largest shift along each axis, in pixels (default 2).
    pub translate: f64,
    /// Probability of thicker strokes, about two pixels wider (default 0.2).
    pub thicken: f64,
    /// Probability of thinner strokes (default 0.2; `thicken + thin` at most 1).
    pub thin: f64,
    /// Probability of a Gaussian blur (default 0.2)...
    pub blur: f64,
    /// ...of a sigma drawn from [blur_sigma / 2, blur_sigma] pixels (default 1).
    pub(crate) blur_sigma: f64,
    /// Probability of an elastic distortion (Simard et al. 2003; default 0.5)...
    pub elastic: f64,
    /// ...of strength alpha, in pixels (default 34, Simard's)...
    pub(crate) elastic_alpha: f64,
    /// ...and smoothness sigma, in pixels (default 4, Simard's).
    pub elastic_sigma: f64,
    /// Probability that a 1 gets a flag (with or without a base) and a 7 a bar across its
    /// stem, styles that MNIST's writers rarely used (default 0.3).
    pub styles: f64,
    /// Probability of a low resolution (default 0)...
    pub low_resolution: f64,
    /// ...the image shrunk to a square of a size drawn from this range, in pixels, and
    /// enlarged back (default [7, 16]).
    pub(crate) low_resolution_size: [u32; 2],
    /// Probability of a grey background and faint ink (default 0)...
    pub contrast: f64,
    /// ...the background's level drawn from [0, contrast_background] of full intensity
    /// (default 0.4)...
    pub contrast_background: f64,
    /// ...and full ink's from [contrast_ink, 1] (default 0.5; above `contrast_background`).
    pub contrast_ink: f64,
    /// Probability of Gaussian noise (default 0)...
    pub noise: f64,
    /// ...of a standard deviation drawn from [noise_sigma / 2, noise_sigma] of full
    /// intensity (default 0.3).
    pub(crate) noise_sigma: f64,
    /// Probability of salt-and-pepper noise (default 0)...
    pub salt_pepper: f64,
    /// ...on a fraction of the pixels drawn from [amount / 2, amount] (default 0.1).
    pub(crate) salt_pepper_amount: f64,
    /// Probability of JPEG compression (default 0)...
    pub jpeg: f64,
    /// ...at a quality drawn from this range, 1 to 100 (default [10, 50]).
    pub jpeg_quality: [u8; 2],
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            rotation: 12.0,
            scale: [0.85, 1.1],
            shear: 15.0,
            translate: 2.0,
            thicken: 0.2,
            thin: 0.2,
            blur: 0.2,
            blur_sigma: 1.0,
            elastic: 0.5,
            elastic_alpha: 34.0,
            elastic_sigma: 4.0,
            styles: 0.3,
            low_resolution: 0.0,
            low_resolution_size: [7, 16],
            contrast: 0.0,
            contrast_background: 0.4,
            contrast_ink: 0.5,
            noise: 0.0,
            noise_sigma: 0.3,
            salt_pepper: 0.0,
            salt_pepper_amount: 0.1,
            jpeg: 0.0,
            jpeg_quality: [10, 50],
        }
    }
}

impl AugmentConfig {
    /// Checks the ranges; the message names the key, in the config's table `table`.
    pub(crate) fn validate_as(&self, table: &str) -> std::result::Result<(), ConfigError> {
        let within = |key: &str, value: f64, low: f64, high: f64| {
            if value.is_finite() && (low..=high).contains(&value) {
                Ok(())
            } else {
                Err(ConfigError::invalid(
                    &format!("{table}.{key}"),
                    format!("must be from {low} to {high}"),
                ))
            }
        };
        within("rotation", self.rotation, 0.0, 180.0)?;
        within("shear", self.shear, 0.0, 60.0)?;
        within("translate", self.translate, 0.0, 14.0)?;
        for (key, probability) in [
            ("thicken", self.thicken),
            ("thin", self.thin),
            ("blur", self.blur),
            ("elastic", self.elastic),
            ("styles", self.styles),
            ("low_resolution", self.low_resolution),
            ("contrast", self.contrast),
            ("noise", self.noise),
            ("salt_pepper", self.salt_pepper),
            ("jpeg", self.jpeg),
        ] {
            within(key, probability, 0.0, 1.0)?;
        }
        let [smallest, largest] = self.low_resolution_size.map(f64::from);
        within("low_resolution_size", smallest, 2.0, 27.0)?;
        within("low_resolution_size", largest, smallest, 27.0)?;
        within("contrast_background", self.contrast_background, 0.0, 0.9)?;
        within("contrast_ink", self.contrast_ink, 0.0, 1.0)?;
        if self.contrast_ink <= self.contrast_background {
            return Err(ConfigError::invalid(
                &format!("{table}.contrast_ink"),
                "must be above `contrast_background`",
            ));
        }
        within("noise_sigma", self.noise_sigma, 0.0, 1.0)?;
        within("salt_pepper_amount", self.salt_pepper_amount, 0.0, 0.5)?;
        let [lowest, highest] = self.jpeg_quality.map(f64::from);
        within("jpeg_quality", lowest, 1.0, 100.0)?;
        within("jpeg_quality", highest, lowest, 100.0)?;
        within("thicken + thin", self.thicken + self.thin, 0.0, 1.0)?;
        within("blur_sigma", self.blur_sigma, 0.0, 5.0)?;
        within("elastic_alpha", self.elastic_alpha, 0.0, 100.0)?;
        within("elastic_sigma", self.elastic_sigma, 0.0, 10.0)?;
        let [low, high] = self.scale;
        within("scale", low, 0.25, 4.0)?;
        within("scale", high, low, 4.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    Sgd,
    Adam,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dataset {
    Mnist,
    FashionMnist,
}

fn default_seed() -> u64 {
    42
}

/// The seed experiment: the Keras example's LSTM with plain SGD.
impl Default for ExperimentConfig {
    fn default() -> Self {
        Self {
            name: "lstm-sgd".into(),
            seed: default_seed(),
            model: ModelConfig::default(),
            optimizer: OptimizerConfig::default(),
            training: TrainingConfig::default(),
            data: DataConfig::default(),
            tracking: None,
        }
    }
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            kind: OptimizerKind::Sgd,
            learning_rate: 0.01,
            momentum: 0.0,
        }
    }
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            epochs: 20,
            batch_size: 128,
            validation_split: 0.0,
            early_stopping: None,
        }
    }
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            dataset: Dataset::Mnist,
            train_samples: None,
            test_samples: None,
            augment: None,
        }
    }
}

impl fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Adam => "adam",
        })
    }
}

impl ExperimentConfig {
    /// Reads and validates a config file; errors name the file and the offending key.
    pub fn load(path: &Path) -> Result<Self> {
        let text = read_text_bounded(path, MAX_CONFIG_BYTES, "a config")?;
        Self::parse(&text).at(path)
    }

    /// Parses and validates TOML text.
    pub fn parse(text: &str) -> std::result::Result<Self, ConfigError> {
        let config: Self =
            toml::from_str(text).map_err(|e| ConfigError::Toml(describe_toml_error(text, &e)))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the values that the types alone cannot: the message names the key.
    pub fn validate(&self) -> std::result::Result<(), ConfigError> {
        let invalid = |key: &str, why: &str| Err(ConfigError::invalid(key, why));
        if !(1..=MAX_HIDDEN).contains(&self.model.hidden) {
            return invalid("model.hidden", &format!("must be from 1 to {MAX_HIDDEN}"));
        }
        let lr = self.optimizer.learning_rate;
        if !(lr.is_finite() && lr > 0.0) {
            return invalid("optimizer.learning_rate", "must be a positive number");
        }
        let momentum = self.optimizer.momentum;
        if !(0.0..1.0).contains(&momentum) {
            return invalid("optimizer.momentum", "must be in [0, 1)");
        }
        if momentum != 0.0 && self.optimizer.kind != OptimizerKind::Sgd {
            return invalid("optimizer.momentum", "applies to `kind = \"sgd\"` only");
        }
        if self.training.epochs == 0 {
            return invalid("training.epochs", "must be at least 1");
        }
        if self.training.batch_size == 0 {
            return invalid("training.batch_size", "must be at least 1");
        }
        if self.training.batch_size > MAX_BATCH_SIZE {
            return invalid(
                "training.batch_size",
                &format!("must be at most {MAX_BATCH_SIZE} (the size of the training set)"),
            );
        }
        if self.data.train_samples == Some(0) {
            return invalid("data.train_samples", "must be at least 1");
        }
        if self.data.test_samples == Some(0) {
            return invalid("data.test_samples", "must be at least 1");
        }
        if !(0.0..1.0).contains(&self.training.validation_split) {
            return invalid("training.validation_split", "must be in [0, 1)");
        }
        if let Some(uri) = self.tracking.as_ref().and_then(|t| t.mlflow.as_deref())
            && !is_http_uri(uri)
        {
            return invalid("tracking.mlflow", "must be an http:// or https:// URI");
        }
        match &self.data.augment {
            Some(augment) => augment.validate_as("data.augment"),
            None => Ok(()),
        }
    }

    /// The resolved config as TOML, as written beside a run's artifacts.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("an experiment config always serialises")
    }
}

/// Every leaf of `table` under its dotted key, in the table's order: nested tables are walked,
/// so `optimizer.learning_rate = …` in `[optimizer]` and `"optimizer.learning_rate" = …` give
/// the same key (a sweep's overrides, a tracked run's params).
pub(crate) fn dotted_leaves(table: &toml::Table) -> Vec<(String, &toml::Value)> {
    let mut leaves = Vec::new();
    collect_leaves(table, "", &mut leaves);
    leaves
}

fn collect_leaves<'a>(
    table: &'a toml::Table,
    prefix: &str,
    leaves: &mut Vec<(String, &'a toml::Value)>,
) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => collect_leaves(inner, &path, leaves),
            leaf => leaves.push((path, leaf)),
        }
    }
}

/// Whether `uri` names a server that MLflow's REST API is reached at (not a local store such
/// as `file:./mlruns` or `sqlite:///…`).
pub(crate) fn is_http_uri(uri: &str) -> bool {
    uri.starts_with("http://") || uri.starts_with("https://")
}

/// What is wrong with a config; the caller names the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// Not TOML of a config's shape (a syntax error, an unknown key, a value of the wrong
    /// type), in one line that names the key or the line.
    Toml(String),
    /// A key's value breaks its rule.
    InvalidValue { key: String, rule: String },
}

impl ConfigError {
    pub(crate) fn invalid(key: &str, rule: impl Into<String>) -> Self {
        Self::InvalidValue {
            key: key.to_string(),
            rule: rule.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Toml(message) => f.write_str(message),
            ConfigError::InvalidValue { key, rule } => {
                write!(f, "invalid value for `{key}`: {rule}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// toml's own message for `error`, on one line (it can run over several).
pub(crate) fn toml_message(error: &toml::de::Error) -> String {
    error.message().trim().replace('\n', " ")
}

/// Turns toml's multi-line, caret-annotated error into one line that names the key.
pub(crate) fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = toml_message(error);
    let Some(span) = error.span() else {
        return message;
    };
    let before = &text[..span.start.min(text.len())];
    let line_number = before.matches('\n').count() + 1;
    match key_at(text, line_number) {
        Some(key) => format!("`{key}` (line {line_number}): {message}"),
        None => format!("line {line_number}: {message}"),
    }
}

/// The dotted key assigned on a given line, with the `[section]` it sits in.
fn key_at(text: &str, line_number: usize) -> Option<String> {
    let mut section = String::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string();
        }
        if index + 1 == line_number {
            let (key, _) = line.split_once('=')?;
            let key = key.trim();
            return Some(if section.is_empty() {
                key.to_string()
            } else {
                format!("{section}.{key}")
            });
        }
    }
    None
}
