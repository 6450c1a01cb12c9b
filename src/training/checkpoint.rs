//! Per-epoch checkpoints, written atomically, and finding the last complete one to resume from.

use std::path::{Path, PathBuf};

use burn::store::ModuleRecord;
use burn::train::checkpoint::{Checkpoint, Checkpointer, CheckpointerError};

use crate::error::{Error, Result};
use crate::fsutil::write_atomic;

/// Burn's file checkpointer writes in place, so a kill mid-write leaves a truncated file that
/// looks like a checkpoint. This one writes each record to a temporary file and renames it.
pub struct AtomicFileCheckpointer {
    directory: PathBuf,
    name: &'static str,
}

/// The record kinds Burn checkpoints each epoch, in the order it writes them.
pub const RECORD_NAMES: [&str; 3] = ["model", "optim", "scheduler"];

impl AtomicFileCheckpointer {
    pub fn new(directory: &Path, name: &'static str) -> Self {
        Self {
            directory: directory.to_path_buf(),
            name,
        }
    }
}

pub fn checkpoint_path(directory: &Path, name: &str, epoch: usize) -> PathBuf {
    directory.join(format!("{name}-{epoch}.bpk"))
}

impl<R: Checkpoint> Checkpointer<R> for AtomicFileCheckpointer {
    fn save(&self, epoch: usize, record: R) -> Result<(), CheckpointerError> {
        let bytes = record
            .checkpoint_into_bytes()
            .map_err(CheckpointerError::Record)?;
        write_atomic(&checkpoint_path(&self.directory, self.name, epoch), &bytes)
            .map_err(|e| CheckpointerError::Unknown(e.to_string()))
    }

    fn delete(&self, epoch: usize) -> Result<(), CheckpointerError> {
        match std::fs::remove_file(checkpoint_path(&self.directory, self.name, epoch)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(CheckpointerError::IOError(e))
            }
            _ => Ok(()),
        }
    }

    fn restore(&self, epoch: usize) -> Result<R, CheckpointerError> {
        R::load(checkpoint_path(&self.directory, self.name, epoch))
    }
}

/// The newest epoch whose model, optimizer and scheduler checkpoints are all present and the
/// model's readable, or an error naming the directory.
pub fn last_complete_epoch(directory: &Path) -> Result<usize> {
    let entries = std::fs::read_dir(directory)
        .map_err(|e| Error::file(directory, format!("no checkpoints to resume from: {e}")))?;
    let mut epochs: Vec<usize> = entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("model-")?
                .strip_suffix(".bpk")?
                .parse()
                .ok()
        })
        .collect();
    epochs.sort_unstable_by(|a, b| b.cmp(a));
    epochs
        .into_iter()
        .find(|&epoch| {
            RECORD_NAMES
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
