//! The run directory `<artifacts>/<name>/`: what a user's hours of training produce. This
//! module is its one owner: the layout (every file name), turning a path argument into a run,
//! names, creating, replacing and locking a run, and reading and writing its files.

mod checkpoints;
mod lock;
mod metrics;
mod model_file;
mod name;
mod report;
mod tracking_record;

use std::path::{Path, PathBuf};

use burn::tensor::Device;

use crate::config::{ExperimentConfig, MAX_CONFIG_BYTES};
use crate::error::{AtFile, Context, Error, Result};
use crate::faults;
use crate::fsutil::{TEMP_PREFIX, read_text_bounded, remove_stale_temp_files, write_atomic};
use crate::model::{Classifier, RecurrentKernel};
use lstm_mnist_model::run::TrainedModel;
pub use lstm_mnist_model::run::{CONFIG_FILE, MODEL_FILE};

use checkpoints::{CheckpointSpec, CompleteEpoch, last_complete_epoch};
pub(crate) use checkpoints::{RECORD_NAMES, checkpoint_path};
use lock::LockRefusal;
use lock::{LOCK_FILE, RunLock};
pub use metrics::{EpochLosses, EpochMetrics, read_losses, read_metrics};
pub(crate) use metrics::{LOSSES_HEADER, write_metrics};
use model_file::{RecordLayout, save_model};
pub(crate) use name::{InvalidName, NAME_RULE, RunName, check_name};
pub(crate) use report::TestScores;
pub use report::{RunReport, read_report};
pub(crate) use tracking_record::TrackedRun;

/// Files of a run directory (its config and final model are named by the model crate, which
/// opens them too).
const METRICS_FILE: &str = "metrics.csv";
const REPORT_FILE: &str = "report.json";
const CURVES_FILE: &str = "curves.png";
const CHECKPOINT_DIR: &str = "checkpoint";
/// Written by `evaluate` beside the model it scored.
const EVALUATION_FILE: &str = "evaluation.json";
const CONFUSION_FILE: &str = "confusion.png";
/// `evaluate --steps`: test accuracy after each row.
const READING_FILE: &str = "reading.png";
/// In a sweep's directory (`<artifacts>/<sweep>/`), whose run directories are its points:
/// the listing of the runs descends into it.
const SWEEP_RECORD_FILE: &str = "sweep.json";
/// An ink finder's run (`training::ink_finder`): its config, weights and report.
pub(crate) const INK_FINDER_CONFIG: &str = "ink-finder.toml";
pub(crate) const INK_FINDER_WEIGHTS: &str = "ink-finder.bpk";
pub(crate) const INK_FINDER_REPORT: &str = "ink-finder.json";
/// A number reader's run (`training::number_reader`): its config, weights and report.
pub(crate) const NUMBER_CONFIG: &str = "number-model.toml";
pub(crate) const NUMBER_WEIGHTS: &str = "number-model.bpk";
pub(crate) const NUMBER_REPORT: &str = "number-report.json";
/// What `evaluate` writes into a number reader's run.
pub(crate) const NUMBER_EVALUATION: &str = "number-evaluation.json";
pub(crate) const NUMBER_METRICS: &str = "number-metrics.csv";
/// Written by `robustness` beside the model it scored.
const ROBUSTNESS_FILE: &str = "robustness.json";
/// Present while `--overwrite` removes an earlier run: if it is still there, the removal was
/// interrupted and what is left is no run.
pub const REPLACING_FILE: &str = "REPLACING";
/// What a directory with [`REPLACING_FILE`] is, and the one command that cleans it.
const INTERRUPTED_REPLACE: &str = "holds the remains of a run whose --overwrite was \
     interrupted while it removed the earlier run; run the same command with --overwrite again \
     to replace it, or delete the directory";

/// A run directory, by the path it is reached at and its name.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDir {
    path: PathBuf,
    name: String,
}

/// Where a run (re)starts: the epochs done and their metrics; nothing for a new run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResumePoint {
    pub epoch: usize,
    pub history: Vec<EpochMetrics>,
    /// Why newer epochs' checkpoints could not be used (damaged files), one line each.
    pub damaged: Vec<String>,
}

/// How a new run gets its directory when the wanted name is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// The config's own name, or the next free `name-2`, `name-3`, …
    NextFree,
    /// Exactly this name (`--name`): a taken one is refused.
    Exact,
    /// Exactly this name, replacing what is there (`--overwrite`).
    Replace,
}

