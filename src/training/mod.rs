//! Training runs: Burn's `SupervisedTraining` + `Learner` over our data, checkpoints every
//! epoch, and the run's artifacts, written through the run directory that this run locks.

mod checkpoint;
mod early_stopping;
mod epoch_log;
pub(crate) mod ink_finder;
mod loss_lines;
mod memory;
pub(crate) mod number_reader;
pub(crate) mod own_run;
mod quiet;

pub(crate) use memory::{TooLargeForMemory, check_fits_in_memory};

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::module::Module;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, ModuleOptimizer, SgdConfig};
use burn::tensor::Device;
use burn::train::checkpoint::{ComposedCheckpointingStrategy, KeepLastNCheckpoints};
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{Learner, SupervisedTraining};

use crate::backend::{Backend, Compute};
use crate::config::{ConfigError, EarlyStoppingConfig, ExperimentConfig, OptimizerKind};
use crate::data::augment::Augmenter;
use crate::data::{Examples, MnistData, MnistLoader, download, test_set};
use crate::error::{AtFile, Error, Result};
use crate::evaluation::{evaluate, percent};
use crate::model::{Classifier, RecurrentKernel};
use crate::output;
use crate::plots::{Curve, curves_png};
use crate::run_dir::{
    EpochMetrics, InvalidName, LockedRun, Naming, RECORD_NAMES, ResumePoint, RunDir, RunName,
    RunReport, RunState, TestScores,
};
use crate::tracking::mlflow::RunStatus;
use crate::tracking::{RunContext, Tracker};
use checkpoint::AtomicFileCheckpointer;
use epoch_log::{DivergenceWatch, EpochLog, EpochStopping, ReaderWatch};
use lstm_mnist_model::inference::INFERENCE_BATCH;

/// A training run, built only through its checks (`new`, `resume`): the config's values, its
/// name and the memory it needs; a resumed run's own config, which only more epochs may
/// extend. The command line maps its flags to these constructors, so a library caller is
/// refused what the command line refuses.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    config: ExperimentConfig,
    options: RunOptions,
    destination: Destination,
}

/// How a run is carried out, beside what it is: none of these change its results.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The backend that trains, and where the dataset is.
    pub compute: Compute,
    /// Which recurrent-layer implementation trains (flex only; see `RecurrentKernel`).
    pub kernel: RecurrentKernel,
    /// The MLflow experiment the run goes into when `$MLFLOW_EXPERIMENT_NAME` names none (a
    /// sweep's points: the sweep's name); `lstm-mnist` when `None`.
    pub experiment: Option<String>,
}

/// Why a config cannot be trained as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// A value breaks its rule.
    Config(ConfigError),
    /// Its `name` cannot be a run directory's.
    Name(InvalidName),
    /// Training it would not fit this machine's memory.
    Memory(TooLargeForMemory),
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestError::Config(problem) => problem.fmt(f),
            RequestError::Name(problem) => write!(f, "invalid value for `name`: {problem}"),
            RequestError::Memory(problem) => problem.fmt(f),
        }
    }
}

impl std::error::Error for RequestError {}

impl From<ConfigError> for RequestError {
    fn from(problem: ConfigError) -> Self {
        Self::Config(problem)
    }
}

impl From<InvalidName> for RequestError {
    fn from(problem: InvalidName) -> Self {
        Self::Name(problem)
    }
}

impl From<TooLargeForMemory> for RequestError {
    fn from(problem: TooLargeForMemory) -> Self {
        Self::Memory(problem)
    }
}

impl TrainRequest {
    /// A new run of `config` under `artifacts`, named as `naming` says. The error says what
    /// in the config is at fault; the caller says where the config came from.
    pub fn new(
        config: ExperimentConfig,
        options: RunOptions,
        artifacts: PathBuf,
        naming: Naming,
    ) -> std::result::Result<Self, RequestError> {
        let name = RunName::new(&config.name)?;
        config.validate()?;
        check_fits_in_memory(&config.model, config.training.batch_size)?;
        Ok(Self {
            config,
            options,
            destination: Destination::New {
                artifacts,
                name,
                naming,
            },
        })
    }

