//! Experiment configs: the shipped files parse into the experiments they name, and a config
//! round-trips through its TOML. (Every refused value is tried through the binary in
//! `bad_input.rs`.)

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
