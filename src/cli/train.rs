//! `train`, the default command: a config file and the flags that override it.

use std::path::{Path, PathBuf};

use clap::Args;

use super::shared::{BackendArg, DEFAULT_ARTIFACTS, DataDirArg, set};
use crate::backend::Compute;
use crate::commands::Request;
use crate::config::{Cell, ExperimentConfig, OptimizerKind};
use crate::config::{ConfigError, MAX_CONFIG_BYTES};
use crate::error::AtFile;
use crate::error::{Error, Result};
use crate::fsutil::read_text_bounded;
use crate::model::RecurrentKernel;
use crate::run_dir::Naming;
use crate::training::ink_finder::InkFinderExperiment;
use crate::training::number_reader::NumberExperiment;
use crate::training::own_run::{OwnExperiment, OwnRunRequest};
use crate::training::{RequestError, RunOptions, TrainRequest};

pub(super) const EXAMPLES: &str = "\
Examples:
  lstm-mnist train --config configs/lstm-adam.toml
  lstm-mnist train --epochs 1 --train-samples 2000 --name quick
  lstm-mnist train --resume artifacts/quick --epochs 3";

#[derive(Debug, Args)]
pub(super) struct TrainArgs {
    /// Experiment config (TOML); the seed's LSTM + SGD experiment when omitted.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    compute: BackendArg,
    /// Recurrent layer implementation on flex: the fused op, or Burn's stock `nn::Lstm`,
    /// `nn::Gru` or `nn::Rnn` (same parameters, same results, several times slower; other
    /// backends always use the stock one). `--lstm` is the old spelling.
    #[arg(long, alias = "lstm", value_enum, default_value_t = RecurrentKernel::Fused)]
    kernel: RecurrentKernel,
    /// Override `training.epochs`.
    #[arg(long)]
    epochs: Option<usize>,
    /// Override `training.batch_size`.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Override `optimizer.kind`.
    #[arg(long, value_enum)]
    optimizer: Option<OptimizerKind>,
    /// Override `optimizer.learning_rate`.
    #[arg(long, value_name = "RATE", allow_negative_numbers = true)]
    lr: Option<f64>,
    /// Override `model.cell`.
    #[arg(long, value_enum)]
    cell: Option<Cell>,
    /// Override `seed` (weights initialisation and shuffling).
    #[arg(long)]
    seed: Option<u64>,
    /// Train on the first N training images only (quick runs).
    #[arg(long, value_name = "N")]
    train_samples: Option<usize>,
    /// Evaluate on the first N test images only.
    #[arg(long, value_name = "N")]
    test_samples: Option<usize>,
    #[command(flatten)]
    data: DataDirArg,
    /// Root directory of the runs' artifacts [default: artifacts].
    #[arg(long, value_name = "DIR")]
    artifacts: Option<PathBuf>,
    /// Override `name`: the run is written to <artifacts>/<name>/, refused if that holds a run
    /// (without --name, a taken name becomes <name>-2, <name>-3, ...).
    #[arg(long)]
    name: Option<String>,
    /// Continue the interrupted run in DIR (e.g. artifacts/lstm-sgd) from its last checkpoint,
    /// with its own config.toml (only --epochs, --backend, --kernel and --data-dir may be given).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["config", "overwrite"])]
    resume: Option<PathBuf>,
    /// Replace the earlier run of the same name (after checking everything else first).
    #[arg(long)]
    overwrite: bool,
}

impl TrainArgs {
    /// Resolves the config file and the overrides into a checked request: a classifier's
    /// run, or (for a config with an `[ink_finder]` table) the ink finder's.
    pub(super) fn into_request(self) -> Result<Request> {
        if let Some(run_dir) = &self.resume {
            return Ok(Request::Train(self.resume_request(run_dir)?));
        }
        let mut config = match &self.config {
            Some(path) => {
                let text = read_text_bounded(path, MAX_CONFIG_BYTES, "a config")?;
                if InkFinderExperiment::is_one(&text) {
                    let parsed = InkFinderExperiment::parse(&text);
                    return self
                        .own_run_request(path, "an ink finder's", parsed)
                        .map(Request::TrainInkFinder);
                }
                if NumberExperiment::is_one(&text) {
                    let parsed = NumberExperiment::parse(&text);
                    return self
                        .own_run_request(path, "a number reader's", parsed)
                        .map(Request::TrainNumberReader);
                }
                ExperimentConfig::parse(&text).at(path)?
            }
            None => ExperimentConfig::default(),
        };
        self.apply_overrides(&mut config);
        // Errors name where the bad value came from: the flag, or the config file.
        let refuse = |message: RequestError| match (&message, &self.config) {
            (RequestError::Name(problem), _) if self.name.is_some() => {
                Error::msg(format!("--name: {problem}"))
            }
            (_, Some(path)) if self.has_overrides() => {
                Error::file(path, format!("with the command-line overrides, {message}"))
            }
            (_, Some(path)) => Error::file(path, message),
            (_, None) => Error::msg(message),
        };
        let naming = Naming::from_flags(self.overwrite, self.name.is_some());
        let artifacts = self
            .artifacts
            .clone()
            .unwrap_or_else(|| DEFAULT_ARTIFACTS.into());
        TrainRequest::new(config, self.options(), artifacts, naming)
            .map(Request::Train)
            .map_err(refuse)
    }

