//! The per-epoch checkpoints in `checkpoint/`: their names, and the last complete one.

use std::path::{Path, PathBuf};

use burn::tensor::DType;

use super::model_file::{ModelFileProblem, ParameterShapes, RecordLayout, other_architecture};
use crate::config::ExperimentConfig;
use crate::error::{AtFile, Error, Result};

/// The record kinds Burn checkpoints each epoch, in the order it writes them.
pub(crate) const RECORD_NAMES: [&str; 3] = ["model", "optim", "scheduler"];

/// `checkpoint/<record>-<epoch>.bpk`.
pub(crate) fn checkpoint_path(directory: &Path, record: &str, epoch: usize) -> PathBuf {
    directory.join(format!("{record}-{epoch}.bpk"))
}

/// The newest complete epoch, and why each newer one with a row in `metrics.csv` could not be
/// used (its files damaged).
#[derive(Debug)]
pub(crate) struct CompleteEpoch {
    pub epoch: usize,
    pub skipped: Vec<Error>,
}

/// What a run's checkpoints must fit: its config (read from `config_path`) and the layout of
/// its model's record.
pub(crate) struct CheckpointSpec<'a> {
    pub config: &'a ExperimentConfig,
    pub(crate) config_path: &'a Path,
    pub(crate) layout: RecordLayout,
}

/// The newest epoch that `recorded` accepts and whose model, optimizer and scheduler
/// checkpoints are all present and sound (Burn panics on a damaged one); or an error naming
/// the directory. Checkpoints of another architecture than the config's are refused outright:
/// the config was edited, and no older epoch fits it either.
pub(crate) fn last_complete_epoch(
    directory: &Path,
    spec: &CheckpointSpec,
    recorded: impl Fn(usize) -> bool,
) -> Result<CompleteEpoch> {
    if let Err(e) = std::fs::read_dir(directory) {
        return Err(Error::file(
            directory,
            format!("no checkpoints to resume from: {e}"),
        ));
    }
    let mut epochs = saved_epochs(directory);
    epochs.sort_unstable_by(|a, b| b.cmp(a));
    let mut skipped = Vec::new();
    for epoch in epochs.into_iter().filter(|&epoch| recorded(epoch)) {
        match check_epoch(directory, epoch, spec) {
            Ok(()) => return Ok(CompleteEpoch { epoch, skipped }),
            Err(EpochProblem::Incomplete) => {}
            Err(EpochProblem::Refused(error)) => return Err(error),
            Err(EpochProblem::Damaged(error)) => skipped.push(error),
        }
    }
    let problem = match skipped.first() {
        Some(newest) => format!("no complete checkpoint to resume from ({newest})"),
        None => "no complete checkpoint to resume from (missing or pruned)".to_string(),
    };
    Err(Error::file(directory, problem))
}

enum EpochProblem {
    /// A file is missing: an epoch Burn had not finished writing, or one being pruned.
    Incomplete,
    /// A file is there but cannot be used.
    Damaged(Error),
    /// The checkpoints do not fit the config.
    Refused(Error),
}

fn check_epoch(directory: &Path, epoch: usize, spec: &CheckpointSpec) -> Result<(), EpochProblem> {
    let [model, optim, scheduler] =
        RECORD_NAMES.map(|name| checkpoint_path(directory, name, epoch));
    if ![&model, &optim, &scheduler]
        .iter()
        .all(|path| path.is_file())
    {
        return Err(EpochProblem::Incomplete);
    }
    let parameters = spec.layout.check(&model).map_err(|problem| match problem {
        ModelFileProblem::OtherArchitecture(found) => EpochProblem::Refused(other_architecture(
            &model,
            found,
            spec.config,
            spec.config_path,
        )),
        ModelFileProblem::Damaged(message) => EpochProblem::Damaged(Error::file(&model, message)),
    })?;
    check_optimizer_state(&optim, &parameters).map_err(EpochProblem::Damaged)?;
    burn_pack::Reader::from_file_exact(&scheduler)
        .doing(&scheduler, "damaged scheduler checkpoint")
        .map_err(EpochProblem::Damaged)?;
    Ok(())
}

/// The optimizer's checkpoint holds state only for the model's parameters, each tensor `f32`
/// and of its parameter's shape, and each parameter's rank as the model has it: what Burn's
/// optimizer assumes when it reads the record back (it panics otherwise).
fn check_optimizer_state(path: &Path, parameters: &ParameterShapes) -> Result<()> {
    const DAMAGED: &str = "damaged optimizer checkpoint";
    let damaged = |problem: String| Error::file(path, format!("{DAMAGED}: {problem}"));
    let reader = burn_pack::Reader::from_file_exact(path).doing(path, DAMAGED)?;
    for (key, value) in reader.scalars() {
        let Some((Ok(id), field)) = key.split_once('.').map(|(id, f)| (id.parse::<u64>(), f))
        else {
            continue;
        };
        let Some(shape) = parameters.get(&id) else {
            return Err(damaged(format!(
                "state `{key}` is for no parameter of the model"
            )));
        };
        if field == "__rank" && usize::try_from(*value).ok() != Some(shape.len()) {
            return Err(damaged(format!(
                "state `{key}` says rank {value:?}, not {}",
                shape.len()
            )));
        }
    }
    let tensors = reader.into_tensors().doing(path, DAMAGED)?;
    for tensor in tensors {
        let name = &tensor.name;
        let Some(shape) = tensor.param_id.and_then(|id| parameters.get(&id)) else {
            return Err(damaged(format!(
                "state `{name}` is for no parameter of the model"
            )));
        };
        if tensor.dtype != DType::F32 || tensor.shape.as_slice() != shape.as_slice() {
            return Err(damaged(format!(
                "state `{name}` is {:?} of shape {:?}, not F32 \
                 of shape {shape:?}",
                tensor.dtype,
                tensor.shape.as_slice()
            )));
        }
    }
    Ok(())
}

/// The epochs that have a model checkpoint in `directory` (none when it cannot be read).
pub(crate) fn saved_epochs(directory: &Path) -> Vec<usize> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("model-")?
                .strip_suffix(".bpk")?
                .parse()
                .ok()
        })
        .collect()
}
