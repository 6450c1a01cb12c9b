//! Command-line interface: the one place that turns flags into typed requests.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::backend::Backend;
use crate::commands::augment_preview::AugmentPreviewRequest;
use crate::commands::bench::BenchRequest;
use crate::commands::evaluate::EvaluateRequest;
use crate::commands::export::{ExportFormat, ExportRequest};
use crate::commands::import::{ImportFormat, ImportRequest};
use crate::commands::load_check::LoadRequest;
use crate::commands::plot::PlotRequest;
use crate::commands::predict::PredictRequest;
use crate::commands::results::ResultsRequest;
use crate::commands::robustness::RobustnessRequest;
use crate::commands::summary::SummaryRequest;
use crate::commands::sweep::{SweepMode, SweepRequest};
use crate::commands::{self, Request};
use crate::config::{Cell, ExperimentConfig, OptimizerKind};
use crate::error::{Error, Result};
use crate::model::RecurrentKernel;
use crate::run_dir::{Naming, check_name};
use crate::serve::ServeRequest;
use crate::sweep::emit::Scheduler;
use crate::training::{RequestError, RunOptions, TrainRequest};

/// Where runs go when `--artifacts` is not given.
const DEFAULT_ARTIFACTS: &str = "artifacts";

// The examples each command's --help ends with (README's cheat-sheet has the common ones).
const EXAMPLES_TRAIN: &str = "\
Examples:
  lstm-mnist train --config configs/lstm-adam.toml
  lstm-mnist train --epochs 1 --train-samples 2000 --name quick
  lstm-mnist train --resume artifacts/quick --epochs 3";
const EXAMPLES_EVALUATE: &str = "\
Examples:
  lstm-mnist evaluate --checkpoint artifacts/lstm-adam
  lstm-mnist evaluate --checkpoint artifacts/lstm-adam --steps
  lstm-mnist evaluate --checkpoint artifacts/lstm-adam/checkpoint/model-12.bpk --data-dir ~/mnist";
const EXAMPLES_PREDICT: &str = "\
Examples:
  lstm-mnist predict --checkpoint artifacts/lstm-adam my-digit.png
  lstm-mnist predict --checkpoint artifacts/lstm-adam --steps my-digit.png
  lstm-mnist predict --checkpoint artifacts/lstm-adam t10k-images-idx3-ubyte.gz";
const EXAMPLES_SUMMARY: &str = "\
Examples:
  lstm-mnist summary
  lstm-mnist summary --config configs/gru-adam.toml
  lstm-mnist summary --cell rnn";
const EXAMPLES_BENCH: &str = "\
Examples:
  lstm-mnist bench
  lstm-mnist bench --cell gru --kernel stock --batches 10 --json
  lstm-mnist bench --serve --clients 64 --seconds 20";
const EXAMPLES_PLOT: &str = "\
Examples:
  lstm-mnist plot artifacts/lstm-sgd artifacts/lstm-adam
  lstm-mnist plot artifacts/rnn-adam artifacts/gru-adam --output rnn-vs-gru.png";
const EXAMPLES_RESULTS: &str = "\
Examples:
  lstm-mnist results
  lstm-mnist results --artifacts artifacts/seeds";
const EXAMPLES_ROBUSTNESS: &str = "\
Examples:
  lstm-mnist robustness --checkpoint artifacts/lstm-adam-robust
  lstm-mnist robustness --checkpoint artifacts/lstm-adam --json";
const EXAMPLES_AUGMENT_PREVIEW: &str = "\
Examples:
  lstm-mnist augment-preview --config configs/lstm-adam-robust.toml
  lstm-mnist augment-preview --config mine.toml --images 4 --distortions 12 --output preview.png";
const EXAMPLES_SERVE: &str = "\
Examples:
  lstm-mnist serve
  lstm-mnist serve --run gru-adam --addr 0.0.0.0:8080
  lstm-mnist serve --addr 127.0.0.1:0 --artifacts my-runs";
const EXAMPLES_IMPORT_KERAS: &str = "\
Examples:
  lstm-mnist import-keras seed.keras
  lstm-mnist import-keras model.h5 --name keras-lstm --overwrite";
const EXAMPLES_EXPORT_KERAS: &str = "\
Examples:
  lstm-mnist export-keras artifacts/lstm-adam lstm-adam.weights.h5
  lstm-mnist export-keras artifacts/gru-adam gru.weights.h5 --overwrite";
