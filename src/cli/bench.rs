//! `bench`: the training step, inference and the epoch they make, timed.

use clap::Args;

use super::shared::BackendArg;
use crate::commands::Request;
use crate::commands::bench::BenchRequest;
use crate::config::Cell;
use crate::error::Result;
use crate::model::RecurrentKernel;

pub(super) const EXAMPLES: &str = "\
Examples:
  lstm-mnist bench
  lstm-mnist bench --cell gru --kernel stock --batches 10 --json
  lstm-mnist bench --backend wgpu";

#[derive(Debug, Args)]
pub(super) struct BenchArgs {
    #[command(flatten)]
    compute: BackendArg,
    /// Recurrent cell of the benchmarked model.
    #[arg(long, value_enum, default_value_t = Cell::Lstm)]
    cell: Cell,
    /// Recurrent layer implementation: the fused op (flex only; elsewhere this falls back to
    /// stock) or Burn's stock layer. `--lstm` is the old spelling.
    #[arg(long, alias = "lstm", value_enum, default_value_t = RecurrentKernel::Fused)]
    kernel: RecurrentKernel,
    /// Timed batches of each kind (after 3 warm-up ones).
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    batches: u32,
    /// Print the figures as one JSON object.
    #[arg(long)]
    json: bool,
}

impl BenchArgs {
    pub(super) fn into_request(self) -> Result<Request> {
        Ok(Request::Bench(BenchRequest {
            backend: self.compute.backend,
            cell: self.cell,
            kernel: self.kernel,
            batches: self.batches as usize,
            json: self.json,
        }))
    }
}
