//! `results`: the table of finished runs.

use std::path::PathBuf;

use clap::Args;

use super::shared::DEFAULT_ARTIFACTS;
use crate::commands::Request;
use crate::commands::results::ResultsRequest;
use crate::error::Result;

pub(super) const EXAMPLES: &str = "\
Examples:
  lstm-mnist results
  lstm-mnist results --artifacts artifacts/seeds";

#[derive(Debug, Args)]
pub(super) struct ResultsArgs {
    /// Directory holding the run directories.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_ARTIFACTS)]
    artifacts: PathBuf,
}

impl ResultsArgs {
    pub(super) fn into_request(self) -> Result<Request> {
        Ok(Request::Results(ResultsRequest {
            artifacts: self.artifacts,
        }))
    }
}
