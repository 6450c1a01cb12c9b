//! `import-keras` and `import-torch`: another framework's model of the seed's architecture
//! becomes a run directory (`config.toml`, `model.bpk`, a `report.json` saying where it came
//! from and how it scores on the test set) that every other command uses like a trained run.

use std::path::{Path, PathBuf};

use burn::module::Module;

use crate::backend::Compute;
use crate::config::{Cell, ExperimentConfig};
use crate::data::{download, test_set};
use crate::error::{Error, Result};
use crate::evaluation::{evaluate, percent};
use crate::keras::{self, KerasModel};
use crate::model::Classifier;
use crate::output::{self, thousands};
use crate::run_dir::{Naming, RunDir, RunName, RunReport, TestScores};
use crate::torch;

/// Where a model comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// A Keras 3 `.keras` archive or a legacy `.h5` (the file says which).
    Keras,
    /// A PyTorch state_dict as safetensors, of a module with this cell.
    Torch(Cell),
}

#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub format: ImportFormat,
    pub file: PathBuf,
    /// The run's name; the file's stem when not given.
    pub name: Option<RunName>,
    pub artifacts: PathBuf,
    pub overwrite: bool,
    pub compute: Compute,
}

/// A model read from a file, and how to name where it came from.
struct Imported {
    model: Classifier,
    name: RunName,
    config: ExperimentConfig,
    source: String,
}

pub fn run(request: &ImportRequest) -> Result<()> {
    let device = request.compute.backend.device()?;
    let Imported {
        model,
        name,
        config,
        source,
    } = read(request, &device)?;
    let data_dir = download::resolve_data_dir(
        config.data.dataset.source(),
        request.compute.data_dir.as_deref(),
    )?;
    let test = test_set(&config.data, &data_dir)?;

    let naming = Naming::from_flags(request.overwrite, request.name.is_some());
    let run = RunDir::claim(&request.artifacts, &name, naming)?;
    let config = run.own_config(&config);
    let scores = TestScores::from(&evaluate(&model, &test, &device));
    let report = RunReport {
        imported_from: Some(format!("{} ({source})", request.file.display())),
        ..RunReport::new(&config, model.num_params(), request.compute.backend, scores)
    };
    run.write_config(&config)?;
    run.finish(&model, &report)?;
    print_imported(&config, &report, run.path());
    Ok(())
}

/// The file's model, checked against the seed's architecture before anything is written.
fn read(request: &ImportRequest, device: &burn::tensor::Device) -> Result<Imported> {
    let (model, model_config, optimizer, source) = match request.format {
        ImportFormat::Keras => {
            let KerasModel {
                weights,
                optimizer,
                format,
            } = keras::read_model(&request.file)?;
            let model = Classifier::from_keras(&weights, device);
            (model, weights.model_config(), optimizer, format.to_string())
        }
        ImportFormat::Torch(cell) => {
            let weights = torch::read_state_dict(&request.file, cell)?;
            let model = Classifier::from_gate_weights(&weights, device);
            let source = format!("PyTorch state_dict, {}", cell.facts().torch.class);
            (model, weights.model_config(), None, source)
        }
    };
    let name = run_name(request)?;
    let config = ExperimentConfig {
        name: name.to_string(),
        model: model_config,
        // Only training reads the optimizer; a file without one keeps the default's.
        optimizer: optimizer.unwrap_or_default(),
        ..ExperimentConfig::default()
    };
    Ok(Imported {
        model,
        name,
        config,
        source,
    })
}

/// What was imported, how it scores, and where the run is.
fn print_imported(config: &ExperimentConfig, report: &RunReport, dir: &Path) {
    let correct = (report.test_accuracy * report.test_samples as f64).round();
    output::line(format_args!(
        "Imported {}: {} with {} units, {} parameters\n\
         Test accuracy: {} ({correct} of {} images, loss {:.6})\n\
         Saved the run to {}",
        report.imported_from.as_deref().unwrap_or_default(),
        config.model.cell.facts().keras.class,
        config.model.hidden,
        thousands(report.parameters),
        percent(report.test_accuracy),
        report.test_samples,
        report.test_loss,
        dir.display(),
    ));
}

/// `--name`, or the file's stem (`seed.keras` -> `seed`).
fn run_name(request: &ImportRequest) -> Result<RunName> {
    if let Some(name) = &request.name {
        return Ok(name.clone());
    }
    let stem = request
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    RunName::new(&stem).map_err(|why| {
        Error::file(
            &request.file,
            format!("its name is no run name ({why}); pass --name"),
        )
    })
}
