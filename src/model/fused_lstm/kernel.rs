//! The LSTM's arithmetic on plain `f32` slices: a forward pass over every timestep that keeps
//! what backpropagation through time needs, and that backward pass.
//!
//! Rows of a batch never interact inside an LSTM, so the batch is cut into one chunk per thread
//! and each thread runs the whole sequence for its chunk: no synchronisation between timesteps,
//! whose waits (thread wake-ups after every small GEMM) otherwise cost as much as the arithmetic.
//! Within a chunk everything is time-major (`[steps, rows, …]`), each step is one GEMM,
//! `[x_t, h_{t-1}] · [W_x; W_h]` with the four gates side by side, and the weight gradients
//! are one GEMM over all timesteps. Gate order is Burn's (and Keras's): input, forget, cell,
//! output.

use gemm::Parallelism;
use multiversion::multiversion;
use rayon::prelude::*;

/// Fewer rows than this per chunk and a thread's GEMMs get too thin to be worth it.
const MIN_CHUNK_ROWS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LstmDims {
    pub batch: usize,
    pub steps: usize,
    pub input: usize,
    pub hidden: usize,
}

impl LstmDims {
    fn gates(&self) -> usize {
        4 * self.hidden
    }

    /// Width of a step's GEMM input row `[x_t, h_{t-1}]`.
    fn joined(&self) -> usize {
        self.input + self.hidden
    }

