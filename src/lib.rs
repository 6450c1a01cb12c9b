//! lstm-mnist: train, evaluate and serve recurrent MNIST digit classifiers with Burn.

pub mod backend;
pub mod bench;
pub mod cli;
pub mod config;
pub mod data;
pub mod error;
pub mod evaluation;
pub mod fsutil;
pub mod inference;
pub mod machine;
pub mod model;
pub mod plots;
pub mod results;
pub mod training;
