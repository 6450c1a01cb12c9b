//! Interrupted runs: killed with SIGKILL at exact points (the fault points of
//! `lstm_mnist::faults`, switched on through `LSTM_MNIST_FAILPOINTS`), they leave nothing
//! half-written in place, and resumed they end exactly where an uninterrupted run of the same
//! seed ends: the same metrics, the same weights, the same test score. No test here waits for
//! time to pass: each kill happens at the point it names, whatever the machine's speed.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use lstm_mnist::faults;
use lstm_mnist::run_dir::{
    EpochMetrics, ModelRef, REPLACING_FILE, RunDir, read_metrics, read_report,
};
use tempfile::TempDir;

/// 3 epochs of Adam on 1,000 images (8 batches an epoch).
const RUN: [&str; 12] = [
    "train",
    "--epochs",
    "3",
    "--train-samples",
    "1000",
    "--test-samples",
    "200",
    "--optimizer",
    "adam",
    "--lr",
    "0.001",
    "--artifacts",
];

fn command(artifacts: &Path) -> Command {
    let mut command = common::lstm_mnist();
    command.args(RUN).arg(artifacts);
    command
}

/// `lstm-mnist --resume run`.
fn resume(run: &Path) -> Output {
    common::lstm_mnist()
        .arg("--resume")
        .arg(run)
        .output()
        .unwrap()
}

/// The uninterrupted run every resumed one must equal, trained once per test binary.
fn uninterrupted() -> &'static Path {
    static RUN_DIR: OnceLock<(TempDir, PathBuf)> = OnceLock::new();
    let (_, run) = RUN_DIR.get_or_init(|| {
        let artifacts = tempfile::tempdir().unwrap();
        common::succeeded(
            command(artifacts.path())
                .args(["--name", "straight"])
                .output()
                .unwrap(),
        );
        let run = artifacts.path().join("straight");
        (artifacts, run)
    });
    run
}

/// Everything but the wall-clock column.
fn learning_curve(run: &Path) -> Vec<EpochMetrics> {
    read_metrics(&run.join("metrics.csv"))
        .unwrap()
        .into_iter()
        .map(|m| EpochMetrics { seconds: 0.0, ..m })
        .collect()
}

/// The weights in a model file: each tensor's name, shape and bytes (without the random
/// parameter ids Burn gives every tensor anew, which differ between identical runs).
fn weights(model: &Path) -> Vec<(String, Vec<usize>, Vec<u8>)> {
    let mut tensors: Vec<_> = burn_pack::Reader::from_file(model)
        .unwrap()
        .into_tensors()
        .unwrap()
        .into_iter()
        .map(|tensor| {
            let (name, _, shape, _, bytes) = tensor.into_parts().unwrap();
            (name, shape.iter().copied().collect(), bytes.to_vec())
        })
        .collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    tensors
}

/// The run directory's files (the checkpoints' too), sorted, without the lock.
fn on_disk(run: &Path) -> Vec<String> {
    let mut names: Vec<String> = [run.to_path_buf(), run.join("checkpoint")]
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_file())
        .map(|entry| entry.file_name().to_string_lossy().to_string())
        .filter(|name| name != ".lock")
        .collect();
    names.sort();
    names
}

/// Every file in its real place reads back whole: a kill may leave temporary files, never a
/// truncated real one.
fn assert_nothing_half_written(run: &Path) {
    lstm_mnist::config::ExperimentConfig::load(&run.join("config.toml")).unwrap();
    if run.join("metrics.csv").exists() {
        read_metrics(&run.join("metrics.csv")).unwrap();
    }
    if run.join("report.json").exists() {
        read_report(&run.join("report.json")).unwrap();
    }
    let device = burn::tensor::Device::flex();
    let models = on_disk(run).into_iter().filter(|name| {
        name == "model.bpk" || (name.starts_with("model-") && name.ends_with(".bpk"))
    });
    for name in models {
        let path = if name == "model.bpk" {
            run.join(&name)
        } else {
            run.join("checkpoint").join(&name)
        };
        ModelRef::resolve(&path)
            .and_then(|model| model.load(&device))
            .unwrap_or_else(|e| panic!("{name} is half-written: {e}"));
    }
    for record in ["optim", "scheduler"] {
        for name in on_disk(run)
            .iter()
            .filter(|name| name.starts_with(&format!("{record}-")))
        {
            burn::store::ModuleRecord::load(run.join("checkpoint").join(name))
                .unwrap_or_else(|e| panic!("{name} is half-written: {e:?}"));
        }
    }
}

