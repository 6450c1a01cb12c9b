//! The classifier: a recurrent layer reads the image row by row, a linear head classifies its
//! last hidden state.

#[cfg(feature = "fused")]
pub mod fused;
#[cfg(feature = "interchange")]
mod gate_layout;
mod init;
#[cfg(feature = "interchange")]
mod keras_layout;

use burn::module::Module;
use burn::nn::{
    GateController, Gru, GruConfig, Linear, LinearConfig, Lstm, LstmConfig, Rnn, RnnConfig,
};
use burn::tensor::{Device, Tensor, s};

use crate::cell::Cell;
use crate::config::{Bias, ModelConfig};
use crate::{COLUMNS, NUM_CLASSES};

#[cfg(feature = "interchange")]
pub use gate_layout::{
    Gate, GateWeights, StackedGates, WeightsError, lstm_gates, outputs_by_inputs, stack_gates,
};
#[cfg(feature = "interchange")]
pub use init::bias_values;
pub use init::{HostMatrix, KerasInit, host_values};
#[cfg(feature = "interchange")]
pub use keras_layout::{DenseWeights, KerasWeights};

/// Which implementation runs the recurrent layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum RecurrentKernel {
    /// Burn's stock layer (`nn::Lstm`, `nn::Gru`, `nn::Rnn`), op by op (any backend).
    Stock,
    /// The fused op on flex (with the `fused` feature); the stock path elsewhere.
    #[default]
    Fused,
}

impl RecurrentKernel {
    /// The kernel's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            RecurrentKernel::Stock => "stock",
            RecurrentKernel::Fused => "fused",
        }
    }
}

// A model holds one of these, so the variants' size difference costs nothing.
/// The classifier's recurrent layer: one of Burn's stock layers.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum RecurrentLayer {
    /// An LSTM.
    Lstm(Lstm),
    /// A GRU (reset after the hidden transform).
    Gru(Gru),
    /// A simple RNN.
    Rnn(Rnn),
}

impl RecurrentLayer {
    /// The gates, in Burn's order (Keras's).
    fn gates_mut(&mut self) -> Vec<&mut GateController> {
        match self {
            RecurrentLayer::Lstm(lstm) => vec![
                &mut lstm.input_gate,
                lstm.forget_gate
                    .as_mut()
                    .expect("the LSTM has a forget gate"),
                &mut lstm.cell_gate,
                &mut lstm.output_gate,
            ],
            RecurrentLayer::Gru(gru) => {
                vec![&mut gru.update_gate, &mut gru.reset_gate, &mut gru.new_gate]
            }
            RecurrentLayer::Rnn(rnn) => vec![&mut rnn.gate],
        }
    }

    #[cfg(feature = "interchange")]
    fn gates(&self) -> Vec<&GateController> {
        match self {
            RecurrentLayer::Lstm(lstm) => vec![
                &lstm.input_gate,
                lstm.forget_gate
                    .as_ref()
                    .expect("the LSTM has a forget gate"),
                &lstm.cell_gate,
                &lstm.output_gate,
            ],
            RecurrentLayer::Gru(gru) => vec![&gru.update_gate, &gru.reset_gate, &gru.new_gate],
            RecurrentLayer::Rnn(rnn) => vec![&rnn.gate],
        }
    }
}

/// The digit classifier: a recurrent layer reads the 28 rows, a linear head classifies its
/// last hidden state into ten classes.
#[derive(Module, Debug)]
pub struct Classifier {
    /// Reads the image, one row a timestep.
    pub recurrent: RecurrentLayer,
    /// The hidden state to the ten class logits.
    pub head: Linear,
    /// How the recurrent layer runs; not a parameter, so checkpoints do not record it.
    #[module(skip)]
    pub kernel: RecurrentKernel,
}

