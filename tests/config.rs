//! Experiment configs: the shipped files parse, and every impossible value is refused by key.

use std::path::Path;

use lstm_mnist::config::{Cell, Dataset, ExperimentConfig, OptimizerKind};

fn configs_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/configs"))
}

const VALID: &str = r#"
name = "t"
seed = 1
[model]
cell = "gru"
hidden = 32
[optimizer]
kind = "sgd"
learning_rate = 0.1
momentum = 0.9
[training]
epochs = 2
batch_size = 16
validation_split = 0.1
[data]
dataset = "mnist"
"#;

fn rejection(text: &str) -> String {
    ExperimentConfig::parse(text).unwrap_err()
}

#[test]
fn default_experiment_is_the_seed_and_matches_lstm_sgd_toml() {
    let file = ExperimentConfig::load(&configs_dir().join("lstm-sgd.toml")).unwrap();
    assert_eq!(file, ExperimentConfig::default());
    assert_eq!(file.model.cell, Cell::Lstm);
    assert_eq!(file.model.hidden, 256);
    assert_eq!(file.optimizer.kind, OptimizerKind::Sgd);
    assert_eq!(file.optimizer.learning_rate, 0.01);
    assert_eq!(file.optimizer.momentum, 0.0);
    assert_eq!((file.training.epochs, file.training.batch_size), (20, 128));
}

#[test]
fn every_shipped_config_parses_and_is_named_after_its_file() {
    let expected = [
        ("lstm-adam", Cell::Lstm, OptimizerKind::Adam, 0.001),
        ("rnn-sgd", Cell::Rnn, OptimizerKind::Sgd, 0.01),
        ("rnn-adam", Cell::Rnn, OptimizerKind::Adam, 0.001),
        ("gru-adam", Cell::Gru, OptimizerKind::Adam, 0.001),
        ("fashion-lstm-adam", Cell::Lstm, OptimizerKind::Adam, 0.001),
    ];
    for (name, cell, kind, lr) in expected {
        let config = ExperimentConfig::load(&configs_dir().join(format!("{name}.toml"))).unwrap();
        assert_eq!(config.name, name);
        assert_eq!(config.model.cell, cell);
        assert_eq!(config.optimizer.kind, kind);
        assert_eq!(config.optimizer.learning_rate, lr);
        let expected = if name.starts_with("fashion") {
            Dataset::FashionMnist
        } else {
            Dataset::Mnist
        };
        assert_eq!(config.data.dataset, expected);
    }
}

#[test]
fn a_full_config_round_trips_through_its_toml() {
    let config = ExperimentConfig::parse(VALID).unwrap();
    assert_eq!(config.optimizer.momentum, 0.9);
    assert_eq!(config.training.validation_split, 0.1);
    assert_eq!(ExperimentConfig::parse(&config.to_toml()).unwrap(), config);
}

#[test]
fn rejects_text_that_is_not_toml() {
    let error = rejection("this is [not toml");
    assert!(error.contains("line 1"), "{error}");
}

#[test]
fn rejects_unknown_keys_naming_them() {
    let error = rejection(&VALID.replace("hidden = 32", "hidden = 32\nlayers = 2"));
    assert!(
        error.contains("model.layers") && error.contains("unknown field"),
        "{error}"
    );
    let error = rejection(&format!("colour = 1\n{VALID}"));
    assert!(error.contains("colour"), "{error}");
}

#[test]
fn rejects_wrong_types_naming_the_key() {
    let error = rejection(&VALID.replace("batch_size = 16", "batch_size = \"big\""));
    assert!(error.contains("training.batch_size"), "{error}");
}

#[test]
fn rejects_impossible_values_naming_the_key() {
    let cases = [
        ("batch_size = 16", "batch_size = 0", "training.batch_size"),
        ("epochs = 2", "epochs = 0", "training.epochs"),
        (
            "learning_rate = 0.1",
            "learning_rate = -0.1",
            "optimizer.learning_rate",
        ),
        (
            "learning_rate = 0.1",
            "learning_rate = 0.0",
            "optimizer.learning_rate",
        ),
        (
            "validation_split = 0.1",
            "validation_split = 1.0",
            "training.validation_split",
        ),
        (
            "validation_split = 0.1",
            "validation_split = -0.5",
            "training.validation_split",
        ),
        ("hidden = 32", "hidden = 0", "model.hidden"),
        ("momentum = 0.9", "momentum = 1.5", "optimizer.momentum"),
    ];
    for (from, to, key) in cases {
        let error = rejection(&VALID.replace(from, to));
        assert!(error.contains(key), "{to}: {error}");
    }
}

#[test]
fn rejects_unknown_cell_optimizer_and_dataset() {
    let error = rejection(&VALID.replace("cell = \"gru\"", "cell = \"transformer\""));
    assert!(
        error.contains("model.cell") && error.contains("transformer"),
        "{error}"
    );
    let error = rejection(&VALID.replace("kind = \"sgd\"", "kind = \"lbfgs\""));
    assert!(error.contains("optimizer.kind"), "{error}");
    let error = rejection(&VALID.replace("dataset = \"mnist\"", "dataset = \"cifar\""));
    assert!(error.contains("data.dataset"), "{error}");
}

#[test]
fn momentum_is_refused_with_adam() {
    let error = rejection(&VALID.replace("kind = \"sgd\"", "kind = \"adam\""));
    assert!(error.contains("optimizer.momentum"), "{error}");
}

#[test]
fn a_config_file_error_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, VALID.replace("epochs = 2", "epochs = 0")).unwrap();
    let error = ExperimentConfig::load(&path).unwrap_err().to_string();
    assert!(
        error.contains("broken.toml") && error.contains("training.epochs"),
        "{error}"
    );
}
