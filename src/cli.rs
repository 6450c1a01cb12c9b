//! Command-line interface: the one place that turns flags into typed requests.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::backend::Backend;
use crate::bench;
use crate::config::{Cell, ExperimentConfig, OptimizerKind};
use crate::error::{Error, Result};
use crate::evaluation::evaluate_checkpoint;
use crate::inference::{load_checkpoint, predict, read_digit_images};
use crate::model::{DigitClassifier, LstmKernel};
use crate::plots::{Curve, curves_png};
use crate::results;
use crate::training::epoch_log::read_metrics;
use crate::training::{self, CONFIG_FILE, METRICS_FILE, TrainRequest};

/// Train, evaluate and use recurrent MNIST classifiers (the Keras LSTM example, in Burn).
///
/// With no subcommand, `train` runs: `lstm-mnist --backend wgpu` trains the default
/// experiment (configs/lstm-sgd.toml, the seed's LSTM with SGD) on the GPU.
#[derive(Debug, Parser)]
#[command(name = "lstm-mnist", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a model (the default command).
    Train(TrainArgs),
    /// Score a trained model on the test set: accuracy, per-class accuracy, confusion matrix.
    Evaluate(EvaluateArgs),
    /// Classify your own digit images (PNG, JPEG, ... or an IDX image file).
    Predict(PredictArgs),
    /// Print a Keras-style table of the model's layers and parameter counts.
    Summary(SummaryArgs),
    /// Time training steps, inference and the derived epoch and evaluation times.
    Bench(BenchArgs),
    /// Overlay the learning curves of several runs in one picture.
    Plot(PlotArgs),
    /// Print the Markdown table of the finished runs (README's results table).
    Results(ResultsArgs),
}

#[derive(Debug, Args)]
struct ResultsArgs {
    /// Directory holding the run directories.
    #[arg(long, value_name = "DIR", default_value = "artifacts")]
    artifacts: PathBuf,
}

#[derive(Debug, Args)]
struct PlotArgs {
    /// Run directories (artifacts/<name>), each with its metrics.csv.
    #[arg(required = true, value_name = "RUN")]
    runs: Vec<PathBuf>,
    /// Where to write the picture (PNG).
    #[arg(long, value_name = "FILE", default_value = "artifacts/comparison.png")]
    output: PathBuf,
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    backend: Backend,
    /// Recurrent cell of the benchmarked model.
    #[arg(long, value_enum, default_value_t = Cell::Lstm)]
    cell: Cell,
    /// LSTM implementation: the fused op (flex only; elsewhere this falls back to stock) or
    /// Burn's stock `nn::Lstm`.
    #[arg(long, value_enum, default_value_t = LstmKernel::Fused)]
    lstm: LstmKernel,
    /// Timed batches of each kind (after 3 warm-up ones).
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    batches: u32,
    /// Print the figures as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct EvaluateArgs {
    /// A run directory (artifacts/<name>, its model.bpk is used) or one of its
    /// checkpoint/model-N.bpk files.
    #[arg(long, value_name = "PATH")]
    checkpoint: PathBuf,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    backend: Backend,
    /// Directory holding the MNIST files (also $MNIST_DIR); downloaded when neither is given.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct PredictArgs {
    /// A run directory (artifacts/<name>) or one of its checkpoint/model-N.bpk files.
    #[arg(long, value_name = "PATH")]
    checkpoint: PathBuf,
    /// Image files: PNG, JPEG, ... of any size, or IDX image files (every image in them).
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
    /// Show the K most likely digits of each image.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10))]
    top: u32,
    /// Print the predictions as JSON.
    #[arg(long)]
    json: bool,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    backend: Backend,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Experiment config (TOML); the seed's LSTM + SGD experiment when omitted.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Compute backend: flex (fast CPU), ndarray (CPU) or wgpu (GPU).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    backend: Backend,
    /// LSTM implementation on flex: the fused op, or Burn's stock `nn::Lstm` (same parameters,
    /// same results, ~3× slower; other backends always use the stock one).
    #[arg(long, value_enum, default_value_t = LstmKernel::Fused)]
    lstm: LstmKernel,
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
    /// Directory holding the four MNIST IDX files (gzip'd or raw); also read from $MNIST_DIR.
    /// Without either, MNIST is downloaded once into the user's cache.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Root directory of the runs' artifacts.
    #[arg(long, value_name = "DIR", default_value = "artifacts")]
    artifacts: PathBuf,
    /// Override `name`: the run is written to <artifacts>/<name>/.
    #[arg(long)]
    name: Option<String>,
    /// Continue the interrupted run in DIR (e.g. artifacts/lstm-sgd) from its last checkpoint,
    /// with its own config.toml (only --epochs, --backend, --lstm and --data-dir may be given).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["config", "overwrite"])]
    resume: Option<PathBuf>,
    /// Replace an earlier run of the same name instead of refusing.
    #[arg(long)]
    overwrite: bool,
}

#[derive(Debug, Args)]
struct SummaryArgs {
    /// Experiment config (TOML); the seed's experiment when omitted.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override `model.cell`.
    #[arg(long, value_enum)]
    cell: Option<Cell>,
}

