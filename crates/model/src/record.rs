//! What a saved classifier (`model.bpk`, Burn's burnpack format) holds, checked before Burn
//! reads it: Burn panics on a tensor of another type and reports a missing one in a page of
//! text.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::Module;
use burn::store::RecordError;
use burn::tensor::{Bytes, DType};

use crate::cell::Cell;
use crate::model::Classifier;

/// Why a model file cannot be loaded into the run's architecture.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelFileProblem {
    /// A readable classifier of another cell or hidden size.
    OtherArchitecture((Cell, usize)),
    /// Unreadable, or tensors missing, extra, of another type or shape: the message says which.
    Damaged(String),
}

impl ModelFileProblem {
    /// Bytes that are no burnpack file at all.
    pub fn unreadable(error: burn_pack::Error) -> Self {
        Self::Damaged(format!(
            "not a readable Burn model (burnpack) file: {error}"
        ))
    }
}

impl std::fmt::Display for ModelFileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelFileProblem::OtherArchitecture((cell, hidden)) => {
                write!(f, "holds a {cell} model with hidden size {hidden}")
            }
            ModelFileProblem::Damaged(problem) => f.write_str(problem),
        }
    }
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
    pub fn of(model: &Classifier) -> Result<Self, RecordError> {
        let bytes = model.clone().into_record().into_bytes()?;
        let tensors = burn_pack::Reader::from_bytes(bytes)
            .and_then(burn_pack::Reader::into_tensors)?
            .into_iter()
            .map(|tensor| (tensor.name, tensor.shape.to_vec()))
            .collect();
        Ok(Self { tensors })
    }

    /// Checks the file at `path` holds exactly this layout, and gives its parameters' shapes
    /// by id.
    pub fn check(&self, path: &Path) -> Result<ParameterShapes, ModelFileProblem> {
        self.check_read(burn_pack::Reader::from_file_exact(path))
    }

    /// Checks the bytes of a model file hold exactly this layout, and gives its parameters'
    /// shapes by id.
    pub fn check_bytes(&self, bytes: &[u8]) -> Result<ParameterShapes, ModelFileProblem> {
        self.check_read(burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(
            bytes.to_vec(),
        )))
    }

    fn check_read(
        &self,
        reader: Result<burn_pack::Reader, burn_pack::Error>,
    ) -> Result<ParameterShapes, ModelFileProblem> {
        let damaged = |problem: String| ModelFileProblem::Damaged(problem);
        let tensors = reader
            .and_then(burn_pack::Reader::into_tensors)
            .map_err(ModelFileProblem::unreadable)?;
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

/// How a model file stores its weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Precision {
    /// 32-bit floats, as training saves them.
    F32,
    /// 16-bit floats: half the size, each weight rounded to about three significant digits.
    /// Loading widens them back to f32 ([`crate::run::TrainedModel::from_weights`]).
    F16,
}

/// A model file's bytes with every floating-point weight stored at `precision` (f16 and f32
/// tensors are converted, any other kept as it is); its metadata is kept. A file with nothing
/// to convert comes back as it is.
pub fn stored_as(weights: &[u8], precision: Precision) -> Result<Vec<u8>, burn_pack::Error> {
    let reader = burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(weights.to_vec()))?;
    let metadata = reader.metadata().clone();
    let scalars = reader.scalars().clone();
    let tensors = reader.into_tensors()?;
    if !tensors
        .iter()
        .any(|tensor| converts(tensor.dtype, precision))
    {
        return Ok(weights.to_vec());
    }
    let mut converted_tensors = Vec::new();
    for tensor in tensors {
        let (name, dtype, shape, param_id, bytes) = tensor.into_parts()?;
        let (dtype, bytes) = converted(dtype, &bytes, precision);
        converted_tensors.push(burn_pack::Tensor::new(name, dtype, shape, param_id, bytes));
    }
    let mut writer = burn_pack::Writer::new(converted_tensors);
    for (key, value) in &metadata {
        writer = writer.with_metadata(key, value);
    }
    for (key, value) in scalars {
        writer = writer.with_scalar(&key, value);
    }
    Ok(writer.into_bytes()?.to_vec())
}

/// Whether a tensor of `dtype` changes when stored at `precision`.
fn converts(dtype: DType, precision: Precision) -> bool {
    matches!(
        (dtype, precision),
        (DType::F32, Precision::F16) | (DType::F16, Precision::F32)
    )
}

/// One tensor's little-endian values at `precision`.
fn converted(dtype: DType, bytes: &[u8], precision: Precision) -> (DType, Bytes) {
    let values: Vec<u8> = match (dtype, precision) {
        (DType::F32, Precision::F16) => bytes
            .chunks_exact(4)
            .map(|v| f32::from_le_bytes([v[0], v[1], v[2], v[3]]))
            .flat_map(|v| half::f16::from_f32(v).to_le_bytes())
            .collect(),
        (DType::F16, Precision::F32) => bytes
            .chunks_exact(2)
            .map(|v| half::f16::from_le_bytes([v[0], v[1]]))
            .flat_map(|v| v.to_f32().to_le_bytes())
            .collect(),
        _ => return (dtype, Bytes::from_bytes_vec(bytes.to_vec())),
    };
    let dtype = match precision {
        Precision::F32 => DType::F32,
        Precision::F16 => DType::F16,
    };
    (dtype, Bytes::from_bytes_vec(values))
}
