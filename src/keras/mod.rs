//! Keras's files: `import-keras` reads a whole model (a Keras 3 `.keras` archive or a legacy
//! `.h5`) of the seed's architecture into our classifier's weights, and `export-keras` writes
//! a model's weights as a `.weights.h5` that Keras's `load_weights` reads. HDF5 is read and
//! written by `hdf5-pure` (pure Rust: no C library to install).

mod architecture;
mod error;
mod export;
mod weights;

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::config::OptimizerConfig;
use crate::error::{AtFile, Result};
use crate::fsutil::read_bounded;
use crate::model::KerasWeights;

pub(crate) use error::KerasError;
use error::ReadStep;
pub(crate) use export::{check_weights_file_name, export_weights};

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
    model.at(path)
}

/// A Keras 3 `.keras` file: a zip of `config.json` and `model.weights.h5`, whose weights are
/// grouped by the layers' class names (`layers/lstm/cell/vars/0`, `layers/dense/vars/0`).
fn read_archive(bytes: Vec<u8>) -> std::result::Result<KerasModel, KerasError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .unreadable("not a readable .keras archive")?;
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
        .unreadable("cannot read its attributes")?;
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
        .unreadable(format_args!("cannot read its {name}"))?;
    if bytes.len() as u64 > limit {
        return Err(KerasError::MemberTooLarge {
            name: name.into(),
            limit,
        });
    }
    Ok(bytes)
}

fn open_h5(bytes: Vec<u8>, what: &str) -> std::result::Result<hdf5_pure::File, KerasError> {
    hdf5_pure::File::from_bytes(bytes).unreadable(format_args!("{what} is not readable HDF5"))
}