/// Trains the run with `points` switched on, and checks that they killed it (SIGKILL).
fn killed_at(points: &str) -> (TempDir, PathBuf) {
    let artifacts = tempfile::tempdir().unwrap();
    let output = command(artifacts.path())
        .args(["--name", "killed"])
        .env(faults::ENV, points)
        .output()
        .unwrap();
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGKILL),
        "{points} did not kill the run: {:?} {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let run = artifacts.path().join("killed");
    (artifacts, run)
}

/// Kills the run at `points`, checks what is on disk, resumes it and checks that it ends where
/// the uninterrupted run ends. Prints one row of the kill-point table.
fn killed_and_resumed(points: &str) {
    let (_artifacts, run) = killed_at(points);
    let left = on_disk(&run);
    assert_nothing_half_written(&run);
    assert!(
        !run.join("report.json").exists(),
        "finished before the kill"
    );
    let run_dir = RunDir::open(&run).unwrap();
    let resumed_from = run_dir
        .resume_point(&run_dir.read_config().unwrap())
        .unwrap()
        .epoch;

    common::succeeded(resume(&run));

    let stray: Vec<String> = on_disk(&run)
        .into_iter()
        .filter(|name| name.starts_with(".tmp"))
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");
    let straight = uninterrupted();
    let resumed = learning_curve(&run);
    assert_eq!(
        resumed.iter().map(|m| m.epoch).collect::<Vec<_>>(),
        [1, 2, 3],
        "each epoch once"
    );
    assert_eq!(resumed, learning_curve(straight));
    assert!(
        weights(&run.join("model.bpk")) == weights(&straight.join("model.bpk")),
        "the final weights differ from the uninterrupted run's"
    );
    let (a, b) = (
        read_report(&straight.join("report.json")).unwrap(),
        read_report(&run.join("report.json")).unwrap(),
    );
    assert_eq!(
        (a.test_accuracy, a.test_loss),
        (b.test_accuracy, b.test_loss)
    );
    eprintln!(
        "| `{points}` | {} | epoch {resumed_from} | yes |",
        left.join(", ")
    );
}

#[test]
fn two_uninterrupted_runs_of_one_seed_are_identical() {
    let artifacts = tempfile::tempdir().unwrap();
    common::succeeded(
        command(artifacts.path())
            .args(["--name", "again"])
            .output()
            .unwrap(),
    );
    let (straight, again) = (uninterrupted(), artifacts.path().join("again"));
    assert_eq!(learning_curve(straight), learning_curve(&again));
    let (a, b) = (
        weights(&straight.join("model.bpk")),
        weights(&again.join("model.bpk")),
    );
    // Four gates with a weight and a bias on each of two transforms, and the head's two.
    assert_eq!(a.len(), 18);
    assert!(a == b, "two runs of one seed ended with different weights");
    // The model loads and scores as its report says.
    let report = read_report(&again.join("report.json")).unwrap();
    let output = common::succeeded(
        common::lstm_mnist()
            .args(["evaluate", "--checkpoint"])
            .arg(&again)
            .output()
            .unwrap(),
    );
    let shown = format!("Test accuracy: {:.1}%", report.test_accuracy * 100.0);
    assert!(String::from_utf8_lossy(&output.stdout).starts_with(&shown));
}

// Every kill point lies in epoch 3 or later. Burn hands each epoch's checkpoint to one writer
// thread per record, which takes it only once it has finished the one before; so once epoch
// 2's checkpoint has been handed over, epoch 1's is complete, and there is always a checkpoint
// to resume from, whatever the machine's speed.

#[test]
fn killed_inside_a_training_batch() {
    killed_and_resumed("train-batch=return(3:4)");
}

#[test]
fn killed_inside_the_first_batch_of_the_last_epoch() {
    killed_and_resumed("train-batch=return(3:1)");
}

#[test]
fn killed_before_a_checkpoint_is_renamed_into_place() {
    killed_and_resumed("before-rename:model-3.bpk=return");
}

#[test]
fn killed_while_writing_a_checkpoint() {
    killed_and_resumed("write-partial:optim-3.bpk=return");
}

#[test]
fn killed_while_writing_the_metrics() {
    killed_and_resumed("write-partial:metrics.csv=2*off->return");
}

#[test]
fn killed_before_the_metrics_are_renamed_into_place() {
    killed_and_resumed("before-rename:metrics.csv=2*off->return");
}

#[test]
fn killed_while_writing_the_final_model() {
    killed_and_resumed("write-partial:model.bpk=return");
}

