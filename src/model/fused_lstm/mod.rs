//! A fused LSTM for CPU training on Burn's flex backend.
//!
//! Stock `burn::nn::Lstm` builds ~20 small tensor ops per timestep, and on a CPU the time goes
//! to per-op overhead, allocation and autodiff bookkeeping rather than to the matrix products.
//! Here the whole sequence is one backend-extension op (the arithmetic is in `kernel`) with a
//! hand-written backward, backpropagation through time, registered for `Autodiff<Flex>`. It
//! reads the same parameters as `nn::Lstm`, so checkpoints do not care which path trained them.

mod kernel;

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, DispatchDevice, Flex, backend_extension};
use burn::nn::activation::Activation;
use burn::nn::{GateController, Linear, Lstm};
use burn::tensor::{DType, Tensor, TensorData};

use kernel::LstmDims;

/// Which implementation runs an LSTM layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LstmKernel {
    /// `burn::nn::Lstm`, op by op (any backend).
    Stock,
    /// The fused op on flex; the stock path elsewhere.
    #[default]
    Fused,
}

impl LstmKernel {
    pub fn name(self) -> &'static str {
        match self {
            LstmKernel::Stock => "stock",
            LstmKernel::Fused => "fused",
        }
    }
}

/// Whether the fused op can stand in for `lstm` on `input`: a flex tensor of `f32`, and an LSTM
/// of the standard shape (what `DigitClassifier` builds).
pub fn applies(lstm: &Lstm, input: &Tensor<3>) -> bool {
    let on_flex = matches!(
        input.device().inner().as_dispatch(),
        DispatchDevice::Flex(_)
    );
    let standard_gates = [
        Some(&lstm.input_gate),
        lstm.forget_gate.as_ref(),
        Some(&lstm.cell_gate),
        Some(&lstm.output_gate),
    ]
    .into_iter()
    .all(|gate| {
        gate.is_some_and(|g| g.input_transform.bias.is_some() && g.hidden_transform.bias.is_some())
    });
    on_flex
        && input.dtype() == DType::F32
        && standard_gates
        && lstm.batch_first
        && !lstm.reverse
        && !lstm.input_forget
        && lstm.clip.is_none()
        && matches!(lstm.gate_activation, Activation::Sigmoid(_))
        && matches!(lstm.cell_activation, Activation::Tanh(_))
        && matches!(lstm.hidden_activation, Activation::Tanh(_))
}

/// Every hidden state `[batch, steps, hidden]` of `lstm` over `input` `[batch, steps, features]`
/// from zero state, as `lstm.forward(input, None).0` computes it. Check [`applies`] first.
pub fn forward(lstm: &Lstm, input: Tensor<3>) -> Tensor<3> {
    let forget = lstm.forget_gate.as_ref().expect("checked by `applies`");
    let gates = [&lstm.input_gate, forget, &lstm.cell_gate, &lstm.output_gate];
    // Concatenated here, inside autodiff, so the gradients flow back to each gate's own
    // parameters and checkpoints keep `nn::Lstm`'s layout.
    let weights = |transform: fn(&GateController) -> &Linear| {
        Tensor::cat(gates.map(|g| transform(g).weight.val()).to_vec(), 1)
    };
    let bias_of = |linear: &Linear| linear.bias.as_ref().expect("checked by `applies`").val();
    let bias = Tensor::cat(
        gates
            .map(|g| bias_of(&g.input_transform) + bias_of(&g.hidden_transform))
            .to_vec(),
        0,
    );
    Tensor::from_dispatch(<Dispatch as FusedLstmBackend>::fused_lstm(
        input.into_dispatch(),
        weights(|g| &g.input_transform).into_dispatch(),
        weights(|g| &g.hidden_transform).into_dispatch(),
        bias.into_dispatch(),
    ))
}

