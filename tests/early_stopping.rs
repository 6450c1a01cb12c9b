//! `[training.early_stopping]`: Keras's `EarlyStopping(monitor, patience,
//! restore_best_weights)` through Burn's early stopping, seen through the binary.

mod common;

use common::succeeded;
use lstm_mnist::run_dir::{read_metrics, read_report};

/// A small SimpleRNN at a learning rate high enough that the validation loss stops improving
/// within a few epochs.
const CONFIG: &str = r#"
name = "stops-early"
seed = 1

[model]
cell = "rnn"
hidden = 32

[optimizer]
kind = "adam"
learning_rate = 0.02

[training]
epochs = 12
batch_size = 32

[training.early_stopping]
monitor = "val_loss"
patience = 2
restore_best_weights = RESTORE

[data]
dataset = "mnist"
train_samples = 1000
test_samples = 300
"#;

fn train(restore: bool) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, CONFIG.replace("RESTORE", &restore.to_string())).unwrap();
    let artifacts = dir.path().join("artifacts");
    let output = succeeded(common::run(&[
        "--config",
        config.to_str().unwrap(),
        "--artifacts",
        artifacts.to_str().unwrap(),
    ]));
    let stdout = String::from_utf8(output.stdout).unwrap();
    (dir, artifacts.join("stops-early"), stdout)
}

#[test]
fn training_stops_after_patience_epochs_and_restores_the_best_weights() {
    let (_dir, run, stdout) = train(true);
    let rows = read_metrics(&run.join("metrics.csv")).unwrap();
    let losses: Vec<f64> = rows.iter().map(|row| row.valid_loss.unwrap()).collect();
    println!("val_loss per epoch: {losses:?}");
    let best = (0..losses.len())
        .min_by(|&a, &b| losses[a].total_cmp(&losses[b]))
        .unwrap();
    // Stopped exactly `patience` epochs after the best one, well before the configured 12.
    assert_eq!(rows.len(), best + 1 + 2, "{stdout}");
    assert!(rows.len() < 12);
    assert!(
        stdout.contains(&format!(
            "Early stopping: val_loss did not improve for 2 epochs; stopped after epoch {} of 12",
            rows.len()
        )),
        "{stdout}"
    );
    // The model is the best epoch's: the test set is the validation set here, so the final
    // test figures are that epoch's validation figures.
    let report = read_report(&run.join("report.json")).unwrap();
    assert_eq!(report.restored_epoch, Some(best + 1));
    assert_eq!(report.epochs, rows.len());
    assert!((report.test_loss - losses[best]).abs() < 1e-5, "{report:?}");
    // metrics.csv keeps six decimals.
    assert!((report.test_accuracy - rows[best].valid_accuracy.unwrap()).abs() < 1e-6);
}

#[test]
fn without_restore_the_last_epochs_weights_stay() {
    let (_dir, run, stdout) = train(false);
    let rows = read_metrics(&run.join("metrics.csv")).unwrap();
    let last = rows.last().unwrap();
    assert!(rows.len() < 12, "{stdout}");
    let report = read_report(&run.join("report.json")).unwrap();
    assert_eq!(report.restored_epoch, None);
    assert!((report.test_loss - last.valid_loss.unwrap()).abs() < 1e-5);
    assert!(!stdout.contains("Restored"), "{stdout}");
}
