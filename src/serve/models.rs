//! The runs a server answers with: every finished run under the artifacts directory, loaded
//! once, and one inference thread that owns the models and classifies queued requests in
//! batches (concurrent requests share one forward pass per model).

use std::path::Path;
use std::sync::mpsc;

use axum::body::Bytes;
use burn::module::Module;
use burn::tensor::Device;
use lstm_mnist_model::ModelInput;
use lstm_mnist_model::inference::{Detail, Reading};
use lstm_mnist_model::number::NumberReader;
use lstm_mnist_model::run::TrainedModel;
use serde::Serialize;
use tokio::sync::oneshot;

use crate::config::Cell;
use crate::config::ExperimentConfig;
use crate::data::NUM_CLASSES;
use crate::error::{AtFile, Context, Error, Result};
use crate::evaluation::robustness::RobustnessReport;
use crate::output;
use crate::run_dir::{FinishedRun, ModelRef, NUMBER_CONFIG, NUMBER_WEIGHTS, RunListing, RunReport};
use crate::training::ink_finder::LoadedFinder;
use crate::training::number_reader::{NumberReport, load_reader};

/// Requests classified in one forward pass at most.
const MAX_BATCH: usize = 256;

/// What `/api/runs` says of a run.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub name: String,
    pub cell: Cell,
    pub dataset: String,
    pub test_accuracy: f64,
    /// The mean accuracy of its robustness report (`lstm-mnist robustness`), where it has one.
    pub robustness: Option<f64>,
    pub parameters: usize,
    /// Class names, for datasets whose classes are not digits.
    pub classes: Option<[&'static str; NUM_CLASSES]>,
}

impl RunInfo {
    /// What the API says of the finished run in `dir`, whose report and config these are.
    pub fn of(
        name: String,
        dir: &Path,
        report: &RunReport,
        config: &ExperimentConfig,
    ) -> Result<Self> {
        let source = config.data.dataset.source();
        Ok(Self {
            name,
            cell: report.cell,
            dataset: source.id.to_string(),
            test_accuracy: report.test_accuracy,
            robustness: RobustnessReport::mean_in(dir)?,
            parameters: report.parameters,
            classes: source.class_names,
        })
    }
}

/// What `/api/runs` says of a number reader's run.
#[derive(Debug, Clone, Serialize)]
pub struct NumberRunInfo {
    pub name: String,
    /// Of its report's test numbers, the share read whole.
    pub whole_number: f64,
    /// Its report's character error rate on them.
    pub character_error_rate: f64,
    pub parameters: usize,
}

/// A number reader the server reads pictures of written numbers with.
pub(crate) struct NumberRun {
    pub info: NumberRunInfo,
    pub reader: NumberReader,
    /// Its `number-model.toml` and `number-model.bpk`, where `Models::load` was asked to keep
    /// files for the page's model in the browser.
    pub files: Option<RunFiles>,
}

impl NumberRun {
    /// The number reader's run in `dir`, listed as `name`, with its files where `keep_files`.
    pub(crate) fn load(
        name: String,
        dir: &Path,
        keep_files: bool,
        device: &Device,
    ) -> Result<Self> {
        let reader = load_reader(dir, device)?;
        let scores = NumberReport::read(dir)?.reader.all;
        let files = if keep_files {
            Some(RunFiles::read(
                &dir.join(NUMBER_CONFIG),
                &dir.join(NUMBER_WEIGHTS),
            )?)
        } else {
            None
        };
        Ok(Self {
            files,
            info: NumberRunInfo {
                name,
                whole_number: scores.whole_number,
                character_error_rate: scores.character_error_rate,
                parameters: reader.num_params(),
            },
            reader,
        })
    }
}

/// A served run, found by name: a digit classifier or a number reader (indices into
/// [`Models::runs`] and [`Models::number_runs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServedRun {
    Digits(usize),
    Number(usize),
}

/// One input to classify with run `run` (an index into the served runs).
struct Job {
    run: usize,
    input: ModelInput,
    detail: Detail,
    reply: oneshot::Sender<Reading>,
}