    /// The run of an experiment of its own kind (an ink finder's, a number reader's: `whose`),
    /// `experiment` from the config at `path`: only the flags that say where it goes, and
    /// `--epochs`, apply to it.
    fn own_run_request<E: OwnExperiment>(
        &self,
        path: &Path,
        whose: &str,
        experiment: std::result::Result<E, ConfigError>,
    ) -> Result<OwnRunRequest<E>> {
        if self.changes_classifier() {
            return Err(Error::file(
                path,
                format!(
                    "{whose} config takes only --epochs, --name, --artifacts, --overwrite \
                     and --data-dir from the command line"
                ),
            ));
        }
        let mut experiment = experiment.at(path)?;
        if let Some(name) = &self.name {
            experiment.set_name(name.clone());
        }
        let (artifacts, naming) = self.destination();
        OwnRunRequest::new(
            experiment,
            self.epochs,
            artifacts,
            naming,
            self.data.data_dir.clone(),
        )
        .map_err(|problem| Error::msg(format!("--name: {problem}")))
    }

    /// Where the run goes: the artifacts directory, and how its name is taken.
    fn destination(&self) -> (PathBuf, Naming) {
        let artifacts = self
            .artifacts
            .clone()
            .unwrap_or_else(|| DEFAULT_ARTIFACTS.into());
        (
            artifacts,
            Naming::from_flags(self.overwrite, self.name.is_some()),
        )
    }

    /// How to carry the run out: the flags that do not change the experiment.
    fn options(&self) -> RunOptions {
        RunOptions {
            compute: Compute {
                backend: self.compute.backend,
                data_dir: self.data.data_dir.clone(),
            },
            kernel: self.kernel,
            experiment: None,
        }
    }

    fn apply_overrides(&self, config: &mut ExperimentConfig) {
        set(&mut config.name, self.name.clone());
        set(&mut config.seed, self.seed);
        set(&mut config.model.cell, self.cell);
        set(&mut config.optimizer.kind, self.optimizer);
        set(&mut config.optimizer.learning_rate, self.lr);
        set(&mut config.training.epochs, self.epochs);
        set(&mut config.training.batch_size, self.batch_size);
        if self.train_samples.is_some() {
            config.data.train_samples = self.train_samples;
        }
        if self.test_samples.is_some() {
            config.data.test_samples = self.test_samples;
        }
    }

    /// Whether any flag overrides the config (the epochs included).
    fn has_overrides(&self) -> bool {
        self.changes_experiment() || self.epochs.is_some()
    }

    /// Whether any flag changes the experiment beyond its length: what a resumed run cannot take.
    fn changes_experiment(&self) -> bool {
        self.name.is_some() || self.changes_classifier()
    }

    /// Whether any flag sets a classifier's own keys (what an ink finder's config has not).
    fn changes_classifier(&self) -> bool {
        self.seed.is_some()
            || self.cell.is_some()
            || self.optimizer.is_some()
            || self.lr.is_some()
            || self.batch_size.is_some()
            || self.train_samples.is_some()
            || self.test_samples.is_some()
    }

    /// A resumed run keeps its own config; only the epochs may grow. Its directory is taken by
    /// its full path, so `.` and relative paths name the run they are.
    fn resume_request(&self, run_dir: &Path) -> Result<TrainRequest> {
        if self.changes_experiment() || self.artifacts.is_some() {
            return Err(Error::msg(
                "--resume continues a run with its own config.toml: only --epochs, --backend, \
                 --kernel and --data-dir may be given with it",
            ));
        }
        TrainRequest::resume(run_dir, self.epochs, self.options())
    }
}