impl Classifier {
    /// A freshly initialised model (Keras's initialisation, drawn from `seed`).
    pub fn new(config: &ModelConfig, seed: u64, device: &Device) -> Self {
        let hidden = config.hidden;
        let mut recurrent = match config.cell {
            Cell::Lstm => RecurrentLayer::Lstm(LstmConfig::new(COLUMNS, hidden, true).init(device)),
            // Keras's GRU: reset_after, update/reset/new gate order.
            Cell::Gru => RecurrentLayer::Gru(
                GruConfig::new(COLUMNS, hidden, true)
                    .with_reset_after(true)
                    .init(device),
            ),
            Cell::Rnn => RecurrentLayer::Rnn(RnnConfig::new(COLUMNS, hidden, true).init(device)),
        };
        let facts = config.cell.facts();
        // Keras's single bias: a cell whose Keras layer keeps a recurrent bias has both anyway.
        if config.bias == Bias::Keras && !facts.keras.recurrent_bias {
            for gate in recurrent.gates_mut() {
                gate.hidden_transform.bias = None;
            }
        }
        let mut init = KerasInit::new(seed);
        // Keras's `unit_forget_bias`: the LSTM's forget gate starts at one.
        init.recurrent_gates(
            &mut recurrent.gates_mut(),
            |g| {
                if facts.forget_gate == Some(g) {
                    1.0
                } else {
                    0.0
                }
            },
            device,
        );
        let mut head = LinearConfig::new(hidden, NUM_CLASSES).init(device);
        init.dense(&mut head, device);
        Self {
            recurrent,
            head,
            kernel: RecurrentKernel::default(),
        }
    }

    /// The recurrent layer's cell.
    pub fn cell(&self) -> Cell {
        match self.recurrent {
            RecurrentLayer::Lstm(_) => Cell::Lstm,
            RecurrentLayer::Gru(_) => Cell::Gru,
            RecurrentLayer::Rnn(_) => Cell::Rnn,
        }
    }

    /// The same model, its recurrent layer run by `kernel`.
    pub fn with_kernel(mut self, kernel: RecurrentKernel) -> Self {
        self.kernel = kernel;
        self
    }

    /// Class logits `[batch, 10]` for images `[batch, rows, 28]`.
    pub fn forward(&self, images: Tensor<3>) -> Tensor<2> {
        self.head.forward(last_step(self.hidden_states(images)))
    }

    /// Class logits after each row, `[batch, rows, 10]`: the head applied to the hidden state
    /// after every row, in the same forward pass. The head was trained on the last state only,
    /// so the earlier rows are the model's guess so far, not a model of their own; the last
    /// row is `forward`'s answer.
    pub fn forward_steps(&self, images: Tensor<3>) -> Tensor<3> {
        self.head.forward(self.hidden_states(images))
    }

    /// The recurrent layer's hidden state after every row, `[batch, rows, hidden]`.
    fn hidden_states(&self, images: Tensor<3>) -> Tensor<3> {
        #[cfg(feature = "fused")]
        if self.kernel == RecurrentKernel::Fused {
            match &self.recurrent {
                RecurrentLayer::Lstm(lstm) if fused::applies(lstm, &images) => {
                    return fused::forward(lstm, images);
                }
                RecurrentLayer::Gru(gru) if fused::applies(gru, &images) => {
                    return fused::forward(gru, images);
                }
                RecurrentLayer::Rnn(rnn) if fused::applies(rnn, &images) => {
                    return fused::forward(rnn, images);
                }
                _ => {}
            }
        }
        match &self.recurrent {
            RecurrentLayer::Lstm(lstm) => lstm.forward(images, None).0,
            RecurrentLayer::Rnn(rnn) => rnn.forward(images, None).0,
            RecurrentLayer::Gru(gru) => gru.forward(images, None),
        }
    }
}

/// The last timestep `[batch, hidden]` of a sequence of hidden states `[batch, steps, hidden]`.
fn last_step(outputs: Tensor<3>) -> Tensor<2> {
    let [_, steps, _] = outputs.dims();
    outputs.slice(s![.., steps - 1, ..]).squeeze_dim(1)
}
