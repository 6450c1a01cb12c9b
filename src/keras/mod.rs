//! Keras's files: `import-keras` reads a whole model (a Keras 3 `.keras` archive or a legacy
//! `.h5`) of the seed's architecture into our classifier's weights, and `export-keras` writes
//! a model's weights as a `.weights.h5` that Keras's `load_weights` reads. HDF5 is read and
//! written by `hdf5-pure` (pure Rust: no C library to install).

mod architecture;
mod export;
mod weights;

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::config::{Cell, OptimizerConfig};
use crate::error::{Error, Result};
use crate::fsutil::read_bounded;
use crate::model::{KerasWeights, WeightsError};

pub use export::{check_weights_file_name, export_weights};

/// Past this a file is not a model of the seed's kind (an LSTM of 4096 units is 300 MB).
const MAX_MODEL_BYTES: u64 = 1024 * 1024 * 1024;
/// A `.keras` archive's `config.json` is a few KB.
const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// A Keras model read from a file: its weights, and how it was compiled where that is one of
/// our optimizers.
pub struct KerasModel {
    pub weights: KerasWeights,
    pub optimizer: Option<OptimizerConfig>,
    pub format: KerasFormat,
}

/// The two files Keras saves a whole model in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KerasFormat {
    /// Keras 3's `.keras`: a zip of `config.json` and `model.weights.h5`.
    Archive,
    /// `model.save("x.h5")`: one HDF5 file, the config in an attribute.
    LegacyH5,
}

impl std::fmt::Display for KerasFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KerasFormat::Archive => "Keras 3 archive (.keras)",
            KerasFormat::LegacyH5 => "legacy HDF5 (.h5)",
        })
    }
}

/// Why a file is not a Keras model this program imports; the caller names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KerasError {
    /// Neither a zip (`.keras`) nor HDF5.
    NotAModelFile,
    /// The container, or a part of it, cannot be read (the message says which and why).
    Unreadable(String),
    /// A zip without one of a `.keras` archive's members.
    MissingMember {
        name: String,
    },
    /// An archive member larger than such a member can be.
    MemberTooLarge {
        name: String,
        limit: u64,
    },
    /// An HDF5 file of weights only, without the model's config.
    WeightsOnly,
    /// A model other than the seed's architecture (the message says what is not supported).
    Unsupported(String),
    /// A legacy `.h5` layer without its list of weights.
    NoWeightList {
        layer: String,
        group: String,
    },
    /// A legacy `.h5` layer with another number of weights than its class has.
    WeightCount {
        layer: String,
        found: usize,
        wanted: usize,
    },
    NoArray {
        path: String,
    },
    NotAMatrix {
        path: String,
        shape: Vec<usize>,
    },
    /// The GRU's bias is not `[2, 3·units]`.
    GruBiasShape {
        shape: Vec<usize>,
    },
    /// The arrays do not fit one another as a classifier.
    Weights(WeightsError),
}

impl std::fmt::Display for KerasError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KerasError::NotAModelFile => f.write_str(
                "not a Keras model file (a .keras archive or a .h5 saved by model.save)",
            ),
            KerasError::Unreadable(message) | KerasError::Unsupported(message) => {
                f.write_str(message)
            }
            KerasError::MissingMember { name } => {
                write!(f, "a zip without {name}: not a .keras archive")
            }
            KerasError::MemberTooLarge { name, limit } => {
                write!(f, "its {name} is larger than {limit} bytes")
            }
            KerasError::WeightsOnly => f.write_str(
                "an HDF5 file without a model config: it holds weights only (import needs the \
                 whole model, saved by model.save)",
            ),
            KerasError::NoWeightList { layer, group } => {
                write!(f, "no weight list for layer `{layer}` ({group})")
            }
            KerasError::WeightCount {
                layer,
                found,
                wanted,
            } => write!(f, "layer `{layer}` has {found} weights, expected {wanted}"),
            KerasError::NoArray { path } => write!(f, "no weights at {path}"),
            KerasError::NotAMatrix { path, shape } => {
                write!(f, "{path} has shape {shape:?}, not a matrix")
            }
            KerasError::GruBiasShape { shape } => write!(
                f,
                "the GRU's bias has shape {shape:?}, expected [2, 3·units]"
            ),
            KerasError::Weights(problem) => problem.fmt(f),
        }
    }
}

