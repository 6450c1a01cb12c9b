//! Real learning on MNIST through the whole pipeline (flex backend), then using the trained
//! run as people do: `evaluate` and `predict` on it.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use image::{GrayImage, imageops};
use lstm_mnist::backend::{Backend, Compute};
use lstm_mnist::config::{ConfigError, ExperimentConfig, OptimizerKind};
use lstm_mnist::data::MnistData;
use lstm_mnist::model::RecurrentKernel;
use lstm_mnist::run_dir::{Naming, RunReport, read_metrics, read_report};
use lstm_mnist::training::{RequestError, RunOptions, TrainRequest, train};

struct TrainedRun {
    _artifacts: tempfile::TempDir,
    dir: PathBuf,
    request: TrainRequest,
    report: RunReport,
}

/// The default experiment, renamed, with Adam.
fn adam_config(name: &str) -> ExperimentConfig {
    let mut config = ExperimentConfig {
        name: name.into(),
        ..Default::default()
    };
    config.optimizer.kind = OptimizerKind::Adam;
    config
}

/// A fresh run of `config` on flex into `artifacts`.
fn request(config: ExperimentConfig, artifacts: &Path) -> TrainRequest {
    let options = RunOptions {
        compute: Compute {
            backend: Backend::Flex,
            data_dir: Some(common::mnist_dir()),
        },
        kernel: RecurrentKernel::Fused,
        experiment: None,
    };
    TrainRequest::new(config, options, artifacts.to_path_buf(), Naming::Exact).unwrap()
}

#[test]
fn the_library_refuses_what_the_command_line_refuses() {
    let artifacts = tempfile::tempdir().unwrap();
    let options = || RunOptions {
        compute: Compute {
            backend: Backend::Flex,
            data_dir: None,
        },
        kernel: RecurrentKernel::Fused,
        experiment: None,
    };
    let mut unvalidated = adam_config("bad");
    unvalidated.training.batch_size = 0;
    let refused = TrainRequest::new(
        unvalidated,
        options(),
        artifacts.path().into(),
        Naming::Exact,
    );
    let refused = refused.unwrap_err();
    assert!(
        matches!(&refused, RequestError::Config(ConfigError::InvalidValue { key, .. }) if key == "training.batch_size"),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("training.batch_size"));
    let mut too_large = adam_config("huge");
    (too_large.model.hidden, too_large.training.batch_size) = (4096, 60_000);
    let refused = TrainRequest::new(too_large, options(), artifacts.path().into(), Naming::Exact);
    let refused = refused.unwrap_err();
    assert!(
        matches!(&refused, RequestError::Memory(m) if m.hidden == 4096 && m.needed_bytes > m.available_bytes),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("memory"));
    let escaping = adam_config("../elsewhere");
    let refused = TrainRequest::new(escaping, options(), artifacts.path().into(), Naming::Exact);
    let refused = refused.unwrap_err();
    assert!(
        matches!(&refused, RequestError::Name(n) if n.name == "../elsewhere"),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("one path component"));
    // A resumed run takes its own config and checks it: a damaged one is named.
    let run = artifacts.path().join("damaged");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(
        run.join("config.toml"),
        std::fs::read_to_string("configs/lstm-sgd.toml")
            .unwrap()
            .replace("epochs = 20", "epochs = 0"),
    )
    .unwrap();
    let refused = TrainRequest::resume(&run, None, options())
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("config.toml") && refused.contains("epochs"),
        "{refused}"
    );
}

/// Three epochs of Adam on the first 10,000 training images (10% held out for validation),
/// trained once and shared by the tests of this file.
fn trained_run() -> &'static TrainedRun {
    static RUN: OnceLock<TrainedRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let artifacts = tempfile::tempdir().unwrap();
        let mut config = adam_config("learn");
        // Small batches: 10k images at batch 128 are too few steps for an LSTM to get going.
        config.optimizer.learning_rate = 0.002;
        config.training.batch_size = 32;
        config.training.epochs = 3;
        config.training.validation_split = 0.1;
        config.data.train_samples = Some(10_000);
        config.data.test_samples = Some(1_000);
        let request = request(config, artifacts.path());
        let report = train(&request).unwrap();
        eprintln!(
            "learning test: test accuracy {:.4} on 1,000 images",
            report.test_accuracy
        );
        TrainedRun {
            dir: artifacts.path().join("learn"),
            _artifacts: artifacts,
            request,
            report,
        }
    })
}

#[test]
fn without_a_validation_split_the_curves_track_the_test_set() {
    let artifacts = tempfile::tempdir().unwrap();
    let mut config = adam_config("test-curves");
    config.training.epochs = 1;
    config.data.train_samples = Some(640);
    config.data.test_samples = Some(300);
    assert_eq!(config.training.validation_split, 0.0);
    let report = train(&request(config, artifacts.path())).unwrap();
    assert_eq!((report.train_samples, report.validation_samples), (640, 0));
    let metrics = read_metrics(&artifacts.path().join("test-curves/metrics.csv")).unwrap();
    // The last epoch's validation figures are the test figures the report ends with.
    let valid_accuracy = metrics[0].valid_accuracy.expect("validation was run");
    assert!(
        (valid_accuracy - report.test_accuracy).abs() < 1e-6,
        "{metrics:?} vs {report:?}"
    );
    let valid_loss = metrics[0].valid_loss.unwrap();
    assert!(
        (valid_loss - report.test_loss).abs() < 1e-5,
        "{metrics:?} vs {report:?}"
    );
}

fn lstm_mnist(args: &[&str]) -> std::process::Output {
    common::succeeded(common::run(args))
}

