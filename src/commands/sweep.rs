//! `lstm-mnist sweep`: the runs of a sweep file, on this machine (`--jobs N`), one of them
//! (`--task K`, what a cluster task calls), or a cluster job that runs them all (`--emit`).

use std::path::PathBuf;

use crate::backend::Compute;
use crate::error::{Context, Result};
use crate::model::RecurrentKernel;
use crate::output;
use crate::sweep::emit::{self, JobSettings, Scheduler};
use crate::sweep::local::{self, TaskCommand};
use crate::sweep::{Sweep, SweepTask};
use crate::tracking;
use crate::training::RunOptions;

#[derive(Debug, Clone)]
pub struct SweepRequest {
    pub file: PathBuf,
    pub artifacts: PathBuf,
    pub(crate) mode: SweepMode,
    pub compute: Compute,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SweepMode {
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
        SweepMode::Local { jobs } => {
            let command = TaskCommand {
                program: this_program()?,
                task: task(request, &sweep)?,
            };
            local::run(&sweep, jobs, &command)
        }
        SweepMode::Task(index) => {
            let options = RunOptions {
                compute: request.compute.clone(),
                kernel: RecurrentKernel::default(),
                // The sweep names the experiment its points are tracked in.
                experiment: None,
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
                task: task(request, &sweep)?,
                cpus_per_task,
                environment: tracking::variables(),
            };
            output::print(&emit::job(&sweep, scheduler, &settings));
            Ok(())
        }
    }
}

fn task(request: &SweepRequest, sweep: &Sweep) -> Result<SweepTask> {
    SweepTask::new(
        sweep,
        request.compute.backend,
        request.compute.data_dir.as_deref(),
    )
}

fn this_program() -> Result<PathBuf> {
    std::env::current_exe().context("cannot find this program")
}
