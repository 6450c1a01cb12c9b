//! The number reader's per-epoch record: one line per epoch (its training and validation loss
//! and time) and `number-metrics.csv`, rewritten after every epoch. A classifier's run has
//! `epoch_log` instead, whose rows also hold accuracies.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};

use crate::fsutil::write_atomic;
use crate::output;
use crate::run_dir::LOSSES_HEADER;

/// One epoch's losses and seconds.
#[derive(Debug, Clone, Copy)]
struct LossRow {
    epoch: usize,
    train_loss: f64,
    valid_loss: f64,
    seconds: f64,
}

/// Prints a line and rewrites the CSV file at the end of each epoch's validation.
pub(crate) struct LossLines {
    path: PathBuf,
    total_epochs: usize,
    loss_ids: HashSet<MetricId>,
    /// The latest training and validation loss of the epoch under way.
    latest: [f64; 2],
    rows: Vec<LossRow>,
    epoch_started: Instant,
}

impl LossLines {
    pub fn new(path: PathBuf, total_epochs: usize) -> Self {
        Self {
            path,
            total_epochs,
            loss_ids: HashSet::new(),
            latest: [f64::NAN; 2],
            rows: Vec::new(),
            epoch_started: Instant::now(),
        }
    }

    fn finish_epoch(&mut self, epoch: usize) {
        let row = LossRow {
            epoch,
            train_loss: self.latest[0],
            valid_loss: self.latest[1],
            seconds: self.epoch_started.elapsed().as_secs_f64(),
        };
        output::line(format!(
            "epoch {epoch}/{}: loss {:.4}, validation loss {:.4} ({:.0} s)",
            self.total_epochs, row.train_loss, row.valid_loss, row.seconds
        ));
        self.rows.push(row);
        let mut csv = format!("{LOSSES_HEADER}\n");
        for r in &self.rows {
            csv += &format!(
                "{},{},{},{:.1}\n",
                r.epoch, r.train_loss, r.valid_loss, r.seconds
            );
        }
        if let Err(e) = write_atomic(&self.path, csv.as_bytes()) {
            output::warn(e);
        }
        self.latest = [f64::NAN; 2];
        self.epoch_started = Instant::now();
    }
}

impl MetricLogger for LossLines {
    fn log(&mut self, update: MetricsUpdate, _epoch: usize, split: &Split) {
        let valid = usize::from(matches!(split, Split::Valid));
        for numeric in update.entries_numeric {
            if !self.loss_ids.contains(&numeric.entry.metric_id) {
                continue;
            }
            // Batch updates carry the epoch's running average; the end-of-epoch update carries
            // the final value instead.
            if let Some(entry) = numeric.running_entry.or(numeric.numeric_entry) {
                self.latest[valid] = entry.current();
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
        let value = row.filter(|_| name == "Loss").map(|r| match split {
            Split::Valid => r.valid_loss,
            _ => r.train_loss,
        });
        Ok(value.map(NumericEntry::Value).into_iter().collect())
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        if definition.name.as_str() == "Loss" {
            self.loss_ids.insert(definition.metric_id);
        }
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        if matches!(summary.split, Split::Valid) {
            self.finish_epoch(summary.epoch_number);
        }
    }
}
