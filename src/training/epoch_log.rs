//! Per-epoch metrics: `metrics.csv` (rewritten atomically after every epoch) and, off a
//! terminal, one Keras-like progress line per epoch.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};

use crate::error::{Error, Result};
use crate::fsutil::write_atomic;

const HEADER: &str = "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,seconds";

/// One line of `metrics.csv`. Accuracies are fractions; validation values are absent when the
/// run holds no validation split.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub valid_loss: Option<f64>,
    pub valid_accuracy: Option<f64>,
    pub seconds: f64,
}

impl EpochMetrics {
    fn csv_line(&self) -> String {
        let optional = |v: Option<f64>| v.map(|v| format!("{v:.6}")).unwrap_or_default();
        format!(
            "{},{:.6},{:.6},{},{},{:.3}",
            self.epoch,
            self.train_loss,
            self.train_accuracy,
            optional(self.valid_loss),
            optional(self.valid_accuracy),
            self.seconds
        )
    }

    /// `Epoch 3/20 - 94s - loss: 0.1234 - accuracy: 0.9612 - val_loss: ... - val_accuracy: ...`
    pub fn progress_line(&self, total_epochs: usize) -> String {
        let mut line = format!(
            "Epoch {}/{total_epochs} - {:.0}s - loss: {:.4} - accuracy: {:.4}",
            self.epoch, self.seconds, self.train_loss, self.train_accuracy
        );
        if let (Some(loss), Some(accuracy)) = (self.valid_loss, self.valid_accuracy) {
            line += &format!(" - val_loss: {loss:.4} - val_accuracy: {accuracy:.4}");
        }
        line
    }
}

/// Reads `metrics.csv`; a malformed line is an error naming the file.
pub fn read_metrics(path: &Path) -> Result<Vec<EpochMetrics>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::file(path, format!("cannot read metrics: {e}")))?;
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err(Error::file(
            path,
            format!("not a metrics file: expected header `{HEADER}`"),
        ));
    }
    lines
        .enumerate()
        .map(|(i, line)| {
            parse_line(line).ok_or_else(|| {
                Error::file(
                    path,
                    format!("line {}: malformed metrics row `{line}`", i + 2),
                )
            })
        })
        .collect()
}

fn parse_line(line: &str) -> Option<EpochMetrics> {
    let fields: Vec<&str> = line.split(',').collect();
    let [
        epoch,
        train_loss,
        train_accuracy,
        valid_loss,
        valid_accuracy,
        seconds,
    ] = fields[..]
    else {
        return None;
    };
    let optional = |s: &str| {
        if s.is_empty() {
            Some(None)
        } else {
            s.parse().ok().map(Some)
        }
    };
    Some(EpochMetrics {
        epoch: epoch.parse().ok()?,
        train_loss: train_loss.parse().ok()?,
        train_accuracy: train_accuracy.parse().ok()?,
        valid_loss: optional(valid_loss)?,
        valid_accuracy: optional(valid_accuracy)?,
        seconds: seconds.parse().ok()?,
    })
}

pub fn write_metrics(path: &Path, rows: &[EpochMetrics]) -> Result<()> {
    let mut text = String::from(HEADER);
    text.push('\n');
    for row in rows {
        text += &row.csv_line();
        text.push('\n');
    }
    write_atomic(path, text.as_bytes())
}

/// Burn metric logger that keeps each split's epoch averages and writes a row when an epoch's
/// validation ends.
pub struct EpochLog {
    path: PathBuf,
    rows: Vec<EpochMetrics>,
    total_epochs: usize,
    names: HashMap<MetricId, String>,
    /// Latest running (epoch-average) value of each metric, by (is_valid, metric name).
    latest: HashMap<(bool, String), f64>,
    epoch_started: Instant,
    print_lines: bool,
}

impl EpochLog {
    /// `rows` are the epochs already done (kept when resuming).
    pub fn new(path: &Path, rows: Vec<EpochMetrics>, total_epochs: usize) -> Self {
        Self {
            path: path.to_path_buf(),
            rows,
            total_epochs,
            names: HashMap::new(),
            latest: HashMap::new(),
            epoch_started: Instant::now(),
            print_lines: !std::io::stdout().is_terminal(),
        }
    }

    fn value(&self, valid: bool, name: &str) -> Option<f64> {
        self.latest
            .get(&(valid, name.to_string()))
            .copied()
            .filter(|v| v.is_finite())
    }

    fn finish_epoch(&mut self, epoch: usize) {
        let percent = |v: Option<f64>| v.map(|v| v / 100.0);
        let row = EpochMetrics {
            epoch,
            train_loss: self.value(false, "Loss").unwrap_or(f64::NAN),
            train_accuracy: percent(self.value(false, "Accuracy")).unwrap_or(f64::NAN),
            valid_loss: self.value(true, "Loss"),
            valid_accuracy: percent(self.value(true, "Accuracy")),
            seconds: self.epoch_started.elapsed().as_secs_f64(),
        };
        if self.print_lines {
            println!("{}", row.progress_line(self.total_epochs));
        }
        self.rows.retain(|r| r.epoch < epoch);
        self.rows.push(row);
        if let Err(e) = write_metrics(&self.path, &self.rows) {
            eprintln!("warning: {e}");
        }
        self.latest.clear();
        self.epoch_started = Instant::now();
    }
}

impl MetricLogger for EpochLog {
    fn log(&mut self, update: MetricsUpdate, _epoch: usize, split: &Split) {
        let valid = matches!(split, Split::Valid);
        for numeric in update.entries_numeric {
            let Some(name) = self.names.get(&numeric.entry.metric_id).cloned() else {
                continue;
            };
            // Batch updates carry the epoch's running average; the end-of-epoch update carries
            // the final value instead.
            if let Some(entry) = numeric.running_entry.or(numeric.numeric_entry) {
                self.latest.insert((valid, name), entry.current());
            }
        }
    }

    fn read_numeric(
        &mut self,
        name: &str,
        epoch: usize,
        split: &Split,
    ) -> std::result::Result<Vec<NumericEntry>, String> {
        let row = self.rows.iter().find(|r| r.epoch == epoch);
        let value = row.and_then(|r| match (name, split) {
            ("Loss", Split::Train) => Some(r.train_loss),
            ("Accuracy", Split::Train) => Some(r.train_accuracy * 100.0),
            ("Loss", Split::Valid) => r.valid_loss,
            ("Accuracy", Split::Valid) => r.valid_accuracy.map(|v| v * 100.0),
            _ => None,
        });
        Ok(value.map(NumericEntry::Value).into_iter().collect())
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.names
            .insert(definition.metric_id.clone(), definition.name.to_string());
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        if matches!(summary.split, Split::Valid) {
            self.finish_epoch(summary.epoch_number);
        }
    }
}