/// The served runs and the queue to their inference thread.
pub struct Models {
    pub runs: Vec<RunInfo>,
    /// Each run's config and weights, read when the run was loaded, in the order of `runs`:
    /// what the page's model in the browser loads. Empty unless `load` was asked to keep them.
    pub files: Vec<RunFiles>,
    /// The run used when a request names none.
    pub(crate) default_run: usize,
    /// The learned ink finder that finds pictures' ink (`serve --ink-finder`); the picture
    /// path's rules without it.
    pub(crate) ink_finder: Option<LoadedFinder>,
    /// The number readers, which read pictures of written numbers (on the request's thread).
    pub(crate) number_runs: Vec<NumberRun>,
    /// Where the number readers compute.
    pub(crate) device: Device,
    queue: mpsc::Sender<Job>,
}

impl Models {
    /// Loads every finished run under `artifacts` (a run whose model does not load is skipped
    /// with a line on stderr) and starts the inference thread. `default_run` must be one of
    /// them; without it, the default is the most robust MNIST run that is accurate enough
    /// (see `pick_default`). With `keep_files`, each run's files are read and kept for the
    /// page's model in the browser.
    pub fn load(
        artifacts: &Path,
        default_run: Option<&str>,
        keep_files: bool,
        device: &Device,
    ) -> Result<Self> {
        let listing = RunListing::of(artifacts)?;
        let mut runs = Vec::new();
        let mut files = Vec::new();
        let mut models = Vec::new();
        for finished in listing.finished {
            let name = finished.name.clone();
            match load_run(finished, keep_files, device) {
                Ok(Some(loaded)) => {
                    runs.push(loaded.info);
                    files.extend(loaded.files);
                    models.push(loaded.model);
                }
                // Runs kept for their figures only (the extra seeds) have no model to serve.
                Ok(None) => {}
                Err(error) => output::warn(format_args!("not serving {name}: {error}")),
            }
        }
        let number_runs = listing
            .number_readers
            .into_iter()
            .filter_map(|(name, dir)| {
                NumberRun::load(name.clone(), &dir, keep_files, device)
                    .inspect_err(|error| output::warn(format_args!("not serving {name}: {error}")))
                    .ok()
            })
            .collect();
        if runs.is_empty() {
            return Err(Error::file(artifacts, "holds no finished run to serve"));
        }
        let default_run = pick_default(&runs, default_run, artifacts)?;
        let (queue, jobs) = mpsc::channel();
        std::thread::Builder::new()
            .name("inference".into())
            .spawn(move || run_inference(models, jobs))
            .context("cannot start the inference thread")?;
        Ok(Self {
            runs,
            files,
            default_run,
            ink_finder: None,
            number_runs,
            device: device.clone(),
            queue,
        })
    }

    /// These models, reading pictures with `ink_finder` (the rules when `None`).
    pub(crate) fn with_ink_finder(self, ink_finder: Option<LoadedFinder>) -> Self {
        Self { ink_finder, ..self }
    }

    /// The index of the run called `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.runs.iter().position(|run| run.name == name)
    }

    /// The digit classifier or number reader called `name`.
    pub(crate) fn served(&self, name: &str) -> Option<ServedRun> {
        self.find(name).map(ServedRun::Digits).or_else(|| {
            self.number_runs
                .iter()
                .position(|run| run.info.name == name)
                .map(ServedRun::Number)
        })
    }

    /// What run `run` reads in `input`, in as much `detail` as asked.
    pub async fn classify(&self, run: usize, input: ModelInput, detail: Detail) -> Result<Reading> {
        let (reply, answer) = oneshot::channel();
        let stopped = || Error::msg("the inference thread has stopped");
        self.queue
            .send(Job {
                run,
                input,
                detail,
                reply,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())
    }
}

/// Clean test accuracy a run needs to be picked for its robustness: people draw digits, but
/// a model must still read MNIST as well as the seed's.
pub(crate) const DEFAULT_RUN_MIN_ACCURACY: f64 = 0.985;

