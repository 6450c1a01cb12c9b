//! `export-web`: the page as a static site, with the model in the browser.

use std::path::PathBuf;

use clap::Args;

use crate::commands::Request;
use crate::commands::export_web::ExportWebRequest;
use crate::commands::predict::Reader;
use crate::error::Result;
use crate::serve::web::DEFAULT_PKG;
use lstm_mnist_model::record::Precision;

pub(super) const EXAMPLES: &str = "\
Examples:
  lstm-mnist export-web artifacts/lstm-adam-robust site
  lstm-mnist export-web artifacts/lstm-adam-robust artifacts/number-bilstm site
  lstm-mnist export-web artifacts/lstm-adam-robust site --precision f16";

#[derive(Debug, Args)]
pub(super) struct ExportWebArgs {
    /// Finished run directories (artifacts/<name>); the page preselects the first classifier.
    /// A number reader's run (artifacts/number-bilstm) is offered beside them.
    #[arg(value_name = "RUN", required = true, num_args = 1..)]
    runs: Vec<PathBuf>,
    /// The directory to write the site to; it must not exist or be empty.
    #[arg(value_name = "DIR")]
    site: PathBuf,
    /// Where tools/build-web.sh left the browser's model (the .wasm and its JavaScript glue).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_PKG)]
    pkg: PathBuf,
    /// How the site stores the weights: f32, the run's own file; f16 halves it, and moves
    /// probabilities by up to 5e-3 (lstm-sgd: 2 of the 10,000 MNIST test answers change;
    /// docs/serving.md has each shipped run's figures).
    #[arg(long, value_enum, value_name = "PRECISION", default_value = "f32")]
    precision: Precision,
    /// Find the ink of pictures and drawings with the learned ink finder trained in DIR
    /// (artifacts/ink-finder is the shipped one), put on the site beside the runs, instead
    /// of the picture path's rules.
    #[arg(long, value_name = "DIR")]
    ink_finder: Option<PathBuf>,
}

impl ExportWebArgs {
    pub(super) fn into_request(self) -> Result<Request> {
        let mut runs = Vec::new();
        let mut number_readers = Vec::new();
        for run in &self.runs {
            match Reader::resolve(run)? {
                Reader::Digits(model) => runs.push(model),
                Reader::Number(dir) => number_readers.push(dir),
            }
        }
        Ok(Request::ExportWeb(ExportWebRequest {
            runs,
            number_readers,
            site: self.site,
            pkg: self.pkg,
            precision: self.precision,
            ink_finder: self.ink_finder,
        }))
    }
}