#[backend_extension(Flex, Autodiff)]
pub trait FusedLstmBackend: Backend {
    /// `input` `[batch, steps, features]`, `w_input` `[features, 4·hidden]`, `w_hidden`
    /// `[hidden, 4·hidden]`, `bias` `[4·hidden]`, gates in the order input, forget, cell,
    /// output → every hidden state, `[batch, steps, hidden]`.
    fn fused_lstm(
        input: FloatTensor<Self>,
        w_input: FloatTensor<Self>,
        w_hidden: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

impl FusedLstmBackend for Flex {
    fn fused_lstm(
        input: FlexTensor,
        w_input: FlexTensor,
        w_hidden: FlexTensor,
        bias: FlexTensor,
    ) -> FlexTensor {
        run_forward(&input, &w_input, &w_hidden, &bias, false).0
    }
}

impl<C: CheckpointStrategy> FusedLstmBackend for Autodiff<Flex, C> {
    fn fused_lstm(
        input: FloatTensor<Self>,
        w_input: FloatTensor<Self>,
        w_hidden: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let nodes = [input.node(), w_input.node(), w_hidden.node(), bias.node()];
        match FusedLstmBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let w_input = contiguous(w_input.primitive());
                let w_hidden = contiguous(w_hidden.primitive());
                let (output, tape) = run_forward(
                    input.primitive(),
                    &w_input,
                    &w_hidden,
                    bias.primitive(),
                    true,
                );
                let state = FusedLstmState {
                    tape: Arc::new(tape.expect("a tape was asked for")),
                    w_input,
                    w_hidden,
                };
                prep.finish(state, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(
                run_forward(
                    input.primitive(),
                    w_input.primitive(),
                    w_hidden.primitive(),
                    bias.primitive(),
                    false,
                )
                .0,
            ),
        }
    }
}

#[derive(Debug)]
struct FusedLstmBackward;

#[derive(Clone, Debug)]
struct FusedLstmState {
    tape: Arc<kernel::LstmTape>,
    w_input: FlexTensor,
    w_hidden: FlexTensor,
}

impl Backward<Flex, 4> for FusedLstmBackward {
    type State = FusedLstmState;

    fn backward(
        self,
        ops: Ops<Self::State, 4>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [input_node, w_input_node, w_hidden_node, bias_node] = ops.parents;
        let grad_output = contiguous(&grads.consume::<Flex>(&ops.node));
        let state = ops.state;
        let dims = state.tape.dims();
        let computed = kernel::backward(
            &state.tape,
            f32s(&grad_output),
            f32s(&state.w_input),
            f32s(&state.w_hidden),
            input_node.is_some(),
        );
        let gates = 4 * dims.hidden;
        if let (Some(node), Some(grad)) = (input_node, computed.inputs) {
            let shape = [dims.batch, dims.steps, dims.input];
            grads.register::<Flex>(node.id, tensor(grad, &shape));
        }
        if let Some(node) = w_input_node {
            grads.register::<Flex>(node.id, tensor(computed.w_input, &[dims.input, gates]));
        }
        if let Some(node) = w_hidden_node {
            grads.register::<Flex>(node.id, tensor(computed.w_hidden, &[dims.hidden, gates]));
        }
        if let Some(node) = bias_node {
            grads.register::<Flex>(node.id, tensor(computed.bias, &[gates]));
        }
    }
}

fn run_forward(
    input: &FlexTensor,
    w_input: &FlexTensor,
    w_hidden: &FlexTensor,
    bias: &FlexTensor,
    keep_tape: bool,
) -> (FlexTensor, Option<kernel::LstmTape>) {
    let [batch, steps, features] = dims::<3>(input);
    let [_, gates] = dims::<2>(w_input);
    let dims = LstmDims {
        batch,
        steps,
        input: features,
        hidden: gates / 4,
    };
    let (input, w_input, w_hidden, bias) = (
        contiguous(input),
        contiguous(w_input),
        contiguous(w_hidden),
        contiguous(bias),
    );
    let (output, tape) = kernel::forward(
        dims,
        f32s(&input),
        f32s(&w_input),
        f32s(&w_hidden),
        f32s(&bias),
        keep_tape,
    );
    (tensor(output, &[batch, steps, dims.hidden]), tape)
}

fn dims<const D: usize>(tensor: &FlexTensor) -> [usize; D] {
    let shape = tensor.layout().shape();
    std::array::from_fn(|axis| shape[axis])
}

/// `tensor` with its elements dense and in order (a cheap handle copy when they already are).
fn contiguous(tensor: &FlexTensor) -> FlexTensor {
    if tensor.as_slice::<f32>().is_some() {
        tensor.clone()
    } else {
        tensor.to_contiguous()
    }
}

fn f32s(tensor: &FlexTensor) -> &[f32] {
    tensor
        .as_slice::<f32>()
        .expect("a contiguous f32 tensor (see `contiguous`)")
}

fn tensor(values: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.to_vec()))
}
