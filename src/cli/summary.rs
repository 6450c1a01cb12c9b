//! `summary`: the model's layers, as Keras prints them.

use std::path::PathBuf;

use clap::Args;

use super::shared::set;
use crate::commands::Request;
use crate::commands::summary::SummaryRequest;
use crate::config::{Cell, ExperimentConfig, MAX_CONFIG_BYTES};
use crate::error::{AtFile, Error, Result};
use crate::fsutil::read_text_bounded;
use crate::training::number_reader::NumberExperiment;

pub(super) const EXAMPLES: &str = "\
Examples:
  lstm-mnist summary
  lstm-mnist summary --config configs/gru-adam.toml
  lstm-mnist summary --config configs/number-bilstm.toml";

#[derive(Debug, Args)]
pub(super) struct SummaryArgs {
    /// Experiment config (TOML), a classifier's or a number reader's; the seed's experiment
    /// when omitted.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override `model.cell`.
    #[arg(long, value_enum)]
    cell: Option<Cell>,
}

impl SummaryArgs {
    pub(super) fn into_request(self) -> Result<Request> {
        if let Some(path) = &self.config {
            let text = read_text_bounded(path, MAX_CONFIG_BYTES, "a config")?;
            if NumberExperiment::is_one(&text) {
                if self.cell.is_some() {
                    return Err(Error::file(
                        path,
                        "is a number reader's config, whose layers are bidirectional LSTMs: \
                         --cell is a classifier's",
                    ));
                }
                let experiment = NumberExperiment::parse(&text).at(path)?;
                return Ok(Request::Summary(SummaryRequest::NumberReader(experiment)));
            }
        }
        let mut config = match &self.config {
            Some(path) => ExperimentConfig::load(path)?,
            None => ExperimentConfig::default(),
        };
        set(&mut config.model.cell, self.cell);
        Ok(Request::Summary(SummaryRequest::Classifier(config)))
    }
}