impl Naming {
    /// What `--overwrite` and `--name` ask for.
    pub(crate) fn from_flags(overwrite: bool, named: bool) -> Self {
        match (overwrite, named) {
            (true, _) => Naming::Replace,
            (false, true) => Naming::Exact,
            (false, false) => Naming::NextFree,
        }
    }
}

/// What a directory under the artifacts holds, judged here only, by the files a run writes:
/// claiming a run, the listing of runs and a sweep's points all ask [`RunState::of`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Nothing (or no directory yet), besides a lock and a killed writer's temporary files.
    Empty,
    /// A report: the run is finished.
    Finished,
    /// Checkpoints and no report: killed or stopped after an epoch.
    Resumable,
    /// A config but no checkpoint: killed or stopped in its first epoch.
    Started,
    /// An `--overwrite` was killed while it removed the earlier run.
    InterruptedReplace,
    /// A sweep's directory, whose run directories are its points.
    Sweep,
    /// An ink finder's run: not a classifier, so not among the runs listed or served.
    InkFinder,
    /// A number reader's run: not a digit classifier, so not among the runs listed or served.
    NumberReader,
    OtherFiles,
}

impl RunDir {
    /// The existing run at `path` (`artifacts/x`, `.`, relative or absolute): a directory with
    /// a `config.toml`. Its name is that of the directory it really is, whatever the spelling.
    pub fn open(path: &Path) -> Result<Self> {
        let full =
            std::fs::canonicalize(path).map_err(|_| Error::file(path, "no such run directory"))?;
        if !full.is_dir() {
            return Err(Error::file(path, "not a run directory"));
        }
        if RunState::of(&full)? == RunState::InterruptedReplace {
            return Err(Error::file(path, INTERRUPTED_REPLACE));
        }
        if !full.join(CONFIG_FILE).is_file() {
            return Err(Error::file(
                path,
                format!("not a run directory: it has no {CONFIG_FILE}"),
            ));
        }
        let name = full
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        Ok(Self {
            path: path.to_path_buf(),
            name,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn config_path(&self) -> PathBuf {
        self.path.join(CONFIG_FILE)
    }

    pub(crate) fn model_path(&self) -> PathBuf {
        self.path.join(MODEL_FILE)
    }

    pub(crate) fn metrics_path(&self) -> PathBuf {
        self.path.join(METRICS_FILE)
    }

    pub(crate) fn report_path(&self) -> PathBuf {
        self.path.join(REPORT_FILE)
    }

    pub(crate) fn curves_path(&self) -> PathBuf {
        self.path.join(CURVES_FILE)
    }

    pub(crate) fn checkpoint_dir(&self) -> PathBuf {
        self.path.join(CHECKPOINT_DIR)
    }

    pub fn read_config(&self) -> Result<ExperimentConfig> {
        ExperimentConfig::load(&self.config_path())
    }

    pub fn read_report(&self) -> Result<RunReport> {
        read_report(&self.report_path())
    }

    pub fn read_metrics(&self) -> Result<Vec<EpochMetrics>> {
        read_metrics(&self.metrics_path())
    }

    /// Where the run can resume: the newest epoch whose checkpoint is complete and whose row
    /// is in `metrics.csv`, with the history up to it. Burn writes the two on different
    /// threads, so a kill can leave either without the other; resuming from an epoch without
    /// its row would lose that row. A `metrics.csv` that is there but unreadable is an error
    /// naming it. `config` is the run's own, which the caller has read.
    pub fn resume_point(&self, config: &ExperimentConfig) -> Result<ResumePoint> {
        let mut history = self.history()?;
        let CompleteEpoch { epoch, skipped } = self.resumable_epoch(config, &history)?;
        history.retain(|row| row.epoch <= epoch);
        Ok(ResumePoint {
            epoch,
            history,
            damaged: skipped.iter().map(ToString::to_string).collect(),
        })
    }

    /// Whether the run can resume ([`resume_point`](Self::resume_point) would find an epoch)
    /// or must start afresh; a `metrics.csv` that is there but unreadable is an error.
    pub(crate) fn can_resume(&self, config: &ExperimentConfig) -> Result<bool> {
        Ok(self.resumable_epoch(config, &self.history()?).is_ok())
    }

    /// The newest epoch with a complete, sound checkpoint that fits the run's `config` and a
    /// row in `history`.
    fn resumable_epoch(
        &self,
        config: &ExperimentConfig,
        history: &[EpochMetrics],
    ) -> Result<CompleteEpoch> {
        let model = Classifier::new(&config.model, config.seed, &Device::flex());
        let spec = CheckpointSpec {
            config,
            config_path: &self.config_path(),
            layout: RecordLayout::of(&model).context(model_file::DESCRIBE)?,
        };
        last_complete_epoch(&self.checkpoint_dir(), &spec, |epoch| {
            history.iter().any(|row| row.epoch == epoch)
        })
    }

    /// The rows of `metrics.csv`; none before the first epoch has written it.
    fn history(&self) -> Result<Vec<EpochMetrics>> {
        if self.metrics_path().exists() {
            self.read_metrics()
        } else {
            Ok(Vec::new())
        }
    }

    /// The model of epoch `epoch`'s checkpoint, in the architecture of `config` (the run's
    /// own, which the caller holds), run by `kernel`.
    pub(crate) fn load_checkpoint_model(
        &self,
        epoch: usize,
        config: &ExperimentConfig,
        kernel: RecurrentKernel,
        device: &Device,
    ) -> Result<Classifier> {
        let path = checkpoint_path(&self.checkpoint_dir(), RECORD_NAMES[0], epoch);
        model_file::load_model(&path, config, &self.config_path(), kernel, device)
            .map(TrainedModel::into_classifier)
    }

    /// The tracking server's record of this run, when it was tracked (`None` too for a record
    /// that cannot be read: the resumed run is then tracked as a new one).
    pub(crate) fn tracked_run(&self) -> Option<TrackedRun> {
        TrackedRun::read(&self.path.join(tracking_record::TRACKING_FILE))
    }

    /// Takes the run's writer lock, refusing when another process holds it.
    pub fn lock(self) -> Result<LockedRun> {
        let lock = RunLock::try_acquire(&self.path).map_err(|r| r.into_error(&self.path))?;
        Ok(LockedRun {
            run: self,
            _lock: lock,
        })
    }

    /// Creates (or, with [`Naming::Replace`], empties) the directory for a new run named
    /// `name` (or, with [`Naming::NextFree`], the first free name after it) under `artifacts`
    /// and locks it. Nothing is deleted unless `naming` says so, and
    /// then only under the lock.
    pub(crate) fn claim(artifacts: &Path, name: &RunName, naming: Naming) -> Result<LockedRun> {
        let name = name.as_str();
        if naming != Naming::NextFree {
            return Self::claim_exact(artifacts, name, naming == Naming::Replace);
        }
        for candidate in name::candidates(name).take(10_000) {
            let path = artifacts.join(&candidate);
            if path.exists() && !path.is_dir() {
                continue;
            }
            match Self::lock_new(&path, &candidate) {
                Ok((run, RunState::Empty)) => return Ok(run),
                Err(LockRefusal::Failed(error)) => return Err(error),
                Ok(_) | Err(LockRefusal::InUse(_)) => {}
            }
        }
        Err(Error::file(
            artifacts.join(name),
            "no free run name left; pass --name or --overwrite",
        ))
    }

    fn claim_exact(artifacts: &Path, name: &str, replace: bool) -> Result<LockedRun> {
        let path = artifacts.join(name);
        let (run, contents) = Self::lock_new(&path, name).map_err(|r| r.into_error(&path))?;
        match contents {
            RunState::Empty => Ok(run),
            _ if replace => {
                run.clear()?;
                Ok(run)
            }
            taken => Err(Error::file(
                &path,
                format!(
                    "already holds {}; pass --overwrite to replace it, or choose another --name",
                    taken.describe(&path)
                ),
            )),
        }
    }

    /// Creates `path` if needed, locks it, and says what it holds.
    fn lock_new(
        path: &Path,
        name: &str,
    ) -> std::result::Result<(LockedRun, RunState), LockRefusal> {
        std::fs::create_dir_all(path).doing(path, "cannot create the run directory")?;
        let run = LockedRun {
            _lock: RunLock::try_acquire(path)?,
            run: RunDir {
                path: path.to_path_buf(),
                name: name.to_string(),
            },
        };
        let contents = run.state()?;
        Ok((run, contents))
    }

    fn entries(&self) -> Result<Vec<PathBuf>> {
        entries(&self.path)
    }

    /// What the directory holds now.
    pub fn state(&self) -> Result<RunState> {
        RunState::of(&self.path)
    }
}

/// The robustness report of the run (or checkpoint directory) `dir`, where it has one.
pub(crate) fn robustness_path_in(dir: &Path) -> PathBuf {
    dir.join(ROBUSTNESS_FILE)
}

/// Marks `dir` as a sweep's directory, with the sweep's record of its points.
pub(crate) fn write_sweep_record(dir: &Path, record: &str) -> Result<()> {
    write_atomic(&dir.join(SWEEP_RECORD_FILE), record.as_bytes())
}

/// The learning curve in the directory `dir` (a run's, or what is left of one: only
/// `metrics.csv` is needed).
pub(crate) fn metrics_in(dir: &Path) -> Result<Vec<EpochMetrics>> {
    read_metrics(&dir.join(METRICS_FILE))
}

/// Everything in `dir` but a run's lock and a killed writer's temporary files.
fn entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let listing = std::fs::read_dir(dir).doing(dir, "cannot list")?;
    Ok(listing
        .flatten()
        .filter(|entry| {
            let name = entry.file_name().to_string_lossy().to_string();
            name != LOCK_FILE && !name.starts_with(TEMP_PREFIX)
        })
        .map(|entry| entry.path())
        .collect())
}

impl RunState {
    /// What the directory `dir` holds; a directory that is not there holds nothing.
    pub fn of(dir: &Path) -> Result<Self> {
        if !dir.exists() {
            return Ok(RunState::Empty);
        }
        let entries = entries(dir)?;
        let has = |file: &str| entries.iter().any(|p| p.file_name() == Some(file.as_ref()));
        Ok(if entries.is_empty() {
            RunState::Empty
        } else if has(REPLACING_FILE) {
            RunState::InterruptedReplace
        } else if has(NUMBER_CONFIG) {
            RunState::NumberReader
        } else if has(REPORT_FILE) {
            RunState::Finished
        } else if has(CHECKPOINT_DIR) {
            RunState::Resumable
        } else if has(CONFIG_FILE) {
            RunState::Started
        } else if has(SWEEP_RECORD_FILE) {
            RunState::Sweep
        } else if has(INK_FINDER_CONFIG) {
            RunState::InkFinder
        } else {
            RunState::OtherFiles
        })
    }

    fn describe(self, path: &Path) -> String {
        match self {
            RunState::Empty => "nothing".into(),
            RunState::Finished => "a finished run".into(),
            RunState::Resumable => format!(
                "an unfinished run (continue it with --resume {})",
                path.display()
            ),
            RunState::Started => "a run stopped before its first checkpoint".into(),
            RunState::InterruptedReplace => {
                "the remains of a run whose --overwrite was interrupted".into()
            }
            RunState::Sweep => "a sweep's runs".into(),
            RunState::InkFinder => "an ink finder".into(),
            RunState::NumberReader => "a number reader".into(),
            RunState::OtherFiles => "files that are not a run".into(),
        }
    }
}

/// A run directory this process holds the writer lock of: the only kind that is written.
#[derive(Debug)]
pub struct LockedRun {
    run: RunDir,
    _lock: RunLock,
}

impl std::ops::Deref for LockedRun {
    type Target = RunDir;
    fn deref(&self) -> &RunDir {
        &self.run
    }
}

impl LockedRun {
    /// Deletes everything in the directory but the lock (for `--overwrite`). A marker file
    /// stays for as long as that takes, and the report goes first, so that a kill half-way
    /// never leaves a directory that looks finished: it leaves one that says what happened.
    fn clear(&self) -> Result<()> {
        let marker = self.path.join(REPLACING_FILE);
        write_atomic(&marker, INTERRUPTED_REPLACE.as_bytes())?;
        let mut entries = self.entries()?;
        entries.retain(|entry| *entry != marker);
        // The report marks a run finished: it is removed first.
        entries.sort_by_key(|entry| entry.file_name() != Some(REPORT_FILE.as_ref()));
        for (index, entry) in entries.iter().enumerate() {
            let removed = if entry.is_dir() {
                std::fs::remove_dir_all(entry)
            } else {
                std::fs::remove_file(entry)
            };
            removed.doing(&self.path, "cannot remove the earlier run")?;
            if index == 0 {
                faults::crash_point("overwrite-clear", String::new);
            }
        }
        std::fs::remove_file(&marker).doing(&marker, "cannot remove")
    }

    /// Deletes the temporary files a killed writer left (never a finished file).
    pub(crate) fn remove_stale_temp_files(&self) {
        for dir in [self.path.clone(), self.checkpoint_dir()] {
            remove_stale_temp_files(&dir);
        }
    }

    /// Deletes the checkpoints of `epoch` and later (those of a diverged epoch, which Burn's
    /// asynchronous checkpointer may have saved before the divergence was seen).
    pub(crate) fn discard_checkpoints_from(&self, epoch: usize) -> Result<()> {
        let dir = self.checkpoint_dir();
        for saved in checkpoints::saved_epochs(&dir)
            .into_iter()
            .filter(|&e| e >= epoch)
        {
            for record in RECORD_NAMES {
                let path = checkpoint_path(&dir, record, saved);
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(Error::file(&path, format!("cannot remove: {e}")));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// `config` under this run's name (which `--name`, a taken name or a sweep point chose):
    /// what its `config.toml` holds.
    pub(crate) fn own_config(&self, config: &ExperimentConfig) -> ExperimentConfig {
        ExperimentConfig {
            name: self.name().to_string(),
            ..config.clone()
        }
    }

    pub fn write_config(&self, config: &ExperimentConfig) -> Result<()> {
        write_atomic(&self.config_path(), config.to_toml().as_bytes())
    }

    /// Sets `training.epochs` in the run's `config.toml`, keeping everything else in the file
    /// as the user wrote it (comments, order, line endings).
    pub(crate) fn write_epochs(&self, epochs: usize) -> Result<()> {
        let path = self.config_path();
        let text = read_text_bounded(&path, MAX_CONFIG_BYTES, "a config")?;
        let mut document: toml_edit::DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| Error::file(&path, e.message()))?;
        document["training"]["epochs"] = toml_edit::value(epochs as i64);
        // toml_edit writes every line ending as `\n`: a file written with `\r\n` keeps them.
        let mut edited = document.to_string();
        if text.contains("\r\n") {
            edited = edited.replace("\r\n", "\n").replace('\n', "\r\n");
        }
        write_atomic(&path, edited.as_bytes())
    }

    /// Writes what a finished run holds besides the config written when it was claimed: its
    /// model and, last, its report (which marks the run finished), for a trained run and an
    /// imported one alike.
    pub fn finish(&self, model: &Classifier, report: &RunReport) -> Result<()> {
        save_model(&self.model_path(), model)?;
        report::write_report(&self.report_path(), report)
    }

    /// Keeps the tracking server's id of this run, so that a resumed run continues it.
    pub(crate) fn write_tracked_run(&self, tracked: &TrackedRun) -> Result<()> {
        tracked.write(&self.path.join(tracking_record::TRACKING_FILE))
    }
}

/// A model file of a run, as a path argument names it: a run directory (its `model.bpk`), or
/// one of its `checkpoint/model-N.bpk` files.
#[derive(Debug, Clone)]
pub struct ModelRef {
    pub run: RunDir,
    pub(crate) model_path: PathBuf,
}

impl ModelRef {
    pub fn resolve(path: &Path) -> Result<Self> {
        if path.is_dir() {
            let run = RunDir::open(path)?;
            let model_path = run.model_path();
            return Ok(Self { run, model_path });
        }
        if !path.is_file() {
            return Err(Error::file(
                path,
                "no such run directory or checkpoint file",
            ));
        }
        let parent = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let in_checkpoints = std::fs::canonicalize(parent)
            .is_ok_and(|dir| dir.file_name().is_some_and(|n| n == CHECKPOINT_DIR));
        let run_dir = if in_checkpoints {
            parent.join("..")
        } else {
            parent.to_path_buf()
        };
        Ok(Self {
            run: RunDir::open(&run_dir)?,
            model_path: path.to_path_buf(),
        })
    }

    /// The run's config and the model loaded into it, run by the default kernel (the fused
    /// op where it applies: these models classify, they do not train).
    pub fn load(&self, device: &Device) -> Result<(ExperimentConfig, TrainedModel)> {
        let config = self.run.read_config()?;
        let model = self.load_as(&config, device)?;
        Ok((config, model))
    }

    /// The model loaded into `config`, the run's own config that the caller has read.
    pub(crate) fn load_as(
        &self,
        config: &ExperimentConfig,
        device: &Device,
    ) -> Result<TrainedModel> {
        let (path, kernel) = (&self.model_path, RecurrentKernel::default());
        model_file::load_model(path, config, &self.run.config_path(), kernel, device)
    }

    /// `evaluate`'s scores of this model, beside it.
    pub(crate) fn evaluation_path(&self) -> PathBuf {
        self.beside_model(EVALUATION_FILE)
    }

    /// `evaluate`'s confusion matrix, beside the model.
    pub(crate) fn confusion_path(&self) -> PathBuf {
        self.beside_model(CONFUSION_FILE)
    }

    /// `evaluate --steps`' accuracy after each row, beside the model.
    pub(crate) fn reading_path(&self) -> PathBuf {
        self.beside_model(READING_FILE)
    }

    /// `robustness`'s report on this model, beside it.
    pub(crate) fn robustness_path(&self) -> PathBuf {
        self.beside_model(ROBUSTNESS_FILE)
    }

    /// Where `evaluate` and `robustness` write their files: beside the model they scored.
    fn beside_model(&self, file: &str) -> PathBuf {
        match self.model_path.parent() {
            Some(dir) => dir.join(file),
            None => PathBuf::from(file),
        }
    }
}

/// The runs under an artifacts directory, for `results`.
#[derive(Debug, Default)]
pub(crate) struct RunListing {
    /// Finished runs, by name.
    pub finished: Vec<FinishedRun>,
    /// Runs without a report yet (in progress, interrupted, diverged), by name.
    pub unfinished: Vec<String>,
    /// Runs whose report cannot be read, with why.
    pub unreadable: Vec<(String, String)>,
    /// Number readers' runs (`train` on a `[number_model]` config): name and directory.
    pub number_readers: Vec<(String, PathBuf)>,
}

/// A finished run's report, with the config it trained from where that is readable.
#[derive(Debug)]
pub(crate) struct FinishedRun {
    /// Its name in the listing: the directory's, `<sweep>/<point>` for a sweep's point.
    pub name: String,
    /// The run's directory, as found under the artifacts directory.
    pub dir: PathBuf,
    pub report: RunReport,
    pub config: Option<ExperimentConfig>,
}

impl FinishedRun {
    /// The run in `dir`: its report, and its config where it has one. A config that is there
    /// but does not parse is an error naming it, never read as no config.
    fn read(dir: &Path, name: String) -> Result<Self> {
        let report = read_report(&dir.join(REPORT_FILE))?;
        let config_path = dir.join(CONFIG_FILE);
        let config = if config_path.is_file() {
            Some(ExperimentConfig::load(&config_path)?)
        } else {
            None
        };
        Ok(Self {
            name,
            dir: dir.to_path_buf(),
            report,
            config,
        })
    }

    /// The config with its name and seed blanked: runs that differ only in those are the same
    /// experiment.
    pub fn experiment(&self) -> Option<ExperimentConfig> {
        self.config.as_ref().map(|config| ExperimentConfig {
            name: String::new(),
            seed: 0,
            ..config.clone()
        })
    }
}

impl RunListing {
    /// Every directory under `artifacts` that holds a run's config or report, and those in
    /// the sweeps' directories there.
    pub fn of(artifacts: &Path) -> Result<Self> {
        let mut listing = Self::default();
        listing.add_dir(artifacts, "")?;
        listing.finished.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(listing)
    }

    /// The runs in `dir`, named with `prefix` before their directory's name.
    fn add_dir(&mut self, dir: &Path, prefix: &str) -> Result<()> {
        let entries = std::fs::read_dir(dir).doing(dir, "cannot list runs")?;
        let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        dirs.sort();
        for dir in dirs.into_iter().filter(|dir| dir.is_dir()) {
            let name = format!(
                "{prefix}{}",
                dir.file_name().unwrap_or_default().to_string_lossy()
            );
            match RunState::of(&dir) {
                Ok(RunState::InterruptedReplace) => self
                    .unreadable
                    .push((name, INTERRUPTED_REPLACE.to_string())),
                Ok(RunState::Finished) => match FinishedRun::read(&dir, name.clone()) {
                    Ok(run) => self.finished.push(run),
                    Err(e) => self.unreadable.push((name, e.to_string())),
                },
                Ok(RunState::Resumable | RunState::Started) => self.unfinished.push(name),
                Ok(RunState::NumberReader) => self.number_readers.push((name, dir)),
                Ok(RunState::Sweep) if prefix.is_empty() => {
                    self.add_dir(&dir, &format!("{name}/"))?;
                }
                Ok(_) => {}
                Err(e) => self.unreadable.push((name, e.to_string())),
            }
        }
        Ok(())
    }
}
