//! The binary's command line: help, summary, and one-line errors instead of panics.

mod common;

use std::process::{Command, Output};

fn lstm_mnist(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lstm-mnist"))
        .args(args)
        .output()
        .unwrap()
}

/// Asserts a failed run that said one line naming `expected`, with no panic or backtrace.
fn assert_one_line_error(output: &Output, expected: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "succeeded: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
    for part in expected {
        assert!(stderr.contains(part), "`{part}` missing from: {stderr}");
    }
}

#[test]
fn help_explains_every_flag() {
    let output = lstm_mnist(&["train", "--help"]);
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--config",
        "--backend",
        "--lstm",
        "--epochs",
        "--batch-size",
        "--optimizer",
        "--lr",
        "--cell",
        "--seed",
        "--train-samples",
        "--test-samples",
        "--data-dir",
        "--artifacts",
        "--name",
        "--resume",
        "--overwrite",
    ] {
        assert!(help.contains(flag), "{flag} missing from help:\n{help}");
    }
    assert!(help.contains("flex") && help.contains("wgpu") && help.contains("ndarray"));
}

#[test]
fn summary_prints_the_keras_style_table() {
    let output = lstm_mnist(&["summary", "--config", "configs/lstm-adam.toml"]);
    assert!(output.status.success());
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("Model: \"lstm-adam\""), "{table}");
    assert!(
        table.contains("Layer (type)")
            && table.contains("Output Shape")
            && table.contains("Param #")
    );
    assert!(
        table.contains("(None, 256)") && table.contains("(None, 10)"),
        "{table}"
    );
    assert!(table.contains("Total params: 295,434"), "{table}");
}

#[test]
fn a_bad_config_is_one_line_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "name = \"x\"\n[training]\nepochs = 1\nbatch_size = 0\n",
    )
    .unwrap();
    let output = lstm_mnist(&["train", "--config", path.to_str().unwrap()]);
    assert_one_line_error(&output, &["bad.toml", "training.batch_size"]);
}

#[test]
fn a_bad_override_is_refused() {
    let output = lstm_mnist(&["--lr", "-1", "--epochs", "1"]);
    assert_one_line_error(&output, &["optimizer.learning_rate"]);
}

#[test]
fn a_missing_data_file_is_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let artifacts = tempfile::tempdir().unwrap();
    common::write_tiny_dataset(dir.path(), 4);
    std::fs::remove_file(dir.path().join("t10k-images-idx3-ubyte")).unwrap();
    let output = lstm_mnist(&[
        "--epochs",
        "1",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--artifacts",
        artifacts.path().to_str().unwrap(),
    ]);
    assert_one_line_error(&output, &["t10k-images-idx3-ubyte", "missing"]);
}

#[test]
fn bench_reports_its_figures_as_json() {
    let output = lstm_mnist(&["bench", "--cell", "rnn", "--batches", "2", "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in [
        "train_step_ms_median",
        "infer_batch_ms_median",
        "epoch_seconds",
        "eval_seconds",
        "peak_rss_mib",
    ] {
        let value = report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing: {report}"));
        assert!(value > 0.0, "{key} = {value}");
    }
    assert_eq!(report["backend"], "flex");
    assert_eq!(report["lstm"], "stock");
    let derived = report["train_step_ms_median"].as_f64().unwrap() * 469.0 / 1000.0;
    assert!((report["epoch_seconds"].as_f64().unwrap() - derived).abs() < 1e-9);
}

#[test]
fn bench_times_the_fused_lstm_on_flex_and_names_the_machine() {
    let output = lstm_mnist(&["bench", "--batches", "2", "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["cell"], "lstm");
    assert_eq!(report["lstm"], "fused");
    assert!(report["train_step_ms_median"].as_f64().unwrap() > 0.0);
    assert!(
        report["machine"].as_str().unwrap().contains("threads"),
        "{report}"
    );
}

#[test]
fn results_tabulates_the_finished_runs_and_names_a_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let report = serde_json::json!({
        "name": "lstm-adam", "cell": "lstm", "optimizer": "adam", "learning_rate": 0.001,
        "batch_size": 128, "epochs": 3, "parameters": 295434, "backend": "flex",
        "train_samples": 60000, "validation_samples": 0, "test_samples": 10000,
        "test_accuracy": 0.9875, "test_loss": 0.04, "epoch_seconds": [30.0, 24.0, 25.0],
        "machine": "Some CPU, 2 threads"
    });
    std::fs::create_dir_all(dir.path().join("lstm-adam")).unwrap();
    std::fs::write(dir.path().join("lstm-adam/report.json"), report.to_string()).unwrap();
    // A run without a report (unfinished) is not a row.
    std::fs::create_dir_all(dir.path().join("unfinished")).unwrap();

    let output = lstm_mnist(&["results", "--artifacts", dir.path().to_str().unwrap()]);
    let table = String::from_utf8(common::succeeded(output).stdout).unwrap();
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 3, "{table}");
    assert_eq!(
        rows[2],
        "| `lstm-adam` | 98.75% | 98.9% | 3 | 25.0 | flex | Some CPU, 2 threads |"
    );

    let missing = dir.path().join("nowhere");
    let output = lstm_mnist(&["results", "--artifacts", missing.to_str().unwrap()]);
    assert_one_line_error(&output, &["nowhere", "cannot list runs"]);
}

#[test]
fn plot_overlays_runs_and_names_a_run_without_metrics() {
    let dir = tempfile::tempdir().unwrap();
    for (name, rows) in [
        ("a", "1,0.9,0.7,0.5,0.85,10\n2,0.4,0.88,0.3,0.91,10\n"),
        ("b", "1,1.2,0.6,,,12\n"),
    ] {
        std::fs::create_dir_all(dir.path().join(name)).unwrap();
        let csv =
            format!("epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,seconds\n{rows}");
        std::fs::write(dir.path().join(name).join("metrics.csv"), csv).unwrap();
    }
    let output_png = dir.path().join("comparison.png");
    let output = lstm_mnist(&[
        "plot",
        dir.path().join("a").to_str().unwrap(),
        dir.path().join("b").to_str().unwrap(),
        "--output",
        output_png.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let picture = image::open(&output_png).expect("a PNG was written");
    assert_eq!((picture.width(), picture.height()), (1200, 520));

    let missing = dir.path().join("no-run");
    let output = lstm_mnist(&[
        "plot",
        missing.to_str().unwrap(),
        "--output",
        output_png.to_str().unwrap(),
    ]);
    assert_one_line_error(&output, &["no-run", "metrics.csv"]);
}
