//! A run's weights: `model.bpk` (or one `checkpoint/model-N.bpk`), in Burn's burnpack format.
//! A file is checked against the architecture it is loaded into before Burn reads it: Burn
//! panics on a tensor of another type and reports a missing one in a page of text.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{DType, Device};

use crate::config::{Cell, ExperimentConfig};
use crate::error::{AtFile, Context, Error, Result};
use crate::fsutil::write_atomic;
use crate::model::{Classifier, RecurrentKernel};

pub fn save_model(path: &Path, model: &Classifier) -> Result<()> {
    let bytes = model.clone().into_record().into_bytes().at(path)?;
    write_atomic(path, &bytes)
}

/// Loads the weights at `path` into the architecture `config` (read from `config_path`)
/// describes, run by `kernel`; a file of another architecture is refused saying what it holds,
/// a damaged one saying what is wrong with it.
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
    let model = Classifier::new(&config.model, config.seed, device).with_kernel(kernel);
    match RecordLayout::of(&model)?.check(path) {
        Ok(_) => {}
        Err(ModelFileProblem::OtherArchitecture(found)) => {
            return Err(other_architecture(path, found, config, config_path));
        }
        Err(ModelFileProblem::Damaged(problem)) => return Err(Error::file(path, problem)),
    }
    let record =
        ModuleRecord::load(path).doing(path, "not a readable Burn model (burnpack) file")?;
    model
        .try_load_record(record)
        .doing(path, format_args!("does not fit {}", config_path.display()))
}

/// The refusal of a model file that holds a classifier of another architecture than the
/// run's config says.
pub fn other_architecture(
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

/// Why a model file cannot be loaded into the run's architecture.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelFileProblem {
    /// A readable classifier of another cell or hidden size.
    OtherArchitecture((Cell, usize)),
    /// Unreadable, or tensors missing, extra, of another type or shape: the message says which.
    Damaged(String),
}

/// What a model file of one architecture holds: each tensor's name and shape, all `f32`.
pub struct RecordLayout {
    tensors: BTreeMap<String, Vec<usize>>,
}

/// The shape of each parameter a checked model file holds, by Burn's parameter id (which the
/// optimizer's checkpoint keys its state by).
pub type ParameterShapes = BTreeMap<u64, Vec<usize>>;

impl RecordLayout {
    /// The layout of `model`'s own record, as a file saved from it holds it.
    pub fn of(model: &Classifier) -> Result<Self> {
        let bytes = model
            .clone()
            .into_record()
            .into_bytes()
            .context("cannot describe the model's record")?;
        let tensors = burn_pack::Reader::from_bytes(bytes)
            .and_then(burn_pack::Reader::into_tensors)
            .context("cannot describe the model's record")?
            .into_iter()
            .map(|tensor| (tensor.name, tensor.shape.to_vec()))
            .collect();
        Ok(Self { tensors })
    }

    /// Checks the file at `path` holds exactly this layout, and gives its parameters' shapes
    /// by id.
    pub fn check(&self, path: &Path) -> std::result::Result<ParameterShapes, ModelFileProblem> {
        let damaged = |problem: String| ModelFileProblem::Damaged(problem);
        let tensors = burn_pack::Reader::from_file_exact(path)
            .and_then(burn_pack::Reader::into_tensors)
            .map_err(|e| damaged(format!("not a readable Burn model (burnpack) file: {e}")))?;
        if let Some(found) = architecture_in(&tensors)
            && Some(found) != self.architecture()
        {
            return Err(ModelFileProblem::OtherArchitecture(found));
        }
        let mut shapes = ParameterShapes::new();
        for tensor in &tensors {
            let name = &tensor.name;
            let Some(expected) = self.tensors.get(name) else {
                return Err(damaged(format!(
                    "damaged model file: unexpected tensor `{name}`"
                )));
            };
            if tensor.dtype != DType::F32 {
                return Err(damaged(format!(
                    "damaged model file: tensor `{name}` is {:?}, not F32",
                    tensor.dtype
                )));
            }
            if tensor.shape.as_slice() != expected.as_slice() {
                return Err(damaged(format!(
                    "damaged model file: tensor `{name}` has shape {:?}, not {expected:?}",
                    tensor.shape.as_slice()
                )));
            }
            let Some(id) = tensor.param_id else {
                return Err(damaged(format!(
                    "damaged model file: tensor `{name}` has no parameter id"
                )));
            };
            shapes.insert(id, expected.clone());
        }
        if let Some(missing) = self
            .tensors
            .keys()
            .find(|name| !tensors.iter().any(|t| &&t.name == name))
        {
            return Err(damaged(format!(
                "damaged model file: tensor `{missing}` is missing"
            )));
        }
        // Every tensor is one of the layout's and none is missing: fewer ids than tensors
        // means two tensors share one.
        if shapes.len() != tensors.len() {
            return Err(damaged(
                "damaged model file: two tensors share a parameter id".to_string(),
            ));
        }
        Ok(shapes)
    }

    fn architecture(&self) -> Option<(Cell, usize)> {
        let (mut cell, mut hidden) = (None, None);
        for (name, shape) in &self.tensors {
            note_architecture(name, shape, &mut cell, &mut hidden);
        }
        Some((cell?, hidden?))
    }
}

/// The cell and hidden size a saved classifier was built with, read from its tensor names and
/// the head's shape; `None` when the tensors are not one of ours.
fn architecture_in(tensors: &[burn_pack::Tensor]) -> Option<(Cell, usize)> {
    let (mut cell, mut hidden) = (None, None);
    for tensor in tensors {
        note_architecture(
            &tensor.name,
            tensor.shape.as_slice(),
            &mut cell,
            &mut hidden,
        );
    }
    Some((cell?, hidden?))
}

/// What one tensor of a classifier's record tells of its architecture.
fn note_architecture(
    name: &str,
    shape: &[usize],
    cell: &mut Option<Cell>,
    hidden: &mut Option<usize>,
) {
    if name == "head.weight" {
        *hidden = shape.first().copied();
    }
    *cell = cell.or_else(|| {
        let tag = name.split('.').nth(1)?;
        Cell::find(|facts| facts.record_tag, tag)
    });
}
