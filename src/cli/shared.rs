//! The flags several commands share, and the checks on them.

use std::path::PathBuf;

use clap::Args;

use crate::backend::{Backend, Compute};
use crate::error::{Context, Result};
use crate::run_dir::RunName;

/// Where runs go when `--artifacts` is not given.
pub(super) const DEFAULT_ARTIFACTS: &str = "artifacts";

/// `--backend`, for every command that computes.
#[derive(Debug, Args)]
pub(super) struct BackendArg {
    /// Compute backend: flex (fast CPU), ndarray (CPU) or wgpu (GPU).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub(super) backend: Backend,
}

/// `--data-dir`, for every command that reads the dataset.
#[derive(Debug, Args)]
pub(super) struct DataDirArg {
    /// Directory holding the four MNIST IDX files (gzip'd or raw); also read from $MNIST_DIR.
    /// Without either, MNIST is downloaded once into the user's cache.
    #[arg(long, value_name = "DIR")]
    pub(super) data_dir: Option<PathBuf>,
}

/// `--backend` and `--data-dir` as the one value requests take.
pub(super) fn compute(backend: BackendArg, data: DataDirArg) -> Compute {
    Compute {
        backend: backend.backend,
        data_dir: data.data_dir,
    }
}

/// `--name`, where given, as a run name.
pub(super) fn name_flag(name: Option<&str>) -> Result<Option<RunName>> {
    name.map(|name| RunName::new(name).context("--name"))
        .transpose()
}

/// An override: `value` replaces what `slot` holds, where given.
pub(super) fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}
