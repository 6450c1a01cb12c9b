//! A recurrent layer's arithmetic on plain `f32` slices: a forward pass over every timestep
//! that keeps what backpropagation through time needs, and that backward pass. The per-unit
//! math of each cell is `cells`'; this is what the cells share.
//!
//! Rows of a batch never interact inside a recurrent layer, so the batch is cut into one chunk
//! per thread and each thread runs the whole sequence for its chunk: no synchronisation between
//! timesteps, whose waits (thread wake-ups after every small GEMM) otherwise cost as much as
//! the arithmetic. Within a chunk everything is time-major (`[steps, rows, …]`), each step is
//! one GEMM, `[x_t, h_{t-1}] · [W_x; W_h]` with the cell's blocks side by side, and the weight
//! gradients are one GEMM over all timesteps.

use std::ops::Range;

use rayon::prelude::*;

use super::buffers::{give_back, take_scratch};
use super::cells::{BackwardRow, CellMath, ForwardRow, FusedCell, GruMath, LstmMath, RnnMath};
use super::dense::{
    MatRef, add_assign, column_sums, matmul, matmul_add, transpose, transpose_blocks,
};

/// Fewer rows than this per chunk and a thread's GEMMs get too thin to be worth it.
const MIN_CHUNK_ROWS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecurrentDims {
    pub cell: FusedCell,
    pub batch: usize,
    pub steps: usize,
    pub input: usize,
    pub hidden: usize,
}

impl RecurrentDims {
    /// Width of a step's GEMM output: the cell's blocks side by side.
    pub fn blocks_width(&self) -> usize {
        self.cell.blocks() * self.hidden
    }

    /// Width of a step's GEMM input row `[x_t, h_{t-1}]`.
    fn joined(&self) -> usize {
        self.input + self.hidden
    }

    /// Input values per batch row: `[steps, input]`.
    fn row_inputs(&self) -> usize {
        self.steps * self.input
    }

    /// Hidden states (or their gradients) per batch row: `[steps, hidden]`.
    fn row_outputs(&self) -> usize {
        self.steps * self.hidden
    }

    /// The same layer over `rows` of the batch.
    fn with_batch(self, rows: usize) -> Self {
        Self {
            batch: rows,
            ..self
        }
    }

    /// Rows per chunk: the batch shared out among rayon's threads.
    fn chunk_rows(&self) -> usize {
        let threads = rayon::current_num_threads().max(1);
        self.batch.div_ceil(threads).max(MIN_CHUNK_ROWS)
    }
}

/// Sizes inside one chunk's time-major buffers, which the forward and backward passes share:
/// per row, the step's GEMM input `[x_t, h_{t-1}]`, its output blocks and the cell's saved
/// values; per step, those times the chunk's rows.
struct ChunkLayout {
    rows: usize,
    steps: usize,
    input: usize,
    hidden: usize,
    /// `blocks·hidden`
    width: usize,
    /// `input + hidden`
    joined_width: usize,
    /// `SAVED·hidden`
    saved_width: usize,
    step_joined: usize,
    step_acts: usize,
    step_saved: usize,
}

impl ChunkLayout {
    /// The layout of a chunk of `dims.batch` rows for cell `C`.
    fn new<C: CellMath>(dims: RecurrentDims) -> Self {
        let rows = dims.batch;
        let width = dims.blocks_width();
        let joined_width = dims.joined();
        let saved_width = C::SAVED * dims.hidden;
        Self {
            rows,
            steps: dims.steps,
            input: dims.input,
            hidden: dims.hidden,
            width,
            joined_width,
            saved_width,
            step_joined: rows * joined_width,
            step_acts: rows * width,
            step_saved: rows * saved_width,
        }
    }

    /// Row `row`'s hidden state within a step's `[rows, hidden]`.
    fn state(&self, row: usize) -> Range<usize> {
        slot(row, self.hidden)
    }

    /// Row `row`'s blocks within a step's `[rows, blocks·hidden]`.
    fn blocks(&self, row: usize) -> Range<usize> {
        slot(row, self.width)
    }

    /// Row `row`'s saved values within a step's `[rows, SAVED·hidden]`.
    fn saved(&self, row: usize) -> Range<usize> {
        slot(row, self.saved_width)
    }

    /// Where row `row`'s step `t` lies in a batch-major `[rows, steps, width]` tensor.
    fn batch_major(&self, row: usize, t: usize, width: usize) -> Range<usize> {
        slot(row * self.steps + t, width)
    }
}

/// Element `index` of a buffer cut into equal parts `len` long.
fn slot(index: usize, len: usize) -> Range<usize> {
    index * len..(index + 1) * len
}

/// What the forward pass keeps for the backward pass, one part per chunk of the batch.
#[derive(Debug)]
pub struct Tape {
    dims: RecurrentDims,
    chunk_rows: usize,
    chunks: Vec<ChunkTape>,
}

