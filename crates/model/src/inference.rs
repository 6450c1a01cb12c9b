//! Classifying model inputs: one forward pass per batch gives each input's class
//! probabilities and, where asked, its probabilities after each row: the head applied to the
//! hidden state after every row in that same pass, the last row being the answer.

use burn::tensor::{Device, Tensor, TensorData, activation::softmax};

use crate::model::{Classifier, host_values};
use crate::{COLUMNS, ModelInput, NUM_CLASSES, ROWS};

/// Inputs per forward pass at most: large batches amortise per-op overhead, and a bound keeps
/// the memory of a long list of inputs in check.
pub const INFERENCE_BATCH: usize = 1000;

/// What a reading holds besides the answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Detail {
    /// The class probabilities.
    #[default]
    Answer,
    /// Also the class probabilities after each of the input's rows (from the same pass).
    Rows,
}

/// What the model read in one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    probabilities: [f32; NUM_CLASSES],
    rows: Option<Vec<[f32; NUM_CLASSES]>>,
}

impl Reading {
    /// The class probabilities, class 0 first: the answer.
    pub fn probabilities(&self) -> &[f32; NUM_CLASSES] {
        &self.probabilities
    }

    /// With [`Detail::Rows`]: the class probabilities after each row, first row first. The
    /// head was trained on the last row's hidden state only, so the earlier rows are the
    /// model's guess so far; the last row is [`probabilities`](Self::probabilities).
    pub fn rows(&self) -> Option<&[[f32; NUM_CLASSES]]> {
        self.rows.as_deref()
    }

    /// The most likely class (the digit, for MNIST).
    pub fn digit(&self) -> usize {
        leading(&self.probabilities).0
    }

    /// The most likely class's probability.
    pub fn probability(&self) -> f32 {
        leading(&self.probabilities).1
    }

    /// The `k` most likely classes with their probabilities, most likely first (at least one).
    pub fn top(&self, k: usize) -> Vec<(usize, f32)> {
        let mut ranked: Vec<(usize, f32)> =
            self.probabilities.iter().copied().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked.truncate(k.max(1));
        ranked
    }

    /// With [`Detail::Rows`]: [`turns`] of its rows. Empty without the rows.
    pub fn turns(&self) -> Vec<(usize, usize, f32)> {
        turns(self.rows().unwrap_or_default())
    }
}

/// The rows (counted from 1) after which the leading class of `rows` (class probabilities
/// after each row) changes, and the last row, each with the class leading then and its
/// probability.
pub fn turns(rows: &[[f32; NUM_CLASSES]]) -> Vec<(usize, usize, f32)> {
    let leaders: Vec<(usize, f32)> = rows.iter().map(|row| leading(row)).collect();
    (0..leaders.len())
        .filter(|&r| r == 0 || r + 1 == leaders.len() || leaders[r].0 != leaders[r - 1].0)
        .map(|r| (r + 1, leaders[r].0, leaders[r].1))
        .collect()
}

/// Reads `inputs` with `model` on `device`, one forward pass per [`INFERENCE_BATCH`] inputs,
/// the readings in input order.
pub fn read(
    model: &Classifier,
    inputs: &[ModelInput],
    detail: Detail,
    device: &Device,
) -> Vec<Reading> {
    inputs
        .chunks(INFERENCE_BATCH)
        .flat_map(|chunk| read_pass(model, chunk, detail, device))
        .collect()
}

/// One forward pass over `inputs`.
fn read_pass(
    model: &Classifier,
    inputs: &[ModelInput],
    detail: Detail,
    device: &Device,
) -> Vec<Reading> {
    #[cfg(test)]
    tests::PASSES.set(tests::PASSES.get() + 1);
    let batch = input_batch(inputs, device);
    let as_classes = |values: &[f32]| -> [f32; NUM_CLASSES] {
        values.try_into().expect("a row of class probabilities")
    };
    match detail {
        Detail::Answer => host_values(softmax(model.forward(batch), 1))
            .chunks_exact(NUM_CLASSES)
            .map(|probabilities| Reading {
                probabilities: as_classes(probabilities),
                rows: None,
            })
            .collect(),
        Detail::Rows => host_values(softmax(model.forward_steps(batch), 2))
            .chunks_exact(ROWS * NUM_CLASSES)
            .map(|input| {
                let rows: Vec<[f32; NUM_CLASSES]> =
                    input.chunks_exact(NUM_CLASSES).map(as_classes).collect();
                Reading {
                    probabilities: *rows.last().expect("an input has rows"),
                    rows: Some(rows),
                }
            })
            .collect(),
    }
}

