//! `serve`: the page to draw digits on and the JSON API.

use std::path::PathBuf;

use clap::Args;

use super::shared::{BackendArg, DEFAULT_ARTIFACTS};
use crate::commands::Request;
use crate::error::Result;
use crate::serve::ServeRequest;

pub(super) const EXAMPLES: &str = "\
Examples:
  lstm-mnist serve
  lstm-mnist serve --run gru-adam --addr 0.0.0.0:8080
  lstm-mnist serve --addr 127.0.0.1:0 --artifacts my-runs";

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// Directory holding the run directories; every finished run in it is served.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_ARTIFACTS)]
    artifacts: PathBuf,
    /// The run used when a request names none [default: the most robust MNIST run with a
    /// test accuracy of 98.5% or more (see `robustness`), else the most accurate one].
    #[arg(long, value_name = "NAME")]
    run: Option<String>,
    /// Address to listen on; port 0 picks a free port (printed when ready).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    addr: String,
    #[command(flatten)]
    compute: BackendArg,
}

impl ServeArgs {
    pub(super) fn into_request(self) -> Result<Request> {
        Ok(Request::Serve(ServeRequest {
            artifacts: self.artifacts,
            run: self.run,
            addr: self.addr,
            backend: self.compute.backend,
        }))
    }
}
