//! What the fuzz targets share: a scratch file per process, for the parsers that read a path.

use std::path::PathBuf;

/// Writes `bytes` to the file `name` in this process's scratch directory and returns its path.
pub fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch_dir().join(name);
    std::fs::write(&path, bytes).expect("the scratch directory is writable");
    path
}

/// This process's scratch directory, created on first use.
pub fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lstm-mnist-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the scratch directory can be created");
    dir
}