/// The most likely class of a set of class probabilities, and its probability.
pub fn leading(probabilities: &[f32]) -> (usize, f32) {
    probabilities
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("class probabilities")
}

/// Model inputs as a batch `[count, ROWS, COLUMNS]`.
fn input_batch(inputs: &[ModelInput], device: &Device) -> Tensor<3> {
    let values = inputs.as_flattened().to_vec();
    Tensor::<3>::from_data(
        TensorData::new(values, [inputs.len(), ROWS, COLUMNS]),
        device,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::Cell;
    use crate::config::{Bias, ModelConfig};

    thread_local! {
        /// Forward passes `read` ran on this thread.
        pub(super) static PASSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    fn small_model() -> Classifier {
        let config = ModelConfig {
            cell: Cell::Lstm,
            hidden: 8,
            bias: Bias::Burn,
        };
        Classifier::new(&config, 7, &Device::flex())
    }

    fn inputs(count: usize) -> Vec<ModelInput> {
        (0..count)
            .map(|k| std::array::from_fn(|p| ((p * 7 + k * 13) % 29) as f32 / 28.0))
            .collect()
    }

    #[test]
    fn the_rows_come_from_the_pass_that_gives_the_answer() {
        let (model, device) = (small_model(), Device::flex());
        let inputs = inputs(3);
        let before = PASSES.get();
        let readings = read(&model, &inputs, Detail::Rows, &device);
        assert_eq!(
            PASSES.get() - before,
            1,
            "one forward pass for answers and rows"
        );
        for reading in &readings {
            let rows = reading.rows().expect("rows were asked for");
            assert_eq!(rows.len(), ROWS);
            assert_eq!(rows.last(), Some(reading.probabilities()));
        }
        let answers = read(&model, &inputs, Detail::Answer, &device);
        for (with_rows, answer) in readings.iter().zip(&answers) {
            assert_eq!(answer.rows(), None);
            for (a, b) in with_rows.probabilities().iter().zip(answer.probabilities()) {
                assert!((a - b).abs() < 1e-6, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn a_long_list_is_read_in_bounded_passes_in_order() {
        let (model, device) = (small_model(), Device::flex());
        let inputs = inputs(INFERENCE_BATCH + 2);
        let before = PASSES.get();
        let all = read(&model, &inputs, Detail::Answer, &device);
        assert_eq!(PASSES.get() - before, 2);
        assert_eq!(all.len(), inputs.len());
        let last_pass = read(&model, &inputs[INFERENCE_BATCH..], Detail::Answer, &device);
        assert_eq!(all[INFERENCE_BATCH..], last_pass[..]);
    }

    #[test]
    fn top_ranks_the_classes_and_turns_mark_where_the_leader_changes() {
        let mut probabilities = [0.0; NUM_CLASSES];
        probabilities[3] = 0.7;
        probabilities[8] = 0.2;
        probabilities[1] = 0.1;
        let mut early = [0.0; NUM_CLASSES];
        early[1] = 1.0;
        let reading = Reading {
            probabilities,
            rows: Some([vec![early; 10], vec![probabilities; ROWS - 10]].concat()),
        };
        assert_eq!(reading.top(2), vec![(3, 0.7), (8, 0.2)]);
        assert_eq!(reading.top(0), vec![(3, 0.7)]);
        assert_eq!((reading.digit(), reading.probability()), (3, 0.7));
        assert_eq!(
            reading.turns(),
            vec![(1, 1, 1.0), (11, 3, 0.7), (ROWS, 3, 0.7)]
        );
    }
}
