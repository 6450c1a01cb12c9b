//! `plot`: several runs' learning curves in one picture.

use std::path::{Path, PathBuf};

use clap::Args;

use super::shared::DEFAULT_ARTIFACTS;

use crate::commands::Request;
use crate::commands::plot::PlotRequest;
use crate::error::Result;

pub(super) const EXAMPLES: &str = "\
Examples:
  lstm-mnist plot artifacts/lstm-sgd artifacts/lstm-adam
  lstm-mnist plot artifacts/rnn-adam artifacts/gru-adam --output rnn-vs-gru.png";

#[derive(Debug, Args)]
pub(super) struct PlotArgs {
    /// Run directories (artifacts/<name>), each with its metrics.csv.
    #[arg(required = true, value_name = "RUN")]
    runs: Vec<PathBuf>,
    /// Where to write the picture (PNG).
    #[arg(long, value_name = "FILE", default_value_os_t = Path::new(DEFAULT_ARTIFACTS).join("comparison.png"))]
    output: PathBuf,
}

impl PlotArgs {
    pub(super) fn into_request(self) -> Result<Request> {
        Ok(Request::Plot(PlotRequest {
            runs: self.runs,
            output: self.output,
        }))
    }
}