    /// Continues the run in `run_dir` (any spelling: `.`, relative, absolute) with its own
    /// config; `epochs` may extend it.
    pub fn resume(run_dir: &Path, epochs: Option<usize>, options: RunOptions) -> Result<Self> {
        let run = RunDir::open(run_dir)?;
        let mut config = run.read_config()?;
        let extend_to = epochs.filter(|&epochs| epochs != config.training.epochs);
        if let Some(epochs) = extend_to {
            config.training.epochs = epochs;
        }
        config.validate().at(run.config_path())?;
        check_fits_in_memory(&config.model, config.training.batch_size).at(run.config_path())?;
        config.name = run.name().to_string();
        Ok(Self {
            config,
            options,
            destination: Destination::Resume { run, extend_to },
        })
    }

    /// The experiment the run trains.
    pub fn config(&self) -> &ExperimentConfig {
        &self.config
    }
}

/// Where a run's files go.
#[derive(Debug, Clone)]
enum Destination {
    /// A new run directory under `artifacts`, named after the config's `name` as `naming`
    /// says.
    New {
        artifacts: PathBuf,
        name: RunName,
        naming: Naming,
    },
    /// The run in this directory, continued from its last complete checkpoint; `extend_to`,
    /// the epochs it now trains when the command changed them (its config says so after).
    Resume {
        run: RunDir,
        extend_to: Option<usize>,
    },
}

/// The examples a run trains on, validates on each epoch, and is finally tested on.
struct RunData {
    train: Examples,
    /// Held out from training; without a split, the test set (as the seed's
    /// `validation_data=(x_test, y_test)`): training never sees it.
    valid: Examples,
    validation_samples: usize,
    test: Examples,
}

/// Trains (or resumes) a run, evaluates it on the test set and writes its artifacts.
/// Everything that can be checked (device, run lock and checkpoints, data, model) is, before a
/// new run's directory is created or an old one replaced.
pub fn train(request: &TrainRequest) -> Result<RunReport> {
    let device = request.options.compute.backend.device()?;
    let slot = RunSlot::reserve(&request.destination, &request.config)?;
    let data = RunData::load(&request.config, request.options.compute.data_dir.as_deref())?;
    device.seed(request.config.seed);
    let model = Classifier::new(
        &request.config.model,
        request.config.seed,
        &device.clone().autodiff(),
    )
    .with_kernel(request.options.kernel);
    let (run, start) = slot.take()?;
    Training::begin(request, run, data, device)?.run(model, start)
}

/// One claimed run being trained: the config under the run directory's own name, the locked
/// directory, the data, the device and the tracker, built once and read by every stage.
struct Training {
    config: ExperimentConfig,
    backend: Backend,
    run: LockedRun,
    data: RunData,
    device: Device,
    tracker: Arc<Tracker>,
}

/// The model a run ends with, the epoch whose weights it holds when those are not the last
/// epoch's (`restore_best_weights`), and every epoch's metrics.
struct Trained {
    model: Classifier,
    restored_epoch: Option<usize>,
    epochs: Vec<EpochMetrics>,
}

impl Training {
    /// Writes the config into the claimed run and starts tracking it.
    fn begin(
        request: &TrainRequest,
        run: LockedRun,
        data: RunData,
        device: Device,
    ) -> Result<Self> {
        let config = run.own_config(&request.config);
        // A resumed run's config is the user's file: only the epochs they asked for change.
        match request.destination {
            Destination::New { .. } => run.write_config(&config)?,
            Destination::Resume {
                extend_to: Some(epochs),
                ..
            } => run.write_epochs(epochs)?,
            Destination::Resume {
                extend_to: None, ..
            } => {}
        }
        let context = RunContext {
            backend: request.options.compute.backend,
            kernel: request.options.kernel,
            experiment: request.options.experiment.clone(),
        };
        let tracker = Arc::new(Tracker::start(&config, &run, &context));
        Ok(Self {
            config,
            backend: request.options.compute.backend,
            run,
            data,
            device,
            tracker,
        })
    }

