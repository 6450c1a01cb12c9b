//! Training the number reader (`lstm_mnist_model::number`) with Burn's `Learner`: fresh
//! numbers composed from MNIST's training digits every epoch, CTC loss, checkpoints each
//! epoch; then the fixed test numbers read by it and by the component baseline. A config with
//! a `[number_model]` table is such a run: `lstm-mnist train --config configs/number-bilstm.toml`
//! writes `number-model.toml`, `number-model.bpk`, `number-metrics.csv` and
//! `number-report.json` into its run directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::module::Module;
use burn::optim::AdamConfig;
use burn::optim::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::tensor::Device;
use burn::train::metric::LossMetric;
use burn::train::{Learner, SupervisedTraining};
use lstm_mnist_model::model::RecurrentKernel;
use lstm_mnist_model::number::{NumberModelConfig, NumberReader};
use serde::{Deserialize, Serialize};

use super::checkpoint::AtomicFileCheckpointer;
use super::loss_lines::LossLines;
use super::quiet;
use crate::config::{AugmentConfig, ConfigError, MAX_CONFIG_BYTES, describe_toml_error};
use crate::data::MnistData;
use crate::data::number_loader::NumberLoader;
use crate::data::numbers::{NumberComposer, TEST_NUMBERS, test_numbers};
use crate::error::{AtFile, Error, Result};
use crate::evaluation::numbers::{NumberEvaluation, read_by_components, read_numbers, score};
use crate::fsutil::{read_bounded, read_text_bounded, write_atomic};
use crate::output;
use crate::run_dir::{
    LockedRun, ModelRef, NUMBER_CONFIG, NUMBER_METRICS, NUMBER_REPORT, NUMBER_WEIGHTS, RECORD_NAMES,
};
use crate::training::own_run::{OwnExperiment, OwnRunRequest};

/// A number reader's config file: its name and seed, its architecture and its training.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberExperiment {
    pub name: String,
    #[serde(default)]
    pub seed: u64,
    pub number_model: NumberModelConfig,
    pub number_training: NumberTraining,
}

/// How the number reader is trained: on `numbers` freshly composed numbers each epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberTraining {
    pub numbers: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Where Adam's step size ends after the last batch, falling from `learning_rate` along a
    /// cosine; left out, it stays at `learning_rate` throughout.
    #[serde(default)]
    pub final_learning_rate: Option<f64>,
    /// Test numbers the validation loss is measured on each epoch (the first of the fixed
    /// test set).
    #[serde(default = "default_validation_numbers")]
    pub validation_numbers: usize,
    /// The digit classifier whose reading of each connected mark is the baseline.
    #[serde(default = "default_baseline")]
    pub baseline: PathBuf,
    /// Each training number's digits distorted before they are placed (`[data.augment]`'s
    /// keys and defaults); none without the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augment: Option<AugmentConfig>,
}

fn default_validation_numbers() -> usize {
    2_000
}

fn default_baseline() -> PathBuf {
    "artifacts/lstm-adam-robust".into()
}

impl NumberExperiment {
    /// Whether the TOML `text` is a number reader's config (it has a `[number_model]` table).
    pub(crate) fn is_one(text: &str) -> bool {
        text.parse::<toml::Table>()
            .is_ok_and(|table| table.contains_key("number_model"))
    }