const EXAMPLES_EXPORT_ONNX: &str = "\
Examples:
  lstm-mnist export-onnx artifacts/lstm-adam lstm-adam.onnx
  lstm-mnist export-onnx artifacts/gru-adam gru.onnx --overwrite";
const EXAMPLES_EXPORT_TORCH: &str = "\
Examples:
  lstm-mnist export-torch artifacts/lstm-adam lstm-adam.safetensors
  lstm-mnist export-torch artifacts/rnn-adam/checkpoint/model-20.bpk rnn.safetensors";
const EXAMPLES_IMPORT_TORCH: &str = "\
Examples:
  lstm-mnist import-torch lstm.safetensors --cell lstm
  lstm-mnist import-torch fine-tuned.safetensors --cell gru --name gru-tuned --overwrite";
const EXAMPLES_SWEEP: &str = "\
Examples:
  lstm-mnist sweep configs/sweeps/seeds.toml
  lstm-mnist sweep configs/sweeps/bias.toml --jobs 2
  lstm-mnist sweep configs/sweeps/seeds.toml --emit slurm > seeds.sbatch";
const EXAMPLES_TOP: &str = "\
Examples:
  lstm-mnist --config configs/lstm-adam.toml
  lstm-mnist serve
  lstm-mnist predict --checkpoint artifacts/lstm-adam-robust my-digit.png";

/// Train, evaluate and use recurrent MNIST classifiers (the Keras LSTM example, in Burn).
///
/// With no subcommand, `train` runs: `lstm-mnist --backend wgpu` trains the default
/// experiment (configs/lstm-sgd.toml, the seed's LSTM with SGD) on the GPU.
#[derive(Debug, Parser)]
#[command(
    name = "lstm-mnist",
    version,
    args_conflicts_with_subcommands = true,
    after_help = EXAMPLES_TOP
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a model (the default command).
    #[command(after_help = EXAMPLES_TRAIN)]
    Train(TrainArgs),
    /// Score a trained model on the test set: accuracy, per-class accuracy, confusion matrix.
    #[command(after_help = EXAMPLES_EVALUATE)]
    Evaluate(EvaluateCommandArgs),
    /// Classify your own digit images (PNG, JPEG, ... or an IDX image file).
    #[command(after_help = EXAMPLES_PREDICT)]
    Predict(PredictArgs),
    /// Print a Keras-style table of the model's layers and parameter counts.
    #[command(after_help = EXAMPLES_SUMMARY)]
    Summary(SummaryArgs),
    /// Time training steps, inference and the derived epoch and evaluation times (or, with
    /// --serve, load-check the server).
    #[command(after_help = EXAMPLES_BENCH)]
    Bench(BenchArgs),
    /// Overlay the learning curves of several runs in one picture.
    #[command(after_help = EXAMPLES_PLOT)]
    Plot(PlotArgs),
    /// Print the Markdown table of the finished runs (the guide's results table).
    #[command(after_help = EXAMPLES_RESULTS)]
    Results(ResultsArgs),
    /// Score a trained model on the test set under a fixed suite of corruptions (rotation,
    /// shear, scale, shift, thick and thin strokes, blur, noise, elastic warp); writes
    /// robustness.json beside the model.
    #[command(after_help = EXAMPLES_ROBUSTNESS)]
    Robustness(RobustnessArgs),
    /// Draw a grid of training images beside the random distortions a config's
    /// [data.augment] gives them.
    #[command(after_help = EXAMPLES_AUGMENT_PREVIEW)]
    AugmentPreview(AugmentPreviewArgs),
    /// Serve a page to draw digits on and a JSON API, answering with the trained runs.
    #[command(after_help = EXAMPLES_SERVE)]
    Serve(ServeArgs),
    /// Import a Keras model of the seed's architecture (one LSTM, GRU or SimpleRNN layer over
    /// (28, 28), Dense(10) softmax) from a .keras or legacy .h5 file as a run.
    #[command(after_help = EXAMPLES_IMPORT_KERAS)]
    ImportKeras(ImportKerasArgs),
    /// Write a run's weights as a .weights.h5 that Keras's model.load_weights reads.
    #[command(after_help = EXAMPLES_EXPORT_KERAS)]
    ExportKeras(ExportArgs),
    /// Write a run's model as an ONNX graph (opset 17: ONNX's own LSTM/GRU/RNN operators,
    /// Gemm, Softmax), input `images` [N, 28, 28], output `probabilities` [N, 10]; checked
    /// against the model in tract before it is kept.
    #[command(after_help = EXAMPLES_EXPORT_ONNX)]
    ExportOnnx(ExportArgs),
    /// Write a run's weights as the state_dict (safetensors) of a PyTorch module with
    /// `recurrent` = nn.LSTM/GRU/RNN(28, hidden, batch_first=True) and `head` = nn.Linear.
    #[command(after_help = EXAMPLES_EXPORT_TORCH)]
    ExportTorch(ExportArgs),
    /// Import a PyTorch state_dict (safetensors) of that module as a run.
    #[command(after_help = EXAMPLES_IMPORT_TORCH)]
    ImportTorch(ImportTorchArgs),
    /// Run the points of a sweep file (a grid of configs): here, N at a time; one of them
    /// (--task, for a cluster task); or print a Slurm or Kubernetes job that runs them all.
    #[command(after_help = EXAMPLES_SWEEP)]
    Sweep(SweepArgs),
}

