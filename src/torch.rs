//! PyTorch's files: a classifier as the `state_dict` of a module with two attributes,
//! `recurrent = nn.LSTM/GRU/RNN(28, hidden, batch_first=True)` and
//! `head = nn.Linear(hidden, 10)`, saved as Hugging Face's safetensors (`export-torch`), and
//! such a file read back into a run (`import-torch`).
//!
//! PyTorch's recurrent layers keep two biases per gate, as Burn's do, so nothing is lost either
//! way. Its gate orders: LSTM input, forget, cell, output (Burn's); GRU reset, update, new
//! (Burn's is update, reset, new); and its GRU is the reset-after form Burn's is.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::config::Cell;
use crate::data::NUM_CLASSES;
use crate::error::{AtFile, Result};
use crate::fsutil::{read_bounded, write_atomic};
use crate::model::{GateWeights, HostMatrix, StackedGates, WeightsError, stack_gates};
use lstm_mnist_model::COLUMNS;
use lstm_mnist_model::number::{NUMBER_CLASSES, NumberLayout};

/// An LSTM of 4,096 units is 300 MB of f32 weights.
const MAX_FILE_BYTES: u64 = 1024 * 1024 * 1024;

const WEIGHT_IH: &str = "recurrent.weight_ih_l0";
const WEIGHT_HH: &str = "recurrent.weight_hh_l0";
const BIAS_IH: &str = "recurrent.bias_ih_l0";
const BIAS_HH: &str = "recurrent.bias_hh_l0";
const HEAD_WEIGHT: &str = "head.weight";
const HEAD_BIAS: &str = "head.bias";
/// Every key of the state_dict.
const KEYS: [&str; 6] = [
    WEIGHT_IH,
    WEIGHT_HH,
    BIAS_IH,
    BIAS_HH,
    HEAD_WEIGHT,
    HEAD_BIAS,
];

/// Writes `weights` as a safetensors state_dict (f32, the metadata naming the cell).
pub(crate) fn write_state_dict(weights: &GateWeights, path: &Path) -> Result<()> {
    let stacked = weights.stacked(weights.cell().facts().torch.gate_order);
    let head_weight = weights.head_weight();
    let arrays: [(&str, Vec<usize>, &[f32]); 6] = [
        (
            WEIGHT_IH,
            stacked.input_weight.dims().to_vec(),
            &stacked.input_weight.values,
        ),
        (
            WEIGHT_HH,
            stacked.hidden_weight.dims().to_vec(),
            &stacked.hidden_weight.values,
        ),
        (BIAS_IH, vec![stacked.input_bias.len()], &stacked.input_bias),
        (
            BIAS_HH,
            vec![stacked.hidden_bias.len()],
            &stacked.hidden_bias,
        ),
        (
            HEAD_WEIGHT,
            head_weight.dims().to_vec(),
            &head_weight.values,
        ),
        (HEAD_BIAS, vec![NUM_CLASSES], weights.head_bias()),
    ];
    let metadata = [
        ("cell", weights.cell().facts().torch.class.to_string()),
        ("hidden", weights.hidden().to_string()),
    ];
    write_arrays(&arrays, &metadata, path)
}

/// Writes a number reader as the state_dict of a module with `recurrent = nn.LSTM(56, hidden,
/// num_layers=L, bidirectional=True, batch_first=True)` and `head = nn.Linear(2 * hidden,
/// 11)`.
pub(crate) fn write_number_state_dict(layout: &NumberLayout, path: &Path) -> Result<()> {
    let order = Cell::Lstm.facts().torch.gate_order;
    let mut named: Vec<(String, Vec<usize>, Vec<f32>)> = Vec::new();
    for (k, directions) in layout.layers.iter().enumerate() {
        for (gates, suffix) in directions.iter().zip(["", "_reverse"]) {
            let stacked = stack_gates(gates, order);
            let matrix = |m: HostMatrix| (m.dims().to_vec(), m.values);
            let vector = |v: Vec<f32>| (vec![v.len()], v);
            for (key, (shape, values)) in [
                ("weight_ih", matrix(stacked.input_weight)),
                ("weight_hh", matrix(stacked.hidden_weight)),
                ("bias_ih", vector(stacked.input_bias)),
                ("bias_hh", vector(stacked.hidden_bias)),
            ] {
                named.push((format!("recurrent.{key}_l{k}{suffix}"), shape, values));
            }
        }
    }
    let mut arrays: Vec<(&str, Vec<usize>, &[f32])> = named
        .iter()
        .map(|(name, shape, values)| (name.as_str(), shape.clone(), values.as_slice()))
        .collect();
    arrays.extend([
        (
            HEAD_WEIGHT,
            layout.head_weight.dims().to_vec(),
            layout.head_weight.values.as_slice(),
        ),
        (HEAD_BIAS, vec![NUMBER_CLASSES], layout.head_bias.as_slice()),
    ]);
    let metadata = [
        ("cell", "LSTM".to_string()),
        ("hidden", layout.hidden.to_string()),
        ("layers", layout.layers.len().to_string()),
        ("bidirectional", "true".to_string()),
    ];
    write_arrays(&arrays, &metadata, path)
}