impl Tape {
    pub fn dims(&self) -> RecurrentDims {
        self.dims
    }
}

/// One chunk's tape, time-major. Every element is written by the forward pass.
#[derive(Debug)]
struct ChunkTape {
    rows: usize,
    /// Each step's GEMM input `[x_t, h_{t-1}]`, `[steps, rows, input + hidden]`.
    joined: Vec<f32>,
    /// Activated blocks `[steps, rows, blocks·hidden]`.
    acts: Vec<f32>,
    /// The cell's saved values `[steps, rows, SAVED·hidden]`.
    saved: Vec<f32>,
}

impl Drop for ChunkTape {
    fn drop(&mut self) {
        for buffer in [&mut self.joined, &mut self.acts, &mut self.saved] {
            give_back(std::mem::take(buffer));
        }
    }
}

/// Gradients of the loss with respect to the layer's inputs and parameters.
pub struct Gradients {
    /// `[batch, steps, input]`, when asked for.
    pub inputs: Option<Vec<f32>>,
    /// `[input, blocks·hidden]`
    pub w_input: Vec<f32>,
    /// `[hidden, blocks·hidden]`
    pub w_hidden: Vec<f32>,
    /// `[blocks·hidden]`
    pub bias: Vec<f32>,
}

/// Runs the layer over `inputs` (`[batch, steps, input]`) from zero state and returns every
/// hidden state, `[batch, steps, hidden]`, and, when `keep_tape`, the tape for [`backward`].
/// Without a tape only one or two timesteps of state are held, so inference stays small.
///
/// `w_input` is `[input, blocks·hidden]`, `w_hidden` `[hidden, blocks·hidden]`, `bias`
/// `[blocks·hidden]`, laid out as [`FusedCell`] says.
pub fn forward(
    dims: RecurrentDims,
    inputs: &[f32],
    w_input: &[f32],
    w_hidden: &[f32],
    bias: &[f32],
    keep_tape: bool,
) -> (Vec<f32>, Option<Tape>) {
    match dims.cell {
        FusedCell::Lstm => {
            forward_cell::<LstmMath>(dims, inputs, w_input, w_hidden, bias, keep_tape)
        }
        FusedCell::Gru => forward_cell::<GruMath>(dims, inputs, w_input, w_hidden, bias, keep_tape),
        FusedCell::Rnn => forward_cell::<RnnMath>(dims, inputs, w_input, w_hidden, bias, keep_tape),
    }
}

fn forward_cell<C: CellMath>(
    dims: RecurrentDims,
    inputs: &[f32],
    w_input: &[f32],
    w_hidden: &[f32],
    bias: &[f32],
    keep_tape: bool,
) -> (Vec<f32>, Option<Tape>) {
    let width = dims.blocks_width();
    let (row_inputs, row_outputs) = (dims.row_inputs(), dims.row_outputs());
    assert_eq!(
        inputs.len(),
        dims.batch * row_inputs,
        "recurrent input size"
    );
    assert_eq!(w_input.len(), dims.input * width, "input weight size");
    assert_eq!(w_hidden.len(), dims.hidden * width, "hidden weight size");
    assert_eq!(bias.len(), width, "recurrent bias size");

    // Row-major [W_x; W_h] is the two matrices one after the other.
    let weights = [w_input, w_hidden].concat();
    let chunk_rows = dims.chunk_rows();
    let mut output = vec![0.0; dims.batch * row_outputs];
    let chunks: Vec<Option<ChunkTape>> = output
        .par_chunks_mut(chunk_rows * row_outputs)
        .zip(inputs.par_chunks(chunk_rows * row_inputs))
        .map(|(output, inputs)| {
            let rows = inputs.len() / row_inputs;
            forward_chunk::<C>(
                dims.with_batch(rows),
                inputs,
                &weights,
                bias,
                keep_tape,
                output,
            )
        })
        .collect();
    let tape = keep_tape.then(|| Tape {
        dims,
        chunk_rows,
        chunks: chunks.into_iter().flatten().collect(),
    });
    (output, tape)
}

