//! `sweep`: a small grid run two at a time, killed and run again; one point as a cluster task
//! runs it; the emitted job descriptions; and the emitted Slurm array job submitted to the
//! single-node Slurm cluster that tools/slurm-single-node.sh starts (CI runs it first).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::needs::{Need, met};
use common::{assert_one_line_error, lstm_mnist, succeeded};
use lstm_mnist::config::ExperimentConfig;
use lstm_mnist::sweep::Sweep;

const POINTS: [&str; 4] = [
    "seed-1_hidden-16",
    "seed-1_hidden-24",
    "seed-2_hidden-16",
    "seed-2_hidden-24",
];

/// A sweep of 4 points of a few hundred images, 3 epochs each.
fn small_sweep(dir: &Path) -> PathBuf {
    let base = std::fs::canonicalize("configs/rnn-adam.toml").unwrap();
    let file = dir.join("small.toml");
    std::fs::write(
        &file,
        format!(
            "base = {base:?}\n\
             [grid]\nseed = [1, 2]\nmodel.hidden = [16, 24]\n\
             training.epochs = [3]\ndata.train_samples = [500]\ndata.test_samples = [200]\n"
        ),
    )
    .unwrap();
    file
}

fn sweep(file: &Path, artifacts: &Path, args: &[&str], failpoints: Option<&str>) -> Output {
    let mut command = lstm_mnist();
    command
        .args(["sweep", file.to_str().unwrap(), "--artifacts"])
        .arg(artifacts)
        .args(args);
    if let Some(spec) = failpoints {
        command.env("LSTM_MNIST_FAILPOINTS", spec);
    }
    command.output().unwrap()
}

/// The epochs a point's output lines say were trained, in order; lines also in `before` (a
/// resumed run shows the epoch it resumed from again, with its recorded figures) are not.
fn epochs_trained(stdout: &str, before: &str, point: &str) -> Vec<usize> {
    let prefix = format!("[{point}] Epoch ");
    stdout
        .lines()
        .filter(|line| !before.lines().any(|earlier| earlier == *line))
        .filter_map(|line| line.strip_prefix(&prefix))
        .map(|rest| rest.split('/').next().unwrap().parse().unwrap())
        .collect()
}

fn finished(artifacts: &Path) -> Vec<String> {
    POINTS
        .iter()
        .filter(|point| {
            artifacts
                .join("small")
                .join(point)
                .join("report.json")
                .is_file()
        })
        .map(|point| point.to_string())
        .collect()
}

#[test]
fn an_interrupted_sweep_run_again_finishes_without_training_anything_twice() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_sweep(dir.path());
    let artifacts = dir.path().join("artifacts");

    // Every point's process is killed at the last of the 4 batches of epoch 3, when epochs 1
    // and 2 are checkpointed (tests/resume.rs).
    let first = sweep(
        &file,
        &artifacts,
        &["--jobs", "2"],
        Some("train-batch=return(3:4)"),
    );
    assert!(!first.status.success());
    let first_out = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        first_out.contains("0 finished, 0 to resume, 4 to train; 2 job(s) of"),
        "{first_out}"
    );
    assert!(String::from_utf8_lossy(&first.stderr).contains("4 of 4 points failed"));
    // Killed, a point has no error of its own to give: the summary says how it ended, not
    // whatever it printed last.
    for point in POINTS {
        let line = summary_line(&first_out, point);
        assert!(line.contains("failed: signal: 9 (SIGKILL)"), "{line}");
    }
    assert!(finished(&artifacts).is_empty());

    let second = succeeded(sweep(&file, &artifacts, &["--jobs", "2"], None));
    let second_out = String::from_utf8_lossy(&second.stdout).to_string();
    assert!(
        second_out.contains("0 finished, 4 to resume, 0 to train"),
        "{second_out}"
    );
    for point in POINTS {
        // Each epoch trained once: the resumed run went on from the last checkpoint.
        let mut epochs = epochs_trained(&first_out, "", point);
        epochs.extend(epochs_trained(&second_out, &first_out, point));
        assert_eq!(epochs, [1, 2, 3], "{point}:\n{first_out}\n{second_out}");
        let metrics =
            std::fs::read_to_string(artifacts.join("small").join(point).join("metrics.csv"))
                .unwrap();
        assert_eq!(metrics.lines().count(), 1 + 3, "{point}: {metrics}");
    }
    assert!(
        second_out.contains("4 of 4 points finished"),
        "{second_out}"
    );
    assert_eq!(finished(&artifacts).len(), 4);

    let third = succeeded(sweep(&file, &artifacts, &[], None));
    let third_out = String::from_utf8_lossy(&third.stdout);
    assert!(
        third_out.contains("4 finished, 0 to resume, 0 to train"),
        "{third_out}"
    );
    assert!(!third_out.contains("Epoch"), "{third_out}");

    // `results` lists the sweep's points and their spread over the seeds.
    let results = succeeded(
        lstm_mnist()
            .args(["results", "--artifacts"])
            .arg(&artifacts)
            .output()
            .unwrap(),
    );
    let table = String::from_utf8_lossy(&results.stdout);
    for point in POINTS {
        assert!(table.contains(&format!("`small/{point}`")), "{table}");
    }
    assert!(
        table.contains("| `small/hidden-16` | 2 | 1, 2 |"),
        "{table}"
    );
}

