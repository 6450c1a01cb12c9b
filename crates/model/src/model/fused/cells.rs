//! What differs between the fused cells: the per-unit arithmetic of one batch row at one
//! timestep, forwards and backwards. Everything around it (chunks, GEMMs, tape) is `kernel`'s.
//!
//! A step's pre-activations are `blocks` blocks, each `hidden` wide: the input projection
//! `x_t · W_x` fills the cell's input blocks and `h_{t-1} · W_h` adds to its hidden blocks. The
//! row functions activate them in place and keep whatever else backward needs (`SAVED` values
//! per unit) in the step's saved slot. The row functions are compiled for
//! AVX-512 and AVX2 as well and picked at run time: they are most of the non-GEMM time, and
//! they vectorise.

use std::ops::Range;

use multiversion::multiversion;

use super::activations::{sigmoid, tanh};

/// The recurrent cells the kernel runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FusedCell {
    /// Blocks input, forget, cell, output gate (Burn's and Keras's order).
    Lstm,
    /// Keras's `reset_after` GRU. Blocks: the new gate's input part `x·W_xn`, update gate z,
    /// reset gate r, the new gate's hidden part `h·W_hn` (the reset gate multiplies only the
    /// hidden part, so the two parts stay apart). The input feeds the first three blocks and
    /// the hidden state the last three: neither product multiplies a block of zeros.
    Gru,
    /// SimpleRNN: `h_t = tanh(x_t·W_x + h_{t-1}·W_h + b)`, one block.
    Rnn,
}

impl FusedCell {
    /// Pre-activation blocks per step, each `hidden` wide.
    pub fn blocks(self) -> usize {
        match self {
            FusedCell::Lstm | FusedCell::Gru => 4,
            FusedCell::Rnn => 1,
        }
    }

    /// The blocks `x_t · W_x` fills: `W_x` is `[input, input_blocks·hidden]`.
    pub fn input_blocks(self) -> Range<usize> {
        match self {
            FusedCell::Gru => 0..3,
            _ => 0..self.blocks(),
        }
    }

    /// The blocks `h_{t-1} · W_h` adds to: `W_h` is `[hidden, hidden_blocks·hidden]`.
    pub fn hidden_blocks(self) -> Range<usize> {
        match self {
            FusedCell::Gru => 1..4,
            _ => 0..self.blocks(),
        }
    }
}

/// One row of one timestep, forwards: the pre-activations `pre` (`blocks·hidden`, bias not
/// yet added) are activated in place and the new hidden state is written into `h`.
/// `h_prev` and `saved_prev` are the previous step's hidden state and saved values (zeros at
/// the first step).
pub struct ForwardRow<'a> {
    pub pre: &'a mut [f32],
    pub bias: &'a [f32],
    pub h_prev: &'a [f32],
    pub saved_prev: &'a [f32],
    pub saved: &'a mut [f32],
    pub h: &'a mut [f32],
}

/// One row of one timestep, backwards: from the forward's activations `acts` and saved
/// values, the previous hidden state `h_prev`, the gradient `dh_out` of this step's output and
/// `dh_next` (the gradient reaching h_t from step t + 1), the pre-activation gradients go into
/// `grad_pre`; `dh_next` is replaced with the gradient reaching h_{t-1} other than through
/// `W_h`, and `d_carry` (the LSTM's cell-state gradient) is carried from step t to t - 1.
pub struct BackwardRow<'a> {
    pub acts: &'a [f32],
    pub saved: &'a [f32],
    pub saved_prev: &'a [f32],
    pub h_prev: &'a [f32],
    pub dh_out: &'a [f32],
    pub dh_next: &'a mut [f32],
    pub d_carry: &'a mut [f32],
    pub grad_pre: &'a mut [f32],
}

/// The arithmetic of one cell kind.
pub trait CellMath {
    /// Values per unit kept beside the activations (the LSTM's cell state and its tanh); the
    /// next step reads the previous step's.
    const SAVED: usize;

    fn forward(row: ForwardRow);

    fn backward(row: BackwardRow);
}

pub struct LstmMath;
pub struct GruMath;
pub struct RnnMath;

impl CellMath for LstmMath {
    /// The cell state and its tanh.
    const SAVED: usize = 2;

    fn forward(row: ForwardRow) {
        let n = row.h.len();
        let (c, c_tanh) = row.saved.split_at_mut(n);
        lstm_forward(row.pre, row.bias, &row.saved_prev[..n], c, c_tanh, row.h);
    }

    fn backward(row: BackwardRow) {
        let n = row.dh_out.len();
        lstm_backward(
            row.acts,
            &row.saved[n..],
            &row.saved_prev[..n],
            row.dh_out,
            row.dh_next,
            row.d_carry,
            row.grad_pre,
        );
    }
}

