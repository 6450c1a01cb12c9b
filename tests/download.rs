//! Downloading MNIST into the cache, against a local HTTP server (no network here).

mod common;

use std::process::Command;

use lstm_mnist::data::{MNIST_FILES, TEST_LABELS, download, locate};

#[test]
fn downloads_and_verifies_a_file() {
    let mirror = common::serve(common::mnist_dir(), 1);
    let cache = tempfile::tempdir().unwrap();
    let path = download::download(&mirror, cache.path(), TEST_LABELS).unwrap();
    assert_eq!(path, cache.path().join("t10k-labels-idx1-ubyte.gz"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(common::mnist_dir().join("t10k-labels-idx1-ubyte.gz")).unwrap()
    );
    assert_eq!(
        std::fs::read_dir(cache.path()).unwrap().count(),
        1,
        "no temporary file is left"
    );
}

#[test]
fn a_download_with_the_wrong_checksum_is_refused_and_deleted() {
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(
        bad.path().join("t10k-labels-idx1-ubyte.gz"),
        common::gzip(&common::idx_labels(2, &[1, 2])),
    )
    .unwrap();
    let mirror = common::serve(bad.path().to_path_buf(), 1);
    let cache = tempfile::tempdir().unwrap();
    let error = download::download(&mirror, cache.path(), TEST_LABELS)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("t10k-labels-idx1-ubyte.gz") && error.contains("checksum mismatch"),
        "{error}"
    );
    assert_eq!(
        std::fs::read_dir(cache.path()).unwrap().count(),
        0,
        "the bad file was kept"
    );
}

#[test]
fn a_missing_file_on_the_mirror_is_one_clear_error() {
    let empty = tempfile::tempdir().unwrap();
    let mirror = common::serve(empty.path().to_path_buf(), 1);
    let cache = tempfile::tempdir().unwrap();
    let error = download::download(&mirror, cache.path(), TEST_LABELS)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("download from") && error.contains("404"),
        "{error}"
    );
}

#[test]
fn the_program_fills_an_empty_cache_from_the_mirror_then_trains() {
    let mirror = common::serve(common::mnist_dir(), MNIST_FILES.len());
    let cache = tempfile::tempdir().unwrap();
    let artifacts = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_lstm-mnist"))
        .args([
            "train",
            "--epochs",
            "1",
            "--train-samples",
            "256",
            "--test-samples",
            "100",
        ])
        .args(["--cell", "rnn", "--name", "from-cache", "--artifacts"])
        .arg(artifacts.path())
        .env_remove("MNIST_DIR")
        .env("LSTM_MNIST_CACHE", cache.path())
        .env("MNIST_MIRROR", &mirror)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Epoch 1/1") && stdout.contains("Test accuracy: "),
        "{stdout}"
    );
    for file in MNIST_FILES {
        assert!(
            locate(&cache.path().join("mnist"), file).is_some(),
            "{} not cached",
            file.name
        );
    }
}
