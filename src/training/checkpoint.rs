//! Per-epoch checkpoints, written atomically under the run directory's names for them.

use std::path::{Path, PathBuf};

use burn::train::checkpoint::{Checkpoint, Checkpointer, CheckpointerError};

use crate::fsutil::write_atomic;
use crate::run_dir::checkpoint_path;

/// Burn's file checkpointer writes in place, so a kill mid-write leaves a truncated file that
/// looks like a checkpoint. This one writes each record to a temporary file and renames it.
pub(crate) struct AtomicFileCheckpointer {
    directory: PathBuf,
    name: &'static str,
}

impl AtomicFileCheckpointer {
    pub fn new(directory: &Path, name: &'static str) -> Self {
        Self {
            directory: directory.to_path_buf(),
            name,
        }
    }
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