/// [`forward`] for one chunk of the batch (`dims.batch` rows), on the calling thread.
fn forward_chunk<C: CellMath>(
    dims: RecurrentDims,
    inputs: &[f32],
    weights: &[f32],
    bias: &[f32],
    keep_tape: bool,
    output: &mut [f32],
) -> Option<ChunkTape> {
    let layout = ChunkLayout::new::<C>(dims);
    // Timesteps held at once: all of them for the tape, else what the next step reads.
    let (kept, saved_slots) = if keep_tape {
        (layout.steps, layout.steps)
    } else {
        (1, 2)
    };

    // Each step writes all of its slots before anything reads them.
    let mut joined = take_scratch(kept * layout.step_joined);
    let mut acts = take_scratch(kept * layout.step_acts);
    let mut saved = take_scratch(saved_slots * layout.step_saved);
    // Step 0 starts from zero state.
    let zero_saved = vec![0.0; layout.step_saved];
    let mut hidden_state = vec![0.0; layout.rows * layout.hidden];
    for t in 0..layout.steps {
        let joined_t = &mut joined[slot(t % kept, layout.step_joined)];
        join_input_and_state(&layout, t, inputs, &hidden_state, joined_t);
        let acts_t = &mut acts[slot(t % kept, layout.step_acts)];
        matmul(
            acts_t,
            MatRef::row_major(joined_t, layout.joined_width),
            MatRef::row_major(weights, layout.width),
            layout.rows,
        );
        let previous = (t > 0).then(|| (t - 1) % saved_slots);
        let (saved_t, saved_prev) =
            current_and_previous(&mut saved, layout.step_saved, t % saved_slots, previous);
        let saved_prev = saved_prev.unwrap_or(&zero_saved);
        for row in 0..layout.rows {
            C::forward(ForwardRow {
                pre: &mut acts_t[layout.blocks(row)],
                bias,
                saved_prev: &saved_prev[layout.saved(row)],
                saved: &mut saved_t[layout.saved(row)],
                h: &mut hidden_state[layout.state(row)],
            });
            output[layout.batch_major(row, t, layout.hidden)]
                .copy_from_slice(&hidden_state[layout.state(row)]);
        }
    }
    if keep_tape {
        Some(ChunkTape {
            rows: layout.rows,
            joined,
            acts,
            saved,
        })
    } else {
        [joined, acts, saved].into_iter().for_each(give_back);
        None
    }
}

/// Each row's `[x_t, h_{t-1}]`, the one operand of step `t`'s GEMM.
fn join_input_and_state(
    layout: &ChunkLayout,
    t: usize,
    inputs: &[f32],
    hidden_state: &[f32],
    joined_t: &mut [f32],
) {
    for (row, joined_row) in joined_t.chunks_exact_mut(layout.joined_width).enumerate() {
        let (x, h) = joined_row.split_at_mut(layout.input);
        x.copy_from_slice(&inputs[layout.batch_major(row, t, layout.input)]);
        h.copy_from_slice(&hidden_state[layout.state(row)]);
    }
}

/// Slot `current` of `buffer` (slots `len` long) to write, and slot `previous` to read.
fn current_and_previous(
    buffer: &mut [f32],
    len: usize,
    current: usize,
    previous: Option<usize>,
) -> (&mut [f32], Option<&[f32]>) {
    let Some(previous) = previous else {
        return (&mut buffer[slot(current, len)], None);
    };
    assert_ne!(current, previous, "distinct slots");
    let split = current.max(previous) * len;
    let (low, high) = buffer.split_at_mut(split);
    let (current_slot, previous_slot) = if current > previous {
        (&mut high[..len], &low[slot(previous, len)])
    } else {
        (&mut low[slot(current, len)], &high[..len])
    };
    (current_slot, Some(previous_slot))
}

/// Backpropagation through time. `grad_output` is the loss gradient for every hidden state,
/// `[batch, steps, hidden]`; `w_input`/`w_hidden` are the forward pass's weights.
pub fn backward(
    tape: &Tape,
    grad_output: &[f32],
    w_input: &[f32],
    w_hidden: &[f32],
    want_input_grad: bool,
) -> Gradients {
    match tape.dims.cell {
        FusedCell::Lstm => {
            backward_cell::<LstmMath>(tape, grad_output, w_input, w_hidden, want_input_grad)
        }
        FusedCell::Gru => {
            backward_cell::<GruMath>(tape, grad_output, w_input, w_hidden, want_input_grad)
        }
        FusedCell::Rnn => {
            backward_cell::<RnnMath>(tape, grad_output, w_input, w_hidden, want_input_grad)
        }
    }
}

