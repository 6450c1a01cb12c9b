//! `sweep`: a grid of configs, run here, as one cluster task, or emitted as a job.

use std::path::PathBuf;

use clap::Args;

use super::shared::{BackendArg, DEFAULT_ARTIFACTS, DataDirArg, compute};
use crate::commands::Request;
use crate::commands::sweep::{SweepMode, SweepRequest};
use crate::error::Result;
use crate::sweep::emit::Scheduler;

pub(super) const EXAMPLES: &str = "\
Examples:
  lstm-mnist sweep configs/sweeps/seeds.toml
  lstm-mnist sweep configs/sweeps/bias.toml --jobs 2
  lstm-mnist sweep configs/sweeps/seeds.toml --emit slurm > seeds.sbatch";

#[derive(Debug, Args)]
pub(super) struct SweepArgs {
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

impl SweepArgs {
    pub(super) fn into_request(self) -> Result<Request> {
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
        Ok(Request::Sweep(SweepRequest {
            mode,
            file: self.file,
            artifacts: self.artifacts,
            compute: compute(self.compute, self.data),
        }))
    }
}
