//! Dense-matrix helpers for the recurrent kernels: single-threaded GEMM over strided views,
//! transposes and column sums.

use std::ops::Range;

use gemm::Parallelism;

/// A read-only matrix view for [`matmul`]: `rows × columns`, element `(i, j)` at
/// `i·row_stride + j·col_stride` of `data`. Views of a row-major matrix, of its transpose, and
/// of a range of either's rows or columns.
#[derive(Clone, Copy)]
pub struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    columns: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// `data` as a row-major matrix `columns` wide.
    pub fn row_major(data: &'a [f32], columns: usize) -> Self {
        Self {
            data,
            rows: data.len() / columns,
            columns,
            row_stride: columns,
            col_stride: 1,
        }
    }

    /// The transpose of `data`, a row-major matrix whose rows are `stored_columns` wide.
    pub fn transposed(data: &'a [f32], stored_columns: usize) -> Self {
        Self {
            data,
            rows: stored_columns,
            columns: data.len() / stored_columns,
            row_stride: 1,
            col_stride: stored_columns,
        }
    }

    /// The columns `range` of this matrix.
    pub fn columns(self, range: Range<usize>) -> Self {
        assert!(
            range.end <= self.columns,
            "matmul: column range out of bounds"
        );
        Self {
            data: &self.data[range.start * self.col_stride..],
            columns: range.len(),
            ..self
        }
    }

    /// The rows `range` of this matrix.
    pub fn rows(self, range: Range<usize>) -> Self {
        assert!(range.end <= self.rows, "matmul: row range out of bounds");
        Self {
            data: &self.data[range.start * self.row_stride..],
            rows: range.len(),
            ..self
        }
    }

    /// Whether every element lies inside `data`.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.columns == 0
            || (self.rows - 1) * self.row_stride + (self.columns - 1) * self.col_stride
                < self.data.len()
    }
}

/// A writable row-major matrix view for [`matmul`]: `rows × columns`, rows `row_stride` apart
/// (a range of a wider matrix's columns).
pub struct MatMut<'a> {
    data: &'a mut [f32],
    rows: usize,
    columns: usize,
    row_stride: usize,
}

impl<'a> MatMut<'a> {
    /// `data` as a row-major matrix `columns` wide.
    pub fn row_major(data: &'a mut [f32], columns: usize) -> Self {
        Self {
            rows: data.len() / columns,
            columns,
            row_stride: columns,
            data,
        }
    }

    /// The columns `range` of this matrix.
    pub fn columns(self, range: Range<usize>) -> Self {
        assert!(
            range.end <= self.columns,
            "matmul: column range out of bounds"
        );
        Self {
            data: &mut self.data[range.start..],
            columns: range.len(),
            ..self
        }
    }

    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.columns == 0
            || (self.rows - 1) * self.row_stride + self.columns <= self.data.len()
    }
}

/// `dst = lhs · rhs`, on the calling thread (the callers run one per thread already).
pub fn matmul(dst: MatMut, lhs: MatRef, rhs: MatRef) {
    gemm_into(dst, lhs, rhs, false);
}

/// `dst += lhs · rhs`, as [`matmul`].
pub fn matmul_add(dst: MatMut, lhs: MatRef, rhs: MatRef) {
    gemm_into(dst, lhs, rhs, true);
}

fn gemm_into(dst: MatMut, lhs: MatRef, rhs: MatRef, accumulate: bool) {
    assert_eq!(
        lhs.rows, dst.rows,
        "matmul: lhs and destination rows differ"
    );
    assert_eq!(lhs.columns, rhs.rows, "matmul: inner dimensions differ");
    assert_eq!(
        rhs.columns, dst.columns,
        "matmul: rhs and destination columns differ"
    );
    assert!(
        dst.in_bounds() && lhs.in_bounds() && rhs.in_bounds(),
        "matmul: a view reaches past its data"
    );
    // SAFETY: the asserts above keep every index gemm computes inside the three slices, and
    // `dst` is borrowed mutably, so it overlaps neither operand.
    unsafe {
        gemm::gemm(
            dst.rows,
            dst.columns,
            lhs.columns,
            dst.data.as_mut_ptr(),
            1,
            dst.row_stride as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
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
