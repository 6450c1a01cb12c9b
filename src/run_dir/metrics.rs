//! `metrics.csv`: one row per finished epoch, rewritten atomically after every epoch.

use std::path::Path;

use crate::error::{Error, Result};
use crate::fsutil::{read_text_bounded, write_atomic};

/// A metrics file of 10,000 epochs is about 600 KB; anything far larger is not ours.
const MAX_BYTES: u64 = 4 * 1024 * 1024;

const HEADER: &str = "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,seconds";

/// The header of a number reader's `number-metrics.csv`: its CTC losses (per digit) by epoch.
pub(crate) const LOSSES_HEADER: &str = "epoch,train_loss,valid_loss,seconds";

/// One line of a number reader's `number-metrics.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochLosses {
    pub epoch: usize,
    pub train_loss: f64,
    pub valid_loss: Option<f64>,
}

/// Reads a number reader's `number-metrics.csv`; a malformed line is an error naming the file.
pub fn read_losses(path: &Path) -> Result<Vec<EpochLosses>> {
    read_rows(
        path,
        LOSSES_HEADER,
        "a number reader's metrics file",
        |line| {
            let [epoch, train_loss, valid_loss, _seconds] = line.split(',').collect::<Vec<_>>()[..]
            else {
                return None;
            };
            Some(EpochLosses {
                epoch: epoch.parse().ok()?,
                train_loss: train_loss.parse().ok()?,
                valid_loss: match valid_loss {
                    "" => None,
                    value => Some(value.parse().ok()?),
                },
            })
        },
    )
}

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
    pub(crate) fn progress_line(&self, total_epochs: usize) -> String {
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
    read_rows(path, HEADER, "a metrics file", parse_line)
}

/// The rows of the CSV file at `path` under `header`, each read by `parse`; another header
/// (the file is not `what`) or a malformed line is an error naming the file.
fn read_rows<T>(
    path: &Path,
    header: &str,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>> {
    let text = read_text_bounded(path, MAX_BYTES, "metrics")?;
    let mut lines = text.lines();
    if lines.next() != Some(header) {
        return Err(Error::file(
            path,
            format!("not {what}: expected header `{header}`"),
        ));
    }
    lines
        .enumerate()
        .map(|(i, line)| {
            parse(line).ok_or_else(|| {
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

pub(crate) fn write_metrics(path: &Path, rows: &[EpochMetrics]) -> Result<()> {
    let mut text = String::from(HEADER);
    text.push('\n');
    for row in rows {
        text += &row.csv_line();
        text.push('\n');
    }
    write_atomic(path, text.as_bytes())
}