#[test]
fn three_epochs_of_adam_on_10k_images_reach_90_percent_and_write_the_run() {
    let TrainedRun {
        dir,
        request,
        report,
        ..
    } = trained_run();
    assert!(
        report.test_accuracy >= 0.90,
        "accuracy {}",
        report.test_accuracy
    );

    assert_eq!(&read_report(&dir.join("report.json")).unwrap(), report);
    assert_eq!(report.parameters, 295_434);
    assert_eq!(
        (
            report.train_samples,
            report.validation_samples,
            report.test_samples
        ),
        (9_000, 1_000, 1_000)
    );
    assert_eq!(report.epoch_seconds.len(), 3);
    let metrics = read_metrics(&dir.join("metrics.csv")).unwrap();
    assert_eq!(
        metrics.iter().map(|m| m.epoch).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(metrics[2].train_loss < metrics[0].train_loss, "{metrics:?}");
    assert!(metrics[2].valid_accuracy.unwrap() > 0.85, "{metrics:?}");
    assert!(dir.join("model.bpk").is_file());
    assert!(dir.join("checkpoint/model-3.bpk").is_file());
    let curves = image::open(dir.join("curves.png")).expect("curves.png is an image");
    assert_eq!((curves.width(), curves.height()), (1200, 520));
    assert_eq!(
        &ExperimentConfig::load(&dir.join("config.toml")).unwrap(),
        request.config()
    );

    // A second run into the same place must not destroy the first.
    let error = train(request).unwrap_err().to_string();
    assert!(
        error.contains("already holds a finished run") && error.contains("--overwrite"),
        "{error}"
    );
    assert!(dir.join("model.bpk").is_file());
}

#[test]
fn evaluate_reproduces_the_reported_accuracy_and_writes_its_files() {
    let TrainedRun { dir, report, .. } = trained_run();
    let output = lstm_mnist(&["evaluate", "--checkpoint", dir.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let expected_line = format!("Test accuracy: {:.1}%", report.test_accuracy * 100.0);
    assert!(stdout.starts_with(&expected_line), "{stdout}");
    assert!(stdout.contains("Confusion matrix"), "{stdout}");

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("evaluation.json")).unwrap()).unwrap();
    assert_eq!(
        json["accuracy"].as_f64().unwrap(),
        report.test_accuracy,
        "to the last digit"
    );
    assert_eq!(json["loss"].as_f64().unwrap(), report.test_loss);
    let confusion: Vec<Vec<u64>> = serde_json::from_value(json["confusion"].clone()).unwrap();
    assert_eq!(confusion.iter().flatten().sum::<u64>(), 1_000);
    let correct: u64 = (0..10).map(|d| confusion[d][d]).sum();
    assert_eq!(correct as f64 / 1_000.0, report.test_accuracy);
    let png = std::fs::read(dir.join("confusion.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "confusion.png is not a PNG");

    // A single per-epoch checkpoint of the same run: the last one is the final model.
    let checkpoint = dir.join("checkpoint/model-3.bpk");
    let output = lstm_mnist(&["evaluate", "--checkpoint", checkpoint.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&output.stdout).starts_with(&expected_line));
    assert!(dir.join("checkpoint/evaluation.json").is_file());
}

/// Saves test image `index` as a PNG through `transform`, returning its path and label.
fn test_image_png(
    dir: &Path,
    index: usize,
    name: &str,
    transform: impl Fn(GrayImage) -> GrayImage,
) -> (PathBuf, u8) {
    let test = MnistData::load_test(&common::mnist_dir()).unwrap();
    let image = GrayImage::from_raw(28, 28, test.image(index).to_vec()).unwrap();
    let path = dir.join(name);
    transform(image).save(&path).unwrap();
    (path, test.label(index))
}

#[test]
fn predict_classifies_png_images_plain_scaled_and_inverted() {
    let TrainedRun { dir, .. } = trained_run();
    let images = tempfile::tempdir().unwrap();
    let cases = [
        test_image_png(images.path(), 0, "plain.png", |i| i),
        test_image_png(images.path(), 1, "scaled.png", |i| {
            imageops::resize(&i, 140, 140, imageops::FilterType::Triangle)
        }),
        test_image_png(images.path(), 2, "inverted.png", |mut i| {
            imageops::invert(&mut i);
            i
        }),
        test_image_png(images.path(), 3, "inverted-scaled.jpg", |i| {
            let mut big = imageops::resize(&i, 100, 100, imageops::FilterType::Triangle);
            imageops::invert(&mut big);
            big
        }),
    ];
    let mut args = vec!["predict", "--checkpoint", dir.to_str().unwrap()];
    args.extend(cases.iter().map(|(path, _)| path.to_str().unwrap()));
    let stdout = String::from_utf8_lossy(&lstm_mnist(&args).stdout).to_string();
    eprintln!("{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), cases.len());
    for ((path, label), line) in cases.iter().zip(&lines) {
        let expected = format!("{}: {label} (", path.display());
        assert!(
            line.starts_with(&expected),
            "expected digit {label}: {line}"
        );
    }

    args.extend(["--top", "3", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&lstm_mnist(&args).stdout).unwrap();
    let first = &json[0];
    assert_eq!(first["digit"].as_u64().unwrap(), u64::from(cases[0].1));
    let top = first["top"].as_array().unwrap();
    assert_eq!(top.len(), 3);
    let probabilities: Vec<f64> = top
        .iter()
        .map(|g| g["probability"].as_f64().unwrap())
        .collect();
    assert!(
        probabilities.windows(2).all(|w| w[0] >= w[1]),
        "{probabilities:?}"
    );
}
