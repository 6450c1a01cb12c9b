//! What the fuzz targets share: a scratch file per process, for the parsers that read a path.

use std::path::PathBuf;

/// Writes `bytes` to the file `name` in this process's scratch directory and returns its path.
/// The file is a new one each time (written beside, then renamed over the last), as the
/// program replaces its files: a lazy reader of the last input keeps reading what it opened.
pub fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch_dir().join(name);
    let written = scratch_dir().join(format!("{name}.new"));
    std::fs::write(&written, bytes).expect("the scratch directory is writable");
    std::fs::rename(&written, &path).expect("the scratch directory is writable");
    path
}

/// This process's scratch directory, created on first use.
pub fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lstm-mnist-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the scratch directory can be created");
    dir
}

/// An empty directory `name` in this process's scratch directory, made anew for each input:
/// Burn reads a record's tensors lazily, and a device thread may still be reading the last
/// input's files, which the program itself would only ever replace by renaming new ones over
/// them.
pub fn fresh_scratch_dir(name: &str) -> PathBuf {
    let dir = scratch_dir().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the scratch directory is writable");
    dir
}

/// As the binary's panic hook does (main.rs): a panic the program contains (a third-party
/// decoder's, see `error::contain_panic`) is that input's error, not a crash; any other panic
/// still aborts, for libFuzzer to report. Call it from a target's `init`.
pub fn crash_on_uncontained_panics() {
    let crash = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !lstm_mnist::error::panic_is_contained() {
            crash(info);
        }
    }));
}
