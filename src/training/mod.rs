//! Training runs: Burn's `SupervisedTraining` + `Learner` over our data, checkpoints every
//! epoch, and the run's artifacts (`config.toml`, `model.bpk`, `metrics.csv`, `report.json`).

pub mod checkpoint;
pub mod epoch_log;
mod quiet;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::module::Module;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, SgdConfig};
use burn::train::checkpoint::KeepLastNCheckpoints;
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{Learner, SupervisedTraining};
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::config::{ExperimentConfig, OptimizerKind};
use crate::data::{MnistData, MnistLoader, download};
use crate::error::{Error, Result};
use crate::evaluation::{EVAL_BATCH, Evaluation, evaluate, percent};
use crate::fsutil::{remove_stale_temp_files, write_atomic};
use crate::machine;
use crate::model::{DigitClassifier, LstmKernel};
use crate::plots::{Curve, curves_png};
use checkpoint::{AtomicFileCheckpointer, last_complete_epoch};
use epoch_log::{EpochLog, read_metrics};

/// Files of a run directory `artifacts/<name>/`.
pub const CONFIG_FILE: &str = "config.toml";
pub const MODEL_FILE: &str = "model.bpk";
pub const METRICS_FILE: &str = "metrics.csv";
pub const REPORT_FILE: &str = "report.json";
pub const CHECKPOINT_DIR: &str = "checkpoint";
pub const CURVES_FILE: &str = "curves.png";

/// Everything a training run needs, resolved from the config file and the command line.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    pub config: ExperimentConfig,
    pub backend: Backend,
    /// Which LSTM implementation trains (flex only; see `LstmKernel`).
    pub lstm: LstmKernel,
    pub data_dir: Option<PathBuf>,
    pub artifacts: PathBuf,
    /// Continue the run in `artifacts/<name>` from its last complete checkpoint.
    pub resume: bool,
    /// Replace a previous run in `artifacts/<name>`.
    pub overwrite: bool,
}

/// `report.json`: the outcome of a finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub name: String,
    pub cell: String,
    pub optimizer: String,
    pub learning_rate: f64,
    pub batch_size: usize,
    pub epochs: usize,
    pub parameters: usize,
    pub backend: String,
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
}

impl TrainRequest {
    pub fn run_dir(&self) -> PathBuf {
        self.artifacts.join(&self.config.name)
    }
}

