//! Classifying model inputs (28×28 values in [0, 1]): the ten class probabilities, and the
//! reading row by row, the probabilities after each of the 28 rows.

use burn::tensor::{Device, Tensor, TensorData, activation::softmax};

use crate::NUM_CLASSES;
use crate::model::{Classifier, host_values};
use crate::preprocess::CANVAS;

/// The ten class probabilities of each model input in `pixels` (28x28 values each, one input
/// after another), in one forward pass: `NUM_CLASSES` values per input, in input order.
pub fn class_probabilities(model: &Classifier, pixels: Vec<f32>, device: &Device) -> Vec<f32> {
    host_values(softmax(model.forward(input_batch(pixels, device)), 1))
}

/// The ten class probabilities after each of the 28 rows of each model input in `pixels`, in
/// one forward pass: `STEPS × NUM_CLASSES` values per input, row by row, in input order.
pub fn step_probabilities(model: &Classifier, pixels: Vec<f32>, device: &Device) -> Vec<f32> {
    host_values(softmax(model.forward_steps(input_batch(pixels, device)), 2))
}

/// One input's share of `step_probabilities` (`STEPS × NUM_CLASSES` values) as its rows of ten.
pub fn step_rows(values: &[f32]) -> Vec<Vec<f32>> {
    values.chunks(NUM_CLASSES).map(<[f32]>::to_vec).collect()
}

/// The most likely class of ten probabilities, and its probability.
pub fn leading(probabilities: &[f32]) -> (usize, f32) {
    probabilities
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("ten probabilities")
}

/// Model inputs (28x28 values each, one after another) as a batch `[count, 28, 28]`.
fn input_batch(pixels: Vec<f32>, device: &Device) -> Tensor<3> {
    let side = CANVAS as usize;
    let count = pixels.len() / (side * side);
    Tensor::<3>::from_data(TensorData::new(pixels, [count, side, side]), device)
}
