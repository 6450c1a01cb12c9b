//! `serve`: the page to draw digits on and the JSON API.

use std::path::PathBuf;

use clap::Args;

use super::shared::{BackendArg, DEFAULT_ARTIFACTS};
use crate::commands::Request;
use crate::error::Result;
use crate::serve::web::DEFAULT_PKG;
use crate::serve::{BrowserModel, ServeRequest};

pub(super) const EXAMPLES: &str = "\
Examples:
  lstm-mnist serve
  lstm-mnist serve --run gru-adam --addr 0.0.0.0:8080
  lstm-mnist serve --addr 127.0.0.1:0 --artifacts my-runs --no-browser-model";

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
    /// Where tools/build-web.sh left the browser's model, which the page then reads drawings
    /// with [default: web/pkg, where it is built; without it the page asks this server].
    #[arg(long, value_name = "DIR")]
    pkg: Option<PathBuf>,
    /// The page asks this server for every answer, even where the browser's model is built.
    #[arg(long, conflicts_with = "pkg")]
    no_browser_model: bool,
    /// Find the ink of uploaded pictures and drawings with the learned ink finder trained in
    /// DIR (artifacts/ink-finder is the shipped one), on the server and in the browser,
    /// instead of the picture path's rules.
    #[arg(long, value_name = "DIR")]
    ink_finder: Option<PathBuf>,
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
            browser_model: match (self.pkg, self.no_browser_model) {
                (_, true) => BrowserModel::Off,
                (Some(dir), false) => BrowserModel::At(dir),
                (None, false) => BrowserModel::IfBuilt(DEFAULT_PKG.into()),
            },
            ink_finder: self.ink_finder,
        }))
    }
}
