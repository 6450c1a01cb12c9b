//! `sweep FILE --jobs N`: the points not yet finished, N at a time on this machine, each in a
//! process of its own (`sweep FILE --task K`, as a cluster runs them) given an equal share of
//! the cores. Each point's lines come out prefixed with its name; a summary ends the sweep.
//! Interrupted (Ctrl-C, a crash), the same command again skips the finished points and resumes
//! the interrupted ones.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{PointState, Sweep, SweepTask};
use crate::error::{ERROR_FILE_ENV, Error, Result};
use crate::output;
use crate::run_dir::RunDir;

/// How to start one point's process: this program, and its task's flags.
pub struct TaskCommand {
    pub program: PathBuf,
    pub task: SweepTask,
}

/// What became of a point.
enum Outcome {
    Done { state: PointState, took: Duration },
    Failed(String),
}

pub fn run(sweep: &Sweep, jobs: usize, task: &TaskCommand) -> Result<()> {
    let states = sweep
        .points
        .iter()
        .map(|point| sweep.state(point))
        .collect::<Result<Vec<_>>>()?;
    sweep.write_record()?;
    let count = |wanted: fn(&PointState) -> bool| states.iter().filter(|s| wanted(s)).count();
    let threads = threads_per_job(jobs);
    output::line(format_args!(
        "Sweep `{}`: {} points in {}: {} finished, {} to resume, {} to train; {jobs} job(s) of \
         {threads} thread(s)",
        sweep.name,
        sweep.points.len(),
        sweep.dir.display(),
        count(|s| *s == PointState::Finished),
        count(|s| *s == PointState::ToResume),
        count(|s| matches!(s, PointState::ToTrain(_))),
    ));
    let pending: VecDeque<usize> = (0..states.len())
        .filter(|&k| states[k] != PointState::Finished)
        .collect();
    let queue = Mutex::new(pending);
    let outcomes: Mutex<Vec<Option<Outcome>>> =
        Mutex::new((0..states.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                while let Some(k) = queue.lock().expect("queue").pop_front() {
                    let outcome = run_point(sweep, k, states[k], threads, task);
                    outcomes.lock().expect("outcomes")[k] = Some(outcome);
                }
            });
        }
    });
    let outcomes = outcomes.into_inner().expect("outcomes");
    output::print(&summary(sweep, &outcomes));
    let failed: Vec<&str> = sweep
        .points
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| matches!(outcome, Some(Outcome::Failed(_))))
        .map(|(point, _)| point.name.as_str())
        .collect();
    match failed.len() {
        0 => Ok(()),
        n => Err(Error::msg(format!(
            "{n} of {} points failed: {}",
            sweep.points.len(),
            failed.join(", ")
        ))),
    }
}

/// The cores split evenly between the jobs, at least one each.
pub(crate) fn threads_per_job(jobs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / jobs.max(1)).max(1)
}

/// Runs point `k` in a child process, its output lines prefixed with the point's name.
fn run_point(
    sweep: &Sweep,
    k: usize,
    state: PointState,
    threads: usize,
    task: &TaskCommand,
) -> Outcome {
    let name = &sweep.points[k].name;
    output::line(format_args!(
        "[{name}] {} (point {} of {})",
        verb(state),
        k + 1,
        sweep.points.len()
    ));
    let started = Instant::now();
    // The child's final error line comes back through a file of its own.
    let error_file = match tempfile::NamedTempFile::new() {
        Ok(file) => file,
        Err(e) => return Outcome::Failed(format!("cannot make a file for its error: {e}")),
    };
    let mut child = match point_command(task, k, threads, error_file.path()).spawn() {
        Ok(child) => child,
        Err(e) => return Outcome::Failed(format!("cannot start: {e}")),
    };
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    std::thread::scope(|scope| {
        scope.spawn(|| forward(stderr, name, true));
        forward(stdout, name, false);
    });
    match child.wait() {
        Ok(status) if status.success() => Outcome::Done {
            state,
            took: started.elapsed(),
        },
        // Killed (a signal) or ended before it could say why: the status is all there is.
        Ok(status) => Outcome::Failed(
            std::fs::read_to_string(error_file.path())
                .ok()
                .filter(|line| !line.is_empty())
                .unwrap_or_else(|| status.to_string()),
        ),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// The process of point `k`: this program's task, its output piped to us.
fn point_command(task: &TaskCommand, k: usize, threads: usize, error_file: &Path) -> Command {
    let mut child = Command::new(&task.program);
    child
        .args(task.task.to_args())
        .arg("--task")
        .arg(k.to_string())
        .env("RAYON_NUM_THREADS", threads.to_string())
        .env(ERROR_FILE_ENV, error_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A point's process ends with the sweep (killed or interrupted): its checkpoints are
    // written atomically, and the next run of the sweep resumes it. SAFETY: between fork and
    // exec the closure makes one async-signal-safe system call.
    unsafe {
        child.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    child
}

/// Copies a child's lines to ours with the point's name in front.
fn forward(from: impl Read, name: &str, to_stderr: bool) {
    for line in BufReader::new(from)
        .lines()
        .map_while(std::result::Result::ok)
    {
        if to_stderr {
            output::relay_to_stderr(format_args!("[{name}] {line}"));
        } else {
            output::line(format_args!("[{name}] {line}"));
        }
    }
}

fn verb(state: PointState) -> &'static str {
    match state {
        PointState::ToTrain(_) => "training",
        PointState::ToResume => "resuming",
        PointState::Finished => "finished",
    }
}

/// One line per point: how it went, its test accuracy, the time it took here.
fn summary(sweep: &Sweep, outcomes: &[Option<Outcome>]) -> String {
    let width = sweep
        .points
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut text = format!(
        "\nSweep `{}`\n{:<width$}  {:<16} {:>13} {:>9}\n",
        sweep.name, "point", "this time", "test accuracy", "took"
    );
    let mut finished = 0;
    for (point, outcome) in sweep.points.iter().zip(outcomes) {
        let report = RunDir::open(&sweep.point_dir(point)).and_then(|run| run.read_report());
        let accuracy = report.as_ref().map_or("—".to_string(), |r| {
            format!("{:.2}%", r.test_accuracy * 100.0)
        });
        finished += usize::from(report.is_ok());
        let (what, took) = match outcome {
            None => ("finished before".to_string(), "—".to_string()),
            Some(Outcome::Done { state, took }) => {
                let what = if *state == PointState::ToResume {
                    "resumed"
                } else {
                    "trained"
                };
                (what.to_string(), format!("{:.0} s", took.as_secs_f64()))
            }
            Some(Outcome::Failed(why)) => (format!("failed: {why}"), "—".to_string()),
        };
        text += &format!(
            "{:<width$}  {what:<16} {accuracy:>13} {took:>9}\n",
            point.name
        );
    }
    text += &format!("{finished} of {} points finished\n", sweep.points.len());
    text
}