#[derive(Debug, Args)]
struct SweepArgs {
    /// The sweep file (TOML): a base config, [grid] axes and [[points]].
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Points trained at once, the cores split evenly between them.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    jobs: u32,
    /// Run only point K (0-based), as a cluster task does.
    #[arg(long, value_name = "K", conflicts_with_all = ["jobs", "emit"])]
    task: Option<usize>,
    /// Print a job description that runs every point: a Slurm array script or a Kubernetes
    /// Indexed Job.
    #[arg(long, value_enum, value_name = "SCHEDULER", conflicts_with = "jobs")]
    emit: Option<Scheduler>,
    /// With --emit: the cores each task asks for.
    #[arg(long, value_name = "N", default_value_t = 2, requires = "emit", value_parser = clap::value_parser!(u32).range(1..=256))]
    cpus_per_task: u32,
    /// Directory holding the run directories; the sweep's runs go to DIR/<sweep>/<point>.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_ARTIFACTS)]
    artifacts: PathBuf,
    #[command(flatten)]
    compute: BackendArg,
    #[command(flatten)]
    data: DataDirArg,
}

#[derive(Debug, Args)]
struct ImportKerasArgs {
    /// The Keras model: a .keras file (Keras 3) or a .h5 saved by model.save.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    run: ImportedRunArgs,
}

#[derive(Debug, Args)]
struct ImportTorchArgs {
    /// The state_dict: a .safetensors file with the keys recurrent.weight_ih_l0,
    /// recurrent.weight_hh_l0, recurrent.bias_ih_l0, recurrent.bias_hh_l0, head.weight,
    /// head.bias.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The module's recurrent layer: nn.LSTM, nn.GRU or nn.RNN (tanh).
    #[arg(long, value_enum)]
    cell: Cell,
    #[command(flatten)]
    run: ImportedRunArgs,
}

/// Where an imported model's run goes, and what scores it.
#[derive(Debug, Args)]
struct ImportedRunArgs {
    /// The run's name [default: the file's name without its extension].
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Directory holding the run directories.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_ARTIFACTS)]
    artifacts: PathBuf,
    /// Replace the run of that name.
    #[arg(long, requires = "name")]
    overwrite: bool,
    #[command(flatten)]
    compute: BackendArg,
    #[command(flatten)]
    data: DataDirArg,
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// A run directory (artifacts/<name>) or one of its checkpoint/model-N.bpk files.
    #[arg(value_name = "RUN")]
    run: PathBuf,
    /// The file to write (for Keras, named *.weights.h5).
    #[arg(value_name = "OUTPUT")]
    output: PathBuf,
    /// Replace OUTPUT if it exists.
    #[arg(long)]
    overwrite: bool,
}

/// `--backend`, for every command that computes.
#[derive(Debug, Args)]
struct BackendArg {
    /// Compute backend: flex (fast CPU), ndarray (CPU) or wgpu (GPU).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    backend: Backend,
}

