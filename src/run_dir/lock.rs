//! An advisory lock on a run directory, held by the one process that writes it (training or
//! resuming). The OS releases it when that process ends, however it ends, so a `kill -9` leaves
//! no stale lock behind. Readers (`evaluate`, `predict`, `plot`, `results`) never take it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use crate::error::{AtFile, Error};

/// The lock file inside a run directory; it holds the writer's process id.
pub(crate) const LOCK_FILE: &str = ".lock";

/// Holds the lock until dropped.
#[derive(Debug)]
pub(crate) struct RunLock {
    _file: File,
}

/// What keeps a process from taking the lock.
pub(crate) enum LockRefusal {
    /// Another process holds it (its id, when it wrote one).
    InUse(Option<u32>),
    Failed(Error),
}

impl LockRefusal {
    pub(crate) fn into_error(self, run_dir: &Path) -> Error {
        match self {
            LockRefusal::InUse(pid) => {
                let by = pid.map_or_else(String::new, |pid| format!(" (pid {pid})"));
                Error::file(
                    run_dir,
                    format!(
                        "in use by another lstm-mnist process{by}; wait for it to finish or \
                         stop it, or train under another --name"
                    ),
                )
            }
            LockRefusal::Failed(error) => error,
        }
    }
}

impl From<Error> for LockRefusal {
    fn from(error: Error) -> Self {
        LockRefusal::Failed(error)
    }
}

impl RunLock {
    /// Takes the lock of `run_dir` without waiting.
    pub(crate) fn try_acquire(run_dir: &Path) -> std::result::Result<Self, LockRefusal> {
        let path = run_dir.join(LOCK_FILE);
        const FAIL: &str = "cannot lock the run";
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .doing(&path, FAIL)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                return Err(LockRefusal::InUse(pid.trim().parse().ok()));
            }
            Err(TryLockError::Error(e)) => Err::<(), _>(e).doing(&path, FAIL)?,
        }
        file.set_len(0).doing(&path, FAIL)?;
        file.rewind().doing(&path, FAIL)?;
        write!(file, "{}", std::process::id()).doing(&path, FAIL)?;
        Ok(Self { _file: file })
    }
}
