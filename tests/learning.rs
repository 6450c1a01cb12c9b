//! Real learning on MNIST through the whole training pipeline (flex backend).

mod common;

use lstm_mnist::backend::Backend;
use lstm_mnist::config::{ExperimentConfig, OptimizerKind};
use lstm_mnist::training::epoch_log::read_metrics;
use lstm_mnist::training::{TrainRequest, read_report, train};

#[test]
fn two_epochs_of_adam_on_10k_images_reach_90_percent_and_write_the_run() {
    let artifacts = tempfile::tempdir().unwrap();
    let mut config = ExperimentConfig::default();
    config.name = "learn".into();
    config.optimizer.kind = OptimizerKind::Adam;
    // Small batches: 10k images at batch 128 are too few steps for an LSTM to get going.
    config.optimizer.learning_rate = 0.002;
    config.training.batch_size = 32;
    config.training.epochs = 2;
    config.training.validation_split = 0.1;
    config.data.train_samples = Some(10_000);
    config.data.test_samples = Some(1_000);
    let request = TrainRequest {
        config,
        backend: Backend::Flex,
        data_dir: Some(common::mnist_dir()),
        artifacts: artifacts.path().to_path_buf(),
        resume: false,
        overwrite: false,
    };

    let report = train(&request).unwrap();
    eprintln!(
        "learning test: test accuracy {:.4} on 1,000 images",
        report.test_accuracy
    );
    assert!(
        report.test_accuracy >= 0.90,
        "accuracy {}",
        report.test_accuracy
    );

    let run = artifacts.path().join("learn");
    assert_eq!(read_report(&run.join("report.json")).unwrap(), report);
    assert_eq!(report.parameters, 295_434);
    assert_eq!(
        (
            report.train_samples,
            report.validation_samples,
            report.test_samples
        ),
        (9_000, 1_000, 1_000)
    );
    assert_eq!(report.epoch_seconds.len(), 2);
    let metrics = read_metrics(&run.join("metrics.csv")).unwrap();
    assert_eq!(metrics.iter().map(|m| m.epoch).collect::<Vec<_>>(), [1, 2]);
    assert!(metrics[1].train_loss < metrics[0].train_loss, "{metrics:?}");
    let epoch = &metrics[1];
    assert!(
        epoch.train_loss > 0.0 && epoch.train_loss < 1.5,
        "{epoch:?}"
    );
    assert!(epoch.valid_accuracy.unwrap() > 0.85, "{epoch:?}");
    assert!(run.join("model.bpk").is_file());
    assert!(run.join("checkpoint/model-2.bpk").is_file());
    let saved = ExperimentConfig::load(&run.join("config.toml")).unwrap();
    assert_eq!(saved, request.config);

    // A second run into the same place must not destroy the first.
    let error = train(&request).unwrap_err().to_string();
    assert!(
        error.contains("already holds a finished run") && error.contains("--overwrite"),
        "{error}"
    );
    assert!(run.join("model.bpk").is_file());
}