/// The LSTM step.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))]
fn lstm_forward(
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

/// The LSTM step backwards.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))]
fn lstm_backward(
    gates: &[f32],
    c_tanh: &[f32],
    c_prev: &[f32],
    dh_out: &[f32],
    dh_next: &mut [f32],
    dc_next: &mut [f32],
    grad_gates: &mut [f32],
) {
    let n = dh_out.len();
    let (i_gate, rest) = gates.split_at(n);
    let (f_gate, rest) = rest.split_at(n);
    let (g_gate, o_gate) = rest.split_at(n);
    let (dz_i, rest) = grad_gates.split_at_mut(n);
    let (dz_f, rest) = rest.split_at_mut(n);
    let (dz_g, dz_o) = rest.split_at_mut(n);
    let (o_gate, dz_o) = (&o_gate[..n], &mut dz_o[..n]);
    let (c_tanh, c_prev, dh_next, dc_next) = (
        &c_tanh[..n],
        &c_prev[..n],
        &mut dh_next[..n],
        &mut dc_next[..n],
    );
    for j in 0..n {
        let (i, f, g, o, tc) = (i_gate[j], f_gate[j], g_gate[j], o_gate[j], c_tanh[j]);
        let dh = dh_out[j] + dh_next[j];
        let dc = dc_next[j] + dh * o * (1.0 - tc * tc);
        dz_i[j] = dc * g * i * (1.0 - i);
        dz_f[j] = dc * c_prev[j] * f * (1.0 - f);
        dz_g[j] = dc * i * (1.0 - g * g);
        dz_o[j] = dh * tc * o * (1.0 - o);
        dc_next[j] = dc * f;
        // h_{t-1} reaches h_t only through W_h.
        dh_next[j] = 0.0;
    }
}

impl CellMath for GruMath {
    const SAVED: usize = 0;

    fn forward(row: ForwardRow) {
        gru_forward(row.pre, row.bias, row.h_prev, row.h);
    }

    fn backward(row: BackwardRow) {
        gru_backward(row.acts, row.h_prev, row.dh_out, row.dh_next, row.grad_pre);
    }
}

/// The GRU step: z = σ(·), r = σ(·), n = tanh(x·W_xn + b_xn + r ⊙ (h·W_hn + b_hn)),
/// h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}. Keeps n, z, r and h·W_hn + b_hn.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))]
fn gru_forward(blocks: &mut [f32], bias: &[f32], h_prev: &[f32], h: &mut [f32]) {
    let n = h.len();
    let (new_input, rest) = blocks.split_at_mut(n);
    let (z_gate, rest) = rest.split_at_mut(n);
    let (r_gate, new_hidden) = rest.split_at_mut(n);
    let (b_xn, rest) = bias.split_at(n);
    let (b_z, rest) = rest.split_at(n);
    let (b_r, b_hn) = rest.split_at(n);
    let (new_hidden, b_z, b_r, b_hn, h_prev) = (
        &mut new_hidden[..n],
        &b_z[..n],
        &b_r[..n],
        &b_hn[..n],
        &h_prev[..n],
    );
    for j in 0..n {
        let z = sigmoid(z_gate[j] + b_z[j]);
        let r = sigmoid(r_gate[j] + b_r[j]);
        let hidden_part = new_hidden[j] + b_hn[j];
        let candidate = tanh(new_input[j] + b_xn[j] + r * hidden_part);
        new_input[j] = candidate;
        z_gate[j] = z;
        r_gate[j] = r;
        new_hidden[j] = hidden_part;
        h[j] = (1.0 - z) * candidate + z * h_prev[j];
    }
}

#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))]
fn gru_backward(
    acts: &[f32],
    h_prev: &[f32],
    dh_out: &[f32],
    dh_next: &mut [f32],
    grad_pre: &mut [f32],
) {
    let n = dh_out.len();
    let (candidate, rest) = acts.split_at(n);
    let (z_gate, rest) = rest.split_at(n);
    let (r_gate, hidden_part) = rest.split_at(n);
    let (dz_xn, rest) = grad_pre.split_at_mut(n);
    let (dz_z, rest) = rest.split_at_mut(n);
    let (dz_r, dz_hn) = rest.split_at_mut(n);
    let (hidden_part, dz_hn, h_prev, dh_next) = (
        &hidden_part[..n],
        &mut dz_hn[..n],
        &h_prev[..n],
        &mut dh_next[..n],
    );
    for j in 0..n {
        let (z, r, c) = (z_gate[j], r_gate[j], candidate[j]);
        let dh = dh_out[j] + dh_next[j];
        let d_candidate = dh * (1.0 - z) * (1.0 - c * c);
        dz_xn[j] = d_candidate;
        dz_z[j] = dh * (h_prev[j] - c) * z * (1.0 - z);
        dz_r[j] = d_candidate * hidden_part[j] * r * (1.0 - r);
        dz_hn[j] = d_candidate * r;
        dh_next[j] = dh * z;
    }
}

impl CellMath for RnnMath {
    const SAVED: usize = 0;

    fn forward(row: ForwardRow) {
        rnn_forward(row.pre, row.bias, row.h);
    }

    fn backward(row: BackwardRow) {
        rnn_backward(row.acts, row.dh_out, row.dh_next, row.grad_pre);
    }
}

/// The SimpleRNN step: h_t = tanh(pre + b); keeps h_t.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))]
fn rnn_forward(pre: &mut [f32], bias: &[f32], h: &mut [f32]) {
    let n = h.len();
    let (pre, bias) = (&mut pre[..n], &bias[..n]);
    for j in 0..n {
        let value = tanh(pre[j] + bias[j]);
        pre[j] = value;
        h[j] = value;
    }
}

#[multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))]
fn rnn_backward(acts: &[f32], dh_out: &[f32], dh_next: &mut [f32], grad_pre: &mut [f32]) {
    let n = dh_out.len();
    let (acts, dh_next, grad_pre) = (&acts[..n], &mut dh_next[..n], &mut grad_pre[..n]);
    for j in 0..n {
        let dh = dh_out[j] + dh_next[j];
        grad_pre[j] = dh * (1.0 - acts[j] * acts[j]);
        // h_{t-1} reaches h_t only through W_h.
        dh_next[j] = 0.0;
    }
}