fn backward_cell<C: CellMath>(
    tape: &Tape,
    grad_output: &[f32],
    w_input: &[f32],
    w_hidden: &[f32],
    want_input_grad: bool,
) -> Gradients {
    let dims = tape.dims;
    let width = dims.blocks_width();
    let row_outputs = dims.row_outputs();
    assert_eq!(
        grad_output.len(),
        dims.batch * row_outputs,
        "recurrent output grad size"
    );
    // Wᵀ laid out row-major once, so each step's GEMM streams it in order.
    let w_hidden_t = transpose(w_hidden, dims.hidden, width);
    let w_input_t = want_input_grad.then(|| transpose(w_input, dims.input, width));

    let partials: Vec<ChunkGradients> = grad_output
        .par_chunks(tape.chunk_rows * row_outputs)
        .zip(&tape.chunks)
        .map(|(grad_output, chunk)| {
            backward_chunk::<C>(
                dims.with_batch(chunk.rows),
                chunk,
                grad_output,
                &w_hidden_t,
                w_input_t.as_deref(),
            )
        })
        .collect();

    // Sum the chunks' weight gradients, in chunk order (so the result does not depend on
    // which thread finished first).
    let mut weights = vec![0.0; dims.joined() * width];
    let mut bias = vec![0.0; width];
    for partial in &partials {
        add_assign(&mut weights, &partial.weights);
        add_assign(&mut bias, &partial.bias);
    }
    let w_hidden = weights.split_off(dims.input * width);
    let inputs = want_input_grad.then(|| {
        partials
            .into_iter()
            .flat_map(|partial| partial.inputs.expect("asked for"))
            .collect()
    });
    Gradients {
        inputs,
        w_input: weights,
        w_hidden,
        bias,
    }
}

/// One chunk's share of the gradients.
struct ChunkGradients {
    /// `[input + hidden, blocks·hidden]`: W_x's rows, then W_h's.
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// `[rows, steps, input]`
    inputs: Option<Vec<f32>>,
}

/// [`backward`] for one chunk of the batch, on the calling thread.
fn backward_chunk<C: CellMath>(
    dims: RecurrentDims,
    tape: &ChunkTape,
    grad_output: &[f32],
    w_hidden_t: &[f32],
    w_input_t: Option<&[f32]>,
) -> ChunkGradients {
    let layout = ChunkLayout::new::<C>(dims);
    let grad_pre = pre_activation_grads::<C>(&layout, tape, grad_output, w_hidden_t);

    // Both weight gradients in one GEMM over all timesteps: Σ_t [x_t, h_{t-1}]ᵀ · dz_t.
    let mut weights = vec![0.0; layout.joined_width * layout.width];
    matmul(
        &mut weights,
        MatRef::transposed(&tape.joined, layout.joined_width),
        MatRef::row_major(&grad_pre, layout.width),
        layout.joined_width,
    );
    let inputs = w_input_t.map(|w_input_t| {
        let mut grad = vec![0.0; layout.steps * layout.rows * layout.input];
        matmul(
            &mut grad,
            MatRef::row_major(&grad_pre, layout.width),
            MatRef::row_major(w_input_t, layout.input),
            layout.steps * layout.rows,
        );
        transpose_blocks(&grad, layout.steps, layout.rows, layout.input)
    });
    let bias = column_sums(&grad_pre, layout.width);
    give_back(grad_pre);
    ChunkGradients {
        weights,
        bias,
        inputs,
    }
}

/// The pre-activation gradients of every step, `[steps, rows, blocks·hidden]`, back through
/// time from the last step (scratch memory: the caller gives it back).
fn pre_activation_grads<C: CellMath>(
    layout: &ChunkLayout,
    tape: &ChunkTape,
    grad_output: &[f32],
    w_hidden_t: &[f32],
) -> Vec<f32> {
    // The cells write every element.
    let mut grad_pre = take_scratch(layout.steps * layout.step_acts);
    // Gradients flowing into step t from step t + 1.
    let mut grad_h_next = vec![0.0; layout.rows * layout.hidden];
    let mut grad_carry = vec![0.0; layout.step_saved];
    let zero_saved = vec![0.0; layout.step_saved];
    for t in (0..layout.steps).rev() {
        let acts_t = &tape.acts[slot(t, layout.step_acts)];
        let grad_pre_t = &mut grad_pre[slot(t, layout.step_acts)];
        let joined_t = &tape.joined[slot(t, layout.step_joined)];
        let saved_t = &tape.saved[slot(t, layout.step_saved)];
        let saved_prev = if t == 0 {
            &zero_saved[..]
        } else {
            &tape.saved[slot(t - 1, layout.step_saved)]
        };
        for row in 0..layout.rows {
            let joined_row = &joined_t[slot(row, layout.joined_width)];
            C::backward(BackwardRow {
                acts: &acts_t[layout.blocks(row)],
                saved: &saved_t[layout.saved(row)],
                saved_prev: &saved_prev[layout.saved(row)],
                h_prev: &joined_row[layout.input..],
                dh_out: &grad_output[layout.batch_major(row, t, layout.hidden)],
                dh_next: &mut grad_h_next[layout.state(row)],
                d_carry: &mut grad_carry[layout.saved(row)],
                grad_pre: &mut grad_pre_t[layout.blocks(row)],
            });
        }
        if t > 0 {
            // dh_{t-1} = (what the cell passed on directly) + dz_t · W_hᵀ
            matmul_add(
                &mut grad_h_next,
                MatRef::row_major(grad_pre_t, layout.width),
                MatRef::row_major(w_hidden_t, layout.hidden),
                layout.rows,
            );
        }
    }
    grad_pre
}
