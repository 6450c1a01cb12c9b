//! Per-epoch metrics: `metrics.csv` (rewritten after every epoch) and, off a terminal, one
//! Keras-like progress line per epoch; and the watch that stops a run whose loss is no longer
//! a number.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{Aggregate, EpochSummary, EventStoreClient, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::{EarlyStoppingStrategy, Interrupter, MetricEarlyStoppingStrategy};

use crate::config::ExperimentConfig;
use crate::error::Error;
use crate::output;
use crate::run_dir::{EpochMetrics, LockedRun, ResumePoint, write_metrics};
use crate::tracking::Tracker;

/// Whether standard output's reader went away (`| head`): the logger notes it when an epoch's
/// line finds no reader, and [`EpochStopping`] ends training once that epoch is checkpointed.
#[derive(Clone, Default)]
pub(crate) struct ReaderWatch {
    gone: Arc<AtomicBool>,
}

impl ReaderWatch {
    fn note_gone(&self) {
        self.gone.store(true, Ordering::Relaxed);
    }

    pub fn gone(&self) -> bool {
        self.gone.load(Ordering::Relaxed)
    }
}

/// What Burn asks after each epoch's checkpoint whether to go on: not when the reader went away
/// (the run is resumed later), nor when the config's early stopping says so.
///
/// Burn's interrupter would not do for the reader: the logger runs on the metric store's
/// thread, and an epoch whose end stopped the interrupter got no checkpoint whenever that
/// thread got there before Burn's check, which comes before the checkpoint.
#[derive(Clone)]
pub(crate) struct EpochStopping {
    pub reader: ReaderWatch,
    pub early_stopping: Option<MetricEarlyStoppingStrategy>,
}

impl EarlyStoppingStrategy for EpochStopping {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        let early = self
            .early_stopping
            .as_mut()
            .is_some_and(|rule| rule.should_stop(epoch, store));
        // The store answers a query after handling every event sent before it, the end of this
        // epoch among them: by then the logger has printed the epoch's line, or found no reader.
        store.find_metric("Loss", epoch, Aggregate::Mean, &Split::Valid);
        early || self.reader.gone()
    }
}

/// Where the loss first stopped being a finite number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Divergence {
    pub epoch: usize,
    /// The training batch whose loss it was; `None` for the epoch's validation pass (the
    /// epoch's last step broke the weights).
    pub batch: Option<usize>,
    pub loss: f64,
}

/// Stops training at the first non-finite loss, before the epoch is checkpointed, and
/// remembers where that was.
#[derive(Clone)]
pub(crate) struct DivergenceWatch {
    interrupter: Interrupter,
    seen: Arc<Mutex<Option<Divergence>>>,
}

impl DivergenceWatch {
    pub fn new(interrupter: Interrupter) -> Self {
        Self {
            interrupter,
            seen: Arc::default(),
        }
    }

    fn report(&self, divergence: Divergence) {
        let mut seen = self.seen.lock().expect("the watch is never poisoned");
        if seen.is_none() {
            *seen = Some(divergence);
            self.interrupter.stop(Some("the loss is not a number"));
        }
    }

    pub fn diverged(&self) -> Option<Divergence> {
        *self.seen.lock().expect("the watch is never poisoned")
    }
}

impl Divergence {
    /// One line: where, what to try, and what is left of the run (trained from `config`).
    pub fn error(&self, run: &LockedRun, config: &ExperimentConfig) -> Error {
        let at = match self.batch {
            Some(batch) => format!("epoch {}, batch {batch}: the training loss", self.epoch),
            None => format!("epoch {}: the validation loss", self.epoch),
        };
        let next = match run.resume_point(config) {
            Ok(ResumePoint { epoch, .. }) => format!(
                "the run keeps its last good checkpoint (epoch {epoch}) and is not finished: \
                 lower `optimizer.learning_rate` in {} and continue with --resume {}, or start \
                 again with a lower --lr",
                run.config_path().display(),
                run.path().display()
            ),
            Err(_) => "no epoch finished, so nothing was kept: start again with a lower --lr \
                       (--overwrite replaces this run)"
                .to_string(),
        };
        Error::file(
            run.path(),
            format!(
                "training stopped at {at} became {}; the learning rate ({}) is probably too \
                 high; {next}",
                self.loss,
                readable_rate(config.optimizer.learning_rate)
            ),
        )
    }
}

/// `0.001` as is, `1e38` rather than thirty-nine digits.
fn readable_rate(rate: f64) -> String {
    if (1e-4..1e4).contains(&rate) {
        format!("{rate}")
    } else {
        format!("{rate:e}")
    }
}

/// The metrics a run records: the ones training registers with Burn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Tracked {
    Loss,
    Accuracy,
}