/// The sweep summary's line for `point` (the last line of the output that starts with it).
fn summary_line<'a>(stdout: &'a str, point: &str) -> &'a str {
    stdout
        .lines()
        .rfind(|line| line.starts_with(&format!("{point} ")))
        .unwrap_or_else(|| panic!("no summary line for {point}:\n{stdout}"))
}

#[test]
fn a_point_that_fails_is_summarised_with_its_own_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_sweep(dir.path());
    let artifacts = dir.path().join("artifacts");
    let no_data = dir.path().join("no-data");
    std::fs::create_dir(&no_data).unwrap();

    let out = sweep(
        &file,
        &artifacts,
        &["--jobs", "2", "--data-dir", no_data.to_str().unwrap()],
        None,
    );
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("4 of 4 points failed"), "{stderr}");
    let missing = format!(
        "{}: missing (neither the .gz nor the raw file is there)",
        no_data.join("train-images-idx3-ubyte.gz").display()
    );
    for point in POINTS {
        // The child's own final error line, word for word.
        let line = summary_line(&stdout, point);
        assert!(line.contains(&format!("failed: {missing}")), "{line}");
        assert!(
            stderr.contains(&format!("[{point}] error: {missing}\n")),
            "{stderr}"
        );
    }
}

#[test]
fn a_task_runs_exactly_its_point() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_sweep(dir.path());
    let artifacts = dir.path().join("artifacts");
    succeeded(sweep(&file, &artifacts, &["--task", "2"], None));
    assert_eq!(finished(&artifacts), ["seed-2_hidden-16"]);
    let again = succeeded(sweep(&file, &artifacts, &["--task", "2"], None));
    assert!(String::from_utf8_lossy(&again.stdout).contains("already finished"));
    assert_one_line_error(
        &sweep(&file, &artifacts, &["--task", "4"], None),
        &[
            "small.toml",
            "task 4: the sweep has 4 points (tasks 0 to 3)",
        ],
    );
}

#[test]
fn a_bad_sweep_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let artifacts = dir.path().join("artifacts");
    let cases = [
        ("[grid]\nmodel.celll = [\"gru\"]\n", "unknown field `celll`"),
        ("[grid]\nseed = []\n", "grid axis `seed` is empty"),
        (
            "[grid]\nseed = [1, 2]\ntraining.epochs = [1, \"x\"]\n",
            "point `seed-1_epochs-x`",
        ),
        (
            "[grid]\nseed = [1,2,3,4,5,6,7,8,9,10]\ntraining.epochs = [1,2,3,4,5,6,7,8,9,10]\n\
             training.batch_size = [1,2,3,4,5,6,7,8,9,10,11]\n",
            "1100 points; at most 1000",
        ),
        (
            "base = \"missing.toml\"\n[grid]\nseed = [1]\n",
            "missing.toml",
        ),
    ];
    for (text, expected) in cases {
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, text).unwrap();
        assert_one_line_error(
            &sweep(&file, &artifacts, &[], None),
            &["bad.toml", expected],
        );
        assert!(!artifacts.exists(), "{text}: something was written");
    }
}