    /// The epochs after `start`, the best weights where they are restored, the artifacts; a
    /// run that ends without a model ends its tracked run too.
    fn run(&self, model: Classifier, start: ResumePoint) -> Result<RunReport> {
        let parameters = model.num_params();
        self.tracker.catch_up(&start.history);
        let outcome = self
            .fit(model, start)
            .and_then(|model| self.restore_best_weights(model))
            .and_then(|trained| self.finish(&trained, parameters));
        if let Err(error) = &outcome {
            self.tracker.end(match error {
                Error::ReaderGone => RunStatus::Killed,
                _ => RunStatus::Failed,
            });
        }
        outcome
    }

    /// Runs the epochs after `start` through Burn's Learner, checkpointing each one.
    fn fit(&self, model: Classifier, start: ResumePoint) -> Result<Classifier> {
        let (config, run) = (&self.config, &self.run);
        let learner = Learner::new(model, optimizer(config), config.optimizer.learning_rate);
        let reader = ReaderWatch::default();
        let (training, divergence) = self.supervised_training(start, &reader);
        let result = training.launch(learner);
        // Closing the dashboard now gives the terminal back, so the lines printed after it stay.
        drop(result.renderer);
        if let Some(diverged) = divergence.diverged() {
            run.discard_checkpoints_from(diverged.epoch)?;
            return Err(diverged.error(run, config));
        }
        if let Some(error) = result.error {
            return Err(Error::msg(format!("training failed: {error}")));
        }
        if reader.gone() {
            return Err(Error::ReaderGone);
        }
        if let Some(interruption) = result.interrupted {
            return Err(Error::msg(format!(
                "training stopped early ({}); continue with --resume {}",
                interruption.reason.as_deref().unwrap_or("interrupted"),
                run.path().display()
            )));
        }
        Ok(result.model)
    }

    /// Burn's training loop over our loaders, with atomic checkpoints, `metrics.csv` (and the
    /// tracker's metrics), plain lines off a terminal, and the watch that stops a diverging
    /// run.
    fn supervised_training(
        &self,
        start: ResumePoint,
        reader: &ReaderWatch,
    ) -> (SupervisedTraining<Classifier>, DivergenceWatch) {
        let (config, run) = (&self.config, &self.run);
        let (train_loader, valid_loader) = self.loaders(start.epoch);
        let checkpoint_dir = run.checkpoint_dir();
        let [model_record, optim_record, scheduler_record] = RECORD_NAMES;
        let training =
            SupervisedTraining::new(run.path(), Arc::new(train_loader), Arc::new(valid_loader))
                .metrics((AccuracyMetric::new(), LossMetric::new()))
                .with_custom_checkpointers(
                    AtomicFileCheckpointer::new(&checkpoint_dir, model_record),
                    AtomicFileCheckpointer::new(&checkpoint_dir, optim_record),
                    AtomicFileCheckpointer::new(&checkpoint_dir, scheduler_record),
                )
                // Burn's experiment logger installs a global panic hook and log sink; the
                // binary has its own.
                .with_application_logger(None)
                .num_epochs(config.training.epochs);
        let mut training = with_checkpoints_and_stopping(training, config, reader);
        let divergence = DivergenceWatch::new(training.interrupter());
        // A resumed run's history was read back whole when its resume point was found.
        training = training.with_metric_logger(EpochLog::new(
            &run.metrics_path(),
            start.history,
            config.training.epochs,
            divergence.clone(),
            reader.clone(),
            self.tracker.clone(),
        ));
        if start.epoch > 0 {
            training = training.checkpoint(start.epoch);
        }
        if !std::io::stdout().is_terminal() {
            training = training.renderer(Box::new(quiet::QuietRenderer));
        }
        (training, divergence)
    }

    /// The training loader (shuffled and distorted per epoch, continuing after `epochs_done`)
    /// and the validation loader.
    fn loaders(&self, epochs_done: usize) -> (MnistLoader, MnistLoader) {
        let (config, data, device) = (&self.config, &self.data, &self.device);
        let augment = config
            .data
            .augment
            .clone()
            .map(|augment| Augmenter::new(augment, config.seed));
        let train_loader = MnistLoader::training(
            data.train.clone(),
            config.training.batch_size,
            device.clone().autodiff(),
            config.seed,
            augment,
        )
        .resuming_after(epochs_done);
        // Validation batches only cost memory, and large ones use the cores better.
        let valid_loader = MnistLoader::new(data.valid.clone(), INFERENCE_BATCH, device.clone());
        (train_loader, valid_loader)
    }

