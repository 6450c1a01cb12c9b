//! Output that fits pipes: a reader that goes away (`| head -1`) ends the program quietly,
//! with status 0, and a training run stopped so is resumed like any other.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{lstm_mnist, succeeded};
use lstm_mnist::data::{TEST_IMAGES, locate};

/// Runs `command` as `command | head -1` would: reads its first line from the pipe, closes
/// the pipe, and waits for the program to end.
fn first_line_then_close(mut command: Command) -> (String, Output) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    drop(reader);
    (first, child.wait_with_output().unwrap())
}

/// Runs `command` with standard output a pipe whose reader has already gone.
fn into_a_closed_pipe(mut command: Command) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    command
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn assert_quiet_success(output: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{what}: {:?}: {stderr}",
        output.status
    );
    assert_eq!(stderr, "", "{what} said something on stderr");
}

fn small_training(artifacts: &Path, epochs: &str) -> Command {
    let mut command = lstm_mnist();
    command
        .args([
            "--cell",
            "rnn",
            "--epochs",
            epochs,
            "--train-samples",
            "128",
        ])
        .args(["--test-samples", "64", "--name", "piped", "--artifacts"])
        .arg(artifacts);
    command
}

#[test]
fn train_into_head_stops_quietly_and_the_run_resumes() {
    let artifacts = tempfile::tempdir().unwrap();
    // Far more epochs than a run gets through before its second line finds the pipe closed:
    // the run stops at the end of an early epoch, not at its last.
    let (first, output) = first_line_then_close(small_training(artifacts.path(), "100"));
    assert!(first.starts_with("Epoch 1/100 - "), "{first:?}");
    assert_quiet_success(&output, "train | head -1");
    let run = artifacts.path().join("piped");
    assert!(!run.join("report.json").exists(), "the run did not stop");

    let resumed = succeeded(lstm_mnist().arg("--resume").arg(&run).output().unwrap());
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(
        !stdout.contains("Epoch 1/100 "),
        "epoch 1 trained again: {stdout}"
    );
    assert!(stdout.contains("Epoch 100/100 - "), "{stdout}");
    assert!(run.join("report.json").is_file());
}

#[test]
fn train_into_a_closed_pipe_keeps_its_first_epoch() {
    let artifacts = tempfile::tempdir().unwrap();
    let output = into_a_closed_pipe(small_training(artifacts.path(), "3"));
    assert_quiet_success(&output, "train into a closed pipe");
    let run = artifacts.path().join("piped");
    // The first line already found no reader: epoch 1 is the run's, complete and resumable.
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 2, "{metrics}");
    let resumed = succeeded(lstm_mnist().arg("--resume").arg(&run).output().unwrap());
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(stdout.starts_with("Epoch 2/3 - "), "{stdout}");
}

#[test]
fn results_and_summary_into_head_end_quietly() {
    let mut results = lstm_mnist();
    results.args(["results", "--artifacts", "artifacts"]);
    let (first, output) = first_line_then_close(results);
    assert!(first.starts_with("| run |"), "{first:?}");
    assert_quiet_success(&output, "results | head -1");

    for args in [&["results", "--artifacts", "artifacts"][..], &["summary"]] {
        let mut command = lstm_mnist();
        command.args(args);
        assert_quiet_success(&into_a_closed_pipe(command), &args.join(" "));
    }
}

#[test]
fn predict_into_a_closed_pipe_ends_quietly() {
    let mut predict = lstm_mnist();
    predict
        .args(["predict", "--checkpoint", "artifacts/rnn-adam"])
        .arg(locate(&common::mnist_dir(), TEST_IMAGES).unwrap());
    assert_quiet_success(&into_a_closed_pipe(predict), "predict into a closed pipe");
}
