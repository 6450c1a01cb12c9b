//! The classifier's weights gate by gate with both biases, as PyTorch and ONNX keep them: each
//! recurrent transform's weight `[outputs, inputs]`, the gates stacked along the rows in the
//! format's own order, and a bias for the input and for the hidden transform of every gate.
//! Burn's recurrent layers have exactly these parameters, so a run maps onto them without
//! loss; a run with Keras's single bias has zeros for the hidden transform's.

use burn::nn::{GateController, Linear, Lstm};
use burn::tensor::Device;

use super::Classifier;
use super::init::{HostMatrix, bias_values, set_linear, weight_matrix};
use crate::COLUMNS;
use crate::NUM_CLASSES;
use crate::cell::Cell;
use crate::config::{Bias, MAX_HIDDEN, ModelConfig};

/// One gate's two transforms, weights as `[outputs, inputs]`.
pub struct Gate {
    /// `[hidden, 28]`
    pub input_weight: HostMatrix,
    /// `[hidden, hidden]`
    pub hidden_weight: HostMatrix,
    /// The bias of the input transform, `[hidden]`.
    pub input_bias: Vec<f32>,
    /// The bias of the recurrent transform, `[hidden]` (zeros where the model has none).
    pub hidden_bias: Vec<f32>,
}

/// The gates of a layer stacked along the rows in some format's order.
pub struct StackedGates {
    /// `[gates·hidden, 28]`
    pub input_weight: HostMatrix,
    /// `[gates·hidden, hidden]`
    pub hidden_weight: HostMatrix,
    /// `[gates·hidden]`
    pub input_bias: Vec<f32>,
    /// `[gates·hidden]`
    pub hidden_bias: Vec<f32>,
}

/// A classifier's weights, gate by gate in Burn's order (Keras's: LSTM input, forget, cell,
/// output; GRU update, reset, new), of shapes that fit one another (checked when made).
pub struct GateWeights {
    cell: Cell,
    hidden: usize,
    gates: Vec<Gate>,
    /// `[10, hidden]`
    head_weight: HostMatrix,
    /// `[10]`
    head_bias: Vec<f32>,
}

impl GateWeights {
    /// Takes the layer's gates apart from `stacked`, whose gate `k` is Burn's gate
    /// `order[k]`; the error says which array has which shape.
    pub fn from_stacked(
        cell: Cell,
        stacked: StackedGates,
        order: &[usize],
        (head_weight, head_bias): (HostMatrix, Vec<f32>),
    ) -> Result<Self, WeightsError> {
        let count = cell.gates();
        assert_eq!(order.len(), count, "a gate order names every gate");
        let hidden = stacked.hidden_weight.cols;
        if !(1..=MAX_HIDDEN).contains(&hidden) {
            return Err(WeightsError::TooManyUnits { hidden });
        }
        let rows = count * hidden;
        expect_shape(
            "the input weight",
            &stacked.input_weight.dims(),
            &[rows, COLUMNS],
        )?;
        expect_shape(
            "the hidden weight",
            &stacked.hidden_weight.dims(),
            &[rows, hidden],
        )?;
        expect_shape("the input bias", &[stacked.input_bias.len()], &[rows])?;
        expect_shape("the hidden bias", &[stacked.hidden_bias.len()], &[rows])?;
        expect_shape(
            "the head's weight",
            &head_weight.dims(),
            &[NUM_CLASSES, hidden],
        )?;
        expect_shape("the head's bias", &[head_bias.len()], &[NUM_CLASSES])?;
        let mut gates: Vec<Option<Gate>> = (0..count).map(|_| None).collect();
        for (k, &burn_gate) in order.iter().enumerate() {
            let block = k * hidden..(k + 1) * hidden;
            gates[burn_gate] = Some(Gate {
                input_weight: stacked.input_weight.rows(block.clone()),
                hidden_weight: stacked.hidden_weight.rows(block.clone()),
                input_bias: stacked.input_bias[block.clone()].to_vec(),
                hidden_bias: stacked.hidden_bias[block].to_vec(),
            });
        }
        Ok(Self {
            cell,
            hidden,
            gates: gates
                .into_iter()
                .map(|g| g.expect("each gate once"))
                .collect(),
            head_weight,
            head_bias,
        })
    }

    /// The gates stacked along the rows, Burn's gate `order[k]` at place `k`.
    pub fn stacked(&self, order: &[usize]) -> StackedGates {
        stack_gates(&self.gates, order)
    }

    /// The architecture these weights are: Burn's two biases.
    pub fn model_config(&self) -> ModelConfig {
        ModelConfig {
            cell: self.cell,
            hidden: self.hidden,
            bias: Bias::Burn,
        }
    }

    /// The cell the gates are of.
    pub fn cell(&self) -> Cell {
        self.cell
    }

    /// Units of the recurrent layer.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// The head's weight, `[hidden, 10]`.
    pub fn head_weight(&self) -> &HostMatrix {
        &self.head_weight
    }