/// `--data-dir`, for every command that reads the dataset.
#[derive(Debug, Args)]
struct DataDirArg {
    /// Directory holding the four MNIST IDX files (gzip'd or raw); also read from $MNIST_DIR.
    /// Without either, MNIST is downloaded once into the user's cache.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Directory holding the run directories; every finished run in it is served.
    #[arg(long, value_name = "DIR", default_value = "artifacts")]
    artifacts: PathBuf,
    /// The run used when a request names none [default: the most robust MNIST run with a
    /// test accuracy of 98.5% or more (see `robustness`), else the most accurate one].
    #[arg(long, value_name = "NAME")]
    run: Option<String>,
    /// Address to listen on; port 0 picks a free port (printed when ready).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    addr: String,
    #[command(flatten)]
    compute: BackendArg,
}

#[derive(Debug, Args)]
struct EvaluateCommandArgs {
    #[command(flatten)]
    scored: EvaluateArgs,
    /// Also the test accuracy after each row (how early the model knows): in evaluation.json
    /// as accuracy_after_row, and drawn as reading.png beside the model.
    #[arg(long)]
    steps: bool,
}

#[derive(Debug, Args)]
struct RobustnessArgs {
    #[command(flatten)]
    scored: EvaluateArgs,
    /// Also the picture suite: each test digit photographed on paper (grey paper, side light,
    /// a shadow, ruled and squared lines, coloured ink, a slant, JPEG, blur) and read as
    /// `predict` reads a picture.
    #[arg(long)]
    pictures: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct AugmentPreviewArgs {
    /// Experiment config (TOML) with a [data.augment] table.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Where to write the picture (PNG).
    #[arg(long, value_name = "FILE", default_value = "augment-preview.png")]
    output: PathBuf,
    /// Training images shown (the first ones).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100))]
    images: u32,
    /// Distortions of each (those of epochs 1, 2, ...).
    #[arg(long, value_name = "K", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=50))]
    distortions: u32,
    #[command(flatten)]
    data: DataDirArg,
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
    #[command(flatten)]
    compute: BackendArg,
    /// Recurrent cell of the benchmarked model.
    #[arg(long, value_enum, default_value_t = Cell::Lstm)]
    cell: Cell,
    /// Recurrent layer implementation: the fused op (flex only; elsewhere this falls back to
    /// stock) or Burn's stock layer. `--lstm` is the old spelling.
    #[arg(long, alias = "lstm", value_enum, default_value_t = RecurrentKernel::Fused)]
    kernel: RecurrentKernel,
    /// Timed batches of each kind (after 3 warm-up ones).
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    batches: u32,
    /// Print the figures as one JSON object.
    #[arg(long)]
    json: bool,
    /// Load-check `serve` instead: start it on a port the system picks (on --backend) and post
    /// MNIST test images from concurrent clients. --cell, --kernel and --batches do not apply
    /// to it.
    #[arg(long, conflicts_with_all = ["cell", "kernel", "batches"])]
    serve: bool,
    /// With --serve: concurrent clients.
    #[arg(long, value_name = "N", default_value_t = 64, requires = "serve", value_parser = clap::value_parser!(u32).range(1..=1024))]
    clients: u32,
    /// With --serve: how long the clients post.
    #[arg(long, value_name = "SECONDS", default_value_t = 20, requires = "serve", value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,
    /// With --serve: the runs to serve.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "artifacts",
        requires = "serve"
    )]
    artifacts: PathBuf,
    /// With --serve: the run the clients ask [default: the server's default run].
    #[arg(long, value_name = "NAME", requires = "serve")]
    run: Option<String>,
    /// With --serve: directory holding the MNIST files (also $MNIST_DIR).
    #[arg(long, value_name = "DIR", requires = "serve")]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct EvaluateArgs {
    /// A run directory (artifacts/<name>, its model.bpk is used) or one of its
    /// checkpoint/model-N.bpk files.
    #[arg(long, value_name = "PATH")]
    checkpoint: PathBuf,
    #[command(flatten)]
    compute: BackendArg,
    #[command(flatten)]
    data: DataDirArg,
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
    /// Also show the model's reading row by row: the rows after which its leading class
    /// changes (with --json, the ten probabilities after each of the 28 rows).
    #[arg(long)]
    steps: bool,
    /// Write the 28x28 picture the model received for each image into DIR, as the serve page
    /// shows it (white digit on black, enlarged 4x): `<file>.input.png`, and
    /// `<file>-<index>.input.png` for the images of an IDX file.
    #[arg(long, value_name = "DIR")]
    save_inputs: Option<PathBuf>,
    /// Print the predictions as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    compute: BackendArg,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
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