#[test]
fn emitted_jobs_run_every_point_as_a_task() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_sweep(dir.path());
    let artifacts = dir.path().join("artifacts");
    let file_path = std::fs::canonicalize(&file).unwrap();
    let slurm = succeeded(sweep(&file, &artifacts, &["--emit", "slurm"], None));
    let script = String::from_utf8_lossy(&slurm.stdout);
    for expected in [
        "#!/bin/bash",
        "#SBATCH --array=0-3",
        "#SBATCH --cpus-per-task=2",
        &format!("sweep {}", file_path.display()),
        "--task \"$SLURM_ARRAY_TASK_ID\"",
        "RAYON_NUM_THREADS",
    ] {
        assert!(
            script.contains(expected),
            "`{expected}` missing from:\n{script}"
        );
    }
    let k8s = succeeded(sweep(
        &file,
        &artifacts,
        &["--emit", "k8s", "--cpus-per-task", "4"],
        None,
    ));
    let job = String::from_utf8_lossy(&k8s.stdout);
    for expected in [
        "kind: Job",
        "completionMode: Indexed",
        "completions: 4",
        "--task \\\"$JOB_COMPLETION_INDEX\\\"",
        "cpu: \"4\"",
        "claimName: lstm-mnist-shared",
    ] {
        assert!(job.contains(expected), "`{expected}` missing from:\n{job}");
    }
    assert!(!script.contains("MLFLOW") && !job.contains("MLFLOW"));

    // MLflow's variables, set where the job is written, go into it.
    let tracked = |scheduler: &str| {
        let mut command = lstm_mnist();
        command
            .args(["sweep", file.to_str().unwrap(), "--artifacts"])
            .arg(&artifacts)
            .args(["--emit", scheduler])
            .env("MLFLOW_TRACKING_URI", "http://tracker:5000")
            .env("MLFLOW_EXPERIMENT_NAME", "night's sweeps");
        String::from_utf8(succeeded(command.output().unwrap()).stdout).unwrap()
    };
    let script = tracked("slurm");
    assert!(
        script.contains("export MLFLOW_TRACKING_URI=http://tracker:5000\n")
            && script.contains("export MLFLOW_EXPERIMENT_NAME='night'\\''s sweeps'\n"),
        "{script}"
    );
    let job = tracked("k8s");
    assert!(
        job.contains("- name: MLFLOW_TRACKING_URI\n              value: \"http://tracker:5000\"\n"),
        "{job}"
    );
}

/// The real thing: the emitted array job, submitted to Slurm.
#[test]
fn the_emitted_slurm_array_job_finishes_every_point() {
    if !met(
        Need::Slurm,
        "the_emitted_slurm_array_job_finishes_every_point",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = small_sweep(dir.path());
    let artifacts = dir.path().join("artifacts");
    let emitted = succeeded(sweep(
        &file,
        &artifacts,
        &["--emit", "slurm", "--cpus-per-task", "1"],
        None,
    ));
    let script = dir.path().join("small.sbatch");
    std::fs::write(&script, &emitted.stdout).unwrap();
    // Bounded: a cluster whose node is down would keep the job queued for ever.
    let submitted = std::process::Command::new("timeout")
        .args(["600", "sbatch", "--wait"])
        .arg(&script)
        .env("MNIST_DIR", common::mnist_dir())
        .output()
        .unwrap();
    let logs: String = std::fs::read_dir(artifacts.join("small"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("slurm-"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    println!("{}{logs}", String::from_utf8_lossy(&submitted.stdout));
    assert!(submitted.status.success(), "{submitted:?}\n{logs}");
    assert_eq!(finished(&artifacts).len(), 4, "{logs}");
}

/// configs/sweeps/seeds.toml is the seed study docs/results.md's figures come from: its 15 points are
/// exactly the shipped runs' experiments (config and seed; only the names differ).
#[test]
fn the_seeds_sweep_is_the_shipped_seed_study() {
    let sweep = Sweep::load(
        Path::new("configs/sweeps/seeds.toml"),
        Path::new("artifacts"),
    )
    .unwrap();
    assert_eq!(sweep.points().len(), 15);
    for point in sweep.points() {
        let (config, seed) = point.name.split_once("_seed-").unwrap();
        let shipped = match seed {
            "42" => config.to_string(),
            n => format!("{config}-seed{n}"),
        };
        let shipped_config =
            ExperimentConfig::load(&Path::new("artifacts").join(&shipped).join("config.toml"))
                .unwrap();
        let unnamed = |c: &ExperimentConfig| ExperimentConfig {
            name: String::new(),
            ..c.clone()
        };
        assert_eq!(
            unnamed(&point.config),
            unnamed(&shipped_config),
            "{}",
            point.name
        );
    }
}
