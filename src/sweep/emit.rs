//! `sweep FILE --emit slurm|k8s`: a job description that runs every point on a cluster, one
//! array task (Slurm) or completion index (Kubernetes Indexed Job) per point, each calling
//! `sweep FILE --task K`. Both assume what a cluster of this kind has: this program and MNIST
//! on every node (or in the image), and the sweep file and artifacts directory on storage
//! every node shares. Tasks that fail or are cancelled can simply be submitted again: finished
//! points are skipped and interrupted ones resume.

use std::path::Path;

use super::{Sweep, SweepTask};

/// The cluster scheduler to write a job for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scheduler {
    Slurm,
    K8s,
}

/// What the job runs: the program, the flags after `--task K` (backend, data directory), the
/// cores each task gets, and the variables it is given (MLflow's, as set where the job was
/// written: each point is tracked in the experiment they name, else one named after the sweep).
pub struct JobSettings<'a> {
    pub program: &'a Path,
    pub task: SweepTask,
    pub(crate) cpus_per_task: usize,
    pub environment: Vec<(&'static str, String)>,
}

pub fn job(sweep: &Sweep, scheduler: Scheduler, settings: &JobSettings) -> String {
    match scheduler {
        Scheduler::Slurm => slurm(sweep, settings),
        Scheduler::K8s => kubernetes(sweep, settings),
    }
}

/// A shell word: quoted unless it is plainly safe.
fn quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn task_command(settings: &JobSettings, index_variable: &str) -> String {
    let mut words = vec![quote(&settings.program.display().to_string())];
    words.extend(
        settings
            .task
            .to_args()
            .iter()
            .map(|arg| quote(&arg.to_string_lossy())),
    );
    words.push("--task".into());
    words.push(format!("\"${index_variable}\""));
    words.join(" ")
}

fn slurm(sweep: &Sweep, settings: &JobSettings) -> String {
    let last = sweep.points.len() - 1;
    let cpus = settings.cpus_per_task;
    format!(
        "#!/bin/bash\n\
         # Sweep `{name}`: {count} points, one Slurm array task each. Submit with `sbatch`\n\
         # (`sbatch --wait` to block until every task has ended); submit it again to finish\n\
         # what failed or was cancelled. Assumes the program and MNIST on every node ($MNIST_DIR\n\
         # or --data-dir), and the sweep file and artifacts directory on shared storage.\n\
         #SBATCH --job-name=lstm-mnist-{name}\n\
         #SBATCH --array=0-{last}\n\
         #SBATCH --cpus-per-task={cpus}\n\
         #SBATCH --output={dir}/slurm-%A_%a.out\n\
         export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-{cpus}}}\"\n\
         {exports}\
         exec {command}\n",
        exports = settings
            .environment
            .iter()
            .map(|(name, value)| format!("export {name}={}\n", quote(value)))
            .collect::<String>(),
        name = sweep.name,
        count = sweep.points.len(),
        dir = sweep.dir.display(),
        command = task_command(settings, "SLURM_ARRAY_TASK_ID"),
    )
}

fn kubernetes(sweep: &Sweep, settings: &JobSettings) -> String {
    let count = sweep.points.len();
    let cpus = settings.cpus_per_task;
    let command = task_command(settings, "JOB_COMPLETION_INDEX");
    let yaml_string = serde_json::to_string(&command).expect("a string serialises");
    format!(
        "# Sweep `{name}`: {count} points, one completion index each (`kubectl apply -f`).\n\
         # Assumes an image `lstm-mnist` holding the program at the path below and MNIST in\n\
         # $MNIST_DIR, and a PersistentVolumeClaim `lstm-mnist-shared` (ReadWriteMany) holding\n\
         # the sweep file and the artifacts directory, mounted at {mount}. Apply it again (under\n\
         # a new name) to finish what failed.\n\
         apiVersion: batch/v1\n\
         kind: Job\n\
         metadata:\n  name: lstm-mnist-{job_name}\n\
         spec:\n\
         \x20 completionMode: Indexed\n\
         \x20 completions: {count}\n\
         \x20 parallelism: {count}\n\
         \x20 backoffLimitPerIndex: 2\n\
         \x20 template:\n\
         \x20   spec:\n\
         \x20     restartPolicy: Never\n\
         \x20     containers:\n\
         \x20       - name: point\n\
         \x20         image: lstm-mnist\n\
         \x20         command: [\"sh\", \"-c\", {yaml_string}]\n\
         \x20         env:\n\
         \x20           - name: RAYON_NUM_THREADS\n\
         \x20             value: \"{cpus}\"\n\
         {environment}\
         \x20         resources:\n\
         \x20           requests:\n\
         \x20             cpu: \"{cpus}\"\n\
         \x20         volumeMounts:\n\
         \x20           - name: shared\n\
         \x20             mountPath: {mount}\n\
         \x20     volumes:\n\
         \x20       - name: shared\n\
         \x20         persistentVolumeClaim:\n\
         \x20           claimName: lstm-mnist-shared\n",
        name = sweep.name,
        job_name = sweep.name.to_lowercase().replace(['_', '.'], "-"),
        mount = shared_root(sweep).display(),
        environment = settings
            .environment
            .iter()
            .map(|(name, value)| {
                let value = serde_json::to_string(value).expect("a string serialises");
                format!("            - name: {name}\n              value: {value}\n")
            })
            .collect::<String>(),
    )
}

/// The directory holding both the sweep file and the artifacts: what the shared volume must be.
fn shared_root(sweep: &Sweep) -> &Path {
    let mut root = sweep.dir.as_path();
    while !sweep.file.starts_with(root) {
        root = root.parent().unwrap_or(Path::new("/"));
    }
    root
}
