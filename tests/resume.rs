//! Interrupted runs: killed with SIGKILL mid-epoch and resumed, they end exactly where an
//! uninterrupted run of the same seed ends; and two runs of the same seed agree.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use lstm_mnist::run_dir::{EpochMetrics, read_metrics, read_report};

/// 3 epochs of Adam on 2,000 images: a few seconds an epoch.
const RUN: [&str; 12] = [
    "train",
    "--epochs",
    "3",
    "--train-samples",
    "2000",
    "--test-samples",
    "500",
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
fn resume(run: &Path) -> std::process::Output {
    common::lstm_mnist()
        .arg("--resume")
        .arg(run)
        .output()
        .unwrap()
}

/// Everything but the wall-clock column.
fn learning_curve(run: &Path) -> Vec<EpochMetrics> {
    read_metrics(&run.join("metrics.csv"))
        .unwrap()
        .into_iter()
        .map(|m| EpochMetrics { seconds: 0.0, ..m })
        .collect()
}

#[test]
fn killed_mid_epoch_and_resumed_matches_an_uninterrupted_run() {
    let artifacts = tempfile::tempdir().unwrap();
    common::succeeded(
        command(artifacts.path())
            .args(["--name", "straight"])
            .output()
            .unwrap(),
    );
    common::succeeded(
        command(artifacts.path())
            .args(["--name", "again"])
            .output()
            .unwrap(),
    );
    let straight = artifacts.path().join("straight");
    // Same seed, same data, same backend: identical metrics.
    assert_eq!(
        learning_curve(&straight),
        learning_curve(&artifacts.path().join("again"))
    );

    // Start the same run, wait until epoch 1 is checkpointed, then kill it inside epoch 2.
    let killed = artifacts.path().join("killed");
    let mut child = command(artifacts.path())
        .args(["--name", "killed"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let epoch_one_saved = || {
        ["model", "optim", "scheduler"]
            .iter()
            .all(|r| killed.join(format!("checkpoint/{r}-1.bpk")).is_file())
    };
    while !epoch_one_saved() {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "epoch 1 never finished"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !killed.join("report.json").exists(),
        "the kill came too late"
    );
    let done_before_kill = learning_curve(&killed).len();
    assert!(
        (1..3).contains(&done_before_kill),
        "{done_before_kill} epochs before the kill"
    );

    common::succeeded(resume(&killed));

    // The kill may have left a temporary file, never a half-written real one; resuming
    // clears such leftovers.
    let stray: Vec<_> = std::fs::read_dir(&killed)
        .unwrap()
        .chain(std::fs::read_dir(killed.join("checkpoint")).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.starts_with(".tmp"))
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");

    let resumed = learning_curve(&killed);
    assert_eq!(
        resumed.iter().map(|m| m.epoch).collect::<Vec<_>>(),
        [1, 2, 3],
        "each epoch once"
    );
    assert_eq!(resumed, learning_curve(&straight));
    let (a, b) = (
        read_report(&straight.join("report.json")).unwrap(),
        read_report(&killed.join("report.json")).unwrap(),
    );
    assert_eq!(
        (a.test_accuracy, a.test_loss),
        (b.test_accuracy, b.test_loss)
    );
    eprintln!(
        "resume test: uninterrupted {:?} / resumed {:?}, test accuracy {} both",
        learning_curve(&straight)
            .iter()
            .map(|m| (m.train_loss, m.train_accuracy))
            .collect::<Vec<_>>(),
        resumed
            .iter()
            .map(|m| (m.train_loss, m.train_accuracy))
            .collect::<Vec<_>>(),
        a.test_accuracy
    );
    // The resumed model loads and scores as its report says.
    let output = common::lstm_mnist()
        .args(["evaluate", "--checkpoint"])
        .arg(&killed)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .starts_with(&format!("Test accuracy: {:.1}%", b.test_accuracy * 100.0))
    );
}
