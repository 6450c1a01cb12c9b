//! `lstm-mnist import-keras`: a Keras model of the seed's architecture becomes a run directory
//! (`config.toml`, `model.bpk`, a `report.json` saying where it came from and how it scores on
//! the test set) that every other command uses like a trained run.

use std::path::{Path, PathBuf};

use burn::module::Module;

use crate::backend::Backend;
use crate::config::ExperimentConfig;
use crate::data::{MnistData, download};
use crate::error::{Error, Result};
use crate::evaluation::{evaluate, percent};
use crate::keras::{self, KerasModel};
use crate::model::Classifier;
use crate::model::summary::thousands;
use crate::run_dir::{Naming, RunDir, RunReport, TestScores, check_name};

#[derive(Debug, Clone)]
pub struct ImportKerasRequest {
    pub file: PathBuf,
    /// The run's name; the file's stem when not given.
    pub name: Option<String>,
    pub artifacts: PathBuf,
    pub overwrite: bool,
    pub backend: Backend,
    pub data_dir: Option<PathBuf>,
}

pub fn run(request: &ImportKerasRequest) -> Result<()> {
    let KerasModel {
        weights,
        optimizer,
        format,
    } = keras::read_model(&request.file)?;
    let config = ExperimentConfig {
        name: run_name(request)?,
        model: weights.model_config(),
        // Only training reads the optimizer; an uncompiled model keeps the default's.
        optimizer: optimizer.unwrap_or_default(),
        ..ExperimentConfig::default()
    };
    let device = request.backend.device()?;
    let source = config.data.dataset.source();
    let data_dir = download::resolve_data_dir(source, request.data_dir.as_deref())?;
    let test = MnistData::load_test(&data_dir)?;
    let model = Classifier::from_keras(&weights, &device);

    let naming = Naming::from_flags(request.overwrite, request.name.is_some());
    let run = RunDir::claim(&request.artifacts, &config.name, naming)?;
    let config = ExperimentConfig {
        name: run.name().to_string(),
        ..config
    };
    let scores = evaluate(&model, &test, &device);
    let test = TestScores {
        samples: scores.images,
        accuracy: scores.accuracy,
        loss: scores.loss,
    };
    let report = RunReport {
        imported_from: Some(format!("{} ({format})", request.file.display())),
        ..RunReport::new(&config, model.num_params(), request.backend, test)
    };
    run.write_config(&config)?;
    run.save_model(&model)?;
    run.write_report(&report)?;
    print_imported(&config, &report, run.path());
    Ok(())
}

/// What was imported, how it scores, and where the run is.
fn print_imported(config: &ExperimentConfig, report: &RunReport, dir: &Path) {
    let correct = (report.test_accuracy * report.test_samples as f64).round();
    println!(
        "Imported {}: {} with {} units, {} parameters\n\
         Test accuracy: {} ({correct} of {} images, loss {:.6})\n\
         Saved the run to {}",
        report.imported_from.as_deref().unwrap_or_default(),
        keras::layer_class(config.model.cell),
        config.model.hidden,
        thousands(report.parameters),
        percent(report.test_accuracy),
        report.test_samples,
        report.test_loss,
        dir.display(),
    );
}

/// `--name`, or the file's stem (`seed.keras` -> `seed`).
fn run_name(request: &ImportKerasRequest) -> Result<String> {
    if let Some(name) = &request.name {
        return Ok(name.clone());
    }
    let stem = request
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    check_name(&stem).map_err(|why| {
        Error::file(
            &request.file,
            format!("its name is no run name ({why}); pass --name"),
        )
    })?;
    Ok(stem)
}
