//! A recurrent layer's arithmetic on plain `f32` slices: a forward pass over every timestep
//! that keeps what backpropagation through time needs, and that backward pass. The per-unit
//! math of each cell is `cells`'; this is what the cells share.
//!
//! Rows of a batch never interact inside a recurrent layer, so the batch is cut into one chunk
//! per thread and each thread runs the whole sequence for its chunk: no synchronisation between
//! timesteps, whose waits (thread wake-ups after every small GEMM) otherwise cost as much as
//! the arithmetic. Within a chunk everything is time-major (`[steps, rows, …]`). Each step is
//! two GEMMs, `x_t · W_x` into the cell's input blocks and `h_{t-1} · W_h` added to its hidden
//! blocks, so a cell whose blocks are not all fed by both (the GRU) multiplies no zeros; the
//! input projection of all steps at once before the recurrence (as cuDNN does) measured no
//! faster, its output leaving the cache before the step reads it. The weight gradients are one
//! GEMM each over all timesteps.

use std::ops::Range;

use rayon::prelude::*;

use super::buffers::{give_back, take_scratch};
use super::cells::{BackwardRow, CellMath, ForwardRow, FusedCell, GruMath, LstmMath, RnnMath};
use super::dense::{
    MatMut, MatRef, add_assign, column_sums, matmul, matmul_add, transpose, transpose_blocks,
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
    /// Width of a step's pre-activations: the cell's blocks side by side.
    pub fn blocks_width(&self) -> usize {
        self.cell.blocks() * self.hidden
    }

    /// Columns of `W_x`: the blocks the input projection fills.
    pub fn input_width(&self) -> usize {
        self.cell.input_blocks().len() * self.hidden
    }

    /// Columns of `W_h`: the blocks the hidden state's product adds to.
    pub fn hidden_width(&self) -> usize {
        self.cell.hidden_blocks().len() * self.hidden
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
/// per row, the step's input, hidden state, pre-activation blocks and the cell's saved values;
/// per step, those times the chunk's rows.
struct ChunkLayout {
    rows: usize,
    steps: usize,
    input: usize,
    hidden: usize,
    /// `blocks·hidden`
    width: usize,
    /// Where `x_t · W_x` lies in a row's blocks.
    input_columns: Range<usize>,
    /// Where `h_{t-1} · W_h` lies in a row's blocks.
    hidden_columns: Range<usize>,
    /// `SAVED·hidden`
    saved_width: usize,
    step_inputs: usize,
    step_states: usize,
    step_acts: usize,
    step_saved: usize,
}

impl ChunkLayout {
    /// The layout of a chunk of `dims.batch` rows for cell `C`.
    fn new<C: CellMath>(dims: RecurrentDims) -> Self {
        let rows = dims.batch;
        let width = dims.blocks_width();
        let columns = |blocks: Range<usize>| blocks.start * dims.hidden..blocks.end * dims.hidden;
        let saved_width = C::SAVED * dims.hidden;
        Self {
            rows,
            steps: dims.steps,
            input: dims.input,
            hidden: dims.hidden,
            width,
            input_columns: columns(dims.cell.input_blocks()),
            hidden_columns: columns(dims.cell.hidden_blocks()),
            saved_width,
            step_inputs: rows * dims.input,
            step_states: rows * dims.hidden,
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

    /// The columns only the hidden state feeds (the GRU's `h·W_hn`): they start from zero.
    fn hidden_only_columns(&self) -> Range<usize> {
        self.input_columns.end.max(self.hidden_columns.start)..self.hidden_columns.end
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
    /// The inputs `[steps, rows, input]`.
    inputs: Vec<f32>,
    /// Every hidden state h_t, `[steps, rows, hidden]`.
    states: Vec<f32>,
    /// Activated blocks `[steps, rows, blocks·hidden]`.
    acts: Vec<f32>,
    /// The cell's saved values `[steps, rows, SAVED·hidden]`.
    saved: Vec<f32>,
}

impl Drop for ChunkTape {
    fn drop(&mut self) {
        for buffer in [
            &mut self.inputs,
            &mut self.states,
            &mut self.acts,
            &mut self.saved,
        ] {
            give_back(std::mem::take(buffer));
        }
    }
}

/// Gradients of the loss with respect to the layer's inputs and parameters.
pub struct Gradients {
    /// `[batch, steps, input]`, when asked for.
    pub inputs: Option<Vec<f32>>,
    /// `[input, input_width]`
    pub w_input: Vec<f32>,
    /// `[hidden, hidden_width]`
    pub w_hidden: Vec<f32>,
    /// `[blocks·hidden]`
    pub bias: Vec<f32>,
}

/// Runs the layer over `inputs` (`[batch, steps, input]`) from zero state and returns every
/// hidden state, `[batch, steps, hidden]`, and, when `keep_tape`, the tape for [`backward`].
/// Without a tape only one or two timesteps of state are held, so inference stays small.
///
/// `w_input` is `[input, input_width]`, `w_hidden` `[hidden, hidden_width]`, `bias`
/// `[blocks·hidden]`, laid out as [`FusedCell`] says.
pub fn forward(
    dims: RecurrentDims,
    inputs: &[f32],
    w_input: &[f32],
    w_hidden: &[f32],
    bias: &[f32],
    keep_tape: bool,
) -> (Vec<f32>, Option<Tape>) {
    let weights = Weights {
        input: w_input,
        hidden: w_hidden,
        bias,
    };
    match dims.cell {
        FusedCell::Lstm => forward_cell::<LstmMath>(dims, inputs, weights, keep_tape),
        FusedCell::Gru => forward_cell::<GruMath>(dims, inputs, weights, keep_tape),
        FusedCell::Rnn => forward_cell::<RnnMath>(dims, inputs, weights, keep_tape),
    }
}

/// The layer's parameters, as [`forward`] takes them.
#[derive(Clone, Copy)]
struct Weights<'a> {
    input: &'a [f32],
    hidden: &'a [f32],
    bias: &'a [f32],
}

fn forward_cell<C: CellMath>(
    dims: RecurrentDims,
    inputs: &[f32],
    weights: Weights,
    keep_tape: bool,
) -> (Vec<f32>, Option<Tape>) {
    let (row_inputs, row_outputs) = (dims.row_inputs(), dims.row_outputs());
    assert_eq!(
        inputs.len(),
        dims.batch * row_inputs,
        "recurrent input size"
    );
    assert_eq!(
        weights.input.len(),
        dims.input * dims.input_width(),
        "input weight size"
    );
    assert_eq!(
        weights.hidden.len(),
        dims.hidden * dims.hidden_width(),
        "hidden weight size"
    );
    assert_eq!(
        weights.bias.len(),
        dims.blocks_width(),
        "recurrent bias size"
    );

    let chunk_rows = dims.chunk_rows();
    let mut output = vec![0.0; dims.batch * row_outputs];
    let chunks: Vec<Option<ChunkTape>> = output
        .par_chunks_mut(chunk_rows * row_outputs)
        .zip(inputs.par_chunks(chunk_rows * row_inputs))
        .map(|(output, inputs)| {
            let rows = inputs.len() / row_inputs;
            forward_chunk::<C>(dims.with_batch(rows), inputs, weights, keep_tape, output)
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
    weights: Weights,
    keep_tape: bool,
    output: &mut [f32],
) -> Option<ChunkTape> {
    let layout = ChunkLayout::new::<C>(dims);
    // Timesteps held at once: all of them for the tape, else what the next step reads.
    let (kept, state_slots) = if keep_tape {
        (layout.steps, layout.steps)
    } else {
        (1, 2)
    };

    let time_major_inputs = time_major(&layout, inputs);
    // Each step writes all of its slots before anything reads them.
    let mut acts = take_scratch(kept * layout.step_acts);
    let mut states = take_scratch(state_slots * layout.step_states);
    let mut saved = take_scratch(state_slots * layout.step_saved);
    // Step 0 starts from zero state.
    let zero_state = vec![0.0; layout.step_states];
    let zero_saved = vec![0.0; layout.step_saved];
    for t in 0..layout.steps {
        let acts_t = &mut acts[slot(t % kept, layout.step_acts)];
        let inputs_t = &time_major_inputs[slot(t, layout.step_inputs)];
        project_inputs(&layout, inputs_t, weights.input, acts_t);
        let previous = (t > 0).then(|| (t - 1) % state_slots);
        let (states_t, states_prev) =
            current_and_previous(&mut states, layout.step_states, t % state_slots, previous);
        if let Some(h_prev) = states_prev {
            add_hidden_product(&layout, h_prev, weights.hidden, acts_t);
        }
        let (saved_t, saved_prev) =
            current_and_previous(&mut saved, layout.step_saved, t % state_slots, previous);
        let step = StepState {
            h_prev: states_prev.unwrap_or(&zero_state),
            saved_prev: saved_prev.unwrap_or(&zero_saved),
            saved: saved_t,
            h: states_t,
        };
        activate_step::<C>(&layout, t, acts_t, weights.bias, step, output);
    }
    if keep_tape {
        Some(ChunkTape {
            rows: layout.rows,
            inputs: time_major_inputs,
            states,
            acts,
            saved,
        })
    } else {
        [time_major_inputs, states, acts, saved]
            .into_iter()
            .for_each(give_back);
        None
    }
}

/// One step's state slots: the previous step's to read, this step's to write.
struct StepState<'a> {
    h_prev: &'a [f32],
    saved_prev: &'a [f32],
    saved: &'a mut [f32],
    h: &'a mut [f32],
}

/// The cell over every row of step `t`: `acts_t` activated in place, h_t written into the
/// step's state and into `output` (batch-major).
fn activate_step<C: CellMath>(
    layout: &ChunkLayout,
    t: usize,
    acts_t: &mut [f32],
    bias: &[f32],
    step: StepState,
    output: &mut [f32],
) {
    for row in 0..layout.rows {
        C::forward(ForwardRow {
            pre: &mut acts_t[layout.blocks(row)],
            bias,
            h_prev: &step.h_prev[layout.state(row)],
            saved_prev: &step.saved_prev[layout.saved(row)],
            saved: &mut step.saved[layout.saved(row)],
            h: &mut step.h[layout.state(row)],
        });
        output[layout.batch_major(row, t, layout.hidden)]
            .copy_from_slice(&step.h[layout.state(row)]);
    }
}

/// `h_{t-1} · W_h` added to the hidden blocks of a step's `acts`.
fn add_hidden_product(layout: &ChunkLayout, h_prev: &[f32], w_hidden: &[f32], acts: &mut [f32]) {
    matmul_add(
        MatMut::row_major(acts, layout.width).columns(layout.hidden_columns.clone()),
        MatRef::row_major(h_prev, layout.hidden),
        MatRef::row_major(w_hidden, layout.hidden_columns.len()),
    );
}

/// A chunk's batch-major inputs `[rows, steps, input]` as `[steps, rows, input]` (scratch
/// memory).
fn time_major(layout: &ChunkLayout, inputs: &[f32]) -> Vec<f32> {
    let mut swapped = take_scratch(inputs.len());
    for (row, row_inputs) in inputs.chunks_exact(layout.steps * layout.input).enumerate() {
        for (t, x) in row_inputs.chunks_exact(layout.input).enumerate() {
            let at = slot(t * layout.rows + row, layout.input);
            swapped[at].copy_from_slice(x);
        }
    }
    swapped
}

/// `x_t · W_x` (`inputs_t` `[rows, input]`) into the input blocks of a step's `acts`; the
/// blocks only the hidden state feeds are zeroed.
fn project_inputs(layout: &ChunkLayout, inputs_t: &[f32], w_input: &[f32], acts: &mut [f32]) {
    matmul(
        MatMut::row_major(acts, layout.width).columns(layout.input_columns.clone()),
        MatRef::row_major(inputs_t, layout.input),
        MatRef::row_major(w_input, layout.input_columns.len()),
    );
    let hidden_only = layout.hidden_only_columns();
    if !hidden_only.is_empty() {
        for row in acts.chunks_exact_mut(layout.width) {
            row[hidden_only.clone()].fill(0.0);
        }
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
    let row_outputs = dims.row_outputs();
    assert_eq!(
        grad_output.len(),
        dims.batch * row_outputs,
        "recurrent output grad size"
    );
    // Wᵀ laid out row-major once, so each step's GEMM streams it in order.
    let w_hidden_t = transpose(w_hidden, dims.hidden, dims.hidden_width());
    let w_input_t = want_input_grad.then(|| transpose(w_input, dims.input, dims.input_width()));

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
    let mut sums = Gradients {
        inputs: None,
        w_input: vec![0.0; dims.input * dims.input_width()],
        w_hidden: vec![0.0; dims.hidden * dims.hidden_width()],
        bias: vec![0.0; dims.blocks_width()],
    };
    for partial in &partials {
        add_assign(&mut sums.w_input, &partial.w_input);
        add_assign(&mut sums.w_hidden, &partial.w_hidden);
        add_assign(&mut sums.bias, &partial.bias);
    }
    sums.inputs = want_input_grad.then(|| {
        partials
            .into_iter()
            .flat_map(|partial| partial.inputs.expect("asked for"))
            .collect()
    });
    sums
}

/// One chunk's share of the gradients.
struct ChunkGradients {
    /// `[input, input_width]`
    w_input: Vec<f32>,
    /// `[hidden, hidden_width]`
    w_hidden: Vec<f32>,
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
    let all_steps = MatRef::row_major(&grad_pre, layout.width);
    let input_grads = all_steps.columns(layout.input_columns.clone());

    // Σ_t x_tᵀ · dz_t over all timesteps in one GEMM.
    let input_width = layout.input_columns.len();
    let mut w_input = vec![0.0; layout.input * input_width];
    matmul(
        MatMut::row_major(&mut w_input, input_width),
        MatRef::transposed(&tape.inputs, layout.input),
        input_grads,
    );
    // Σ_{t≥1} h_{t-1}ᵀ · dz_t likewise (h_{-1} is zero).
    let hidden_width = layout.hidden_columns.len();
    let mut w_hidden = vec![0.0; layout.hidden * hidden_width];
    if layout.steps > 1 {
        let earlier_states = &tape.states[..(layout.steps - 1) * layout.step_states];
        matmul(
            MatMut::row_major(&mut w_hidden, hidden_width),
            MatRef::transposed(earlier_states, layout.hidden),
            all_steps
                .rows(layout.rows..layout.steps * layout.rows)
                .columns(layout.hidden_columns.clone()),
        );
    }
    let inputs = w_input_t.map(|w_input_t| {
        let mut grad = vec![0.0; layout.steps * layout.step_inputs];
        matmul(
            MatMut::row_major(&mut grad, layout.input),
            input_grads,
            MatRef::row_major(w_input_t, layout.input),
        );
        transpose_blocks(&grad, layout.steps, layout.rows, layout.input)
    });
    let bias = column_sums(&grad_pre, layout.width);
    give_back(grad_pre);
    ChunkGradients {
        w_input,
        w_hidden,
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
    let mut grad_h_next = vec![0.0; layout.step_states];
    let mut grad_carry = vec![0.0; layout.step_saved];
    let zero_state = vec![0.0; layout.step_states];
    let zero_saved = vec![0.0; layout.step_saved];
    for t in (0..layout.steps).rev() {
        let acts_t = &tape.acts[slot(t, layout.step_acts)];
        let grad_pre_t = &mut grad_pre[slot(t, layout.step_acts)];
        let saved_t = &tape.saved[slot(t, layout.step_saved)];
        let (h_prev, saved_prev) = if t == 0 {
            (&zero_state[..], &zero_saved[..])
        } else {
            (
                &tape.states[slot(t - 1, layout.step_states)],
                &tape.saved[slot(t - 1, layout.step_saved)],
            )
        };
        for row in 0..layout.rows {
            C::backward(BackwardRow {
                acts: &acts_t[layout.blocks(row)],
                saved: &saved_t[layout.saved(row)],
                saved_prev: &saved_prev[layout.saved(row)],
                h_prev: &h_prev[layout.state(row)],
                dh_out: &grad_output[layout.batch_major(row, t, layout.hidden)],
                dh_next: &mut grad_h_next[layout.state(row)],
                d_carry: &mut grad_carry[layout.saved(row)],
                grad_pre: &mut grad_pre_t[layout.blocks(row)],
            });
        }
        if t > 0 {
            // dh_{t-1} = (what the cell passed on directly) + dz_t · W_hᵀ
            matmul_add(
                MatMut::row_major(&mut grad_h_next, layout.hidden),
                MatRef::row_major(grad_pre_t, layout.width).columns(layout.hidden_columns.clone()),
                MatRef::row_major(w_hidden_t, layout.hidden),
            );
        }
    }
    grad_pre
}
