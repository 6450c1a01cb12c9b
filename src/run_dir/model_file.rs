//! A run's weights: `model.bpk` (or one `checkpoint/model-N.bpk`), in Burn's burnpack format.
//! A file is checked against the architecture it is loaded into before Burn reads it: Burn
//! panics on a tensor of another type and reports a missing one in a page of text.

use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;
use lstm_mnist_model::run::{LoadError, TrainedModel};

use crate::config::{Cell, ExperimentConfig};
use crate::error::{AtFile, Error, Result};
use crate::fsutil::write_atomic;
use crate::model::{Classifier, RecurrentKernel};
pub use lstm_mnist_model::record::{ModelFileProblem, ParameterShapes, RecordLayout};

/// What a failure to describe a classifier's own record was doing (it cannot fail on a model
/// this program built).
pub(crate) const DESCRIBE: &str = "cannot describe the model's record";

pub(crate) fn save_model(path: &Path, model: &Classifier) -> Result<()> {
    let bytes = model.clone().into_record().into_bytes().at(path)?;
    write_atomic(path, &bytes)
}

/// Loads the weights at `path` into the architecture `config` (read from `config_path`)
/// describes, run by `kernel`, through the model crate's one load path; a file of another
/// architecture is refused saying what it holds, a damaged one saying what is wrong with it.
pub(crate) fn load_model(
    path: &Path,
    config: &ExperimentConfig,
    config_path: &Path,
    kernel: RecurrentKernel,
    device: &Device,
) -> Result<TrainedModel> {
    if !path.is_file() {
        return Err(Error::file(
            path,
            "missing: the run has no final model (did it finish?)",
        ));
    }
    let weights = std::fs::read(path).doing(path, "cannot read")?;
    match TrainedModel::from_weights(&config.model, &weights, device) {
        Ok(model) => Ok(model.with_kernel(kernel)),
        Err(LoadError::Weights(ModelFileProblem::OtherArchitecture(found))) => {
            Err(other_architecture(path, found, config, config_path))
        }
        Err(LoadError::Weights(ModelFileProblem::Damaged(problem))) => {
            Err(Error::file(path, problem))
        }
        Err(LoadError::Record(problem)) => Err(Error::file(
            path,
            format_args!("does not fit {}: {problem}", config_path.display()),
        )),
        Err(other) => Err(Error::file(path, other)),
    }
}

/// The refusal of a model file that holds a classifier of another architecture than the
/// run's config says.
pub(crate) fn other_architecture(
    path: &Path,
    (cell, hidden): (Cell, usize),
    config: &ExperimentConfig,
    config_path: &Path,
) -> Error {
    Error::file(
        path,
        format!(
            "holds a {cell} model with hidden size {hidden}, but {} says {} with hidden size {}",
            config_path.display(),
            config.model.cell,
            config.model.hidden
        ),
    )
}
