//! A run's weights: `model.bpk` (or one `checkpoint/model-N.bpk`), in Burn's burnpack format.

use std::path::Path;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Device;

use crate::config::{Cell, ExperimentConfig};
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::model::{Classifier, RecurrentKernel};

pub fn save_model(path: &Path, model: &Classifier) -> Result<()> {
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| Error::file(path, e.to_string()))?;
    write_atomic(path, &bytes)
}

/// Loads the weights at `path` into the architecture `config` (read from `config_path`)
/// describes, run by `kernel`; a file of another architecture is refused saying what it holds.
pub fn load_model(
    path: &Path,
    config: &ExperimentConfig,
    config_path: &Path,
    kernel: RecurrentKernel,
    device: &Device,
) -> Result<Classifier> {
    if !path.is_file() {
        return Err(Error::file(
            path,
            "missing: the run has no final model (did it finish?)",
        ));
    }
    let record = ModuleRecord::load(path).map_err(|e| {
        Error::file(
            path,
            format!("not a readable Burn model (burnpack) file: {e}"),
        )
    })?;
    Classifier::new(&config.model, config.seed, device)
        .with_kernel(kernel)
        .try_load_record(record)
        .map_err(|e| {
            // Only a file that does not fit is read a second time, to say what it holds.
            let expected = (config.model.cell, config.model.hidden);
            let message = match architecture_of(path) {
                Some(found) if found != expected => format!(
                    "holds a {} model with hidden size {}, but {} says {} with hidden size {}",
                    found.0,
                    found.1,
                    config_path.display(),
                    expected.0,
                    expected.1
                ),
                _ => format!("does not fit {}: {e}", config_path.display()),
            };
            Error::file(path, message)
        })
}

/// The cell and hidden size a saved classifier was built with, read from its tensor names and
/// the head's shape; `None` when the file is not one of ours.
fn architecture_of(path: &Path) -> Option<(Cell, usize)> {
    let tensors = burn_pack::Reader::from_file(path)
        .ok()?
        .into_tensors()
        .ok()?;
    let mut cell = None;
    let mut hidden = None;
    for tensor in tensors {
        let (name, _, shape, _, _) = tensor.into_parts().ok()?;
        if name == "head.weight" {
            hidden = shape.iter().next().copied();
        }
        cell = cell.or(match name.split('.').nth(1) {
            Some("Lstm") => Some(Cell::Lstm),
            Some("Gru") => Some(Cell::Gru),
            Some("Rnn") => Some(Cell::Rnn),
            _ => None,
        });
    }
    Some((cell?, hidden?))
}
