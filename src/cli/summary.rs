//! `summary`: the model's layers, as Keras prints them.

use std::path::PathBuf;

use clap::Args;

use super::shared::set;
use crate::commands::Request;
use crate::commands::summary::SummaryRequest;
use crate::config::{Cell, ExperimentConfig};
use crate::error::Result;

pub(super) const EXAMPLES: &str = "\
Examples:
  lstm-mnist summary
  lstm-mnist summary --config configs/gru-adam.toml
  lstm-mnist summary --cell rnn";

#[derive(Debug, Args)]
pub(super) struct SummaryArgs {
    /// Experiment config (TOML); the seed's experiment when omitted.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override `model.cell`.
    #[arg(long, value_enum)]
    cell: Option<Cell>,
}

impl SummaryArgs {
    pub(super) fn into_request(self) -> Result<Request> {
        let mut config = match &self.config {
            Some(path) => ExperimentConfig::load(path)?,
            None => ExperimentConfig::default(),
        };
        set(&mut config.model.cell, self.cell);
        Ok(Request::Summary(SummaryRequest { config }))
    }
}