    /// The head's bias, `[10]`.
    pub fn head_bias(&self) -> &[f32] {
        &self.head_bias
    }
}

/// `gates` stacked along the rows, gate `order[k]` at place `k`.
pub fn stack_gates(gates: &[Gate], order: &[usize]) -> StackedGates {
    let pick = |part: fn(&Gate) -> &HostMatrix| {
        HostMatrix::stacked(&order.iter().map(|&g| part(&gates[g])).collect::<Vec<_>>())
    };
    let biases = |part: fn(&Gate) -> &[f32]| {
        order
            .iter()
            .flat_map(|&g| part(&gates[g]))
            .copied()
            .collect()
    };
    StackedGates {
        input_weight: pick(|g| &g.input_weight),
        hidden_weight: pick(|g| &g.hidden_weight),
        input_bias: biases(|g| &g.input_bias),
        hidden_bias: biases(|g| &g.hidden_bias),
    }
}

/// A Burn LSTM's gates in Burn's order (input, forget, cell, output).
pub fn lstm_gates(lstm: &Lstm) -> Vec<Gate> {
    let forget = lstm
        .forget_gate
        .as_ref()
        .expect("the LSTM has a forget gate");
    [&lstm.input_gate, forget, &lstm.cell_gate, &lstm.output_gate]
        .into_iter()
        .map(gate_of)
        .collect()
}

/// One gate's transforms as `[outputs, inputs]`; a transform without a bias (Keras's single
/// bias) gives zeros.
fn gate_of(controller: &GateController) -> Gate {
    Gate {
        input_weight: outputs_by_inputs(&controller.input_transform),
        hidden_weight: outputs_by_inputs(&controller.hidden_transform),
        input_bias: bias_values(&controller.input_transform),
        hidden_bias: bias_values(&controller.hidden_transform),
    }
}

/// A linear layer's weight as PyTorch and ONNX keep it, `[outputs, inputs]`.
pub fn outputs_by_inputs(linear: &Linear) -> HostMatrix {
    weight_matrix(linear).transposed()
}

/// Why a model's arrays do not make a classifier; the caller names the file they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeightsError {
    /// More (or fewer) recurrent units than a classifier may have.
    TooManyUnits {
        /// The units the arrays imply.
        hidden: usize,
    },
    /// An array of another shape than the others imply.
    Shape {
        /// Which array.
        array: &'static str,
        /// Its shape.
        found: Vec<usize>,
        /// The shape it should have.
        wanted: Vec<usize>,
    },
    /// The GRU without its recurrent bias (`present: false`), or another cell with one.
    RecurrentBias {
        /// Whether the arrays have a recurrent bias.
        present: bool,
    },
}

impl std::fmt::Display for WeightsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WeightsError::TooManyUnits { hidden } => {
                write!(f, "{hidden} units: at most {MAX_HIDDEN} are supported")
            }
            WeightsError::Shape {
                array,
                found,
                wanted,
            } => write!(f, "{array} has shape {found:?}, expected {wanted:?}"),
            WeightsError::RecurrentBias { present: false } => {
                f.write_str("the GRU has no recurrent bias")
            }
            WeightsError::RecurrentBias { present: true } => {
                f.write_str("only the GRU has a recurrent bias")
            }
        }
    }
}

impl std::error::Error for WeightsError {}

/// `Ok` where an array's shape is the one wanted, else an error naming both.
pub(super) fn expect_shape(
    array: &'static str,
    found: &[usize],
    wanted: &[usize],
) -> Result<(), WeightsError> {
    if found == wanted {
        Ok(())
    } else {
        Err(WeightsError::Shape {
            array,
            found: found.to_vec(),
            wanted: wanted.to_vec(),
        })
    }
}

impl Classifier {
    /// The weights gate by gate; a transform without a bias (Keras's single bias) gives zeros.
    pub fn gate_weights(&self) -> GateWeights {
        let gates = self.recurrent.gates().into_iter().map(gate_of).collect();
        GateWeights {
            cell: self.cell(),
            hidden: self.head.weight.shape().dims::<2>()[0],
            gates,
            head_weight: outputs_by_inputs(&self.head),
            head_bias: bias_values(&self.head),
        }
    }

    /// The model holding `weights`, of their `model_config()`.
    pub fn from_gate_weights(weights: &GateWeights, device: &Device) -> Self {
        let mut model = Self::new(&weights.model_config(), 0, device);
        for (gate, from) in model.recurrent.gates_mut().into_iter().zip(&weights.gates) {
            let input = from.input_weight.transposed();
            set_linear(
                &mut gate.input_transform,
                &input,
                Some(&from.input_bias),
                device,
            );
            let hidden = from.hidden_weight.transposed();
            set_linear(
                &mut gate.hidden_transform,
                &hidden,
                Some(&from.hidden_bias),
                device,
            );
        }
        let head = weights.head_weight.transposed();
        set_linear(&mut model.head, &head, Some(&weights.head_bias), device);
        model
    }
}
