//! The binary's command line: help, summary, and one-line errors instead of panics.

mod common;

use std::process::Output;

use common::{assert_one_line_error, succeeded};

fn lstm_mnist(args: &[&str]) -> Output {
    common::bare_lstm_mnist().args(args).output().unwrap()
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
    assert!(
        table.contains("lstm (LSTM)") && table.contains("292,864"),
        "{table}"
    );
    assert!(
        table.contains("dense (Linear)") && table.contains("2,570"),
        "{table}"
    );
    assert!(table.contains("Total params: 295,434"), "{table}");
    // The difference from the seed's Keras model is named and counted.
    assert!(
        table.contains("294,410") && table.contains("1,024"),
        "{table}"
    );
}

/// `bench --json` with `args`, checked for what every report must hold: each documented key,
/// and derived figures that agree with the timings they come from.
fn bench(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["bench", "--batches", "2", "--json"];
    all.extend(args);
    let output = succeeded(lstm_mnist(&all));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let number = |key: &str| {
        report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing: {report}"))
    };
    for key in ["backend", "cell", "lstm", "machine"] {
        assert!(report[key].is_string(), "{key} missing: {report}");
    }
    assert_eq!(number("batches"), 2.0);
    assert_eq!(number("infer_batch_size"), 1000.0);
    let (min, median, max) = (
        number("train_step_ms_min"),
        number("train_step_ms_median"),
        number("train_step_ms_max"),
    );
    assert!(0.0 < min && min <= median && median <= max, "{report}");
    // An epoch is 469 steps of batch 128; the test set is ten inference batches of 1,000.
    assert!((number("epoch_seconds") - median * 469.0 / 1000.0).abs() < 1e-9);
    let infer = number("infer_batch_ms_median");
    assert!(infer > 0.0 && (number("eval_seconds") - infer * 10.0 / 1000.0).abs() < 1e-9);
    assert!(number("peak_rss_mib") > 10.0, "{report}");
    assert!(
        report["machine"].as_str().unwrap().contains("threads"),
        "{report}"
    );
    report
}

#[test]
fn bench_times_the_fused_lstm_on_flex_and_stock_layers_elsewhere() {
    let fused = bench(&[]);
    assert_eq!(
        (&fused["cell"], &fused["lstm"]),
        (&"lstm".into(), &"fused".into())
    );
    assert_eq!(fused["backend"], "flex");
    let rnn = bench(&["--cell", "rnn"]);
    assert_eq!(
        (&rnn["cell"], &rnn["lstm"]),
        (&"rnn".into(), &"stock".into())
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
    // A run without a report (in progress, stopped, diverged) is not a row but is named.
    std::fs::create_dir_all(dir.path().join("unfinished")).unwrap();
    std::fs::write(
        dir.path().join("unfinished/config.toml"),
        "name = \"unfinished\"\n",
    )
    .unwrap();
    // A report whose accuracy is not a number (a diverged run of an older version) is named
    // too, and does not stop the table.
    let mut diverged = report.clone();
    diverged["test_accuracy"] = serde_json::Value::Null;
    std::fs::create_dir_all(dir.path().join("diverged")).unwrap();
    std::fs::write(
        dir.path().join("diverged/report.json"),
        diverged.to_string(),
    )
    .unwrap();
    // Anything else in the directory is not a run.
    std::fs::write(dir.path().join("comparison.png"), b"not a run").unwrap();

    let output = lstm_mnist(&["results", "--artifacts", dir.path().to_str().unwrap()]);
    let text = String::from_utf8(succeeded(output).stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[2],
        "| `lstm-adam` | 98.75% | 98.9% | 3 | 25.0 | flex | Some CPU, 2 threads |"
    );
    assert_eq!(lines[3], "", "one row only: {text}");
    assert!(
        text.contains("Not finished (no report yet): unfinished\n"),
        "{text}"
    );
    assert!(
        text.contains("Unreadable: diverged: ") && text.contains("diverged/report.json"),
        "{text}"
    );
    assert!(!text.contains("comparison"), "{text}");

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
