//! Keras's default initialisation for recurrent layers, which the seed's results depend on:
//! input kernels Glorot-uniform over all gates together, recurrent kernels orthogonal, biases
//! zero, and the LSTM forget gate's bias one (`unit_forget_bias`).
//!
//! Values come from a seeded generator on the host, so the same seed gives the same weights on
//! every backend.

use burn::module::Param;
use burn::nn::{GateController, Linear};
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

/// A row-major matrix on the host.
pub struct HostMatrix {
    /// Rows of the matrix.
    pub rows: usize,
    /// Columns of the matrix.
    pub cols: usize,
    /// The values, row after row.
    pub values: Vec<f32>,
}

impl HostMatrix {
    /// Columns `from..from + width`, as a new matrix.
    pub fn columns(&self, from: usize, width: usize) -> HostMatrix {
        let values = (0..self.rows)
            .flat_map(|r| &self.values[r * self.cols + from..r * self.cols + from + width])
            .copied()
            .collect();
        HostMatrix {
            rows: self.rows,
            cols: width,
            values,
        }
    }

    /// Rows `range`, as a new matrix.
    pub fn rows(&self, range: std::ops::Range<usize>) -> HostMatrix {
        HostMatrix {
            rows: range.len(),
            cols: self.cols,
            values: self.values[range.start * self.cols..range.end * self.cols].to_vec(),
        }
    }

    /// The matrices one below the other (all with the same columns).
    pub fn stacked(parts: &[&HostMatrix]) -> HostMatrix {
        HostMatrix {
            rows: parts.iter().map(|m| m.rows).sum(),
            cols: parts[0].cols,
            values: parts
                .iter()
                .flat_map(|m| m.values.iter().copied())
                .collect(),
        }
    }

    /// The matrix transposed.
    pub fn transposed(&self) -> HostMatrix {
        let values = (0..self.cols)
            .flat_map(|c| (0..self.rows).map(move |r| self.values[r * self.cols + c]))
            .collect();
        HostMatrix {
            rows: self.cols,
            cols: self.rows,
            values,
        }
    }

    /// `[rows, cols]`.
    pub fn dims(&self) -> [usize; 2] {
        [self.rows, self.cols]
    }

    /// The matrices side by side (all with the same rows).
    pub fn side_by_side(parts: &[HostMatrix]) -> HostMatrix {
        let rows = parts[0].rows;
        let values = (0..rows)
            .flat_map(|r| {
                parts
                    .iter()
                    .flat_map(move |m| &m.values[r * m.cols..(r + 1) * m.cols])
            })
            .copied()
            .collect();
        HostMatrix {
            rows,
            cols: parts.iter().map(|m| m.cols).sum(),
            values,
        }
    }

    fn param(&self, device: &Device) -> Param<Tensor<2>> {
        Param::from_data(
            TensorData::new(self.values.clone(), [self.rows, self.cols]),
            device,
        )
    }
}

/// Keras's initialisation of a layer's weights (Glorot uniform, orthogonal recurrent kernels,
/// zero biases), drawn from one seed.
pub struct KerasInit {
    rng: StdRng,
}

impl KerasInit {
    /// Draws from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Glorot-uniform: U(±sqrt(6 / (fan_in + fan_out))) for a `[fan_in, fan_out]` kernel.
    pub fn glorot_uniform(&mut self, fan_in: usize, fan_out: usize) -> HostMatrix {
        let limit = (6.0 / (fan_in + fan_out) as f64).sqrt() as f32;
        let values = (0..fan_in * fan_out)
            .map(|_| self.rng.random_range(-limit..=limit))
            .collect();
        HostMatrix {
            rows: fan_in,
            cols: fan_out,
            values,
        }
    }

