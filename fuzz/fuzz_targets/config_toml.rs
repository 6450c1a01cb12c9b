//! An experiment config (`configs/*.toml`, a run's `config.toml`): parsed and checked.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lstm_mnist::config::ExperimentConfig;

fuzz_target!(|text: &str| {
    if let Ok(config) = ExperimentConfig::parse(text) {
        let _ = config.validate();
        let _ = ExperimentConfig::parse(&config.to_toml()).expect("a written config reads back");
    }
});