impl TrainArgs {
    /// Resolves the config file and the overrides into a validated request.
    pub fn into_request(self) -> Result<TrainRequest> {
        if let Some(run_dir) = &self.resume {
            return self.resume_request(run_dir);
        }
        let mut config = match &self.config {
            Some(path) => ExperimentConfig::load(path)?,
            None => ExperimentConfig::default(),
        };
        let overrides = |config: &mut ExperimentConfig| {
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
        };
        overrides(&mut config);
        config.validate().map_err(|e| match &self.config {
            Some(path) => Error::file(path, format!("with the command-line overrides, {e}")),
            None => Error::msg(e),
        })?;
        Ok(TrainRequest {
            config,
            backend: self.backend,
            lstm: self.lstm,
            data_dir: self.data_dir,
            artifacts: self.artifacts,
            resume: false,
            overwrite: self.overwrite,
        })
    }

    fn resume_request(&self, run_dir: &Path) -> Result<TrainRequest> {
        let changes_config = self.name.is_some()
            || self.seed.is_some()
            || self.cell.is_some()
            || self.optimizer.is_some()
            || self.lr.is_some()
            || self.batch_size.is_some()
            || self.train_samples.is_some()
            || self.test_samples.is_some();
        if changes_config {
            return Err(Error::msg(
                "--resume continues a run with its own config.toml: only --epochs, --backend, \
                 --lstm and --data-dir may be given with it",
            ));
        }
        let config_path = run_dir.join(CONFIG_FILE);
        if !config_path.is_file() {
            return Err(Error::file(
                run_dir,
                format!("not a run directory: it has no {CONFIG_FILE}"),
            ));
        }
        let mut config = ExperimentConfig::load(&config_path)?;
        set(&mut config.training.epochs, self.epochs);
        config
            .validate()
            .map_err(|e| Error::file(&config_path, e))?;
        let name = run_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        config.name = name.to_string();
        Ok(TrainRequest {
            config,
            backend: self.backend,
            lstm: self.lstm,
            data_dir: self.data_dir.clone(),
            artifacts: run_dir.parent().unwrap_or(Path::new(".")).to_path_buf(),
            resume: true,
            overwrite: false,
        })
    }
}

/// Prints `text`; a reader that went away (`| head`) is not an error.
fn write_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::msg(format!("cannot write to standard output: {e}")))
        }
        _ => Ok(()),
    }
}

/// clap's usage error on one line: what is wrong and, where it has them, the accepted values.
fn usage_error(error: &clap::Error) -> String {
    error
        .render()
        .to_string()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("For more information"))
        .collect::<Vec<_>>()
        .join(" ")
        .trim_start_matches("error: ")
        .to_string()
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

/// Parses the command line and runs the command.
pub fn run() -> Result<()> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => error.exit(), // --help, --version
        Err(error) => return Err(Error::msg(usage_error(&error))),
    };
    match cli.command {
        None => training::train(&cli.train.into_request()?).map(drop),
        Some(Command::Train(args)) => training::train(&args.into_request()?).map(drop),
        Some(Command::Evaluate(args)) => {
            let evaluation =
                evaluate_checkpoint(&args.checkpoint, args.backend, args.data_dir.as_deref())?;
            write_stdout(&evaluation.table())
        }
        Some(Command::Predict(args)) => {
            let device = args.backend.device()?;
            let loaded = load_checkpoint(&args.checkpoint, &device)?;
            let mut images = Vec::new();
            for path in &args.images {
                images.extend(read_digit_images(path)?);
            }
            let class_names = loaded.config.data.dataset.source().class_names;
            let predictions = predict(
                &loaded.model,
                &images,
                args.top as usize,
                class_names,
                &device,
            );
            let text = if args.json {
                serde_json::to_string_pretty(&predictions).expect("predictions serialise") + "\n"
            } else {
                predictions.iter().map(|p| p.line() + "\n").collect()
            };
            write_stdout(&text)
        }
        Some(Command::Bench(args)) => {
            let report = bench::run(args.backend, args.cell, args.lstm, args.batches as usize)?;
            if args.json {
                write_stdout(&(serde_json::to_string(&report).expect("a report serialises") + "\n"))
            } else {
                write_stdout(&report.table())
            }
        }
        Some(Command::Results(args)) => write_stdout(&results::table(&args.artifacts)?),
        Some(Command::Plot(args)) => {
            let runs = args
                .runs
                .iter()
                .map(|run| {
                    let name = run.file_name().map(|n| n.to_string_lossy().to_string());
                    Ok((
                        name.unwrap_or_default(),
                        read_metrics(&run.join(METRICS_FILE))?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            let curves: Vec<Curve> = runs
                .iter()
                .map(|(name, epochs)| Curve { name, epochs })
                .collect();
            curves_png(&args.output, &curves, "learning curves")?;
            write_stdout(&format!("wrote {}\n", args.output.display()))
        }
        Some(Command::Summary(args)) => {
            let mut config = match &args.config {
                Some(path) => ExperimentConfig::load(path)?,
                None => ExperimentConfig::default(),
            };
            set(&mut config.model.cell, args.cell);
            let model = DigitClassifier::new(&config.model, config.seed, &Backend::Flex.device()?);
            write_stdout(&model.summary(&config.name))
        }
    }
}
