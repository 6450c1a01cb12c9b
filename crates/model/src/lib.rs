//! The recurrent MNIST classifier of lstm-mnist, usable from any Rust program and from the
//! browser (it builds for `wasm32-unknown-unknown`).
//!
//! A classifier reads a 28×28 image as 28 rows, one timestep each, with an LSTM, GRU or
//! simple RNN, and classifies the last hidden state with a linear layer. This crate holds the
//! [`model::Classifier`], loading a trained run's weights ([`run::TrainedModel`], from a run
//! directory or from bytes), the picture path that turns a photo or a drawing into the
//! model's input ([`preprocess`]) and the classification, also row by row ([`inference`]).
//! A learned ink finder ([`ink`]) can find the digit in a photograph instead of the rules.
//! It runs on Burn's `flex` backend; training, serving and the file formats of other
//! frameworks are the `lstm-mnist` application's.
//!
//! ```no_run
//! use lstm_mnist_model::Device;
//! use lstm_mnist_model::inference::Detail;
//! use lstm_mnist_model::run::TrainedModel;
//!
//! let model = TrainedModel::open("artifacts/lstm-adam".as_ref(), &Device::flex())?;
//! let picture = std::fs::read("my-digit.jpg")?;
//! let reading = model.read_picture(&picture, Detail::Answer)?;
//! println!("{} ({:.1}%)", reading.digit(), reading.probability() * 100.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Dependencies run one way: `cell`, `config` → `model` → `record`, `train`, `inference` →
//! `run` (`ink` → `preprocess`, and `panic`, stand apart).

#![warn(missing_docs)]

/// The Burn this crate is built on, so that code using the classifier's tensors names the same
/// version.
pub use burn;
/// Where a model's weights live and its arithmetic runs: `Device::flex()` for the CPU (and the
/// browser), or any other backend the application enables in Burn.
pub use burn::tensor::Device;

pub mod cell;
pub mod config;
pub mod inference;
pub mod ink;
pub mod model;
pub mod number;
pub mod panic;
pub mod preprocess;
pub mod record;
pub mod run;
#[cfg(feature = "train")]
pub mod train;

/// The classes a classifier tells apart (the ten digits, or Fashion-MNIST's ten kinds).
pub const NUM_CLASSES: usize = 10;

/// The rows of a model input: the timesteps the recurrent layer reads, one row each.
pub const ROWS: usize = 28;
/// The pixels of each row: the features of one timestep.
pub const COLUMNS: usize = 28;
/// The values of one model input, row after row.
pub const INPUT_LEN: usize = ROWS * COLUMNS;

/// One model input: `ROWS` rows of `COLUMNS` values in [0, 1], row after row, white ink (1) on
/// black (0) as in MNIST.
pub type ModelInput = [f32; INPUT_LEN];
