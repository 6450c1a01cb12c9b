//! The per-epoch checkpoints in `checkpoint/`: their names, and the last complete one.

use std::path::{Path, PathBuf};

use burn::store::ModuleRecord;

use crate::error::{Error, Result};

/// The record kinds Burn checkpoints each epoch, in the order it writes them.
pub const RECORD_NAMES: [&str; 3] = ["model", "optim", "scheduler"];

/// `checkpoint/<record>-<epoch>.bpk`.
pub fn checkpoint_path(directory: &Path, record: &str, epoch: usize) -> PathBuf {
    directory.join(format!("{record}-{epoch}.bpk"))
}

/// The newest epoch whose model, optimizer and scheduler checkpoints are all present, the
/// model's readable, and that `recorded` accepts; or an error naming the directory.
pub fn last_complete_epoch(directory: &Path, recorded: impl Fn(usize) -> bool) -> Result<usize> {
    if let Err(e) = std::fs::read_dir(directory) {
        return Err(Error::file(
            directory,
            format!("no checkpoints to resume from: {e}"),
        ));
    }
    let mut epochs = saved_epochs(directory);
    epochs.sort_unstable_by(|a, b| b.cmp(a));
    epochs
        .into_iter()
        .find(|&epoch| {
            recorded(epoch)
                && RECORD_NAMES
                    .iter()
                    .all(|name| checkpoint_path(directory, name, epoch).is_file())
                && ModuleRecord::load(checkpoint_path(directory, "model", epoch)).is_ok()
        })
        .ok_or_else(|| {
            Error::file(
                directory,
                "no complete checkpoint to resume from (missing or pruned)",
            )
        })
}

/// The epochs that have a model checkpoint in `directory` (none when it cannot be read).
pub fn saved_epochs(directory: &Path) -> Vec<usize> {
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
