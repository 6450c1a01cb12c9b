//! `evaluate`, and the flags of every command that scores a model on the test set.

use std::path::PathBuf;

use clap::Args;

use super::shared::{BackendArg, DataDirArg, compute};
use crate::backend::Compute;
use crate::commands::Request;
use crate::commands::evaluate::EvaluateRequest;
use crate::commands::predict::Reader;
use crate::error::Result;
use crate::run_dir::ModelRef;

pub(super) const EXAMPLES: &str = "\
Examples:
  lstm-mnist evaluate --checkpoint artifacts/lstm-adam
  lstm-mnist evaluate --checkpoint artifacts/lstm-adam --steps
  lstm-mnist evaluate --checkpoint artifacts/number-bilstm";

#[derive(Debug, Args)]
pub(super) struct EvaluateArgs {
    /// A run directory (artifacts/<name>, its model.bpk is used) or one of its
    /// checkpoint/model-N.bpk files.
    #[arg(long, value_name = "PATH")]
    pub(super) checkpoint: PathBuf,
    #[command(flatten)]
    pub(super) compute: BackendArg,
    #[command(flatten)]
    pub(super) data: DataDirArg,
}

#[derive(Debug, Args)]
pub(super) struct EvaluateCommandArgs {
    #[command(flatten)]
    scored: EvaluateArgs,
    /// Also the test accuracy after each row (how early the model knows): in evaluation.json
    /// as accuracy_after_row, and drawn as reading.png beside the model.
    #[arg(long)]
    steps: bool,
}

impl EvaluateArgs {
    /// The model the flags name, resolved, and where it is scored.
    pub(super) fn into_parts(self) -> Result<(ModelRef, Compute)> {
        let model = ModelRef::resolve(&self.checkpoint)?;
        Ok((model, compute(self.compute, self.data)))
    }
}

impl EvaluateCommandArgs {
    pub(super) fn into_request(self) -> Result<Request> {
        let reader = Reader::resolve(&self.scored.checkpoint)?;
        let compute = compute(self.scored.compute, self.scored.data);
        Ok(Request::Evaluate(EvaluateRequest {
            reader,
            compute,
            steps: self.steps,
        }))
    }
}