    /// With early stopping's `restore_best_weights`, the best epoch's checkpoint replaces the
    /// last epoch's weights (when it is another epoch).
    fn restore_best_weights(&self, model: Classifier) -> Result<Trained> {
        let epochs = self.run.read_metrics()?;
        let best = match &self.config.training.early_stopping {
            Some(stopping) => self.best_weights(stopping, &epochs, model.kernel)?,
            None => None,
        };
        let (model, restored_epoch) = match best {
            Some((epoch, best)) => (best, Some(epoch)),
            None => (model, None),
        };
        Ok(Trained {
            model,
            restored_epoch,
            epochs,
        })
    }

    /// Says when early stopping ended the run, and loads the best epoch's weights when they
    /// are to be restored and are not the last epoch's.
    fn best_weights(
        &self,
        stopping: &EarlyStoppingConfig,
        epochs: &[EpochMetrics],
        kernel: RecurrentKernel,
    ) -> Result<Option<(usize, Classifier)>> {
        let planned_epochs = self.config.training.epochs;
        let last_epoch = epochs.last().map(|row| row.epoch);
        if last_epoch.is_some_and(|last| last < planned_epochs) {
            output::line(format_args!(
                "Early stopping: {} did not improve for {}; stopped after epoch {} of {}",
                stopping.monitor,
                match stopping.patience {
                    0 | 1 => "an epoch".to_string(),
                    patience => format!("{patience} epochs"),
                },
                last_epoch.unwrap_or_default(),
                planned_epochs
            ));
        }
        match early_stopping::best_epoch(epochs, stopping.monitor) {
            Some(best) if stopping.restore_best_weights && last_epoch != Some(best) => {
                let model =
                    self.run
                        .load_checkpoint_model(best, &self.config, kernel, &self.device)?;
                output::line(format_args!(
                    "Restored the weights of epoch {best}, the best {}",
                    stopping.monitor
                ));
                Ok(Some((best, model)))
            }
            _ => Ok(None),
        }
    }

    /// Saves the model, scores it on the test set, writes the report and the curves, tells
    /// the tracker, and says where the run is (on a terminal too, once the dashboard closed).
    fn finish(&self, trained: &Trained, parameters: usize) -> Result<RunReport> {
        let (config, run, data) = (&self.config, &self.run, &self.data);
        let evaluation = evaluate(&trained.model, &data.test, &self.device);
        let rows = &trained.epochs;
        let scores = TestScores::from(&evaluation);
        let report = RunReport {
            epochs: rows.len(),
            train_samples: data.train.len(),
            validation_samples: data.validation_samples,
            epoch_seconds: rows.iter().map(|row| row.seconds).collect(),
            restored_epoch: trained.restored_epoch,
            ..RunReport::new(config, parameters, self.backend, scores)
        };
        run.finish(&trained.model, &report)?;
        let curve = Curve {
            name: &config.name,
            epochs: rows,
        };
        let title = format!("{}: learning curves", config.name);
        curves_png(&run.curves_path(), &[curve], &title)?;
        self.tracker.finish(run, rows.len(), &evaluation);
        output::line(format_args!(
            "Test accuracy: {}",
            percent(evaluation.accuracy)
        ));
        output::line(format_args!("Saved to {}", run.path().display()));
        Ok(report)
    }
}

/// A run's directory before training starts: a resumed run is locked (and checked) first of
/// all; a new one is only claimed once everything else has been checked.
enum RunSlot<'a> {
    Resumed {
        run: LockedRun,
        start: ResumePoint,
    },
    New {
        artifacts: &'a Path,
        name: &'a RunName,
        naming: Naming,
    },
}

impl<'a> RunSlot<'a> {
    fn reserve(destination: &'a Destination, config: &ExperimentConfig) -> Result<Self> {
        Ok(match destination {
            Destination::Resume { run, .. } => {
                let (run, start) = lock_for_resume(run, config)?;
                Self::Resumed { run, start }
            }
            Destination::New {
                artifacts,
                name,
                naming,
            } => Self::New {
                artifacts,
                name,
                naming: *naming,
            },
        })
    }