#[derive(Debug, Args)]
struct SummaryArgs {
    /// Experiment config (TOML); the seed's experiment when omitted.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override `model.cell`.
    #[arg(long, value_enum)]
    cell: Option<Cell>,
}

impl EvaluateArgs {
    fn into_request(self) -> EvaluateRequest {
        EvaluateRequest {
            model: self.checkpoint,
            backend: self.compute.backend,
            data_dir: self.data.data_dir,
            steps: false,
        }
    }
}

impl TrainArgs {
    /// Resolves the config file and the overrides into a checked request.
    fn into_request(self) -> Result<TrainRequest> {
        if let Some(run_dir) = &self.resume {
            return self.resume_request(run_dir);
        }
        let mut config = match &self.config {
            Some(path) => ExperimentConfig::load(path)?,
            None => ExperimentConfig::default(),
        };
        self.apply_overrides(&mut config);
        // Errors name where the bad value came from: the flag, or the config file.
        let refuse = |message: RequestError| match &self.config {
            Some(path) if self.has_overrides() => {
                Error::file(path, format!("with the command-line overrides, {message}"))
            }
            Some(path) => Error::file(path, message),
            None => Error::msg(message),
        };
        check_name_flag(self.name.as_deref())?;
        let naming = Naming::from_flags(self.overwrite, self.name.is_some());
        let artifacts = self
            .artifacts
            .clone()
            .unwrap_or_else(|| DEFAULT_ARTIFACTS.into());
        TrainRequest::new(config, self.options(), artifacts, naming).map_err(refuse)
    }

