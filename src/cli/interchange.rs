//! `import-keras`, `import-torch`, `export-keras`, `export-onnx`, `export-torch`: a run from
//! another framework's file, and a run as one.

use std::path::PathBuf;

use clap::Args;

use super::shared::{BackendArg, DEFAULT_ARTIFACTS, DataDirArg, compute, name_flag};
use crate::commands::Request;
use crate::commands::export::{ExportFormat, ExportRequest};
use crate::commands::import::{ImportFormat, ImportRequest};
use crate::commands::predict::Reader;
use crate::config::Cell;
use crate::error::Result;

pub(super) const EXAMPLES_IMPORT_KERAS: &str = "\
Examples:
  lstm-mnist import-keras seed.keras
  lstm-mnist import-keras model.h5 --name keras-lstm --overwrite";

pub(super) const EXAMPLES_IMPORT_TORCH: &str = "\
Examples:
  lstm-mnist import-torch lstm.safetensors --cell lstm
  lstm-mnist import-torch fine-tuned.safetensors --cell gru --name gru-tuned --overwrite";

pub(super) const EXAMPLES_EXPORT_KERAS: &str = "\
Examples:
  lstm-mnist export-keras artifacts/lstm-adam lstm-adam.weights.h5
  lstm-mnist export-keras artifacts/gru-adam gru.weights.h5 --overwrite";

pub(super) const EXAMPLES_EXPORT_ONNX: &str = "\
Examples:
  lstm-mnist export-onnx artifacts/lstm-adam lstm-adam.onnx
  lstm-mnist export-onnx artifacts/gru-adam gru.onnx --overwrite";

pub(super) const EXAMPLES_EXPORT_TORCH: &str = "\
Examples:
  lstm-mnist export-torch artifacts/lstm-adam lstm-adam.safetensors
  lstm-mnist export-torch artifacts/rnn-adam/checkpoint/model-20.bpk rnn.safetensors";

#[derive(Debug, Args)]
pub(super) struct ImportKerasArgs {
    /// The Keras model: a .keras file (Keras 3) or a .h5 saved by model.save.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    run: ImportedRunArgs,
}

#[derive(Debug, Args)]
pub(super) struct ImportTorchArgs {
    /// The state_dict: a .safetensors file with the keys recurrent.weight_ih_l0,
    /// recurrent.weight_hh_l0, recurrent.bias_ih_l0, recurrent.bias_hh_l0, head.weight,
    /// head.bias.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The module's recurrent layer: nn.LSTM, nn.GRU or nn.RNN (tanh).
    #[arg(long, value_enum)]
    cell: Cell,
    #[command(flatten)]
    run: ImportedRunArgs,
}

/// Where an imported model's run goes, and what scores it.
#[derive(Debug, Args)]
pub(super) struct ImportedRunArgs {
    /// The run's name [default: the file's name without its extension].
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Directory holding the run directories.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_ARTIFACTS)]
    artifacts: PathBuf,
    /// Replace the run of that name.
    #[arg(long, requires = "name")]
    overwrite: bool,
    #[command(flatten)]
    compute: BackendArg,
    #[command(flatten)]
    data: DataDirArg,
}

#[derive(Debug, Args)]
pub(super) struct ExportArgs {
    /// A run directory (artifacts/<name>: a classifier's, or for ONNX and PyTorch a number
    /// reader's) or one of a classifier's checkpoint/model-N.bpk files.
    #[arg(value_name = "RUN")]
    run: PathBuf,
    /// The file to write (for Keras, named *.weights.h5).
    #[arg(value_name = "OUTPUT")]
    output: PathBuf,
    /// Replace OUTPUT if it exists.
    #[arg(long)]
    overwrite: bool,
}

impl ImportKerasArgs {
    pub(super) fn into_request(self) -> Result<Request> {
        self.run.into_request(ImportFormat::Keras, self.file)
    }
}

impl ImportTorchArgs {
    pub(super) fn into_request(self) -> Result<Request> {
        self.run
            .into_request(ImportFormat::Torch(self.cell), self.file)
    }
}

impl ImportedRunArgs {
    fn into_request(self, format: ImportFormat, file: PathBuf) -> Result<Request> {
        Ok(Request::Import(ImportRequest {
            format,
            file,
            name: name_flag(self.name.as_deref())?,
            artifacts: self.artifacts,
            overwrite: self.overwrite,
            compute: compute(self.compute, self.data),
        }))
    }
}

impl ExportArgs {
    pub(super) fn into_request(self, format: ExportFormat) -> Result<Request> {
        Ok(Request::Export(ExportRequest {
            format,
            reader: Reader::resolve(&self.run)?,
            output: self.output,
            overwrite: self.overwrite,
        }))
    }
}