/// Trains (or resumes) a run, evaluates it on the test set and writes its artifacts.
pub fn train(request: &TrainRequest) -> Result<RunReport> {
    let config = &request.config;
    let run_dir = request.run_dir();
    let checkpoint_dir = run_dir.join(CHECKPOINT_DIR);
    let metrics_path = run_dir.join(METRICS_FILE);

    let completed_epochs = if request.resume {
        for dir in [&run_dir, &checkpoint_dir] {
            remove_stale_temp_files(dir);
        }
        let last = last_complete_epoch(&checkpoint_dir)?;
        Some(last.min(config.training.epochs))
    } else {
        prepare_fresh_run_dir(&run_dir, request.overwrite)?;
        None
    };
    let done_rows = match completed_epochs {
        Some(done) if metrics_path.exists() => read_metrics(&metrics_path)?
            .into_iter()
            .filter(|row| row.epoch <= done)
            .collect(),
        _ => Vec::new(),
    };

    // A missing GPU is reported before the dataset is read.
    let device = request.backend.device()?;
    let data_dir =
        download::resolve_data_dir(config.data.dataset.source(), request.data_dir.as_deref())?;
    let data = MnistData::load(&data_dir)?;
    let train_all = data
        .train
        .first(config.data.train_samples.unwrap_or(usize::MAX));
    let test = data
        .test
        .first(config.data.test_samples.unwrap_or(usize::MAX));
    let (train_set, held_out) = train_all.split_validation(config.training.validation_split);
    let validation_samples = held_out.len();
    // Without a held-out split, the curves track the test set each epoch, as the seed's Keras
    // script does with `validation_data=(x_test, y_test)`; training never sees it.
    let valid_set = if held_out.is_empty() {
        test.clone()
    } else {
        held_out
    };

    device.seed(config.seed);
    let train_device = device.clone().autodiff();
    write_atomic(&run_dir.join(CONFIG_FILE), config.to_toml().as_bytes())?;

    let model = DigitClassifier::new(&config.model, config.seed, &train_device)
        .with_lstm_kernel(request.lstm);
    let parameters = model.num_params();
    let optimizer = match config.optimizer.kind {
        OptimizerKind::Sgd => SgdConfig::new()
            .with_momentum((config.optimizer.momentum > 0.0).then_some(MomentumConfig {
                momentum: config.optimizer.momentum,
                dampening: 0.0,
                nesterov: false,
            }))
            .init(),
        // Keras's epsilon; Burn defaults to 1e-5.
        OptimizerKind::Adam => AdamConfig::new().with_epsilon(1e-7).init(),
    };
    let learner = Learner::new(model, optimizer, config.optimizer.learning_rate);

    let batch_size = config.training.batch_size;
    let train_loader = MnistLoader::new(train_set.clone(), batch_size, train_device.clone())
        .shuffled(config.seed)
        .resuming_after(completed_epochs.unwrap_or(0));
    // Validation batches only cost memory, and large ones use the cores better.
    let valid_loader = MnistLoader::new(valid_set.clone(), EVAL_BATCH, device.clone());

    let mut training =
        SupervisedTraining::new(&run_dir, Arc::new(train_loader), Arc::new(valid_loader))
            .metrics((AccuracyMetric::new(), LossMetric::new()))
            .with_metric_logger(EpochLog::new(
                &metrics_path,
                done_rows,
                config.training.epochs,
            ))
            .with_custom_checkpointers(
                AtomicFileCheckpointer::new(&checkpoint_dir, "model"),
                AtomicFileCheckpointer::new(&checkpoint_dir, "optim"),
                AtomicFileCheckpointer::new(&checkpoint_dir, "scheduler"),
            )
            .with_checkpointing_strategy(KeepLastNCheckpoints::new(2))
            // Burn's experiment logger installs a global panic hook and log sink; the binary has its own.
            .with_application_logger(None)
            .num_epochs(config.training.epochs);
    if let Some(done) = completed_epochs {
        training = training.checkpoint(done);
    }
    if !std::io::stdout().is_terminal() {
        training = training.renderer(Box::new(quiet::QuietRenderer));
    }
    let result = training.launch(learner);
    if let Some(error) = result.error {
        return Err(Error::msg(format!("training failed: {error}")));
    }
    if let Some(interruption) = result.interrupted {
        return Err(Error::msg(format!(
            "training stopped early ({}); continue with --resume {}",
            interruption.reason.as_deref().unwrap_or("interrupted"),
            run_dir.display()
        )));
    }

    let model = result.model;
    let model_bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| Error::file(run_dir.join(MODEL_FILE), e.to_string()))?;
    write_atomic(&run_dir.join(MODEL_FILE), &model_bytes)?;

    let Evaluation { accuracy, loss, .. } = evaluate(&model, &test, &device);
    println!("Test accuracy: {}", percent(accuracy));
    let rows = read_metrics(&metrics_path)?;
    let report = RunReport {
        name: config.name.clone(),
        cell: config.model.cell.to_string(),
        optimizer: config.optimizer.kind.to_string(),
        learning_rate: config.optimizer.learning_rate,
        batch_size,
        epochs: rows.len(),
        parameters,
        backend: request.backend.to_string(),
        train_samples: train_set.len(),
        validation_samples,
        test_samples: test.len(),
        test_accuracy: accuracy,
        test_loss: loss,
        epoch_seconds: rows.iter().map(|row| row.seconds).collect(),
        machine: machine::describe(),
    };
    write_report(&run_dir.join(REPORT_FILE), &report)?;
    let curve = Curve {
        name: &config.name,
        epochs: &rows,
    };
    curves_png(
        &run_dir.join(CURVES_FILE),
        &[curve],
        &format!("{}: learning curves", config.name),
    )?;
    Ok(report)
}

pub fn write_report(path: &Path, report: &RunReport) -> Result<()> {
    let json = serde_json::to_string_pretty(report).expect("a report always serialises");
    write_atomic(path, json.as_bytes())
}

pub fn read_report(path: &Path) -> Result<RunReport> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::file(path, format!("cannot read report: {e}")))?;
    serde_json::from_str(&text).map_err(|e| Error::file(path, format!("not a run report: {e}")))
}

/// A new run must not silently destroy an earlier one: it needs `--overwrite` (or `--resume`).
fn prepare_fresh_run_dir(run_dir: &Path, overwrite: bool) -> Result<()> {
    let earlier = [REPORT_FILE, MODEL_FILE, METRICS_FILE, CHECKPOINT_DIR]
        .iter()
        .any(|name| run_dir.join(name).exists());
    if !earlier {
        return Ok(());
    }
    if !overwrite {
        let what = if run_dir.join(REPORT_FILE).exists() {
            "a finished run"
        } else {
            "an unfinished run (continue it with --resume)"
        };
        return Err(Error::file(
            run_dir,
            format!("already holds {what}; pass --overwrite to replace it"),
        ));
    }
    std::fs::remove_dir_all(run_dir)
        .map_err(|e| Error::file(run_dir, format!("cannot remove the earlier run: {e}")))
}
