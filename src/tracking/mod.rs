//! Experiment tracking on an MLflow server, beside the run directory (which stays the source
//! of truth and is complete whether or not the server answers): one MLflow run per training
//! run, named after its directory, with the flattened config as params, per-epoch metrics from
//! the same values as `metrics.csv`, the test scores, and the run's files as artifacts.
//!
//! The server can never cost a run: the first call that fails prints one warning line and
//! tracking stops for the rest of the run; each call is bounded by a timeout.

pub mod mlflow;

use std::path::absolute;
use std::sync::{Mutex, mpsc};
use std::thread::JoinHandle;

use crate::backend::Backend;
use crate::config::{ExperimentConfig, dotted_leaves, is_http_uri};
use crate::error::{Context, Result};
use crate::evaluation::Evaluation;
use crate::machine;
use crate::model::RecurrentKernel;
use crate::output;
use crate::plots::confusion_png;
use crate::run_dir::{EpochMetrics, LockedRun, TrackedRun};
use mlflow::{Metric, MlflowClient, RemoteRun, RunStatus};

/// MLflow's own variables: the server, and the experiment runs go into.
pub(crate) const TRACKING_URI_ENV: &str = "MLFLOW_TRACKING_URI";
pub(crate) const EXPERIMENT_ENV: &str = "MLFLOW_EXPERIMENT_NAME";
/// The experiment runs go into when `$MLFLOW_EXPERIMENT_NAME` does not say.
pub(crate) const DEFAULT_EXPERIMENT: &str = "lstm-mnist";

/// Where a run is tracked: `$MLFLOW_TRACKING_URI`, else the config's `[tracking] mlflow`;
/// `None` when neither says (tracking is off).
pub(crate) fn tracking_uri(config: &ExperimentConfig) -> Option<String> {
    set_variable(TRACKING_URI_ENV).or_else(|| config.tracking.as_ref()?.mlflow.clone())
}

/// `$MLFLOW_EXPERIMENT_NAME`, else the caller's default, else `lstm-mnist`.
fn experiment_name(default: Option<&str>) -> String {
    set_variable(EXPERIMENT_ENV)
        .or_else(|| default.map(str::to_string))
        .unwrap_or_else(|| DEFAULT_EXPERIMENT.to_string())
}

/// The tracking variables set in this environment, for jobs that run elsewhere (`sweep
/// --emit`); credentials are left to the scheduler's own passing of the environment.
pub fn variables() -> Vec<(&'static str, String)> {
    [TRACKING_URI_ENV, EXPERIMENT_ENV]
        .into_iter()
        .filter_map(|name| Some((name, set_variable(name)?)))
        .collect()
}

