//! `lstm-mnist sweep`: the runs of a sweep file, on this machine (`--jobs N`), one of them
//! (`--task K`, what a cluster task calls), or a cluster job that runs them all (`--emit`).

use std::ffi::OsString;
use std::path::PathBuf;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::model::RecurrentKernel;
use crate::output;
use crate::sweep::Sweep;
use crate::sweep::emit::{self, JobSettings, Scheduler};
use crate::sweep::local::{self, TaskCommand};
use crate::training::RunOptions;

#[derive(Debug, Clone)]
pub struct SweepRequest {
    pub file: PathBuf,
    pub artifacts: PathBuf,
    pub mode: SweepMode,
    pub backend: Backend,
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepMode {
    /// Every point not yet finished, this many at a time.
    Local { jobs: usize },
    /// Only point K.
    Task(usize),
    /// Print a job description for the cluster scheduler.
    Emit {
        scheduler: Scheduler,
        cpus_per_task: usize,
    },
}

pub fn run(request: &SweepRequest) -> Result<()> {
    let sweep = Sweep::load(&request.file, &request.artifacts)?;
    match request.mode {
        SweepMode::Local { jobs } => local::run(&sweep, jobs, &task_command(request, &sweep)?),
        SweepMode::Task(index) => {
            let options = RunOptions {
                backend: request.backend,
                kernel: RecurrentKernel::default(),
                data_dir: request.data_dir.clone(),
            };
            sweep.run_task(index, options).map(drop)
        }
        SweepMode::Emit {
            scheduler,
            cpus_per_task,
        } => {
            // The tasks' output files go in the sweep's directory, which must exist first.
            sweep.write_record()?;
            let program = this_program()?;
            let settings = JobSettings {
                program: &program,
                extra_args: task_flags(request)?
                    .into_iter()
                    .map(|a| a.to_string_lossy().to_string())
                    .collect(),
                cpus_per_task,
            };
            output::print(&emit::job(&sweep, scheduler, &settings));
            Ok(())
        }
    }
}

/// `lstm-mnist sweep FILE --artifacts DIR [--backend B] [--data-dir D]`, all paths absolute.
fn task_command(request: &SweepRequest, sweep: &Sweep) -> Result<TaskCommand> {
    let mut args: Vec<OsString> = vec![
        "sweep".into(),
        sweep.file().into(),
        "--artifacts".into(),
        sweep.artifacts().into(),
    ];
    args.extend(task_flags(request)?);
    Ok(TaskCommand {
        program: this_program()?,
        args,
    })
}

/// The flags every task repeats: the backend, and the data directory made absolute.
fn task_flags(request: &SweepRequest) -> Result<Vec<OsString>> {
    let mut flags: Vec<OsString> = vec!["--backend".into(), request.backend.to_string().into()];
    if let Some(dir) = &request.data_dir {
        let dir = std::path::absolute(dir)
            .map_err(|e| Error::file(dir, format!("cannot resolve the path: {e}")))?;
        flags.extend(["--data-dir".into(), dir.into()]);
    }
    Ok(flags)
}

fn this_program() -> Result<PathBuf> {
    std::env::current_exe().map_err(|e| Error::msg(format!("cannot find this program: {e}")))
}
