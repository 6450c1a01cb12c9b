//! lstm-mnist: train, evaluate and serve recurrent MNIST digit classifiers with Burn.
//!
//! The classifier itself, its cells, the picture path and the classification are the
//! `lstm-mnist-model` crate's (`crates/model`), re-exported here as `cell`, `model` and
//! `preprocess`. Dependencies run one way: the model crate → `config`, `data` → `keras`,
//! `onnx`, `torch` (other frameworks' files), `run_dir` →
//! `training`, `evaluation`, `inference` (and `plots`) → `serve`, `sweep` → `commands` →
//! `cli`.

pub mod backend;
pub mod cli;
pub mod commands;
pub mod config;
pub mod data;
pub mod error;
pub mod evaluation;
pub mod faults;
pub(crate) mod fsutil;
pub mod inference;
pub mod keras;
pub mod machine;
pub mod onnx;
pub mod output;
pub(crate) mod plots;
pub mod run_dir;
pub mod serve;
pub mod sweep;
pub mod torch;
pub mod tracking;
pub mod training;

pub use lstm_mnist_model::{cell, model, preprocess};
