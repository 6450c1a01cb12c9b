//! Command-line interface: the one place that turns flags into typed requests. Each command's
//! flags, examples and request live in a file of their own; `shared` holds the flags several
//! commands take.

mod augment_preview;
mod bench;
mod evaluate;
mod export_web;
mod interchange;
mod load_check;
mod plot;
mod predict;
mod results;
mod robustness;
mod serve;
mod shared;
mod summary;
mod sweep;
mod train;

use clap::{Parser, Subcommand};

use crate::commands::export::ExportFormat;
use crate::commands::{self, Request};
use crate::error::{Error, Result};

// The examples the top-level --help ends with (README's cheat-sheet has the common ones).
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
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    train: train::TrainArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a model (the default command).
    #[command(after_help = train::EXAMPLES)]
    Train(train::TrainArgs),
    /// Score a trained model on the test set: accuracy, per-class accuracy, confusion matrix.
    #[command(after_help = evaluate::EXAMPLES)]
    Evaluate(evaluate::EvaluateCommandArgs),
    /// Classify your own digit images (PNG, JPEG, ... or an IDX image file).
    #[command(after_help = predict::EXAMPLES)]
    Predict(predict::PredictArgs),
    /// Print a Keras-style table of the model's layers and parameter counts.
    #[command(after_help = summary::EXAMPLES)]
    Summary(summary::SummaryArgs),
    /// Time training steps, inference and the derived epoch and evaluation times.
    #[command(after_help = bench::EXAMPLES)]
    Bench(bench::BenchArgs),
    /// Load-check `serve`: start it on a port the system picks and post MNIST test images
    /// from concurrent clients (`bench --serve` is the old spelling).
    #[command(after_help = load_check::EXAMPLES)]
    LoadCheck(load_check::LoadCheckArgs),
    /// Overlay the learning curves of several runs in one picture.
    #[command(after_help = plot::EXAMPLES)]
    Plot(plot::PlotArgs),
    /// Print the Markdown table of the finished runs (the guide's results table).
    #[command(after_help = results::EXAMPLES)]
    Results(results::ResultsArgs),
    /// Score a trained model on the test set under a fixed suite of corruptions (rotation,
    /// shear, scale, shift, thick and thin strokes, blur, noise, elastic warp); writes
    /// robustness.json beside the model.
    #[command(after_help = robustness::EXAMPLES, long_about = robustness::long_about())]
    Robustness(robustness::RobustnessArgs),
    /// Draw a grid of training images beside the random distortions a config's
    /// [data.augment] gives them.
    #[command(after_help = augment_preview::EXAMPLES)]
    AugmentPreview(augment_preview::AugmentPreviewArgs),
    /// Serve a page to draw digits on and a JSON API, answering with the trained runs.
    #[command(after_help = serve::EXAMPLES)]
    Serve(serve::ServeArgs),
    /// Import a Keras model of the seed's architecture (one LSTM, GRU or SimpleRNN layer over
    /// (28, 28), Dense(10) softmax) from a .keras or legacy .h5 file as a run.
    #[command(after_help = interchange::EXAMPLES_IMPORT_KERAS)]
    ImportKeras(interchange::ImportKerasArgs),
    /// Write a run's weights as a .weights.h5 that Keras's model.load_weights reads.
    #[command(after_help = interchange::EXAMPLES_EXPORT_KERAS)]
    ExportKeras(interchange::ExportArgs),
    /// Write a run's model as an ONNX graph (opset 17: ONNX's own LSTM/GRU/RNN operators,
    /// Gemm, Softmax), input `images` [N, 28, 28], output `probabilities` [N, 10]; checked
    /// against the model in tract before it is kept.
    #[command(after_help = interchange::EXAMPLES_EXPORT_ONNX)]
    ExportOnnx(interchange::ExportArgs),
    /// Write a run's weights as the state_dict (safetensors) of a PyTorch module with
    /// `recurrent` = nn.LSTM/GRU/RNN(28, hidden, batch_first=True) and `head` = nn.Linear.
    #[command(after_help = interchange::EXAMPLES_EXPORT_TORCH)]
    ExportTorch(interchange::ExportArgs),
    /// Write a static site with the page to draw digits on, the model running in the browser
    /// (WebAssembly; build it with tools/build-web.sh): any static file server serves it.
    #[command(after_help = export_web::EXAMPLES)]
    ExportWeb(export_web::ExportWebArgs),
    /// Import a PyTorch state_dict (safetensors) of that module as a run.
    #[command(after_help = interchange::EXAMPLES_IMPORT_TORCH)]
    ImportTorch(interchange::ImportTorchArgs),
    /// Run the points of a sweep file (a grid of configs): here, N at a time; one of them
    /// (--task, for a cluster task); or print a Slurm or Kubernetes job that runs them all.
    #[command(after_help = sweep::EXAMPLES)]
    Sweep(sweep::SweepArgs),
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