impl Tracked {
    /// The metric Burn names `name` (`LossMetric` and `AccuracyMetric` name themselves so);
    /// `None` for any other.
    fn named(name: &str) -> Option<Self> {
        match name {
            "Loss" => Some(Tracked::Loss),
            "Accuracy" => Some(Tracked::Accuracy),
            _ => None,
        }
    }
}

/// Burn metric logger that keeps each split's epoch averages and writes a row when an epoch's
/// validation ends.
pub(crate) struct EpochLog {
    path: PathBuf,
    rows: Vec<EpochMetrics>,
    total_epochs: usize,
    /// The metrics Burn registered, by its ids.
    tracked: HashMap<MetricId, Tracked>,
    /// Latest running (epoch-average) value of each metric, by (is_valid, metric).
    latest: HashMap<(bool, Tracked), f64>,
    epoch_started: Instant,
    print_lines: bool,
    /// Training batches seen in the current epoch.
    batches: usize,
    divergence: DivergenceWatch,
    reader: ReaderWatch,
    /// Gets each row too.
    tracker: Arc<Tracker>,
}

impl EpochLog {
    /// `rows` are the epochs already done (kept when resuming).
    pub fn new(
        path: &Path,
        rows: Vec<EpochMetrics>,
        total_epochs: usize,
        divergence: DivergenceWatch,
        reader: ReaderWatch,
        tracker: Arc<Tracker>,
    ) -> Self {
        Self {
            path: path.to_path_buf(),
            rows,
            total_epochs,
            tracked: HashMap::new(),
            latest: HashMap::new(),
            epoch_started: Instant::now(),
            print_lines: !std::io::stdout().is_terminal(),
            batches: 0,
            divergence,
            reader,
            tracker,
        }
    }

    fn value(&self, valid: bool, metric: Tracked) -> Option<f64> {
        self.latest
            .get(&(valid, metric))
            .copied()
            .filter(|v| v.is_finite())
    }

    fn finish_epoch(&mut self, epoch: usize) {
        self.batches = 0;
        // A diverged epoch is not a result: it gets no row, as it gets no checkpoint.
        if self.divergence.diverged().is_some() {
            return;
        }
        let percent = |v: Option<f64>| v.map(|v| v / 100.0);
        let row = EpochMetrics {
            epoch,
            train_loss: self.value(false, Tracked::Loss).unwrap_or(f64::NAN),
            train_accuracy: percent(self.value(false, Tracked::Accuracy)).unwrap_or(f64::NAN),
            valid_loss: self.value(true, Tracked::Loss),
            valid_accuracy: percent(self.value(true, Tracked::Accuracy)),
            seconds: self.epoch_started.elapsed().as_secs_f64(),
        };
        let line = format!("{}\n", row.progress_line(self.total_epochs));
        self.rows.retain(|r| r.epoch < epoch);
        self.tracker.log_epoch(&row);
        self.rows.push(row);
        if let Err(e) = write_metrics(&self.path, &self.rows) {
            output::warn(e);
        }
        // `| head`: the run stops after this epoch's checkpoint, and resumes later.
        if self.print_lines && output::try_print(&line).is_err() {
            self.print_lines = false;
            self.reader.note_gone();
        }
        self.latest.clear();
        self.epoch_started = Instant::now();
    }
}

impl MetricLogger for EpochLog {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        let valid = matches!(split, Split::Valid);
        if !valid {
            self.batches += 1;
        }
        for numeric in update.entries_numeric {
            let Some(&metric) = self.tracked.get(&numeric.entry.metric_id) else {
                continue;
            };
            if let Some(loss) = numeric.numeric_entry.as_ref().map(NumericEntry::current)
                && metric == Tracked::Loss
                && !loss.is_finite()
            {
                self.divergence.report(Divergence {
                    epoch,
                    batch: (!valid).then_some(self.batches),
                    loss,
                });
            }
            // Batch updates carry the epoch's running average; the end-of-epoch update carries
            // the final value instead.
            if let Some(entry) = numeric.running_entry.or(numeric.numeric_entry) {
                self.latest.insert((valid, metric), entry.current());
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
        let value = row.and_then(|r| match (Tracked::named(name)?, split) {
            (Tracked::Loss, Split::Train) => Some(r.train_loss),
            (Tracked::Accuracy, Split::Train) => Some(r.train_accuracy * 100.0),
            (Tracked::Loss, Split::Valid) => r.valid_loss,
            (Tracked::Accuracy, Split::Valid) => r.valid_accuracy.map(|v| v * 100.0),
            _ => None,
        });
        Ok(value.map(NumericEntry::Value).into_iter().collect())
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        if let Some(metric) = Tracked::named(&definition.name) {
            self.tracked.insert(definition.metric_id.clone(), metric);
        }
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        if matches!(summary.split, Split::Valid) {
            self.finish_epoch(summary.epoch_number);
        }
    }
}
