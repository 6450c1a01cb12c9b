//! Fashion-MNIST: found where Debian's dataset-fashion-mnist package puts it, trained like
//! MNIST, and predicted with class names.

mod common;

use common::needs::{Need, met};
use common::succeeded;
use lstm_mnist::data::{FASHION_MNIST, MnistData, download, idx, locate};

#[test]
fn the_system_package_is_found_and_its_files_match_their_checksums() {
    if !met(Need::FashionMnist, "the_system_package_is_found") {
        return;
    }
    let system_dir = common::fashion_mnist_dir();
    let dir = download::resolve_data_dir(&FASHION_MNIST, None).unwrap();
    assert_eq!(dir, system_dir, "set FASHION_MNIST_DIR only to override");
    for file in FASHION_MNIST.files {
        let path = locate(&dir, file).unwrap();
        let digest = download::sha256_hex(&idx::read_maybe_gzip(&path).unwrap());
        assert_eq!(digest, file.sha256, "{}", file.name);
    }
    let data = MnistData::load(&dir).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (60_000, 10_000));
    // Fashion-MNIST's first training and test items are both ankle boots.
    assert_eq!((data.train.label(0), data.test.label(0)), (9, 9));
}

#[test]
fn a_fashion_config_trains_on_fashion_mnist() {
    if !met(
        Need::FashionMnist,
        "a_fashion_config_trains_on_fashion_mnist",
    ) {
        return;
    }
    let artifacts = tempfile::tempdir().unwrap();
    let output = common::bare_lstm_mnist()
        .args([
            "--config",
            "configs/fashion-lstm-adam.toml",
            "--epochs",
            "1",
        ])
        .args([
            "--train-samples",
            "256",
            "--test-samples",
            "100",
            "--artifacts",
        ])
        .arg(artifacts.path())
        .env_remove("FASHION_MNIST_DIR")
        .output()
        .unwrap();
    let output = succeeded(output);
    assert!(String::from_utf8_lossy(&output.stdout).contains("Test accuracy: "));
    let config = std::fs::read_to_string(artifacts.path().join("fashion-lstm-adam/config.toml"));
    assert!(config.unwrap().contains("dataset = \"fashion-mnist\""));
}

#[test]
fn predict_on_the_test_file_scores_what_the_shipped_fashion_run_reports() {
    if !met(
        Need::FashionMnist,
        "predict_on_the_test_file_scores_what_the_shipped_fashion_run_reports",
    ) {
        return;
    }
    let dir = common::fashion_mnist_dir();
    let test = MnistData::load_test(&dir).unwrap();
    let images = locate(&dir, lstm_mnist::data::TEST_IMAGES).unwrap();
    let output = common::bare_lstm_mnist()
        .args(["predict", "--checkpoint", "artifacts/fashion-lstm-adam"])
        .arg(&images)
        .output()
        .unwrap();
    let stdout = String::from_utf8(succeeded(output).stdout).unwrap();
    let names = FASHION_MNIST.class_names.unwrap();
    let mut correct = 0;
    for (index, line) in stdout.lines().enumerate() {
        // `<file>[i]: <class> <name> (<probability>%)`
        let prefix = format!("{}[{index}]: ", images.display());
        let guess = line
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{line}"));
        let class: usize = guess.split(' ').next().unwrap().parse().unwrap();
        assert!(guess.contains(names[class]), "{line}");
        correct += usize::from(class == usize::from(test.label(index)));
    }
    assert_eq!(stdout.lines().count(), 10_000);
    let accuracy = correct as f64 / 10_000.0;
    // IDX images go in as the dataset made them, as in `evaluate`: the same score as the
    // report (within a few images, for CPUs that round differently).
    let report = lstm_mnist::run_dir::read_report(std::path::Path::new(
        "artifacts/fashion-lstm-adam/report.json",
    ))
    .unwrap();
    eprintln!(
        "shipped fashion model through predict: {accuracy}, report {}",
        report.test_accuracy
    );
    assert!(
        (accuracy - report.test_accuracy).abs() <= 0.0005,
        "{accuracy}"
    );
}
