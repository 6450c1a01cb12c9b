//! Scoring a model on labelled images: accuracy, loss, per-class accuracy, confusion matrix.

use std::path::Path;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::data::{Examples, MnistBatch, MnistData, NUM_CLASSES, download};
use crate::error::Result;
use crate::fsutil::write_atomic;
use crate::inference::load_checkpoint;
use crate::model::DigitClassifier;
use crate::plots::confusion_png;

/// Images per forward pass when scoring; large batches amortise per-op overhead.
pub const EVAL_BATCH: usize = 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub images: usize,
    /// Fraction of images classified correctly.
    pub accuracy: f64,
    /// Mean cross-entropy.
    pub loss: f64,
    pub per_class_accuracy: Vec<f64>,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
}

/// Scores `model` (in inference mode, on `device`) on every example.
pub fn evaluate(model: &DigitClassifier, examples: &Examples, device: &Device) -> Evaluation {
    let mut confusion = vec![vec![0usize; NUM_CLASSES]; NUM_CLASSES];
    let mut loss_sum = 0.0;
    let indices: Vec<usize> = (0..examples.len()).collect();
    for chunk in indices.chunks(EVAL_BATCH) {
        let batch = MnistBatch::from_examples(examples, chunk, device);
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

/// What `evaluation.json` holds: the scores and which model they belong to.
#[derive(Debug, Serialize)]
pub struct EvaluationFile<'a> {
    pub model: String,
    pub backend: String,
    #[serde(flatten)]
    pub evaluation: &'a Evaluation,
}

/// Scores a run's model (or one checkpoint) on the test images the run was evaluated on and
/// writes `evaluation.json` and `confusion.png` beside the model.
pub fn evaluate_checkpoint(
    checkpoint: &Path,
    backend: Backend,
    data_dir: Option<&Path>,
) -> Result<Evaluation> {
    let device = backend.device()?;
    let loaded = load_checkpoint(checkpoint, &device)?;
    let data_dir = download::resolve_data_dir(loaded.config.data.dataset.source(), data_dir)?;
    let test = MnistData::load_test(&data_dir)?
        .first(loaded.config.data.test_samples.unwrap_or(usize::MAX));
    let evaluation = evaluate(&loaded.model, &test, &device);

    let out_dir = loaded.model_path.parent().unwrap_or(Path::new("."));
    let file = EvaluationFile {
        model: loaded.model_path.display().to_string(),
        backend: backend.to_string(),
        evaluation: &evaluation,
    };
    let json = serde_json::to_string_pretty(&file).expect("an evaluation always serialises");
    write_atomic(&out_dir.join("evaluation.json"), json.as_bytes())?;
    let title = format!(
        "{}: test accuracy {}",
        loaded.config.name,
        percent(evaluation.accuracy)
    );
    confusion_png(
        &out_dir.join("confusion.png"),
        &evaluation.confusion,
        &title,
    )?;
    Ok(evaluation)
}
