//! `report.json`: the outcome of a finished run.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::config::{Cell, ExperimentConfig, OptimizerKind};
use crate::error::{AtFile, Error, Result};
use crate::fsutil::{read_text_bounded, write_atomic};
use crate::machine;

const MAX_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub name: String,
    pub cell: Cell,
    pub optimizer: OptimizerKind,
    pub learning_rate: f64,
    pub batch_size: usize,
    pub epochs: usize,
    pub parameters: usize,
    pub backend: Backend,
    pub train_samples: usize,
    pub validation_samples: usize,
    pub test_samples: usize,
    /// Fraction of the test images classified correctly.
    pub test_accuracy: f64,
    pub test_loss: f64,
    pub epoch_seconds: Vec<f64>,
    /// The CPU it trained on (see `machine::describe`); empty in reports from before it was kept.
    #[serde(default)]
    pub machine: String,
    /// The epoch whose weights the model holds, when early stopping restored the best one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_epoch: Option<usize>,
    /// The Keras file a run was imported from (`import-keras`), which trained no epoch here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) imported_from: Option<String>,
}

/// A model's scores on the test set.
pub struct TestScores {
    pub samples: usize,
    pub accuracy: f64,
    pub loss: f64,
}

impl RunReport {
    /// The report of `config`'s model, scored `test` on this machine: what a run that trained
    /// no epoch here says (an imported model); training adds its epochs.
    pub fn new(
        config: &ExperimentConfig,
        parameters: usize,
        backend: Backend,
        test: TestScores,
    ) -> Self {
        Self {
            name: config.name.clone(),
            cell: config.model.cell,
            optimizer: config.optimizer.kind,
            learning_rate: config.optimizer.learning_rate,
            batch_size: config.training.batch_size,
            epochs: 0,
            parameters,
            backend,
            train_samples: 0,
            validation_samples: 0,
            test_samples: test.samples,
            test_accuracy: test.accuracy,
            test_loss: test.loss,
            epoch_seconds: Vec::new(),
            machine: machine::describe(),
            restored_epoch: None,
            imported_from: None,
        }
    }
}

pub(crate) fn write_report(path: &Path, report: &RunReport) -> Result<()> {
    let json = serde_json::to_string_pretty(report).expect("a report always serialises");
    write_atomic(path, json.as_bytes())
}

/// Reads a report; one whose scores are not numbers (a run that diverged, saved by an older
/// version) is refused like any malformed one.
pub fn read_report(path: &Path) -> Result<RunReport> {
    let text = read_text_bounded(path, MAX_BYTES, "a run report")?;
    let report: RunReport = serde_json::from_str(&text).doing(path, "not a run report")?;
    if !(report.test_accuracy.is_finite() && report.test_loss.is_finite()) {
        return Err(Error::file(
            path,
            "not a run report: its scores are not numbers",
        ));
    }
    Ok(report)
}
