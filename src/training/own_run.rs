//! What the runs that are not a classifier's (an ink finder's, a number reader's) share: the
//! checked request (the experiment, its name, where it goes), and claiming its run directory
//! with the experiment's config written into it before any training.

use std::path::PathBuf;

use serde::Serialize;

use crate::config::Dataset;
use crate::data::MnistData;
use crate::data::download::resolve_data_dir;
use crate::error::Result;
use crate::fsutil::write_atomic;
use crate::run_dir::{InvalidName, LockedRun, Naming, RunDir, RunName};

/// An experiment of its own kind: named, with epochs a flag may override.
pub trait OwnExperiment: Clone + Serialize {
    fn name(&self) -> &str;
    fn set_name(&mut self, name: String);
    fn set_epochs(&mut self, epochs: usize);
    /// The file its config is written to in its run directory.
    const CONFIG_FILE: &'static str;
}

/// A run of an `OwnExperiment`, checked: its config and where it goes.
#[derive(Debug, Clone)]
pub struct OwnRunRequest<E> {
    pub(crate) experiment: E,
    name: RunName,
    artifacts: PathBuf,
    naming: Naming,
    data_dir: Option<PathBuf>,
}

impl<E: OwnExperiment> OwnRunRequest<E> {
    /// The run of `experiment` under `artifacts`; `epochs` overrides its epochs.
    pub(crate) fn new(
        mut experiment: E,
        epochs: Option<usize>,
        artifacts: PathBuf,
        naming: Naming,
        data_dir: Option<PathBuf>,
    ) -> std::result::Result<Self, InvalidName> {
        if let Some(epochs) = epochs {
            experiment.set_epochs(epochs);
        }
        Ok(Self {
            name: RunName::new(experiment.name())?,
            experiment,
            artifacts,
            naming,
            data_dir,
        })
    }

    /// MNIST, from where the request says.
    pub(crate) fn mnist(&self) -> Result<MnistData> {
        let data_dir = resolve_data_dir(Dataset::Mnist.source(), self.data_dir.as_deref())?;
        MnistData::load(&data_dir)
    }

    /// Claims the run's directory and writes the experiment's config into it, named as the
    /// run is; returns the run, locked while it is written, and that experiment.
    pub(crate) fn claim(&self) -> Result<(LockedRun, E)> {
        let run = RunDir::claim(&self.artifacts, &self.name, self.naming)?;
        let mut experiment = self.experiment.clone();
        experiment.set_name(run.name().to_string());
        let text = toml::to_string(&experiment).expect("a config serialises");
        write_atomic(&run.path().join(E::CONFIG_FILE), text.as_bytes())?;
        Ok((run, experiment))
    }
}