/// Parses the command line and runs the command.
pub fn run() -> Result<()> {
    let words = load_check::new_spelling(std::env::args_os().collect())?;
    let cli = match Cli::try_parse_from(words) {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => error.exit(), // --help, --version
        Err(error) => return Err(Error::msg(usage_error(&error))),
    };
    commands::run(cli.into_request()?)
}

impl Cli {
    /// Each command's flags make its own request.
    fn into_request(self) -> Result<Request> {
        match self.command {
            None => self.train.into_request(),
            Some(Command::Train(args)) => args.into_request(),
            Some(Command::Evaluate(args)) => args.into_request(),
            Some(Command::Robustness(args)) => args.into_request(),
            Some(Command::AugmentPreview(args)) => args.into_request(),
            Some(Command::Predict(args)) => args.into_request(),
            Some(Command::Bench(args)) => args.into_request(),
            Some(Command::LoadCheck(args)) => args.into_request(),
            Some(Command::Results(args)) => args.into_request(),
            Some(Command::Serve(args)) => args.into_request(),
            Some(Command::ImportKeras(args)) => args.into_request(),
            Some(Command::ImportTorch(args)) => args.into_request(),
            Some(Command::ExportKeras(args)) => args.into_request(ExportFormat::Keras),
            Some(Command::ExportOnnx(args)) => args.into_request(ExportFormat::Onnx),
            Some(Command::ExportTorch(args)) => args.into_request(ExportFormat::Torch),
            Some(Command::ExportWeb(args)) => args.into_request(),
            Some(Command::Sweep(args)) => args.into_request(),
            Some(Command::Plot(args)) => args.into_request(),
            Some(Command::Summary(args)) => args.into_request(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use clap::CommandFactory;

    use super::*;
    use crate::backend::Backend;
    use crate::commands::sweep::SweepMode;

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
                    request.compute.backend,
                    request.compute.data_dir
                ),
                (task.file, task.artifacts, task.backend, data_dir)
            );
        }
    }

    /// `bench --serve …`, the old spelling, makes the request `load-check …` makes.
    #[test]
    fn bench_serve_is_load_check() {
        let request = |line: &str| {
            let words = line
                .split_whitespace()
                .map(std::ffi::OsString::from)
                .collect();
            let words = load_check::new_spelling(words).unwrap();
            format!(
                "{:?}",
                Cli::try_parse_from(words).unwrap().into_request().unwrap()
            )
        };
        assert_eq!(
            request("lstm-mnist bench --serve --clients 4 --seconds 2 --json"),
            request("lstm-mnist load-check --clients 4 --seconds 2 --json")
        );
        assert!(request("lstm-mnist load-check").contains("LoadCheck"));
        assert!(request("lstm-mnist bench --json").contains("Bench"));
    }

    /// `robustness --help` names every corruption and every page of the suites.
    #[test]
    fn robustness_help_lists_the_whole_suite() {
        let help = robustness::long_about();
        for corruption in crate::evaluation::robustness::SUITE {
            assert!(help.contains(corruption.name), "{}", corruption.name);
        }
        for page in crate::data::pages::PageCondition::ALL {
            assert!(help.contains(page.name()), "{}", page.name());
        }
    }
}