/// Writes named f32 `arrays` (name, shape, values) as a safetensors file, `metadata` beside
/// the format and the producer.
fn write_arrays(
    arrays: &[(&str, Vec<usize>, &[f32])],
    metadata: &[(&str, String)],
    path: &Path,
) -> Result<()> {
    let little_endian: Vec<Vec<u8>> = arrays
        .iter()
        .map(|(_, _, values)| values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = arrays
        .iter()
        .zip(&little_endian)
        .map(|((name, shape, _), data)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), data).expect("shape fits data");
            (*name, view)
        });
    let mut all = HashMap::from([
        ("format".to_string(), "pt".to_string()),
        ("producer".to_string(), "lstm-mnist".to_string()),
    ]);
    all.extend(metadata.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let file =
        safetensors::serialize(views, Some(all)).doing(path, "cannot make the safetensors file")?;
    write_atomic(path, &file)
}

/// Reads a state_dict of the module above, with a `cell` layer, from a safetensors file.
pub fn read_state_dict(path: &Path, cell: Cell) -> Result<GateWeights> {
    let bytes = read_bounded(path, MAX_FILE_BYTES, "a safetensors file")?;
    parse_state_dict(&bytes, cell).at(path)
}

/// Why a safetensors file is not a state_dict of the module; the caller names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TorchError {
    /// Not a safetensors file (the reason, as safetensors gives it).
    Unreadable(String),
    /// A tensor the module does not have.
    UnknownKey {
        key: String,
        cell: Cell,
    },
    MissingKey {
        key: &'static str,
    },
    /// A tensor of another type than F32 (the type's name).
    NotF32 {
        key: &'static str,
        dtype: String,
    },
    /// `weight_hh_l0` is not `[gates·hidden, hidden]` for the `cell` asked for.
    HiddenShape {
        shape: Vec<usize>,
        cell: Cell,
    },
    Shape {
        key: &'static str,
        found: Vec<usize>,
        wanted: Vec<usize>,
    },
    /// The arrays do not fit one another as a classifier.
    Weights(WeightsError),
}

impl std::fmt::Display for TorchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TorchError::Unreadable(reason) => {
                write!(f, "not a readable safetensors file ({reason})")
            }
            TorchError::UnknownKey { key, cell } => write!(
                f,
                "holds `{key}`, which the module (recurrent = {}(28, hidden), head = \
                 nn.Linear(hidden, 10)) does not have; expected exactly {}",
                cell.facts().torch.class,
                KEYS.join(", ")
            ),
            TorchError::MissingKey { key } => {
                write!(f, "has no `{key}`: not a state_dict of the module")
            }
            TorchError::NotF32 { key, dtype } => write!(
                f,
                "`{key}` is {dtype}; export-torch and import-torch use F32 (call .float() \
                 before saving)"
            ),
            TorchError::HiddenShape { shape, cell } => write!(
                f,
                "`{WEIGHT_HH}` has shape {shape:?}; a {} has [{}·hidden, hidden] (is --cell \
                 right?)",
                cell.facts().torch.class,
                cell.gates()
            ),
            TorchError::Shape { key, found, wanted } => {
                write!(f, "`{key}` has shape {found:?}, expected {wanted:?}")
            }
            TorchError::Weights(problem) => problem.fmt(f),
        }
    }
}

