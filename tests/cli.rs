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
        "--kernel",
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

/// The subcommands `lstm-mnist --help` lists (clap's own `help` aside).
fn subcommands() -> Vec<String> {
    let help = String::from_utf8(succeeded(lstm_mnist(&["--help"])).stdout).unwrap();
    let listed = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap();
    // A command's line starts with its name after two spaces; a wrapped description's lines
    // are indented further.
    listed
        .lines()
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn every_command_s_help_ends_with_examples_of_itself() {
    let commands = subcommands();
    assert!(commands.len() >= 14, "{commands:?}");
    for command in commands {
        let help = String::from_utf8(succeeded(lstm_mnist(&[&command, "--help"])).stdout).unwrap();
        let examples = help
            .rsplit_once("Examples:\n")
            .unwrap_or_else(|| panic!("`{command} --help` has no examples:\n{help}"))
            .1;
        let lines: Vec<&str> = examples.lines().collect();
        assert!((2..=3).contains(&lines.len()), "{command}: {examples}");
        let prefix = format!("  lstm-mnist {command}");
        for line in lines {
            assert!(
                line == prefix || line.starts_with(&format!("{prefix} ")),
                "{command}: {line:?}"
            );
        }
    }
}

#[test]
fn with_keras_biases_summary_counts_the_seed_models_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("keras-bias.toml");
    let seed = std::fs::read_to_string("configs/lstm-adam.toml").unwrap();
    std::fs::write(
        &config,
        seed.replace("hidden = 256", "hidden = 256\nbias = \"keras\""),
    )
    .unwrap();
    let output = lstm_mnist(&["summary", "--config", config.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("lstm (LSTM)") && table.contains("291,840"),
        "{table}"
    );
    assert!(table.contains("Total params: 294,410"), "{table}");
    assert!(!table.contains("more here"), "{table}");
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
    for key in ["backend", "cell", "kernel", "machine"] {
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
    assert!(number("augment_batch_ms_median") > 0.0, "{report}");
    assert!(
        report["machine"].as_str().unwrap().contains("threads"),
        "{report}"
    );
    // The step's matrix arithmetic, and how close the median step runs to the measured peak.
    let gates = match report["cell"].as_str().unwrap() {
        "lstm" => 4.0,
        "gru" => 3.0,
        _ => 1.0,
    };
    let width = gates * 256.0;
    let expected_flops =
        2.0 * 2.0 * 128.0 * 28.0 * 284.0 * width + 2.0 * 128.0 * 27.0 * width * 256.0;
    assert!((number("train_step_gflop") - expected_flops / 1e9).abs() < 1e-9);
    if cfg!(target_arch = "x86_64") {
        let peak = number("fma_peak_gflops");
        // Far above any CPU's matrix rate here, far below what one core could ever do alone.
        assert!((1.0..1e5).contains(&peak), "{report}");
        let share = number("train_step_gflop") / (median / 1000.0) / peak;
        assert!((number("train_step_share_of_peak") - share).abs() < 1e-9);
        // Not capped at 1: the peak and the steps are measured at different moments, and on a
        // machine busy with other tests either can be slowed, whatever its speed.
        assert!(share > 0.0 && share.is_finite(), "{report}");
    }
    report
}

#[test]
fn bench_times_the_fused_layers_on_flex_and_stock_layers_elsewhere() {
    let kernel_of = |args: &[&str]| {
        let report = bench(args);
        let field = |key: &str| report[key].as_str().unwrap().to_string();
        (field("backend"), field("cell"), field("kernel"))
    };
    let triple = |backend: &str, cell: &str, kernel: &str| {
        (backend.to_string(), cell.to_string(), kernel.to_string())
    };
    assert_eq!(kernel_of(&[]), triple("flex", "lstm", "fused"));
    assert_eq!(
        kernel_of(&["--cell", "gru"]),
        triple("flex", "gru", "fused")
    );
    // The old spelling of --kernel still works.
    assert_eq!(
        kernel_of(&["--cell", "rnn", "--lstm", "stock"]),
        triple("flex", "rnn", "stock")
    );
    assert_eq!(
        kernel_of(&["--cell", "rnn", "--backend", "ndarray"]),
        triple("ndarray", "rnn", "stock")
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
        "| `lstm-adam` | — | 98.75% | — | — | 98.9% | 3 | 25.0 | flex | Some CPU, 2 threads |"
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
fn results_gives_the_spread_over_seeds_of_runs_that_differ_only_in_seed() {
    let dir = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string("configs/lstm-sgd.toml").unwrap();
    let add_run = |name: &str, seed: u64, lr: f64, accuracy: f64| {
        let run = dir.path().join(name);
        std::fs::create_dir_all(&run).unwrap();
        let config = config
            .replace("name = \"lstm-sgd\"", &format!("name = \"{name}\""))
            .replace("seed = 42", &format!("seed = {seed}"))
            .replace("learning_rate = 0.01", &format!("learning_rate = {lr}"));
        std::fs::write(run.join("config.toml"), config).unwrap();
        let report = serde_json::json!({
            "name": name, "cell": "lstm", "optimizer": "sgd", "learning_rate": lr,
            "batch_size": 128, "epochs": 20, "parameters": 295434, "backend": "flex",
            "train_samples": 60000, "validation_samples": 0, "test_samples": 10000,
            "test_accuracy": accuracy, "test_loss": 0.15, "epoch_seconds": [25.0],
            "machine": "Some CPU, 2 threads"
        });
        std::fs::write(run.join("report.json"), report.to_string()).unwrap();
    };
    add_run("lstm-sgd", 42, 0.01, 0.9500);
    add_run("lstm-sgd-seed1", 1, 0.01, 0.9520);
    add_run("lstm-sgd-seed2", 2, 0.01, 0.9630);
    // Another learning rate is another experiment, even with a seed of the group.
    add_run("lstm-sgd-fast", 1, 0.05, 0.9700);

    let output = lstm_mnist(&["results", "--artifacts", dir.path().to_str().unwrap()]);
    let text = String::from_utf8(succeeded(output).stdout).unwrap();
    assert!(
        text.contains("| `lstm-sgd-seed2` | 2 | 96.30% | — | — | — | 20 | 25.0 |"),
        "{text}"
    );
    // Mean 95.50, sample standard deviation 0.7, range 95.00-96.30: 96.2 lies inside.
    assert!(
        text.contains(
            "| `lstm-sgd` | 3 | 1, 2, 42 | 95.50% | 0.70 | 95.00–96.30% | 96.2% | inside |"
        ),
        "{text}"
    );
    assert_eq!(
        text.matches("`lstm-sgd-fast`").count(),
        1,
        "a run alone has a row but no spread row: {text}"
    );
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

#[test]
fn results_names_a_run_whose_config_is_damaged_instead_of_reading_it_as_none() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("damaged");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::copy("artifacts/rnn-sgd/report.json", run.join("report.json")).unwrap();
    std::fs::write(run.join("config.toml"), "name = [unclosed\n").unwrap();
    let output = lstm_mnist(&["results", "--artifacts", dir.path().to_str().unwrap()]);
    let text = String::from_utf8(succeeded(output).stdout).unwrap();
    assert!(
        text.contains("Unreadable: damaged: ") && text.contains("damaged/config.toml"),
        "{text}"
    );
    assert!(
        !text.contains("| `rnn-sgd`"),
        "a row for a run it could not read: {text}"
    );
}
