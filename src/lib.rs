//! lstm-mnist: train, evaluate and serve recurrent MNIST digit classifiers with Burn.
//!
//! Dependencies run one way: `cell` → `config`, `data`, `model` → `keras`, `onnx`, `torch` (other
//! frameworks' files), `run_dir` →
//! `training`, `evaluation`, `inference` (and `plots`) → `serve`, `sweep` → `commands` →
//! `cli`.

pub mod backend;
pub mod cell;
pub mod cli;
pub mod commands;
pub mod config;
pub mod data;
pub mod error;
pub mod evaluation;
pub mod faults;
pub mod fsutil;
pub mod inference;
pub mod keras;
pub mod machine;
pub mod model;
pub mod onnx;
pub mod output;
pub mod plots;
pub mod preprocess;
pub mod run_dir;
pub mod serve;
pub mod sweep;
pub mod torch;
pub mod tracking;
pub mod training;