    /// A `[rows, cols]` matrix with orthonormal rows or columns (whichever are fewer), made as
    /// Keras does: QR of a Gaussian matrix, signs fixed by R's diagonal.
    pub fn orthogonal(&mut self, rows: usize, cols: usize) -> HostMatrix {
        let (long, short) = (rows.max(cols), rows.min(cols));
        // Columns of a long x short Gaussian matrix, orthonormalised by modified Gram-Schmidt
        // (which yields Q with a positive R diagonal, i.e. Keras's sign correction).
        let mut q: Vec<Vec<f64>> = (0..short)
            .map(|_| {
                (0..long)
                    .map(|_| self.rng.sample::<f64, _>(StandardNormal))
                    .collect()
            })
            .collect();
        for j in 0..short {
            for k in 0..j {
                let (done, rest) = q.split_at_mut(j);
                let dot: f64 = done[k].iter().zip(&rest[0]).map(|(a, b)| a * b).sum();
                rest[0]
                    .iter_mut()
                    .zip(&done[k])
                    .for_each(|(v, u)| *v -= dot * u);
            }
            let norm = q[j].iter().map(|v| v * v).sum::<f64>().sqrt();
            q[j].iter_mut().for_each(|v| *v /= norm);
        }
        // q[j][i] is Q[i][j] (long x short); the result is Q, or Q transposed when rows < cols.
        let values = (0..rows)
            .flat_map(|r| {
                let q = &q;
                (0..cols).map(move |c| {
                    if rows >= cols {
                        q[c][r] as f32
                    } else {
                        q[r][c] as f32
                    }
                })
            })
            .collect();
        HostMatrix { rows, cols, values }
    }

    /// Initialises `gates` (in the order Keras lays them out in its fused kernels) as Keras
    /// would a recurrent layer of `gates.len()` gates; `bias_of(g)` is gate `g`'s bias value.
    pub fn recurrent_gates(
        &mut self,
        gates: &mut [&mut GateController],
        bias_of: impl Fn(usize) -> f32,
        device: &Device,
    ) {
        let [d_input, hidden] = gates[0].input_transform.weight.shape().dims();
        let kernel = self.glorot_uniform(d_input, hidden * gates.len());
        let recurrent = self.orthogonal(hidden, hidden * gates.len());
        for (g, gate) in gates.iter_mut().enumerate() {
            let input_bias = vec![bias_of(g); hidden];
            set_linear(
                &mut gate.input_transform,
                &kernel.columns(g * hidden, hidden),
                Some(&input_bias),
                device,
            );
            // Keras has one bias per gate; Burn's second (recurrent) bias, where the layer has
            // one, starts at zero so the sum equals Keras's.
            let zeros = vec![0.0; hidden];
            let recurrent_bias = gate.hidden_transform.bias.is_some().then_some(&zeros[..]);
            set_linear(
                &mut gate.hidden_transform,
                &recurrent.columns(g * hidden, hidden),
                recurrent_bias,
                device,
            );
        }
    }

    /// A Keras `Dense` layer: Glorot-uniform kernel, zero bias.
    pub fn dense(&mut self, linear: &mut Linear, device: &Device) {
        let [d_input, d_output] = linear.weight.shape().dims();
        let kernel = self.glorot_uniform(d_input, d_output);
        set_linear(linear, &kernel, Some(&vec![0.0; d_output]), device);
    }
}

/// Sets a linear layer's weight `[inputs, outputs]` and bias (none removes it).
pub(super) fn set_linear(
    linear: &mut Linear,
    weight: &HostMatrix,
    bias: Option<&[f32]>,
    device: &Device,
) {
    linear.weight = weight.param(device);
    linear.bias =
        bias.map(|bias| Param::from_data(TensorData::new(bias.to_vec(), [bias.len()]), device));
}

/// A linear layer's weight as Burn keeps it, `[inputs, outputs]`.
#[cfg(feature = "interchange")]
pub(super) fn weight_matrix(linear: &Linear) -> HostMatrix {
    let [rows, cols] = linear.weight.shape().dims();
    HostMatrix {
        rows,
        cols,
        values: host_values(linear.weight.val()),
    }
}

/// The layer's bias; zeros where it has none.
#[cfg(feature = "interchange")]
pub fn bias_values(linear: &Linear) -> Vec<f32> {
    match &linear.bias {
        Some(bias) => host_values(bias.val()),
        None => vec![0.0; linear.weight.shape().dims::<2>()[1]],
    }
}

/// A tensor's values on the host, as `f32` (weights, probabilities).
pub fn host_values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("converted to f32")
}