#[test]
fn killed_while_writing_the_report() {
    killed_and_resumed("write-partial:report.json=return");
}

#[test]
fn an_unknown_fault_point_syntax_is_one_line() {
    let output = common::run(&["summary"]);
    common::succeeded(output);
    let output = common::lstm_mnist()
        .arg("summary")
        .env(faults::ENV, "train-batch")
        .output()
        .unwrap();
    common::assert_one_line_error(&output, &[faults::ENV, "point=actions"]);
}

#[test]
fn an_overwrite_killed_half_way_says_so_and_one_command_cleans_it() {
    let artifacts = tempfile::tempdir().unwrap();
    let quick = |extra: &[&str]| {
        let mut command = common::lstm_mnist();
        command
            .args(["train", "--epochs", "1", "--train-samples", "300"])
            .args(["--test-samples", "100", "--name", "old", "--artifacts"])
            .arg(artifacts.path())
            .args(extra);
        command
    };
    common::succeeded(quick(&[]).output().unwrap());
    let run = artifacts.path().join("old");
    let before = on_disk(&run);

    let killed = quick(&["--overwrite", "--seed", "7"])
        .env(faults::ENV, "overwrite-clear=return")
        .output()
        .unwrap();
    assert_eq!(killed.status.signal(), Some(libc::SIGKILL));
    let left = on_disk(&run);
    assert!(left.contains(&REPLACING_FILE.to_string()), "{left:?}");
    assert!(!left.contains(&"report.json".to_string()), "{left:?}");
    eprintln!(
        "| `overwrite-clear=return` | {} (before: {}) | — | cleaned by --overwrite |",
        left.join(", "),
        before.join(", ")
    );

    // Every command that reads the run says what happened and how to clean it.
    let says_what_happened = ["old", "--overwrite was interrupted", "--overwrite again"];
    let evaluate = common::lstm_mnist()
        .args(["evaluate", "--checkpoint"])
        .arg(&run)
        .output()
        .unwrap();
    common::assert_one_line_error(&evaluate, &says_what_happened);
    common::assert_one_line_error(&resume(&run), &says_what_happened);
    let listed = common::succeeded(
        common::lstm_mnist()
            .args(["results", "--artifacts"])
            .arg(artifacts.path())
            .output()
            .unwrap(),
    );
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("Unreadable: old:") && listed.contains("--overwrite was interrupted"),
        "{listed}"
    );
    common::assert_one_line_error(
        &quick(&[]).output().unwrap(),
        &["old", "--overwrite was interrupted"],
    );

    // The one command: the same --overwrite again.
    common::succeeded(quick(&["--overwrite", "--seed", "7"]).output().unwrap());
    assert!(!run.join(REPLACING_FILE).exists());
    read_report(&run.join("report.json")).unwrap();
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains("seed = 7"), "{config}");
}

#[test]
fn resuming_with_an_unreadable_history_stops_and_keeps_it() {
    let (_artifacts, run) = killed_at("train-batch=return(3:4)");
    let damaged = "epoch,train_loss\nnot a row\n";
    std::fs::write(run.join("metrics.csv"), damaged).unwrap();
    common::assert_one_line_error(&resume(&run), &["metrics.csv", "not a metrics file"]);
    assert_eq!(
        std::fs::read_to_string(run.join("metrics.csv")).unwrap(),
        damaged,
        "the history was rewritten"
    );
}

/// Hides every GPU from wgpu: no Vulkan driver, no EGL vendor (its GL fallback).
fn without_a_gpu(command: &mut Command) -> &mut Command {
    command
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .env("__EGL_VENDOR_LIBRARY_DIRS", "/nonexistent")
        .env("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/egl.json")
}

#[test]
fn an_adam_run_resumes_on_a_machine_without_a_gpu() {
    // Burn reads an Adam state back onto its default device, which is the GPU wherever wgpu
    // is compiled in and one is found: the program pins it to flex (`BURN_DEVICE`).
    let artifacts = tempfile::tempdir().unwrap();
    let mut first = command(artifacts.path());
    first.args(["--name", "cpu-only"]);
    common::succeeded(without_a_gpu(&mut first).output().unwrap());
    let run = artifacts.path().join("cpu-only");
    let mut again = common::lstm_mnist();
    // Trained further than its 3 epochs: epoch 3's checkpoint, Adam's state with it, is read.
    again.arg("--resume").arg(&run).args(["--epochs", "4"]);
    common::succeeded(without_a_gpu(&mut again).output().unwrap());
    assert_eq!(learning_curve(&run).len(), 4);
}
