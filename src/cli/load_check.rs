//! `load-check`: the server under concurrent clients (`bench --serve` is its old spelling).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

use super::shared::{BackendArg, DEFAULT_ARTIFACTS};
use crate::backend::Compute;
use crate::commands::Request;
use crate::commands::load_check::LoadRequest;
use crate::error::{Error, Result};

pub(super) const EXAMPLES: &str = "\
Examples:
  lstm-mnist load-check
  lstm-mnist load-check --clients 64 --seconds 20 --json
  lstm-mnist load-check --run gru-adam --backend wgpu";

/// Flags of `bench` that have no meaning for the server.
const BENCH_ONLY_FLAGS: [&str; 3] = ["--cell", "--kernel", "--batches"];

#[derive(Debug, Args)]
pub(super) struct LoadCheckArgs {
    #[command(flatten)]
    compute: BackendArg,
    /// Concurrent clients.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    clients: u32,
    /// How long the clients post.
    #[arg(long, value_name = "SECONDS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,
    /// The runs to serve.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_ARTIFACTS)]
    artifacts: PathBuf,
    /// The run the clients ask [default: the server's default run].
    #[arg(long, value_name = "NAME")]
    run: Option<String>,
    /// Directory holding the MNIST files (also $MNIST_DIR).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print the figures as one JSON object.
    #[arg(long)]
    json: bool,
}

impl LoadCheckArgs {
    pub(super) fn into_request(self) -> Result<Request> {
        Ok(Request::LoadCheck(LoadRequest {
            compute: Compute {
                backend: self.compute.backend,
                data_dir: self.data_dir,
            },
            artifacts: self.artifacts,
            run: self.run,
            clients: self.clients as usize,
            seconds: self.seconds,
            json: self.json,
        }))
    }
}

/// The command line with `bench --serve …`, the old spelling, written as `load-check …`.
pub(super) fn new_spelling(mut words: Vec<OsString>) -> Result<Vec<OsString>> {
    let is_old = words.get(1).is_some_and(|w| w == "bench") && words.iter().any(|w| w == "--serve");
    if !is_old {
        return Ok(words);
    }
    if let Some(flag) = words.iter().find_map(|w| {
        let w = w.to_str()?;
        BENCH_ONLY_FLAGS
            .into_iter()
            .find(|f| w == *f || w.starts_with(&format!("{f}=")))
    }) {
        return Err(Error::msg(format!(
            "{flag} does not apply to the server's load check (bench --serve, now load-check)"
        )));
    }
    words[1] = "load-check".into();
    words.retain(|w| w != "--serve");
    Ok(words)
}