impl std::error::Error for TorchError {}

fn parse_state_dict(bytes: &[u8], cell: Cell) -> std::result::Result<GateWeights, TorchError> {
    let file =
        SafeTensors::deserialize(bytes).map_err(|e| TorchError::Unreadable(e.to_string()))?;
    if let Some(unknown) = file.names().into_iter().find(|name| !KEYS.contains(name)) {
        return Err(TorchError::UnknownKey {
            key: unknown.to_string(),
            cell,
        });
    }
    let array = |key: &'static str| -> std::result::Result<(Vec<usize>, Vec<f32>), TorchError> {
        let view = file
            .tensor(key)
            .map_err(|_| TorchError::MissingKey { key })?;
        if view.dtype() != Dtype::F32 {
            return Err(TorchError::NotF32 {
                key,
                dtype: format!("{:?}", view.dtype()),
            });
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok((view.shape().to_vec(), values))
    };
    let gates = cell.gates();
    let (hh_shape, hh) = array(WEIGHT_HH)?;
    let hidden = match hh_shape[..] {
        [rows, hidden] if rows == gates * hidden && hidden > 0 => hidden,
        _ => {
            return Err(TorchError::HiddenShape {
                shape: hh_shape,
                cell,
            });
        }
    };
    let shaped = |key: &'static str, wanted: Vec<usize>| {
        let (found, values) = array(key)?;
        if found != wanted {
            return Err(TorchError::Shape { key, found, wanted });
        }
        Ok(values)
    };
    let matrix = |key: &'static str, rows: usize, cols: usize| {
        shaped(key, vec![rows, cols]).map(|values| HostMatrix { rows, cols, values })
    };
    let vector = |key: &'static str, len: usize| shaped(key, vec![len]);
    let rows = gates * hidden;
    let stacked = StackedGates {
        input_weight: matrix(WEIGHT_IH, rows, COLUMNS)?,
        hidden_weight: HostMatrix {
            rows,
            cols: hidden,
            values: hh,
        },
        input_bias: vector(BIAS_IH, rows)?,
        hidden_bias: vector(BIAS_HH, rows)?,
    };
    let head = (
        matrix(HEAD_WEIGHT, NUM_CLASSES, hidden)?,
        vector(HEAD_BIAS, NUM_CLASSES)?,
    );
    GateWeights::from_stacked(cell, stacked, cell.facts().torch.gate_order, head)
        .map_err(TorchError::Weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_what_failed() {
        assert!(matches!(
            parse_state_dict(b"not safetensors", Cell::Lstm),
            Err(TorchError::Unreadable(_))
        ));
        let one = 1.0f32.to_le_bytes();
        let tensor = |dtype| TensorView::new(dtype, vec![1], &one).unwrap();
        let unknown = safetensors::serialize([("extra", tensor(Dtype::F32))], None).unwrap();
        assert_eq!(
            parse_state_dict(&unknown, Cell::Gru)
                .err()
                .expect("refused"),
            TorchError::UnknownKey {
                key: "extra".into(),
                cell: Cell::Gru
            }
        );
        let wrong_type = safetensors::serialize([(WEIGHT_HH, tensor(Dtype::I32))], None).unwrap();
        assert_eq!(
            parse_state_dict(&wrong_type, Cell::Rnn)
                .err()
                .expect("refused"),
            TorchError::NotF32 {
                key: WEIGHT_HH,
                dtype: "I32".into()
            }
        );
        let flat = safetensors::serialize([(WEIGHT_HH, tensor(Dtype::F32))], None).unwrap();
        assert_eq!(
            parse_state_dict(&flat, Cell::Rnn).err().expect("refused"),
            TorchError::HiddenShape {
                shape: vec![1],
                cell: Cell::Rnn
            }
        );
        let empty = safetensors::serialize(Vec::<(&str, TensorView)>::new(), None).unwrap();
        assert_eq!(
            parse_state_dict(&empty, Cell::Rnn).err().expect("refused"),
            TorchError::MissingKey { key: WEIGHT_HH }
        );
    }
}