    /// The same LSTM over `rows` of the batch.
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

/// What the forward pass keeps for the backward pass, one part per chunk of the batch.
#[derive(Debug)]
pub struct LstmTape {
    dims: LstmDims,
    chunk_rows: usize,
    chunks: Vec<ChunkTape>,
}

impl LstmTape {
    pub fn dims(&self) -> LstmDims {
        self.dims
    }
}

/// One chunk's tape, time-major.
#[derive(Debug)]
struct ChunkTape {
    rows: usize,
    /// Each step's GEMM input `[x_t, h_{t-1}]`, `[steps, rows, input + hidden]`.
    joined: Vec<f32>,
    /// Gate activations `[steps, rows, 4·hidden]`: σ(i), σ(f), tanh(g), σ(o).
    gates: Vec<f32>,
    /// Cell states `[steps, rows, hidden]`.
    cells: Vec<f32>,
    /// tanh of the cell states, `[steps, rows, hidden]`.
    cells_tanh: Vec<f32>,
}

/// Gradients of the loss with respect to the LSTM's inputs and parameters.
pub struct LstmGradients {
    /// `[batch, steps, input]`, when asked for.
    pub inputs: Option<Vec<f32>>,
    /// `[input, 4·hidden]`
    pub w_input: Vec<f32>,
    /// `[hidden, 4·hidden]`
    pub w_hidden: Vec<f32>,
    /// `[4·hidden]`
    pub bias: Vec<f32>,
}

/// Runs the LSTM over `inputs` (`[batch, steps, input]`) from zero state and returns every
/// hidden state, `[batch, steps, hidden]`, and, when `keep_tape`, the tape for [`backward`].
/// Without a tape only one or two timesteps of state are held, so inference stays small.
///
/// `w_input` is `[input, 4·hidden]`, `w_hidden` `[hidden, 4·hidden]`, `bias` `[4·hidden]` (the
/// sum of the input and hidden transforms' biases).
pub fn forward(
    dims: LstmDims,
    inputs: &[f32],
    w_input: &[f32],
    w_hidden: &[f32],
    bias: &[f32],
    keep_tape: bool,
) -> (Vec<f32>, Option<LstmTape>) {
    let LstmDims {
        batch,
        steps,
        input,
        hidden,
    } = dims;
    let gates_width = dims.gates();
    assert_eq!(inputs.len(), batch * steps * input, "LSTM input size");
    assert_eq!(w_input.len(), input * gates_width, "LSTM input weight size");
    assert_eq!(
        w_hidden.len(),
        hidden * gates_width,
        "LSTM hidden weight size"
    );
    assert_eq!(bias.len(), gates_width, "LSTM bias size");

    // Row-major [W_x; W_h] is the two matrices one after the other.
    let weights = [w_input, w_hidden].concat();
    let chunk_rows = dims.chunk_rows();
    let mut output = vec![0.0; batch * steps * hidden];
    let chunks: Vec<Option<ChunkTape>> = output
        .par_chunks_mut(chunk_rows * steps * hidden)
        .zip(inputs.par_chunks(chunk_rows * steps * input))
        .map(|(output, inputs)| {
            let rows = inputs.len() / (steps * input);
            forward_chunk(
                dims.with_batch(rows),
                inputs,
                &weights,
                bias,
                keep_tape,
                output,
            )
        })
        .collect();
    let tape = keep_tape.then(|| LstmTape {
        dims,
        chunk_rows,
        chunks: chunks.into_iter().flatten().collect(),
    });
    (output, tape)
}

/// [`forward`] for one chunk of the batch (`dims.batch` rows), on the calling thread.
fn forward_chunk(
    dims: LstmDims,
    inputs: &[f32],
    weights: &[f32],
    bias: &[f32],
    keep_tape: bool,
    output: &mut [f32],
) -> Option<ChunkTape> {
    let LstmDims {
        batch: rows,
        steps,
        input,
        hidden,
    } = dims;
    let gates_width = dims.gates();
    let joined_width = dims.joined();
    let step_joined = rows * joined_width;
    let step_gates = rows * gates_width;
    let step_hidden = rows * hidden;
    // Timesteps held at once: all of them for the tape, else what the next step reads.
    let (kept, cell_slots) = if keep_tape { (steps, steps) } else { (1, 2) };

    let mut joined = vec![0.0; kept * step_joined];
    let mut gates = vec![0.0; kept * step_gates];
    // Step 0 starts from a zero cell state.
    let zero_state = vec![0.0; step_hidden];
    let mut cells = vec![0.0; cell_slots * step_hidden];
    let mut cells_tanh = vec![0.0; kept * step_hidden];
    let mut hidden_state = vec![0.0; step_hidden];
    for t in 0..steps {
        let joined_t = &mut joined[(t % kept) * step_joined..][..step_joined];
        for (row, joined_row) in joined_t.chunks_exact_mut(joined_width).enumerate() {
            let (x, h) = joined_row.split_at_mut(input);
            x.copy_from_slice(&inputs[(row * steps + t) * input..][..input]);
            h.copy_from_slice(&hidden_state[row * hidden..(row + 1) * hidden]);
        }
        let gates_t = &mut gates[(t % kept) * step_gates..][..step_gates];
        matmul(
            gates_t,
            MatRef::row_major(joined_t, joined_width),
            MatRef::row_major(weights, gates_width),
            rows,
        );
        let slot = t % cell_slots;
        let previous = (t > 0).then(|| (t - 1) % cell_slots);
        let (cells_t, c_prev) = current_and_previous(&mut cells, step_hidden, slot, previous);
        let c_prev = c_prev.unwrap_or(&zero_state);
        let cells_tanh_t = &mut cells_tanh[(t % kept) * step_hidden..][..step_hidden];
        for row in 0..rows {
            let state = row * hidden..(row + 1) * hidden;
            cell_forward(
                &mut gates_t[row * gates_width..(row + 1) * gates_width],
                bias,
                &c_prev[state.clone()],
                &mut cells_t[state.clone()],
                &mut cells_tanh_t[state.clone()],
                &mut hidden_state[state.clone()],
            );
            output[(row * steps + t) * hidden..][..hidden].copy_from_slice(&hidden_state[state]);
        }
    }
    keep_tape.then_some(ChunkTape {
        rows,
        joined,
        gates,
        cells,
        cells_tanh,
    })
}

/// Slot `current` of `buffer` (slots `len` long) to write, and slot `previous` to read.
fn current_and_previous(
    buffer: &mut [f32],
    len: usize,
    current: usize,
    previous: Option<usize>,
) -> (&mut [f32], Option<&[f32]>) {
    let Some(previous) = previous else {
        return (&mut buffer[current * len..(current + 1) * len], None);
    };
    assert_ne!(current, previous, "distinct slots");
    let split = current.max(previous) * len;
    let (low, high) = buffer.split_at_mut(split);
    let (current_slot, previous_slot) = if current > previous {
        (&mut high[..len], &low[previous * len..(previous + 1) * len])
    } else {
        (&mut low[current * len..(current + 1) * len], &high[..len])
    };
    (current_slot, Some(previous_slot))
}

/// One row of one timestep: activates the gates in place, writes the new cell and hidden state.
/// Compiled for AVX-512 and AVX2 as well, picked at run time: the gate math is most of the
/// non-GEMM time, and it vectorises.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))]
fn cell_forward(
    gates: &mut [f32],
    bias: &[f32],
    c_prev: &[f32],
    c: &mut [f32],
    c_tanh: &mut [f32],
    h: &mut [f32],
) {
    let n = h.len();
    let (i_gate, rest) = gates.split_at_mut(n);
    let (f_gate, rest) = rest.split_at_mut(n);
    let (g_gate, o_gate) = rest.split_at_mut(n);
    let (b_i, rest) = bias.split_at(n);
    let (b_f, rest) = rest.split_at(n);
    let (b_g, b_o) = rest.split_at(n);
    // Equal lengths up front let the compiler drop the bounds checks and vectorise.
    let (o_gate, b_i, b_f, b_g, b_o) =
        (&mut o_gate[..n], &b_i[..n], &b_f[..n], &b_g[..n], &b_o[..n]);
    let (c_prev, c, c_tanh) = (&c_prev[..n], &mut c[..n], &mut c_tanh[..n]);
    for j in 0..n {
        let i = sigmoid(i_gate[j] + b_i[j]);
        let f = sigmoid(f_gate[j] + b_f[j]);
        let g = tanh(g_gate[j] + b_g[j]);
        let o = sigmoid(o_gate[j] + b_o[j]);
        let cell = f * c_prev[j] + i * g;
        let cell_tanh = tanh(cell);
        i_gate[j] = i;
        f_gate[j] = f;
        g_gate[j] = g;
        o_gate[j] = o;
        c[j] = cell;
        c_tanh[j] = cell_tanh;
        h[j] = o * cell_tanh;
    }
}

/// Backpropagation through time. `grad_output` is the loss gradient for every hidden state,
/// `[batch, steps, hidden]`; `w_input`/`w_hidden` are the forward pass's weights.
pub fn backward(
    tape: &LstmTape,
    grad_output: &[f32],
    w_input: &[f32],
    w_hidden: &[f32],
    want_input_grad: bool,
) -> LstmGradients {
    let dims = tape.dims;
    let LstmDims {
        batch,
        steps,
        input,
        hidden,
    } = dims;
    let gates_width = dims.gates();
    assert_eq!(
        grad_output.len(),
        batch * steps * hidden,
        "LSTM output grad size"
    );
    // Wᵀ laid out row-major once, so each step's GEMM streams it in order.
    let w_hidden_t = transpose(w_hidden, hidden, gates_width);
    let w_input_t = want_input_grad.then(|| transpose(w_input, input, gates_width));

    let partials: Vec<ChunkGradients> = grad_output
        .par_chunks(tape.chunk_rows * steps * hidden)
        .zip(&tape.chunks)
        .map(|(grad_output, chunk)| {
            backward_chunk(
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
    let mut weights = vec![0.0; dims.joined() * gates_width];
    let mut bias = vec![0.0; gates_width];
    for partial in &partials {
        add_assign(&mut weights, &partial.weights);
        add_assign(&mut bias, &partial.bias);
    }
    let w_hidden = weights.split_off(input * gates_width);
    let inputs = want_input_grad.then(|| {
        partials
            .into_iter()
            .flat_map(|partial| partial.inputs.expect("asked for"))
            .collect()
    });
    LstmGradients {
        inputs,
        w_input: weights,
        w_hidden,
        bias,
    }
}

/// One chunk's share of the gradients.
struct ChunkGradients {
    /// `[input + hidden, 4·hidden]`: W_x's rows, then W_h's.
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// `[rows, steps, input]`
    inputs: Option<Vec<f32>>,
}

/// [`backward`] for one chunk of the batch, on the calling thread.
fn backward_chunk(
    dims: LstmDims,
    tape: &ChunkTape,
    grad_output: &[f32],
    w_hidden_t: &[f32],
    w_input_t: Option<&[f32]>,
) -> ChunkGradients {
    let LstmDims {
        batch: rows,
        steps,
        input,
        hidden,
    } = dims;
    let gates_width = dims.gates();
    let joined_width = dims.joined();
    let step_gates = rows * gates_width;
    let step_hidden = rows * hidden;

    // Pre-activation gate gradients of every step, `[steps, rows, 4·hidden]`.
    let mut grad_gates = vec![0.0; steps * step_gates];
    // Gradients flowing into step t from step t + 1.
    let mut grad_h_next = vec![0.0; step_hidden];
    let mut grad_c_next = vec![0.0; step_hidden];
    let zero_state = vec![0.0; step_hidden];
    for t in (0..steps).rev() {
        let gates_t = &tape.gates[t * step_gates..(t + 1) * step_gates];
        let grad_gates_t = &mut grad_gates[t * step_gates..(t + 1) * step_gates];
        let cells_tanh_t = &tape.cells_tanh[t * step_hidden..(t + 1) * step_hidden];
        let c_prev = if t == 0 {
            &zero_state[..]
        } else {
            &tape.cells[(t - 1) * step_hidden..t * step_hidden]
        };
        for row in 0..rows {
            let state = row * hidden..(row + 1) * hidden;
            let gate_range = row * gates_width..(row + 1) * gates_width;
            cell_backward(
                &gates_t[gate_range.clone()],
                &cells_tanh_t[state.clone()],
                &c_prev[state.clone()],
                &grad_output[(row * steps + t) * hidden..][..hidden],
                &grad_h_next[state.clone()],
                &mut grad_c_next[state],
                &mut grad_gates_t[gate_range],
            );
        }
        if t > 0 {
            // dh_{t-1} = dz_t · W_hᵀ
            matmul(
                &mut grad_h_next,
                MatRef::row_major(grad_gates_t, gates_width),
                MatRef::row_major(w_hidden_t, hidden),
                rows,
            );
        }
    }

    // Both weight gradients in one GEMM over all timesteps: Σ_t [x_t, h_{t-1}]ᵀ · dz_t.
    let mut weights = vec![0.0; joined_width * gates_width];
    matmul(
        &mut weights,
        MatRef::transposed(&tape.joined, joined_width),
        MatRef::row_major(&grad_gates, gates_width),
        joined_width,
    );
    let inputs = w_input_t.map(|w_input_t| {
        let mut grad = vec![0.0; steps * rows * input];
        matmul(
            &mut grad,
            MatRef::row_major(&grad_gates, gates_width),
            MatRef::row_major(w_input_t, input),
            steps * rows,
        );
        transpose_blocks(&grad, steps, rows, input)
    });
    ChunkGradients {
        weights,
        bias: column_sums(&grad_gates, gates_width),
        inputs,
    }
}

/// One row of one timestep, backwards: from the gradient reaching h_t (and c_t from the next
/// step) to the pre-activation gate gradients; leaves c_{t-1}'s gradient in `dc_next`.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))]
fn cell_backward(
    gates: &[f32],
    c_tanh: &[f32],
    c_prev: &[f32],
    dh_out: &[f32],
    dh_next: &[f32],
    dc_next: &mut [f32],
    grad_gates: &mut [f32],
) {
    let n = c_tanh.len();
    let (i_gate, rest) = gates.split_at(n);
    let (f_gate, rest) = rest.split_at(n);
    let (g_gate, o_gate) = rest.split_at(n);
    let (dz_i, rest) = grad_gates.split_at_mut(n);
    let (dz_f, rest) = rest.split_at_mut(n);
    let (dz_g, dz_o) = rest.split_at_mut(n);
    let (o_gate, dz_o) = (&o_gate[..n], &mut dz_o[..n]);
    let (c_prev, dh_out, dh_next, dc_next) =
        (&c_prev[..n], &dh_out[..n], &dh_next[..n], &mut dc_next[..n]);
    for j in 0..n {
        let (i, f, g, o, tc) = (i_gate[j], f_gate[j], g_gate[j], o_gate[j], c_tanh[j]);
        let dh = dh_out[j] + dh_next[j];
        let dc = dc_next[j] + dh * o * (1.0 - tc * tc);
        dz_i[j] = dc * g * i * (1.0 - i);
        dz_f[j] = dc * c_prev[j] * f * (1.0 - f);
        dz_g[j] = dc * i * (1.0 - g * g);
        dz_o[j] = dh * tc * o * (1.0 - o);
        dc_next[j] = dc * f;
    }
}

/// A read-only matrix view for [`matmul`]: `columns` wide, stored row-major, or the transpose
/// of a row-major matrix `columns` wide.
#[derive(Clone, Copy)]
struct MatRef<'a> {
    data: &'a [f32],
    row_stride: isize,
    col_stride: isize,
    columns: usize,
}

impl<'a> MatRef<'a> {
    fn row_major(data: &'a [f32], columns: usize) -> Self {
        Self {
            data,
            row_stride: columns as isize,
            col_stride: 1,
            columns,
        }
    }

    /// The transpose of `data`, a row-major matrix whose rows are `stored_columns` wide.
    fn transposed(data: &'a [f32], stored_columns: usize) -> Self {
        Self {
            data,
            row_stride: 1,
            col_stride: stored_columns as isize,
            columns: data.len() / stored_columns,
        }
    }

    fn rows(&self) -> usize {
        self.data.len() / self.columns
    }
}

/// `dst (rows × rhs.columns, row-major) = lhs · rhs`, on the calling thread (the
/// callers run one per thread already).
fn matmul(dst: &mut [f32], lhs: MatRef, rhs: MatRef, rows: usize) {
    let depth = lhs.columns;
    let columns = rhs.columns;
    assert!(lhs.rows() >= rows, "matmul: lhs has too few rows");
    assert_eq!(rhs.rows(), depth, "matmul: inner dimensions differ");
    assert!(dst.len() >= rows * columns, "matmul: destination too small");
    // SAFETY: the asserts above keep every index gemm computes inside the three slices, and
    // `dst` is borrowed mutably, so it overlaps neither operand.
    unsafe {
        gemm::gemm(
            rows,
            columns,
            depth,
            dst.as_mut_ptr(),
            1,
            columns as isize,
            false,
            lhs.data.as_ptr(),
            lhs.col_stride,
            lhs.row_stride,
            rhs.data.as_ptr(),
            rhs.col_stride,
            rhs.row_stride,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

fn add_assign(sums: &mut [f32], values: &[f32]) {
    for (sum, value) in sums.iter_mut().zip(values) {
        *sum += value;
    }
}

fn column_sums(matrix: &[f32], columns: usize) -> Vec<f32> {
    let mut sums = vec![0.0; columns];
    for row in matrix.chunks_exact(columns) {
        for (sum, value) in sums.iter_mut().zip(row) {
            *sum += value;
        }
    }
    sums
}

/// The transpose of a row-major `rows × columns` matrix.
fn transpose(data: &[f32], rows: usize, columns: usize) -> Vec<f32> {
    transpose_blocks(data, rows, columns, 1)
}

/// Swaps the two outer axes of `[outer, inner, width]`.
fn transpose_blocks(data: &[f32], outer: usize, inner: usize, width: usize) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    for (o, block) in data.chunks_exact(inner * width).enumerate() {
        for (i, row) in block.chunks_exact(width).enumerate() {
            let at = (i * outer + o) * width;
            out[at..at + width].copy_from_slice(row);
        }
    }
    out
}

/// e^x in plain arithmetic (no libm call), so the gate loops vectorise: range reduction to
/// x = n·ln2 + r with |r| ≤ ln2/2, then a degree-7 polynomial; relative error below 2e-7.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer without a rounding call.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    // n sits in the low mantissa bits of `shifted`; integer arithmetic on the bits (not a
    // float-to-int cast, which would not vectorise) builds 2^n.
    let n_int = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let scale = f32::from_bits(n_int.wrapping_add(127) << 23);
    p * scale
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// tanh with small relative error everywhere: a Taylor polynomial near zero, where
/// `1 - e^{-2|x|}` would cancel, and the exponential form elsewhere.
#[inline(always)]
fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let e = exp(-2.0 * a);
    let far = (1.0 - e) / (1.0 + e);
    let a2 = a * a;
    let near = a
        * (1.0
            + a2 * (-1.0 / 3.0 + a2 * (2.0 / 15.0 + a2 * (-17.0 / 315.0 + a2 * (62.0 / 2835.0)))));
    let magnitude = if a < 0.25 { near } else { far };
    magnitude.copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_sigmoid_and_tanh_match_the_standard_library() {
        let mut worst = [0.0f64; 3];
        for k in -20_000..=20_000 {
            let x = k as f32 * 0.001;
            let errors = [
                ((exp(x) - x.exp()) / x.exp()).abs(),
                ((sigmoid(x) - 1.0 / (1.0 + (-x).exp())) / (1.0 / (1.0 + (-x).exp()))).abs(),
                if x == 0.0 {
                    tanh(x).abs()
                } else {
                    ((tanh(x) - x.tanh()) / x.tanh()).abs()
                },
            ];
            for (w, e) in worst.iter_mut().zip(errors) {
                *w = w.max(e as f64);
            }
        }
        assert!(
            worst.iter().all(|&w| w < 1e-6),
            "worst relative errors {worst:?}"
        );
        assert_eq!(tanh(-30.0), -1.0);
        assert!(sigmoid(-200.0) < 1e-37);
        assert_eq!(sigmoid(200.0), 1.0);
    }

    #[test]
    fn transposes_swap_the_outer_axes() {
        let data: Vec<f32> = (0..2 * 3 * 4).map(|v| v as f32).collect();
        let swapped = transpose_blocks(&data, 2, 3, 4);
        assert_eq!(&swapped[4..8], &data[12..16]);
        assert_eq!(transpose_blocks(&swapped, 3, 2, 4), data);
        assert_eq!(
            transpose(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3),
            [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
        );
    }
}