    /// The config in `text`, its values checked; the message names the key (or the line) at
    /// fault.
    pub(crate) fn parse(text: &str) -> std::result::Result<Self, ConfigError> {
        let config: Self =
            toml::from_str(text).map_err(|e| ConfigError::Toml(describe_toml_error(text, &e)))?;
        if let Some((key, problem)) = config.number_model.problem() {
            return Err(ConfigError::invalid(key, &problem));
        }
        let training = &config.number_training;
        for (key, value) in [
            ("numbers", training.numbers),
            ("epochs", training.epochs),
            ("batch_size", training.batch_size),
            ("validation_numbers", training.validation_numbers),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(
                    &format!("number_training.{key}"),
                    "must be at least 1",
                ));
            }
        }
        if !(training.learning_rate > 0.0 && training.learning_rate <= 1.0) {
            return Err(ConfigError::invalid(
                "number_training.learning_rate",
                "must be a positive number no larger than 1",
            ));
        }
        if let Some(last) = training.final_learning_rate
            && !(last.is_finite() && last > 0.0 && last <= training.learning_rate)
        {
            return Err(ConfigError::invalid(
                "number_training.final_learning_rate",
                "must be a positive number no larger than learning_rate",
            ));
        }
        if let Some(augment) = &training.augment {
            augment.validate_as("number_training.augment")?;
        }
        Ok(config)
    }
}

/// A number reader's training run, checked: its config and where it goes.
pub type NumberRequest = OwnRunRequest<NumberExperiment>;

impl OwnExperiment for NumberExperiment {
    const CONFIG_FILE: &'static str = NUMBER_CONFIG;

    fn name(&self) -> &str {
        &self.name
    }

    fn set_name(&mut self, name: String) {
        self.name = name;
    }

    fn set_epochs(&mut self, epochs: usize) {
        self.number_training.epochs = epochs;
    }
}

/// The number reader's and the component baseline's scores on the fixed test numbers.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NumberReport {
    /// The digit classifier the baseline classifies each mark with.
    pub baseline_model: PathBuf,
    pub reader: NumberEvaluation,
    pub baseline: NumberEvaluation,
}

impl NumberReport {
    /// The report of the number reader's run in `dir`.
    pub(crate) fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(NUMBER_REPORT);
        let text = read_text_bounded(&path, MAX_REPORT_BYTES, "a number reader's report")?;
        serde_json::from_str(&text)
            .map_err(|e| Error::file(&path, format!("not a number reader's report: {e}")))
    }
}

/// A number reader's report is a few kilobytes.
const MAX_REPORT_BYTES: u64 = 1 << 20;

/// Trains the reader, writes its run, and reports it beside the component baseline on the
/// fixed test numbers. The baseline's model and the data are loaded before anything is written.
pub(crate) fn run_number_reader(request: &NumberRequest) -> Result<NumberReport> {
    let device = Device::flex();
    let training = &request.experiment.number_training;
    let (_, digits) = ModelRef::resolve(&training.baseline)?.load(&device)?;
    let data = request.mnist()?;
    let (run, experiment) = request.claim()?;
    let tests = test_numbers(&data.test, TEST_NUMBERS);
    let started = std::time::Instant::now();
    let reader = fit(&experiment, &run, &data, &tests, &device)?;
    let seconds = started.elapsed().as_secs_f64();
    let epochs = experiment.number_training.epochs;
    output::line(format!(
        "trained {epochs} epochs in {seconds:.0} s ({:.1} s an epoch, its validation included)",
        seconds / epochs as f64
    ));
    let bytes = reader_bytes(&reader);
    write_atomic(&run.path().join(NUMBER_WEIGHTS), &bytes)?;
    let report = NumberReport {
        baseline_model: training.baseline.clone(),
        reader: score(&tests, &read_numbers(&reader, &tests, &device)),
        baseline: score(&tests, &read_by_components(&digits, &tests)),
    };
    for (who, scores) in [
        ("number reader", &report.reader),
        ("components", &report.baseline),
    ] {
        output::line(format!(
            "{who}: {:.2}% of {} test numbers whole, character error rate {:.2}%",
            scores.all.whole_number * 100.0,
            scores.all.numbers,
            scores.all.character_error_rate * 100.0
        ));
    }
    let json = serde_json::to_string_pretty(&report).expect("a report serialises");
    write_atomic(&run.path().join(NUMBER_REPORT), json.as_bytes())?;
    Ok(report)
}

