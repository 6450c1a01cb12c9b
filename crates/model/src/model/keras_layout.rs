//! The classifier's weights in Keras's layout, for `import-keras` and `export-keras`. Keras
//! keeps each recurrent layer's gates side by side in one kernel, one recurrent kernel and one
//! bias, in its own gate order (LSTM: input, forget, cell, output; GRU: update, reset, new);
//! Burn keeps a `Linear` per gate and transform, whose `[inputs, outputs]` weight is the
//! matching block of Keras's kernel.

use burn::nn::{GateController, Linear};
use burn::tensor::Device;

use super::Classifier;
use super::gate_layout::{WeightsError, expect_shape};
use super::init::{HostMatrix, bias_values, set_linear, weight_matrix};
use crate::COLUMNS;
use crate::NUM_CLASSES;
use crate::cell::Cell;
use crate::config::{Bias, MAX_HIDDEN, ModelConfig};

/// A classifier's weights as Keras stores them, of shapes that fit one another (checked when
/// made).
pub struct KerasWeights {
    cell: Cell,
    /// `[28, gates·hidden]`
    kernel: HostMatrix,
    /// `[hidden, gates·hidden]`
    recurrent_kernel: HostMatrix,
    /// `[gates·hidden]`: the one bias per gate (for the GRU, the input transform's).
    bias: Vec<f32>,
    /// `[gates·hidden]`: the GRU's recurrent-transform bias (`reset_after=True` has one);
    /// none for the LSTM and SimpleRNN.
    recurrent_bias: Option<Vec<f32>>,
    /// `[hidden, 10]`
    dense_kernel: HostMatrix,
    /// `[10]`
    dense_bias: Vec<f32>,
}

/// The Dense layer's kernel and bias.
pub type DenseWeights = (HostMatrix, Vec<f32>);

impl KerasWeights {
    /// Checks that the arrays fit together as a `cell` layer and the 10-class head; the error
    /// says which array has which shape.
    pub fn new(
        cell: Cell,
        kernel: HostMatrix,
        recurrent_kernel: HostMatrix,
        (bias, recurrent_bias): (Vec<f32>, Option<Vec<f32>>),
        (dense_kernel, dense_bias): DenseWeights,
    ) -> Result<Self, WeightsError> {
        let hidden = recurrent_kernel.rows;
        if !(1..=MAX_HIDDEN).contains(&hidden) {
            return Err(WeightsError::TooManyUnits { hidden });
        }
        let width = cell.gates() * hidden;
        expect_shape("the kernel", &kernel.dims(), &[COLUMNS, width])?;
        expect_shape(
            "the recurrent kernel",
            &recurrent_kernel.dims(),
            &[hidden, width],
        )?;
        expect_shape("the bias", &[bias.len()], &[width])?;
        match (&recurrent_bias, cell.facts().keras.recurrent_bias) {
            (Some(b), true) => expect_shape("the recurrent bias", &[b.len()], &[width])?,
            (None, true) => return Err(WeightsError::RecurrentBias { present: false }),
            (Some(_), false) => return Err(WeightsError::RecurrentBias { present: true }),
            (None, false) => {}
        }
        expect_shape(
            "the Dense kernel",
            &dense_kernel.dims(),
            &[hidden, NUM_CLASSES],
        )?;
        expect_shape("the Dense bias", &[dense_bias.len()], &[NUM_CLASSES])?;
        Ok(Self {
            cell,
            kernel,
            recurrent_kernel,
            bias,
            recurrent_bias,
            dense_kernel,
            dense_bias,
        })
    }

    /// The architecture these weights are: Keras's biases.
    pub fn model_config(&self) -> ModelConfig {
        ModelConfig {
            cell: self.cell,
            hidden: self.recurrent_kernel.rows,
            bias: Bias::Keras,
        }
    }

    /// The input kernel, `[28, gates·hidden]`.
    pub fn kernel(&self) -> &HostMatrix {
        &self.kernel
    }

    /// The recurrent kernel, `[hidden, gates·hidden]`.
    pub fn recurrent_kernel(&self) -> &HostMatrix {
        &self.recurrent_kernel
    }

    /// The bias, `[gates·hidden]` (Keras's one bias: Burn's two summed where Keras has one).
    pub fn bias(&self) -> &[f32] {
        &self.bias
    }

    /// The recurrent bias, where the Keras layer keeps one apart (the GRU).
    pub fn recurrent_bias(&self) -> Option<&[f32]> {
        self.recurrent_bias.as_deref()
    }

    /// The Dense layer's kernel, `[hidden, 10]`.
    pub fn dense_kernel(&self) -> &HostMatrix {
        &self.dense_kernel
    }

    /// The Dense layer's bias, `[10]`.
    pub fn dense_bias(&self) -> &[f32] {
        &self.dense_bias
    }
}

impl Classifier {
    /// The model holding Keras's `weights`, of their `model_config()`.
    pub fn from_keras(weights: &KerasWeights, device: &Device) -> Self {
        let config = weights.model_config();
        let mut model = Self::new(&config, 0, device);
        let hidden = config.hidden;
        for (g, gate) in model.recurrent.gates_mut().into_iter().enumerate() {
            let block = g * hidden..(g + 1) * hidden;
            let input_bias = &weights.bias[block.clone()];
            let kernel = weights.kernel.columns(g * hidden, hidden);
            set_linear(&mut gate.input_transform, &kernel, Some(input_bias), device);
            let recurrent_bias = weights.recurrent_bias.as_ref().map(|b| &b[block]);
            let recurrent = weights.recurrent_kernel.columns(g * hidden, hidden);
            set_linear(
                &mut gate.hidden_transform,
                &recurrent,
                recurrent_bias,
                device,
            );
        }
        set_linear(
            &mut model.head,
            &weights.dense_kernel,
            Some(&weights.dense_bias),
            device,
        );
        model
    }

    /// The weights as Keras stores them. A gate's two biases (Burn's) are always added, so
    /// Keras's one bias is their sum and the model computes the same function; the GRU's
    /// recurrent bias stays apart, as Keras keeps it.
    pub fn keras_weights(&self) -> KerasWeights {
        let gates = self.recurrent.gates();
        let cell = self.cell();
        let apart = cell.facts().keras.recurrent_bias;
        let mut bias = Vec::new();
        let mut recurrent_bias = Vec::new();
        for gate in &gates {
            let input = bias_values(&gate.input_transform);
            let hidden = bias_values(&gate.hidden_transform);
            if apart {
                bias.extend(input);
                recurrent_bias.extend(hidden);
            } else {
                bias.extend(input.iter().zip(&hidden).map(|(a, b)| a + b));
            }
        }
        let kernels = |pick: fn(&GateController) -> &Linear| {
            let blocks: Vec<HostMatrix> = gates.iter().map(|g| weight_matrix(pick(g))).collect();
            HostMatrix::side_by_side(&blocks)
        };
        KerasWeights {
            kernel: kernels(|g| &g.input_transform),
            recurrent_kernel: kernels(|g| &g.hidden_transform),
            bias,
            recurrent_bias: apart.then_some(recurrent_bias),
            dense_kernel: weight_matrix(&self.head),
            dense_bias: bias_values(&self.head),
            cell,
        }
    }
}
