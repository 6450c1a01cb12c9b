//! Scoring a model on labelled images: accuracy, loss, per-class accuracy, confusion matrix;
//! and on corrupted copies of them (`robustness`).

pub mod numbers;
pub mod pictures;
pub mod robustness;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::backend::Compute;
use crate::config::ExperimentConfig;
use crate::data::{Examples, NUM_CLASSES, download, test_set};
use crate::error::Result;
use crate::model::Classifier;
use crate::run_dir::{ModelRef, TestScores};
use lstm_mnist_model::ROWS;
use lstm_mnist_model::inference::INFERENCE_BATCH;
use lstm_mnist_model::run::TrainedModel;

impl From<&Evaluation> for TestScores {
    fn from(evaluation: &Evaluation) -> Self {
        Self {
            samples: evaluation.images,
            accuracy: evaluation.accuracy,
            loss: evaluation.loss,
        }
    }
}

/// A run's model (or one checkpoint's), and the test images its run was scored on.
pub(crate) struct ModelUnderTest {
    pub(crate) model_ref: ModelRef,
    pub config: ExperimentConfig,
    pub model: TrainedModel,
    pub test: Examples,
    pub device: Device,
}

impl ModelUnderTest {
    /// The model `model_ref` names, on `compute`'s backend, and its run's test images from
    /// `compute`'s dataset directory.
    pub fn load(model_ref: ModelRef, compute: &Compute) -> Result<Self> {
        let device = compute.backend.device()?;
        let (config, model) = model_ref.load(&device)?;
        let source = config.data.dataset.source();
        let dir = download::resolve_data_dir(source, compute.data_dir.as_deref())?;
        let test = test_set(&config.data, &dir)?;
        Ok(Self {
            model_ref,
            config,
            model,
            test,
            device,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub images: usize,
    /// Fraction of images classified correctly.
    pub accuracy: f64,
    /// Mean cross-entropy.
    pub loss: f64,
    pub(crate) per_class_accuracy: Vec<f64>,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
}

/// The fraction of `examples` whose leading class after each row is their label: how early
/// the model knows (`ROWS` values, the last one the ordinary accuracy).
pub(crate) fn accuracy_after_each_row(
    model: &Classifier,
    examples: &Examples,
    device: &Device,
) -> Vec<f64> {
    let mut correct = vec![0usize; ROWS];
    let indices: Vec<usize> = (0..examples.len()).collect();
    for chunk in indices.chunks(INFERENCE_BATCH) {
        let batch = examples.batch(chunk, device);
        let leading = model
            .forward_steps(batch.images)
            .argmax(2)
            .into_data()
            .convert::<i64>();
        let leading = leading.as_slice::<i64>().expect("classes are i64");
        for (k, &index) in chunk.iter().enumerate() {
            let label = i64::from(examples.label(index));
            for (row, count) in correct.iter_mut().enumerate() {
                *count += usize::from(leading[k * ROWS + row] == label);
            }
        }
    }
    correct
        .into_iter()
        .map(|count| count as f64 / examples.len().max(1) as f64)
        .collect()
}

/// Scores `model` (in inference mode, on `device`) on every example.
pub fn evaluate(model: &Classifier, examples: &Examples, device: &Device) -> Evaluation {
    let mut confusion = vec![vec![0usize; NUM_CLASSES]; NUM_CLASSES];
    let mut loss_sum = 0.0;
    let indices: Vec<usize> = (0..examples.len()).collect();
    for chunk in indices.chunks(INFERENCE_BATCH) {
        let batch = examples.batch(chunk, device);
        let output = model.forward_classification(batch);
        loss_sum += output.loss.into_scalar::<f64>() * chunk.len() as f64;
        let predicted = output.output.argmax(1).into_data().convert::<i64>();
        for (&index, &class) in chunk.iter().zip(predicted.as_slice::<i64>().unwrap()) {
            confusion[examples.label(index) as usize][class as usize] += 1;
        }
    }
    let images = examples.len();
    let correct: usize = (0..NUM_CLASSES).map(|c| confusion[c][c]).sum();
    let per_class_accuracy = confusion
        .iter()
        .enumerate()
        .map(|(c, row)| {
            let total: usize = row.iter().sum();
            if total == 0 {
                0.0
            } else {
                row[c] as f64 / total as f64
            }
        })
        .collect();
    Evaluation {
        images,
        accuracy: correct as f64 / images.max(1) as f64,
        loss: loss_sum / images.max(1) as f64,
        per_class_accuracy,
        confusion,
    }
}

/// `0.9623` -> `96.2%`, the seed's way of printing accuracy.
pub fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

impl Evaluation {
    /// The accuracy line, per-class accuracy and the confusion matrix, as aligned text.
    pub fn table(&self) -> String {
        let mut out = format!(
            "Test accuracy: {}  (loss {:.4}, {} images)\n\n",
            percent(self.accuracy),
            self.loss,
            self.images
        );
        out += "digit  accuracy  images\n";
        for (digit, (accuracy, row)) in self
            .per_class_accuracy
            .iter()
            .zip(&self.confusion)
            .enumerate()
        {
            let images: usize = row.iter().sum();
            out += &format!("{digit:>5}  {:>8}  {images:>6}\n", percent(*accuracy));
        }
        out += "\nConfusion matrix (rows: true digit, columns: predicted digit)\n";
        out += "      ";
        for digit in 0..self.confusion.len() {
            out += &format!("{digit:>6}");
        }
        out.push('\n');
        for (digit, row) in self.confusion.iter().enumerate() {
            out += &format!("{digit:>6}");
            for count in row {
                out += &format!("{count:>6}");
            }
            out.push('\n');
        }
        out
    }
}