impl std::error::Error for KerasError {}

impl From<WeightsError> for KerasError {
    fn from(problem: WeightsError) -> Self {
        Self::Weights(problem)
    }
}

/// The Keras layer class of a cell.
pub fn layer_class(cell: Cell) -> &'static str {
    match cell {
        Cell::Lstm => "LSTM",
        Cell::Gru => "GRU",
        Cell::Rnn => "SimpleRNN",
    }
}

/// Reads the Keras model in `path`, telling the formats apart by their contents.
pub fn read_model(path: &Path) -> Result<KerasModel> {
    let bytes = read_bounded(path, MAX_MODEL_BYTES, "a Keras model")?;
    let model = if bytes.starts_with(b"PK\x03\x04") {
        read_archive(bytes)
    } else if hdf5_pure::is_hdf5_bytes(&bytes) {
        read_legacy_h5(bytes)
    } else {
        Err(KerasError::NotAModelFile)
    };
    model.map_err(|problem| Error::file(path, problem))
}

/// A Keras 3 `.keras` file: a zip of `config.json` and `model.weights.h5`, whose weights are
/// grouped by the layers' class names (`layers/lstm/cell/vars/0`, `layers/dense/vars/0`).
fn read_archive(bytes: Vec<u8>) -> std::result::Result<KerasModel, KerasError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| KerasError::Unreadable(format!("not a readable .keras archive: {e}")))?;
    let config = archive_member(&mut archive, "config.json", MAX_CONFIG_BYTES)?;
    let config = String::from_utf8(config)
        .map_err(|_| KerasError::Unreadable("its config.json is not text".into()))?;
    let root = architecture::json(&config)?;
    let architecture = architecture::parse(&root)?;
    let h5 = archive_member(&mut archive, "model.weights.h5", MAX_MODEL_BYTES)?;
    let file = open_h5(h5, "model.weights.h5")?;
    let weights = weights::from_archive(&file, architecture.cell)?;
    Ok(KerasModel {
        weights,
        optimizer: architecture::compiled_optimizer(&root["compile_config"]["optimizer"]),
        format: KerasFormat::Archive,
    })
}

/// A legacy `.h5` of a whole model: the config in the root's `model_config` attribute, the
/// weights under `model_weights/<layer name>/`, listed by each layer's `weight_names`.
fn read_legacy_h5(bytes: Vec<u8>) -> std::result::Result<KerasModel, KerasError> {
    let file = open_h5(bytes, "the file")?;
    let attributes = file
        .root()
        .attrs()
        .map_err(|e| KerasError::Unreadable(format!("cannot read its attributes: {e}")))?;
    let text_attribute = |name: &str| attributes.get(name).and_then(|v| v.as_str());
    let config = text_attribute("model_config").ok_or(KerasError::WeightsOnly)?;
    let architecture = architecture::parse(&architecture::json(config)?)?;
    let weights = weights::from_legacy_h5(&file, &architecture)?;
    let training: Value = text_attribute("training_config")
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    Ok(KerasModel {
        weights,
        optimizer: architecture::compiled_optimizer(&training["optimizer_config"]),
        format: KerasFormat::LegacyH5,
    })
}

fn archive_member(
    archive: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>,
    name: &str,
    limit: u64,
) -> std::result::Result<Vec<u8>, KerasError> {
    let member = archive
        .by_name(name)
        .map_err(|_| KerasError::MissingMember { name: name.into() })?;
    let mut bytes = Vec::new();
    member
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| KerasError::Unreadable(format!("cannot read its {name}: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(KerasError::MemberTooLarge {
            name: name.into(),
            limit,
        });
    }
    Ok(bytes)
}

fn open_h5(bytes: Vec<u8>, what: &str) -> std::result::Result<hdf5_pure::File, KerasError> {
    hdf5_pure::File::from_bytes(bytes)
        .map_err(|e| KerasError::Unreadable(format!("{what} is not readable HDF5: {e}")))
}