/// Runs the epochs through Burn's Learner: Adam, CTC loss, a checkpoint each epoch; the
/// validation loss on the first of the test numbers.
fn fit(
    experiment: &NumberExperiment,
    run: &LockedRun,
    data: &MnistData,
    tests: &[crate::data::numbers::ComposedNumber],
    device: &Device,
) -> Result<NumberReader> {
    let training = &experiment.number_training;
    let train_device = device.clone().autodiff();
    device.seed(experiment.seed);
    let reader = experiment
        .number_model
        .init(&train_device)
        .with_kernel(RecurrentKernel::Fused);
    let mut composer = NumberComposer::new(data.train.clone(), experiment.seed);
    if let Some(augment) = &training.augment {
        composer = composer.with_augment(augment.clone());
    }
    let train_loader = NumberLoader::training(
        composer,
        training.numbers,
        training.batch_size,
        experiment.seed,
        train_device.clone(),
    );
    let validation = tests[..training.validation_numbers.min(tests.len())].to_vec();
    let valid_loader = NumberLoader::fixed(validation, 256, device.clone());
    let checkpoint_dir = run.checkpoint_dir();
    let [model_record, optim_record, scheduler_record] = RECORD_NAMES;
    let mut supervised =
        SupervisedTraining::new(run.path(), Arc::new(train_loader), Arc::new(valid_loader))
            .metrics((LossMetric::new(),))
            .with_custom_checkpointers(
                AtomicFileCheckpointer::new(&checkpoint_dir, model_record),
                AtomicFileCheckpointer::new(&checkpoint_dir, optim_record),
                AtomicFileCheckpointer::new(&checkpoint_dir, scheduler_record),
            )
            .with_application_logger(None)
            .with_metric_logger(LossLines::new(
                run.path().join(NUMBER_METRICS),
                training.epochs,
            ))
            .num_epochs(training.epochs);
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        supervised = supervised.renderer(Box::new(quiet::QuietRenderer));
    }
    let learner = Learner::new(reader, AdamConfig::new().init(), step_sizes(training));
    let result = supervised.launch(learner);
    drop(result.renderer);
    if let Some(error) = result.error {
        return Err(Error::msg(format!("training failed: {error}")));
    }
    if let Some(interruption) = result.interrupted {
        return Err(Error::msg(format!(
            "training stopped early ({})",
            interruption.reason.as_deref().unwrap_or("interrupted")
        )));
    }
    Ok(result.model)
}

/// Adam's step size batch by batch: a cosine from `learning_rate` to `final_learning_rate` over
/// every batch of the run (a constant where the two are one).
fn step_sizes(training: &NumberTraining) -> ModuleLrScheduler {
    let batches = training.numbers.div_ceil(training.batch_size) * training.epochs;
    CosineAnnealingLrSchedulerConfig::new(training.learning_rate, batches)
        .with_min_lr(
            training
                .final_learning_rate
                .unwrap_or(training.learning_rate),
        )
        .init()
        .expect("the config's learning rates were checked")
}

/// The record bytes of a trained reader.
fn reader_bytes(reader: &NumberReader) -> Vec<u8> {
    reader
        .clone()
        .into_record()
        .into_bytes()
        .expect("a reader's record serialises")
        .to_vec()
}

/// A number reader's run, loaded on `device`.
pub(crate) fn load_reader(dir: &Path, device: &Device) -> Result<NumberReader> {
    let config_path = dir.join(NUMBER_CONFIG);
    let text = read_text_bounded(&config_path, MAX_CONFIG_BYTES, "a config")?;
    let experiment = NumberExperiment::parse(&text).at(&config_path)?;
    let weights_path = dir.join(NUMBER_WEIGHTS);
    let weights = read_bounded(&weights_path, MAX_READER_BYTES, "a number reader's weights")?;
    experiment
        .number_model
        .from_weights(&weights, device)
        .map_err(|e| {
            Error::file(
                &weights_path,
                format!("not the weights of the reader its config describes: {e}"),
            )
        })
}

/// A number reader's weights are far smaller than this.
const MAX_READER_BYTES: u64 = 256 << 20;