    /// The locked directory to write, and where training starts in it.
    fn take(self) -> Result<(LockedRun, ResumePoint)> {
        match self {
            Self::Resumed { run, start } => Ok((run, start)),
            Self::New {
                artifacts,
                name,
                naming,
            } => Ok((
                claim_new_run(artifacts, name, naming)?,
                ResumePoint::default(),
            )),
        }
    }
}

/// Locks the run to resume and finds where it stopped; refuses what cannot continue it.
fn lock_for_resume(run: &RunDir, config: &ExperimentConfig) -> Result<(LockedRun, ResumePoint)> {
    let run = run.clone().lock()?;
    run.remove_stale_temp_files();
    let start = run.resume_point(config)?;
    let done = start.epoch;
    for damaged in &start.damaged {
        output::warn(format_args!(
            "{damaged}; resuming from epoch {done} instead"
        ));
    }
    let wanted = config.training.epochs;
    if wanted < done {
        return Err(Error::file(
            run.path(),
            format!(
                "has trained {done} epochs already: --epochs {wanted} cannot continue it; \
                 pass --epochs {done} or more"
            ),
        ));
    }
    if wanted == done && run.state()? == RunState::Finished {
        return Err(Error::file(
            run.path(),
            format!(
                "is finished ({done} of {done} epochs); pass --epochs above {done} to train it further"
            ),
        ));
    }
    Ok((run, start))
}

/// Claims a new run's directory, saying where it went when the config's name was taken.
fn claim_new_run(artifacts: &Path, name: &RunName, naming: Naming) -> Result<LockedRun> {
    let run = RunDir::claim(artifacts, name, naming)?;
    if run.name() != name.as_str() {
        output::line(format_args!(
            "{} is taken: this run goes to {} (--overwrite replaces the old one instead)",
            artifacts.join(name.as_str()).display(),
            run.path().display()
        ));
    }
    Ok(run)
}

impl RunData {
    fn load(config: &ExperimentConfig, data_dir: Option<&Path>) -> Result<Self> {
        let data_dir = download::resolve_data_dir(config.data.dataset.source(), data_dir)?;
        let train_all = MnistData::load_train(&data_dir)?
            .first(config.data.train_samples.unwrap_or(usize::MAX));
        let test = test_set(&config.data, &data_dir)?;
        let (train, held_out) = train_all.split_validation(config.training.validation_split);
        let validation_samples = held_out.len();
        let valid = if held_out.is_empty() {
            test.clone()
        } else {
            held_out
        };
        Ok(Self {
            train,
            valid,
            validation_samples,
            test,
        })
    }
}

/// Which checkpoints are kept (the last two epochs, for resuming; with restore_best_weights,
/// the best one too) and what ends the epochs early: the config's early-stopping rule, when it
/// has one, or standard output's reader gone.
fn with_checkpoints_and_stopping(
    training: SupervisedTraining<Classifier>,
    config: &ExperimentConfig,
    reader: &ReaderWatch,
) -> SupervisedTraining<Classifier> {
    let keep_last = KeepLastNCheckpoints::new(2);
    let early_stopping = config.training.early_stopping.as_ref();
    let training = match early_stopping {
        Some(stopping) if stopping.restore_best_weights => training.with_checkpointing_strategy(
            ComposedCheckpointingStrategy::builder()
                .add(keep_last)
                .add(early_stopping::best_checkpoint(stopping.monitor))
                .build(),
        ),
        _ => training.with_checkpointing_strategy(keep_last),
    };
    training.early_stopping(EpochStopping {
        reader: reader.clone(),
        early_stopping: early_stopping.map(early_stopping::stopping_rule),
    })
}

fn optimizer(config: &ExperimentConfig) -> ModuleOptimizer {
    match config.optimizer.kind {
        OptimizerKind::Sgd => SgdConfig::new()
            .with_momentum((config.optimizer.momentum > 0.0).then_some(MomentumConfig {
                momentum: config.optimizer.momentum,
                dampening: 0.0,
                nesterov: false,
            }))
            .init(),
        // Keras's epsilon; Burn defaults to 1e-5.
        OptimizerKind::Adam => AdamConfig::new().with_epsilon(1e-7).init(),
    }
}
