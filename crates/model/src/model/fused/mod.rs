//! Fused CPU recurrent layers (LSTM, GRU, SimpleRNN) for training on Burn's flex backend.
//!
//! Burn's stock recurrent layers build ~10–20 small tensor ops per timestep, and on a CPU the
//! time goes to per-op overhead, allocation and autodiff bookkeeping rather than to the matrix
//! products. Here the whole sequence is one backend-extension op (the shared driver is
//! `kernel`, each cell's arithmetic `cells`) with a hand-written backward, backpropagation
//! through time, registered for `Autodiff<Flex>`. It reads the same parameters as the stock
//! layers, so checkpoints do not care which path trained them.

mod activations;
mod buffers;
mod cells;
mod dense;
mod kernel;
mod layers;

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, DispatchDevice, Flex, backend_extension};
use burn::tensor::{DType, Tensor, TensorData};

pub use cells::FusedCell;
pub use layers::FusedLayer;

use kernel::RecurrentDims;

/// Whether the fused op can stand in for `layer` on `input`: a flex tensor of `f32`, and a
/// layer of the standard form.
pub fn applies(layer: &impl FusedLayer, input: &Tensor<3>) -> bool {
    let on_flex = matches!(
        input.device().inner().as_dispatch(),
        DispatchDevice::Flex(_)
    );
    on_flex && input.dtype() == DType::F32 && layer.is_standard()
}

/// Every hidden state `[batch, steps, hidden]` of `layer` over `input` `[batch, steps,
/// features]` from zero state, as the stock layer's forward computes it. Check [`applies`]
/// first.
pub fn forward(layer: &impl FusedLayer, input: Tensor<3>) -> Tensor<3> {
    let params = layer.fused_params();
    Tensor::from_dispatch(<Dispatch as FusedRecurrentBackend>::fused_recurrent(
        input.into_dispatch(),
        params.w_input.into_dispatch(),
        params.w_hidden.into_dispatch(),
        params.bias.into_dispatch(),
        params.cell,
    ))
}

/// A backend that runs a whole recurrent layer over a sequence as one op (the flex backend,
/// with and without autodiff).
#[backend_extension(Flex, Autodiff)]
pub trait FusedRecurrentBackend: Backend {
    /// `input` `[batch, steps, features]`, `w_input` `[features, input blocks·hidden]`,
    /// `w_hidden` `[hidden, hidden blocks·hidden]`, `bias` `[blocks·hidden]`, blocks as
    /// [`FusedCell`] lays them out → every hidden state, `[batch, steps, hidden]`.
    fn fused_recurrent(
        input: FloatTensor<Self>,
        w_input: FloatTensor<Self>,
        w_hidden: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        cell: FusedCell,
    ) -> FloatTensor<Self>;
}

impl FusedRecurrentBackend for Flex {
    fn fused_recurrent(
        input: FlexTensor,
        w_input: FlexTensor,
        w_hidden: FlexTensor,
        bias: FlexTensor,
        cell: FusedCell,
    ) -> FlexTensor {
        run_forward(cell, &input, &w_input, &w_hidden, &bias, false).0
    }
}

impl<C: CheckpointStrategy> FusedRecurrentBackend for Autodiff<Flex, C> {
    fn fused_recurrent(
        input: FloatTensor<Self>,
        w_input: FloatTensor<Self>,
        w_hidden: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        cell: FusedCell,
    ) -> FloatTensor<Self> {
        let nodes = [input.node(), w_input.node(), w_hidden.node(), bias.node()];
        match FusedRecurrentBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let w_input = contiguous(w_input.primitive());
                let w_hidden = contiguous(w_hidden.primitive());
                let (output, tape) = run_forward(
                    cell,
                    input.primitive(),
                    &w_input,
                    &w_hidden,
                    bias.primitive(),
                    true,
                );
                let state = FusedRecurrentState {
                    tape: Arc::new(tape.expect("a tape was asked for")),
                    w_input,
                    w_hidden,
                };
                prep.finish(state, output)
            }
            // Nothing needs gradients: the plain forward, as on flex without autodiff.
            OpsKind::UnTracked(prep) => prep.finish(Flex::fused_recurrent(
                input.into_primitive(),
                w_input.into_primitive(),
                w_hidden.into_primitive(),
                bias.into_primitive(),
                cell,
            )),
        }
    }
}

#[derive(Debug)]
struct FusedRecurrentBackward;

#[derive(Clone, Debug)]
struct FusedRecurrentState {
    tape: Arc<kernel::Tape>,
    w_input: FlexTensor,
    w_hidden: FlexTensor,
}

impl Backward<Flex, 4> for FusedRecurrentBackward {
    type State = FusedRecurrentState;

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
        if let (Some(node), Some(grad)) = (input_node, computed.inputs) {
            let shape = [dims.batch, dims.steps, dims.input];
            grads.register::<Flex>(node.id, tensor(grad, &shape));
        }
        if let Some(node) = w_input_node {
            let shape = [dims.input, dims.input_width()];
            grads.register::<Flex>(node.id, tensor(computed.w_input, &shape));
        }
        if let Some(node) = w_hidden_node {
            let shape = [dims.hidden, dims.hidden_width()];
            grads.register::<Flex>(node.id, tensor(computed.w_hidden, &shape));
        }
        if let Some(node) = bias_node {
            grads.register::<Flex>(node.id, tensor(computed.bias, &[dims.blocks_width()]));
        }
    }
}

fn run_forward(
    cell: FusedCell,
    input: &FlexTensor,
    w_input: &FlexTensor,
    w_hidden: &FlexTensor,
    bias: &FlexTensor,
    keep_tape: bool,
) -> (FlexTensor, Option<kernel::Tape>) {
    let [batch, steps, features] = dims::<3>(input);
    let [hidden, _] = dims::<2>(w_hidden);
    let dims = RecurrentDims {
        cell,
        batch,
        steps,
        input: features,
        hidden,
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
