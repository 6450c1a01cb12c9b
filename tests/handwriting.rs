//! Reading people's handwriting: `[data.augment]` through training (reproducible, resumable
//! exactly), `augment-preview`, and `robustness` with its report and its column in `results`.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

use common::{assert_one_line_error, succeeded};
use lstm_mnist::faults;
use lstm_mnist::run_dir::{read_metrics, read_report};

/// A small augmented experiment: 600 training images, 200 test images.
const AUGMENTED: &str = r#"
name = "augmented"
seed = 5
[model]
cell = "lstm"
hidden = 32
[optimizer]
kind = "adam"
learning_rate = 0.003
[training]
epochs = 3
batch_size = 64
[data]
dataset = "mnist"
train_samples = 600
test_samples = 200
[data.augment]
rotation = 15
low_resolution = 0.3
contrast = 0.3
noise = 0.3
salt_pepper = 0.2
jpeg = 0.2
"#;

/// The same experiment without augmentation.
fn plain() -> &'static str {
    AUGMENTED.split("[data.augment]").next().unwrap()
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("augmented.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn train(config: &Path, artifacts: &Path, name: &str) -> std::process::Command {
    let mut command = common::lstm_mnist();
    command
        .args(["train", "--config"])
        .arg(config)
        .args(["--name", name, "--artifacts"])
        .arg(artifacts);
    command
}

/// The learning curve without the wall-clock column.
fn curve(run: &Path) -> Vec<(usize, f64, f64)> {
    read_metrics(&run.join("metrics.csv"))
        .unwrap()
        .iter()
        .map(|m| (m.epoch, m.train_loss, m.train_accuracy))
        .collect()
}

#[test]
fn an_augmented_run_is_reproducible_and_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), AUGMENTED);
    let artifacts = dir.path().join("runs");
    succeeded(train(&config, &artifacts, "straight").output().unwrap());
    let killed = train(&config, &artifacts, "killed")
        // In epoch 3, when epoch 1's checkpoint is surely complete (see tests/resume.rs).
        .env(faults::ENV, "train-batch=return(3:5)")
        .output()
        .unwrap();
    assert_eq!(killed.status.signal(), Some(libc::SIGKILL));
    succeeded(
        common::lstm_mnist()
            .arg("--resume")
            .arg(artifacts.join("killed"))
            .output()
            .unwrap(),
    );
    let (straight, resumed) = (
        curve(&artifacts.join("straight")),
        curve(&artifacts.join("killed")),
    );
    assert_eq!(straight.len(), 3);
    assert_eq!(straight, resumed);
    let report = |run: &str| read_report(&artifacts.join(run).join("report.json")).unwrap();
    assert_eq!(report("straight").test_loss, report("killed").test_loss);

    // The same experiment without augmentation learns from other images.
    let plain = write_config(dir.path(), plain());
    succeeded(train(&plain, &artifacts, "plain").output().unwrap());
    assert_ne!(curve(&artifacts.join("plain")), straight);
    // The run keeps the augmentation it trained with, defaults filled in.
    let saved = std::fs::read_to_string(artifacts.join("straight/config.toml")).unwrap();
    assert!(
        saved.contains("[data.augment]") && saved.contains("rotation = 15.0"),
        "{saved}"
    );
    assert!(saved.contains("elastic_sigma = 4.0"), "{saved}");
    assert!(
        saved.contains("jpeg = 0.2") && saved.contains("jpeg_quality"),
        "{saved}"
    );
}

#[test]
fn augment_preview_draws_each_image_beside_its_distortions() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), AUGMENTED);
    let output = dir.path().join("grid.png");
    succeeded(
        common::lstm_mnist()
            .args(["augment-preview", "--config"])
            .arg(&config)
            .args(["--images", "3", "--distortions", "4", "--output"])
            .arg(&output)
            .output()
            .unwrap(),
    );
    let grid = image::open(&output).unwrap();
    // Five columns (the original and four epochs) and three rows of 112-pixel cells.
    assert_eq!(grid.width(), 8 + 5 * (112 + 8));
    assert_eq!(grid.height(), 60 + 3 * (112 + 8));

    let plain = write_config(dir.path(), plain());
    let refused = common::lstm_mnist()
        .args(["augment-preview", "--config"])
        .arg(&plain)
        .output()
        .unwrap();
    assert_one_line_error(&refused, &["augmented.toml", "no [data.augment]"]);
}

#[test]
fn robustness_scores_each_corruption_and_results_shows_the_mean() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), AUGMENTED);
    let artifacts = dir.path().join("runs");
    succeeded(train(&config, &artifacts, "scored").output().unwrap());
    let run = artifacts.join("scored");
    let written = common::fixed_robustness_report(&run, &[]);
    let names: Vec<&str> = written
        .corruptions
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "rotate",
            "shear",
            "scale",
            "translate",
            "thick",
            "thin",
            "blur",
            "noise",
            "elastic",
            "lowres",
            "contrast",
            "salt-pepper",
            "jpeg"
        ]
    );
    assert_eq!(written.images, 200);
    let mean = names.len() as f64;
    let mean = written.corruptions.iter().map(|c| c.accuracy).sum::<f64>() / mean;
    assert!((written.mean_accuracy - mean).abs() < 1e-12);
    assert_eq!(
        written.clean_accuracy,
        read_report(&run.join("report.json")).unwrap().test_accuracy
    );
    let results = succeeded(
        common::lstm_mnist()
            .args(["results", "--artifacts"])
            .arg(&artifacts)
            .output()
            .unwrap(),
    );
    let table = String::from_utf8_lossy(&results.stdout);
    assert!(table.contains("| robustness (mean) |"), "{table}");
    let row = table.lines().find(|l| l.starts_with("| `scored`")).unwrap();
    assert!(
        row.contains(&format!("| {:.2}% |", written.mean_accuracy * 100.0)),
        "{row}"
    );

    // A damaged report is named, not read as no report.
    std::fs::write(run.join("robustness.json"), "{").unwrap();
    let damaged = common::lstm_mnist()
        .args(["results", "--artifacts"])
        .arg(&artifacts)
        .output()
        .unwrap();
    assert_one_line_error(&damaged, &["robustness.json", "not a robustness report"]);
}
