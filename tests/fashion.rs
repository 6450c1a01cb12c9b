//! Fashion-MNIST: found where Debian's dataset-fashion-mnist package puts it, trained like
//! MNIST, and predicted with class names.

mod common;

use std::path::Path;
use std::process::Command;

use lstm_mnist::data::{FASHION_MNIST, MnistData, download, idx};

const SYSTEM_DIR: &str = "/usr/share/datasets/fashion-mnist";

#[test]
fn the_system_package_is_found_and_its_files_match_their_checksums() {
    let dir = download::resolve_data_dir(&FASHION_MNIST, None).unwrap();
    assert_eq!(
        dir,
        Path::new(SYSTEM_DIR),
        "set FASHION_MNIST_DIR only to override"
    );
    for file in FASHION_MNIST.files {
        let path = lstm_mnist::data::locate(&dir, file).unwrap();
        let digest = download::sha256_hex(&idx::read_maybe_gzip(&path).unwrap());
        assert_eq!(digest, file.sha256, "{}", file.name);
    }
    let data = MnistData::load(&dir).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (60_000, 10_000));
    // Fashion-MNIST's first training and test items are both ankle boots.
    assert_eq!((data.train.label(0), data.test.label(0)), (9, 9));
}

#[test]
fn a_fashion_run_trains_and_predicts_with_class_names() {
    let artifacts = tempfile::tempdir().unwrap();
    let binary = env!("CARGO_BIN_EXE_lstm-mnist");
    let output = Command::new(binary)
        .args([
            "--config",
            "configs/fashion-lstm-adam.toml",
            "--epochs",
            "1",
        ])
        .args([
            "--train-samples",
            "512",
            "--test-samples",
            "100",
            "--artifacts",
        ])
        .arg(artifacts.path())
        .env_remove("FASHION_MNIST_DIR")
        .output()
        .unwrap();
    let output = common::succeeded(output);
    assert!(String::from_utf8_lossy(&output.stdout).contains("Test accuracy: "));

    let test_images = Path::new(SYSTEM_DIR).join("t10k-images-idx3-ubyte.gz");
    let output = Command::new(binary)
        .args(["predict", "--top", "2", "--checkpoint"])
        .arg(artifacts.path().join("fashion-lstm-adam"))
        .arg(&test_images)
        .output()
        .unwrap();
    let output = common::succeeded(output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().count(), 10_000);
    let names = FASHION_MNIST.class_names.unwrap();
    let first = stdout.lines().next().unwrap();
    assert!(
        names.iter().any(|name| first.contains(name)),
        "no class name in: {first}"
    );
}
