//! Dense-matrix helpers for the recurrent kernels: single-threaded GEMM over strided views,
//! transposes and column sums.

use gemm::Parallelism;

/// A read-only matrix view for [`matmul`]: `columns` wide, stored row-major, or the transpose
/// of a row-major matrix `columns` wide.
#[derive(Clone, Copy)]
pub struct MatRef<'a> {
    data: &'a [f32],
    row_stride: isize,
    col_stride: isize,
    columns: usize,
}

impl<'a> MatRef<'a> {
    pub fn row_major(data: &'a [f32], columns: usize) -> Self {
        Self {
            data,
            row_stride: columns as isize,
            col_stride: 1,
            columns,
        }
    }

    /// The transpose of `data`, a row-major matrix whose rows are `stored_columns` wide.
    pub fn transposed(data: &'a [f32], stored_columns: usize) -> Self {
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

/// `dst (rows × rhs.columns, row-major) = lhs · rhs`, on the calling thread (the callers run
/// one per thread already).
pub fn matmul(dst: &mut [f32], lhs: MatRef, rhs: MatRef, rows: usize) {
    gemm_into(dst, lhs, rhs, rows, false);
}

/// `dst += lhs · rhs`, as [`matmul`].
pub fn matmul_add(dst: &mut [f32], lhs: MatRef, rhs: MatRef, rows: usize) {
    gemm_into(dst, lhs, rhs, rows, true);
}

fn gemm_into(dst: &mut [f32], lhs: MatRef, rhs: MatRef, rows: usize, accumulate: bool) {
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
            accumulate,
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

pub fn add_assign(sums: &mut [f32], values: &[f32]) {
    for (sum, value) in sums.iter_mut().zip(values) {
        *sum += value;
    }
}

pub fn column_sums(matrix: &[f32], columns: usize) -> Vec<f32> {
    let mut sums = vec![0.0; columns];
    for row in matrix.chunks_exact(columns) {
        for (sum, value) in sums.iter_mut().zip(row) {
            *sum += value;
        }
    }
    sums
}

/// The transpose of a row-major `rows × columns` matrix.
pub fn transpose(data: &[f32], rows: usize, columns: usize) -> Vec<f32> {
    transpose_blocks(data, rows, columns, 1)
}

/// Swaps the two outer axes of `[outer, inner, width]`.
pub fn transpose_blocks(data: &[f32], outer: usize, inner: usize, width: usize) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    for (o, block) in data.chunks_exact(inner * width).enumerate() {
        for (i, row) in block.chunks_exact(width).enumerate() {
            let at = (i * outer + o) * width;
            out[at..at + width].copy_from_slice(row);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