/// A served run's config and weights, as the files hold them.
#[derive(Debug, Clone)]
pub struct RunFiles {
    pub config: Bytes,
    pub weights: Bytes,
}

impl RunFiles {
    /// The files at `config` and `weights`, read.
    fn read(config: &Path, weights: &Path) -> Result<Self> {
        let read = |path: &Path| {
            std::fs::read(path)
                .doing(path, "cannot read")
                .map(Bytes::from)
        };
        Ok(Self {
            config: read(config)?,
            weights: read(weights)?,
        })
    }
}

/// A run as the server holds it.
struct LoadedRun {
    info: RunInfo,
    /// Where they were asked for.
    files: Option<RunFiles>,
    model: TrainedModel,
}

/// A finished run's model and what the API says of it, with its files where `keep_files`
/// asks for them; `None` for a run without a model.
fn load_run(finished: FinishedRun, keep_files: bool, device: &Device) -> Result<Option<LoadedRun>> {
    let model_ref = ModelRef::resolve(&finished.dir)?;
    if !model_ref.model_path.is_file() {
        return Ok(None);
    }
    // The listing read the run's config; only a run without one is asked again, for its error.
    let config = match finished.config {
        Some(config) => config,
        None => model_ref.run.read_config()?,
    };
    let model = model_ref.load_as(&config, device)?;
    let files = if keep_files {
        Some(RunFiles::read(
            &model_ref.run.config_path(),
            &model_ref.model_path,
        )?)
    } else {
        None
    };
    let info = RunInfo::of(finished.name, &finished.dir, &finished.report, &config)?;
    Ok(Some(LoadedRun { info, files, model }))
}

/// The run `wanted`; without a name, the MNIST run with the best robustness mean among those
/// at least [`DEFAULT_RUN_MIN_ACCURACY`] accurate, else the most accurate MNIST run.
fn pick_default(runs: &[RunInfo], wanted: Option<&str>, artifacts: &Path) -> Result<usize> {
    if let Some(name) = wanted {
        return runs.iter().position(|run| run.name == name).ok_or_else(|| {
            Error::file(
                artifacts.join(name),
                "no finished run of that name to serve",
            )
        });
    }
    let rank = |run: &RunInfo| {
        let robust = run
            .robustness
            .filter(|_| run.test_accuracy >= DEFAULT_RUN_MIN_ACCURACY);
        (
            run.classes.is_none(),
            robust.is_some(),
            robust.unwrap_or(0.0),
            run.test_accuracy,
        )
    };
    Ok((0..runs.len())
        .max_by(|&a, &b| {
            let (a, b) = (rank(&runs[a]), rank(&runs[b]));
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then(a.2.total_cmp(&b.2))
                .then(a.3.total_cmp(&b.3))
        })
        .expect("there are runs"))
}

/// The inference thread: waits for a job, takes whatever else is queued (up to a batch), and
/// answers each run's share with one forward pass per detail asked for. Ends when the server
/// drops its queue.
fn run_inference(models: Vec<TrainedModel>, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        for (run, model) in models.iter().enumerate() {
            for detail in [Detail::Answer, Detail::Rows] {
                let (mine, rest): (Vec<Job>, Vec<Job>) = batch
                    .into_iter()
                    .partition(|job| job.run == run && job.detail == detail);
                batch = rest;
                if !mine.is_empty() {
                    answer(model, mine, detail);
                }
            }
        }
    }
}

/// One forward pass for the answers of `jobs`, which all asked for `detail`.
fn answer(model: &TrainedModel, jobs: Vec<Job>, detail: Detail) {
    let inputs: Vec<ModelInput> = jobs.iter().map(|job| job.input).collect();
    for (job, reading) in jobs.into_iter().zip(model.read_batch(&inputs, detail)) {
        // A client that went away no longer waits for its answer.
        let _ = job.reply.send(reading);
    }
}
