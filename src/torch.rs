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
use crate::error::{Error, Result};
use crate::fsutil::{read_bounded, write_atomic};
use crate::model::{GateWeights, HostMatrix, ROW_FEATURES, StackedGates};

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

/// Which of Burn's gates stands at each of PyTorch's places.
pub fn gate_order(cell: Cell) -> &'static [usize] {
    match cell {
        Cell::Lstm => &[0, 1, 2, 3],
        Cell::Gru => &[1, 0, 2],
        Cell::Rnn => &[0],
    }
}

/// PyTorch's class for a cell.
pub fn module_class(cell: Cell) -> &'static str {
    match cell {
        Cell::Lstm => "nn.LSTM",
        Cell::Gru => "nn.GRU",
        Cell::Rnn => "nn.RNN",
    }
}

/// Writes `weights` as a safetensors state_dict (f32, the metadata naming the cell).
pub fn write_state_dict(weights: &GateWeights, path: &Path) -> Result<()> {
    let stacked = weights.stacked(gate_order(weights.cell()));
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
    let metadata = HashMap::from([
        ("format".to_string(), "pt".to_string()),
        ("cell".to_string(), module_class(weights.cell()).to_string()),
        ("hidden".to_string(), weights.hidden().to_string()),
        ("producer".to_string(), "lstm-mnist".to_string()),
    ]);
    let file = safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::file(path, format!("cannot make the safetensors file: {e}")))?;
    write_atomic(path, &file)
}

/// Reads a state_dict of the module above, with a `cell` layer, from a safetensors file.
pub fn read_state_dict(path: &Path, cell: Cell) -> Result<GateWeights> {
    let bytes = read_bounded(path, MAX_FILE_BYTES, "a safetensors file")?;
    parse_state_dict(&bytes, cell).map_err(|why| Error::file(path, why))
}

fn parse_state_dict(bytes: &[u8], cell: Cell) -> std::result::Result<GateWeights, String> {
    let file = SafeTensors::deserialize(bytes)
        .map_err(|e| format!("not a readable safetensors file ({e})"))?;
    if let Some(unknown) = file.names().into_iter().find(|name| !KEYS.contains(name)) {
        return Err(format!(
            "holds `{unknown}`, which the module (recurrent = {}(28, hidden), head = \
             nn.Linear(hidden, 10)) does not have; expected exactly {}",
            module_class(cell),
            KEYS.join(", ")
        ));
    }
    let array = |name: &str| -> std::result::Result<(Vec<usize>, Vec<f32>), String> {
        let view = file
            .tensor(name)
            .map_err(|_| format!("has no `{name}`: not a state_dict of the module"))?;
        if view.dtype() != Dtype::F32 {
            return Err(format!(
                "`{name}` is {:?}; export-torch and import-torch use F32 (call .float() before saving)",
                view.dtype()
            ));
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok((view.shape().to_vec(), values))
    };
    let gates = gate_order(cell).len();
    let (hh_shape, hh) = array(WEIGHT_HH)?;
    let hidden = match hh_shape[..] {
        [rows, hidden] if rows == gates * hidden && hidden > 0 => hidden,
        _ => {
            return Err(format!(
                "`{WEIGHT_HH}` has shape {hh_shape:?}; a {} has [{gates}·hidden, hidden] \
                 (is --cell right?)",
                module_class(cell)
            ));
        }
    };
    let matrix = |name: &str, rows: usize, cols: usize| {
        let (shape, values) = array(name)?;
        if shape != [rows, cols] {
            return Err(format!(
                "`{name}` has shape {shape:?}, expected [{rows}, {cols}]"
            ));
        }
        Ok(HostMatrix { rows, cols, values })
    };
    let vector = |name: &str, len: usize| {
        let (shape, values) = array(name)?;
        if shape != [len] {
            return Err(format!("`{name}` has shape {shape:?}, expected [{len}]"));
        }
        Ok(values)
    };
    let rows = gates * hidden;
    let stacked = StackedGates {
        input_weight: matrix(WEIGHT_IH, rows, ROW_FEATURES)?,
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
    GateWeights::from_stacked(cell, stacked, gate_order(cell), head)
}
