//! Burn's recurrent layers as the fused op sees them: whether a layer has the standard form the
//! kernels implement, and its parameters gathered into the kernels' layout (see
//! [`FusedCell`]). The gathering happens inside autodiff, so gradients flow back to each
//! gate's own parameters and checkpoints keep Burn's layout.

use burn::nn::activation::Activation;
use burn::nn::{GateController, Gru, Linear, Lstm, Rnn};
use burn::tensor::Tensor;

use super::cells::FusedCell;

/// A recurrent layer's parameters in the kernels' layout.
pub struct FusedParams {
    pub cell: FusedCell,
    /// `[input, input blocks·hidden]`
    pub w_input: Tensor<2>,
    /// `[hidden, hidden blocks·hidden]`
    pub w_hidden: Tensor<2>,
    /// `[blocks·hidden]`
    pub bias: Tensor<1>,
}

/// A Burn recurrent layer the fused op can run.
pub trait FusedLayer {
    /// Whether this layer has the form the kernel computes (activations, biases, direction, no
    /// clipping): what `Classifier` builds.
    fn is_standard(&self) -> bool;

    /// The parameters, gathered; only for a standard layer.
    fn fused_params(&self) -> FusedParams;
}

impl FusedLayer for Lstm {
    fn is_standard(&self) -> bool {
        let gates = [
            Some(&self.input_gate),
            self.forget_gate.as_ref(),
            Some(&self.cell_gate),
            Some(&self.output_gate),
        ];
        gates
            .into_iter()
            .all(|gate| gate.is_some_and(has_input_bias))
            && self.batch_first
            && !self.reverse
            && !self.input_forget
            && self.clip.is_none()
            && matches!(self.gate_activation, Activation::Sigmoid(_))
            && matches!(self.cell_activation, Activation::Tanh(_))
            && matches!(self.hidden_activation, Activation::Tanh(_))
    }

    fn fused_params(&self) -> FusedParams {
        let forget = self.forget_gate.as_ref().expect("checked by `is_standard`");
        let gates = [&self.input_gate, forget, &self.cell_gate, &self.output_gate];
        FusedParams {
            cell: FusedCell::Lstm,
            w_input: Tensor::cat(gates.map(|g| g.input_transform.weight.val()).to_vec(), 1),
            w_hidden: Tensor::cat(gates.map(|g| g.hidden_transform.weight.val()).to_vec(), 1),
            bias: Tensor::cat(gates.map(summed_bias).to_vec(), 0),
        }
    }
}

impl FusedLayer for Gru {
    fn is_standard(&self) -> bool {
        [&self.update_gate, &self.reset_gate, &self.new_gate]
            .into_iter()
            .all(has_both_biases)
            && self.reset_after
            && self.clip.is_none()
            && matches!(self.gate_activation, Activation::Sigmoid(_))
            && matches!(self.hidden_activation, Activation::Tanh(_))
    }

    fn fused_params(&self) -> FusedParams {
        let (z, r, n) = (&self.update_gate, &self.reset_gate, &self.new_gate);
        let weight = |linear: &Linear| linear.weight.val();
        // The new gate's input and hidden parts are blocks of their own (the reset gate scales
        // only the hidden part); the input feeds the first three, the hidden state the last.
        let w_input = [
            weight(&n.input_transform),
            weight(&z.input_transform),
            weight(&r.input_transform),
        ];
        let w_hidden = [
            weight(&z.hidden_transform),
            weight(&r.hidden_transform),
            weight(&n.hidden_transform),
        ];
        let bias = [
            bias(&n.input_transform),
            summed_bias(z),
            summed_bias(r),
            bias(&n.hidden_transform),
        ];
        FusedParams {
            cell: FusedCell::Gru,
            w_input: Tensor::cat(w_input.to_vec(), 1),
            w_hidden: Tensor::cat(w_hidden.to_vec(), 1),
            bias: Tensor::cat(bias.to_vec(), 0),
        }
    }
}

impl FusedLayer for Rnn {
    fn is_standard(&self) -> bool {
        has_input_bias(&self.gate)
            && self.batch_first
            && !self.reverse
            && self.clip.is_none()
            && matches!(self.hidden_activation, Activation::Tanh(_))
    }

    fn fused_params(&self) -> FusedParams {
        FusedParams {
            cell: FusedCell::Rnn,
            w_input: self.gate.input_transform.weight.val(),
            w_hidden: self.gate.hidden_transform.weight.val(),
            bias: summed_bias(&self.gate),
        }
    }
}

fn has_both_biases(gate: &GateController) -> bool {
    gate.input_transform.bias.is_some() && gate.hidden_transform.bias.is_some()
}

/// An LSTM or SimpleRNN gate may lack the recurrent bias (`bias = "keras"`).
fn has_input_bias(gate: &GateController) -> bool {
    gate.input_transform.bias.is_some()
}

fn bias(linear: &Linear) -> Tensor<1> {
    linear
        .bias
        .as_ref()
        .expect("checked by `is_standard`")
        .val()
}

/// A gate's biases as one: they are always added together.
fn summed_bias(gate: &GateController) -> Tensor<1> {
    let input = bias(&gate.input_transform);
    match &gate.hidden_transform.bias {
        Some(hidden) => input + hidden.val(),
        None => input,
    }
}