/// The variable `name`'s value, unless it is unset or blank (which MLflow treats as unset).
fn set_variable(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// How the run is carried out, for the MLflow run's tags, and the experiment it goes into
/// when `$MLFLOW_EXPERIMENT_NAME` names none.
pub(crate) struct RunContext {
    pub backend: Backend,
    pub kernel: RecurrentKernel,
    pub experiment: Option<String>,
}

/// A training run's link to its MLflow run; inert when tracking is off or has failed. Epochs
/// are logged from a thread of its own, so that a slow server never holds up an epoch (nor
/// the writing of `metrics.csv`); the run's end waits for them, then ends the MLflow run.
pub(crate) struct Tracker {
    worker: Mutex<Option<Worker>>,
    /// The epochs the server holds already (a resumed run's, up to its last logged one).
    logged_through: usize,
}

struct Session {
    client: MlflowClient,
    uri: String,
    run: RemoteRun,
}

/// The thread that logs epochs, and the queue to it. It gives the session back when the queue
/// closes, or `None` once a call failed (the warning printed).
struct Worker {
    queue: mpsc::Sender<Vec<Metric>>,
    thread: JoinHandle<Option<Session>>,
}

impl Tracker {
    /// No tracking.
    pub fn off() -> Self {
        Self {
            worker: Mutex::new(None),
            logged_through: 0,
        }
    }

    /// Starts the MLflow run of `run` (or continues the one a resumed run was tracked as on
    /// the same server), when a tracking URI is set.
    pub fn start(config: &ExperimentConfig, run: &LockedRun, context: &RunContext) -> Self {
        let Some(uri) = tracking_uri(config) else {
            return Self::off();
        };
        // MLflow also takes a local store (`file:./mlruns`, `sqlite:///…`); this talks to a
        // server's REST API only.
        if !is_http_uri(&uri) {
            warn_stopped(&uri, &"not an http:// or https:// server");
            return Self::off();
        }
        let client = MlflowClient::new(&uri);
        match open_run(&client, &uri, config, run, context) {
            Ok(remote) => Self {
                logged_through: remote.last_epoch.unwrap_or(0),
                worker: Mutex::new(Some(Worker::spawn(Session {
                    client,
                    uri,
                    run: remote,
                }))),
            },
            Err(error) => {
                warn_stopped(&uri, &error);
                Self::off()
            }
        }
    }

    /// The epochs of a resumed run's history that never reached the server (logged from
    /// the queue when the process was killed, or trained while it was away).
    pub(crate) fn catch_up(&self, history: &[EpochMetrics]) {
        for row in history.iter().filter(|row| row.epoch > self.logged_through) {
            self.log_epoch(row);
        }
    }

    /// One epoch's row of `metrics.csv`, at step `epoch`.
    pub(crate) fn log_epoch(&self, row: &EpochMetrics) {
        let step = row.epoch;
        let mut metrics = vec![
            Metric::at("train_loss", row.train_loss, step),
            Metric::at("train_accuracy", row.train_accuracy, step),
            Metric::at("epoch_seconds", row.seconds, step),
        ];
        metrics.extend(row.valid_loss.map(|v| Metric::at("valid_loss", v, step)));
        metrics.extend(
            row.valid_accuracy
                .map(|v| Metric::at("valid_accuracy", v, step)),
        );
        metrics.retain(|m| m.value.is_finite());
        if let Some(worker) = self.worker.lock().expect("never poisoned").as_ref() {
            // A worker that stopped has said why.
            let _ = worker.queue.send(metrics);
        }
    }

    /// The test scores, the run's files and the confusion matrix as artifacts, and the status
    /// FINISHED, once the epochs are logged.
    pub fn finish(&self, run: &LockedRun, epochs: usize, test: &Evaluation) {
        let Some(session) = self.drain() else {
            return;
        };
        let metrics = [
            Metric::at("test_accuracy", test.accuracy, epochs),
            Metric::at("test_loss", test.loss, epochs),
        ];
        let ended = session
            .client
            .log_batch(&session.run.run_id, &metrics, &[])
            .and_then(|()| upload_files(&session, run, test))
            .and_then(|()| {
                session
                    .client
                    .set_status(&session.run.run_id, RunStatus::Finished)
            });
        if let Err(error) = ended {
            warn_stopped(&session.uri, &error);
        }
    }

    /// Marks the MLflow run as ended without a model, once the epochs are logged: FAILED, or
    /// KILLED when it was stopped to be resumed later.
    pub fn end(&self, status: RunStatus) {
        if let Some(session) = self.drain()
            && let Err(error) = session.client.set_status(&session.run.run_id, status)
        {
            warn_stopped(&session.uri, &error);
        }
    }

    /// Waits for the epochs queued so far; the session, while tracking goes on.
    fn drain(&self) -> Option<Session> {
        let worker = self.worker.lock().expect("never poisoned").take()?;
        drop(worker.queue);
        worker.thread.join().ok().flatten()
    }
}

impl Worker {
    fn spawn(session: Session) -> Self {
        let (queue, epochs) = mpsc::channel::<Vec<Metric>>();
        let thread = std::thread::spawn(move || {
            for metrics in epochs {
                if let Err(error) = session.client.log_batch(&session.run.run_id, &metrics, &[]) {
                    warn_stopped(&session.uri, &error);
                    return None;
                }
            }
            Some(session)
        });
        Self { queue, thread }
    }
}

impl Metric {
    fn at(key: &'static str, value: f64, step: usize) -> Self {
        Self { key, value, step }
    }
}

fn warn_stopped(uri: &str, error: &impl std::fmt::Display) {
    output::warn(format_args!(
        "MLflow tracking at {uri} stopped: {error}; training goes on, and the run directory \
         keeps everything"
    ));
}

/// The resumed run's MLflow run when it has one on this server, else a new one with the
/// config as params; its ids are kept in the run directory.
fn open_run(
    client: &MlflowClient,
    uri: &str,
    config: &ExperimentConfig,
    run: &LockedRun,
    context: &RunContext,
) -> Result<RemoteRun> {
    if let Some(tracked) = run.tracked_run().filter(|t| t.tracking_uri == uri) {
        let remote = client.get_run(&tracked.run_id)?;
        client.set_status(&remote.run_id, RunStatus::Running)?;
        return Ok(remote);
    }
    let experiment_id = client.experiment_id(&experiment_name(context.experiment.as_deref()))?;
    let run_dir = absolute(run.path()).unwrap_or_else(|_| run.path().to_path_buf());
    let tags = [
        ("backend", context.backend.to_string()),
        ("kernel", context.kernel.name().to_string()),
        ("machine", machine::describe()),
        ("run_dir", run_dir.display().to_string()),
        ("mlflow.source.name", "lstm-mnist".to_string()),
        ("mlflow.source.type", "LOCAL".to_string()),
    ];
    let remote = client.create_run(&experiment_id, run.name(), &tags)?;
    run.write_tracked_run(&TrackedRun {
        tracking_uri: uri.to_string(),
        experiment_id: remote.experiment_id.clone(),
        run_id: remote.run_id.clone(),
    })?;
    client.log_batch(&remote.run_id, &[], &params(config))?;
    Ok(remote)
}

/// The config as MLflow params: dotted keys (`optimizer.learning_rate`), TOML values; the
/// name is the run's and the tracking section says only where this goes.
pub fn params(config: &ExperimentConfig) -> Vec<(String, String)> {
    let table = toml::Table::try_from(config).expect("a config is a table");
    dotted_leaves(&table)
        .into_iter()
        .filter(|(key, _)| key != "name" && !key.starts_with("tracking."))
        .map(|(key, value)| match value {
            toml::Value::String(text) => (key, text.clone()),
            other => (key, other.to_string()),
        })
        .collect()
}

/// The run's files and its confusion matrix (drawn for the server only: training writes
/// none into the run directory).
fn upload_files(session: &Session, run: &LockedRun, test: &Evaluation) -> Result<()> {
    let mut files = Vec::new();
    for path in [
        run.config_path(),
        run.metrics_path(),
        run.report_path(),
        run.curves_path(),
    ] {
        if let Ok(bytes) = std::fs::read(&path) {
            let name = path.file_name().expect("a run file").to_string_lossy();
            files.push((name.into_owned(), bytes));
        }
    }
    let scratch = tempfile::tempdir().context("cannot make a temporary directory")?;
    let confusion = scratch.path().join("confusion.png");
    let title = format!("{}: confusion on the test set", run.name());
    confusion_png(&confusion, &test.confusion, &title)?;
    if let Ok(bytes) = std::fs::read(&confusion) {
        files.push(("confusion.png".to_string(), bytes));
    }
    for (name, bytes) in &files {
        if !session.client.upload_artifact(&session.run, name, bytes)? {
            output::line(format_args!(
                "MLflow keeps this run's artifacts at {} (not through the server): not uploaded",
                session.run.artifact_uri
            ));
            break;
        }
    }
    Ok(())
}
