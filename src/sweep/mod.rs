//! Sweeps: many runs from one file (see `spec`), each an ordinary run directory under
//! `<artifacts>/<sweep>/<point>`. A point runs in a process of its own (`sweep FILE --task K`),
//! started by `local` N at a time on this machine or by a cluster's array job (`emit`); run
//! directories lock, resume and never collide, so any mix of these is safe on shared storage
//! and running a sweep again finishes what is left.

pub mod emit;
pub mod local;
pub mod spec;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::backend::Backend;
use crate::error::{AtFile, Error, Result};
use crate::output;
use crate::run_dir::{Naming, RunDir, RunState, write_sweep_record};
use crate::training::check_fits_in_memory;
use crate::training::{self, RunOptions, TrainRequest};

pub(crate) use spec::Point;

/// A sweep file, expanded and checked (`load` is the only way to make one), and where its
/// runs go.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The sweep file, absolute (cluster tasks run elsewhere).
    file: PathBuf,
    name: String,
    points: Vec<Point>,
    /// `<artifacts>/<name>`, absolute.
    dir: PathBuf,
}

/// The command line of a sweep's task, which the program starts itself (`--jobs`) or writes
/// into a cluster job (`--emit`): `sweep FILE --artifacts DIR --backend B [--data-dir D]`,
/// every path absolute, and `--task K` after it. [`SweepTask::to_args`] is the one inverse of
/// those flags (`cli` parses them back in a test).
#[derive(Debug, Clone, PartialEq)]
pub struct SweepTask {
    pub file: PathBuf,
    pub artifacts: PathBuf,
    pub backend: Backend,
    pub data_dir: Option<PathBuf>,
}

impl SweepTask {
    /// The task for `sweep`'s points; the data directory is made absolute.
    pub fn new(sweep: &Sweep, backend: Backend, data_dir: Option<&Path>) -> Result<Self> {
        let data_dir = data_dir
            .map(|dir| std::path::absolute(dir).doing(dir, "cannot resolve the path"))
            .transpose()?;
        Ok(Self {
            file: sweep.file.clone(),
            artifacts: sweep.artifacts().to_path_buf(),
            backend,
            data_dir,
        })
    }

    /// The arguments before `--task K`.
    pub(crate) fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "sweep".into(),
            self.file.clone().into(),
            "--artifacts".into(),
            self.artifacts.clone().into(),
            "--backend".into(),
            self.backend.to_string().into(),
        ];
        if let Some(dir) = &self.data_dir {
            args.extend(["--data-dir".into(), dir.clone().into()]);
        }
        args
    }
}

/// Where a point stands, from its run directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointState {
    /// Not started (`Naming::Exact`: anything else in its directory is refused when the point
    /// claims it), or stopped before its first checkpoint (`Naming::Replace`: the directory holds
    /// its config and less than one epoch of it, and is started afresh).
    ToTrain(Naming),
    /// Interrupted after a checkpoint: resumed from it.
    ToResume,
    Finished,
}

impl Sweep {
    /// Reads and checks the sweep file; nothing is written.
    pub fn load(file: &Path, artifacts: &Path) -> Result<Self> {
        let (name, points) = spec::load(file)?;
        for point in &points {
            let config = &point.config;
            check_fits_in_memory(&config.model, config.training.batch_size)
                .doing(file, format_args!("point `{}`", point.name))?;
        }
        let absolute =
            |path: &Path| std::path::absolute(path).doing(path, "cannot resolve the path");
        Ok(Self {
            file: absolute(file)?,
            dir: absolute(&artifacts.join(&name))?,
            name,
            points,
        })
    }

    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// The sweep file, absolute.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The artifacts directory the sweep's directory is in, absolute.
    pub fn artifacts(&self) -> &Path {
        self.dir
            .parent()
            .expect("a sweep's directory is under the artifacts")
    }

    pub(crate) fn point_dir(&self, point: &Point) -> PathBuf {
        self.dir.join(&point.name)
    }

    /// Where a point stands. A run there that another sweep file (or an edit of this one)
    /// made is refused, so that the sweep's points always hold what the file says.
    pub fn state(&self, point: &Point) -> Result<PointState> {
        let dir = self.point_dir(point);
        let state = RunState::of(&dir)?;
        // Files that are not a run are refused when the point claims its directory.
        if matches!(
            state,
            RunState::Empty
                | RunState::Sweep
                | RunState::InkFinder
                | RunState::NumberReader
                | RunState::OtherFiles
        ) {
            return Ok(PointState::ToTrain(Naming::Exact));
        }
        let run = RunDir::open(&dir)?;
        let existing = run.read_config()?;
        if existing != point.config {
            return Err(Error::file(
                run.config_path(),
                format!(
                    "holds another experiment than point `{}` of {} now says; move the run \
                     away or give the sweep another name",
                    point.name,
                    self.file.display()
                ),
            ));
        }
        Ok(match state {
            RunState::Finished => PointState::Finished,
            RunState::Resumable if run.can_resume(&existing)? => PointState::ToResume,
            _ => PointState::ToTrain(Naming::Replace),
        })
    }

    /// Creates the sweep's directory and its record of the points (the same for every
    /// process that writes it), which marks the directory as a sweep's.
    pub(crate) fn write_record(&self) -> Result<()> {
        std::fs::create_dir_all(&self.dir).doing(&self.dir, "cannot create")?;
        let names: Vec<&str> = self.points.iter().map(|p| p.name.as_str()).collect();
        let record = serde_json::json!({
            "sweep": self.name,
            "file": self.file.display().to_string(),
            "points": names,
        });
        let text = serde_json::to_string_pretty(&record).expect("a record serialises");
        write_sweep_record(&self.dir, &text)
    }

    /// Runs point `index` in this process: trains it, resumes it, or says it is finished.
    pub(crate) fn run_task(&self, index: usize, options: RunOptions) -> Result<PointState> {
        let point = self.points.get(index).ok_or_else(|| {
            Error::file(
                &self.file,
                format!(
                    "task {index}: the sweep has {} points (tasks 0 to {})",
                    self.points.len(),
                    self.points.len() - 1
                ),
            )
        })?;
        self.write_record()?;
        // Every point is tracked in an experiment named after the sweep.
        let options = RunOptions {
            experiment: Some(self.name.clone()),
            ..options
        };
        let state = self.state(point)?;
        let request = match state {
            PointState::Finished => {
                output::line(format_args!("{}: already finished", point.name));
                return Ok(state);
            }
            PointState::ToResume => TrainRequest::resume(&self.point_dir(point), None, options)?,
            PointState::ToTrain(naming) => {
                TrainRequest::new(point.config.clone(), options, self.dir.clone(), naming)
                    .doing(&self.file, format_args!("point `{}`", point.name))?
            }
        };
        training::train(&request)?;
        Ok(state)
    }
}