    /// How to carry the run out: the flags that do not change the experiment.
    fn options(&self) -> RunOptions {
        RunOptions {
            backend: self.compute.backend,
            kernel: self.kernel,
            data_dir: self.data.data_dir.clone(),
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
        self.name.is_some()
            || self.seed.is_some()
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
    commands::run(cli.into_request()?)
}

impl Cli {
    /// The one place flags become a typed request: each command's flags make its own.
    fn into_request(self) -> Result<Request> {
        Ok(match self.command {
            None => Request::Train(self.train.into_request()?),
            Some(Command::Train(args)) => Request::Train(args.into_request()?),
            Some(Command::Evaluate(args)) => Request::Evaluate(EvaluateRequest {
                steps: args.steps,
                ..args.scored.into_request()
            }),
            Some(Command::Robustness(args)) => Request::Robustness(RobustnessRequest {
                scored: args.scored.into_request(),
                pictures: args.pictures,
                json: args.json,
            }),
            Some(Command::AugmentPreview(args)) => Request::AugmentPreview(AugmentPreviewRequest {
                config_path: args.config,
                output: args.output,
                images: args.images as usize,
                distortions: args.distortions as usize,
                data_dir: args.data.data_dir,
            }),
            Some(Command::Predict(args)) => Request::Predict(PredictRequest {
                model: args.checkpoint,
                images: args.images,
                top: args.top as usize,
                steps: args.steps,
                json: args.json,
                save_inputs: args.save_inputs,
                backend: args.compute.backend,
            }),
            Some(Command::Bench(args)) => args.into_request(),
            Some(Command::Results(args)) => Request::Results(ResultsRequest {
                artifacts: args.artifacts,
            }),
            Some(Command::Serve(args)) => Request::Serve(ServeRequest {
                artifacts: args.artifacts,
                run: args.run,
                addr: args.addr,
                backend: args.compute.backend,
            }),
            Some(Command::ImportKeras(args)) => {
                args.run.into_request(ImportFormat::Keras, args.file)?
            }
            Some(Command::ImportTorch(args)) => args
                .run
                .into_request(ImportFormat::Torch(args.cell), args.file)?,
            Some(Command::ExportKeras(args)) => args.into_request(ExportFormat::Keras),
            Some(Command::ExportOnnx(args)) => args.into_request(ExportFormat::Onnx),
            Some(Command::ExportTorch(args)) => args.into_request(ExportFormat::Torch),
            Some(Command::Sweep(args)) => args.into_request(),
            Some(Command::Plot(args)) => Request::Plot(PlotRequest {
                runs: args.runs,
                output: args.output,
            }),
            Some(Command::Summary(args)) => args.into_request()?,
        })
    }
}

impl BenchArgs {
    /// `bench`, or with `--serve` the server's load check: two modes of their own.
    fn into_request(self) -> Request {
        if self.serve {
            return Request::LoadCheck(LoadRequest {
                backend: self.compute.backend,
                artifacts: self.artifacts,
                run: self.run,
                clients: self.clients as usize,
                seconds: self.seconds,
                data_dir: self.data_dir,
                json: self.json,
            });
        }
        Request::Bench(BenchRequest {
            backend: self.compute.backend,
            cell: self.cell,
            kernel: self.kernel,
            batches: self.batches as usize,
            json: self.json,
        })
    }
}

impl ExportArgs {
    fn into_request(self, format: ExportFormat) -> Request {
        Request::Export(ExportRequest {
            format,
            model: self.run,
            output: self.output,
            overwrite: self.overwrite,
        })
    }
}

impl ImportedRunArgs {
    fn into_request(self, format: ImportFormat, file: PathBuf) -> Result<Request> {
        check_name_flag(self.name.as_deref())?;
        Ok(Request::Import(ImportRequest {
            format,
            file,
            name: self.name,
            artifacts: self.artifacts,
            overwrite: self.overwrite,
            backend: self.compute.backend,
            data_dir: self.data.data_dir,
        }))
    }
}

impl SweepArgs {
    fn into_request(self) -> Request {
        let mode = match (self.task, self.emit) {
            (Some(index), _) => SweepMode::Task(index),
            (None, Some(scheduler)) => SweepMode::Emit {
                scheduler,
                cpus_per_task: self.cpus_per_task as usize,
            },
            (None, None) => SweepMode::Local {
                jobs: self.jobs as usize,
            },
        };
        Request::Sweep(SweepRequest {
            mode,
            file: self.file,
            artifacts: self.artifacts,
            backend: self.compute.backend,
            data_dir: self.data.data_dir,
        })
    }
}

impl SummaryArgs {
    fn into_request(self) -> Result<Request> {
        let mut config = match &self.config {
            Some(path) => ExperimentConfig::load(path)?,
            None => ExperimentConfig::default(),
        };
        set(&mut config.model.cell, self.cell);
        Ok(Request::Summary(SummaryRequest { config }))
    }
}

/// `--name`, where given, must be a run name.
fn check_name_flag(name: Option<&str>) -> Result<()> {
    match name {
        Some(name) => check_name(name).map_err(|e| Error::msg(format!("--name: {e}"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every example a `--help` shows is a command line that parses (shell redirections aside).
    #[test]
    fn every_help_example_parses() {
        let cli = Cli::command();
        let helps = std::iter::once(&cli).chain(cli.get_subcommands());
        let examples: Vec<String> = helps
            .filter_map(|command| command.get_after_help().map(|help| help.to_string()))
            .flat_map(|help| help.lines().skip(1).map(str::to_string).collect::<Vec<_>>())
            .collect();
        assert!(examples.len() >= 30, "{examples:?}");
        for example in examples {
            let words = example.split_whitespace().take_while(|word| *word != ">");
            if let Err(error) = Cli::try_parse_from(words) {
                panic!("{example}: {error}");
            }
        }
    }

    /// A sweep task's arguments, as the program writes them for its own tasks, parse back
    /// into the very task.
    #[test]
    fn a_sweep_tasks_arguments_are_the_inverse_of_its_flags() {
        use crate::sweep::SweepTask;
        for data_dir in [None, Some(PathBuf::from("/data/it's mnist"))] {
            let task = SweepTask {
                file: "/shared/sweeps/lr grid.toml".into(),
                artifacts: "/shared/artifacts".into(),
                backend: Backend::Wgpu,
                data_dir: data_dir.clone(),
            };
            let mut words = vec![std::ffi::OsString::from("lstm-mnist")];
            words.extend(task.to_args());
            words.extend(["--task".into(), "3".into()]);
            let parsed = Cli::try_parse_from(words).unwrap().into_request().unwrap();
            let Request::Sweep(request) = parsed else {
                panic!("not a sweep: {parsed:?}");
            };
            assert_eq!(request.mode, SweepMode::Task(3));
            assert_eq!(
                (
                    request.file,
                    request.artifacts,
                    request.backend,
                    request.data_dir
                ),
                (task.file, task.artifacts, task.backend, data_dir)
            );
        }
    }
}
