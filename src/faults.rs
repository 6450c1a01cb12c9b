//! Named fault points for the crash tests (tikv's failpoints): the tests switch them on
//! through `LSTM_MNIST_FAILPOINTS`, and a point that fires kills this process with SIGKILL,
//! as a power cut or the OOM killer would: no destructor runs, no buffer is flushed.
//!
//! Without the variable no point is configured, and each one costs a lookup in an empty
//! registry; the points sit on file writes and once per training batch, never in a step.
//!
//! The points:
//! - `train-batch=return(E:B)`: as training batch B (from 1) of epoch E is about to be made;
//! - `write-partial:FILE=return`: half-way through writing FILE's temporary file (FILE is the
//!   final name, e.g. `metrics.csv`, `model-2.bpk`);
//! - `before-rename:FILE=return`: once FILE's temporary file is complete, before it is renamed
//!   into place;
//! - `overwrite-clear=return`: while `--overwrite` removes the earlier run, after the first of
//!   its files is gone.
//!
//! fail's action syntax applies: `write-partial:metrics.csv=1*off->return` fires the second
//! time `metrics.csv` is written.

use crate::error::{Context, Error, Result};

/// The variable that configures the points: `point=actions;point=actions…`.
pub const ENV: &str = "LSTM_MNIST_FAILPOINTS";

/// Configures the points named in `LSTM_MNIST_FAILPOINTS`; a malformed entry is an error.
pub fn configure_from_env() -> Result<()> {
    let Some(spec) = std::env::var_os(ENV) else {
        return Ok(());
    };
    let spec = spec.to_string_lossy();
    for entry in spec.split(';').filter(|entry| !entry.trim().is_empty()) {
        let (point, actions) = entry
            .split_once('=')
            .ok_or_else(|| Error::msg(format!("{ENV}: `{entry}` is not point=actions")))?;
        fail::cfg(point.trim(), actions.trim()).context(format!("{ENV}: `{entry}`"))?;
    }
    Ok(())
}

/// Kills the process when `point` is switched on and its argument, if it has one, equals
/// `here()` (only called when the point fires).
pub(crate) fn crash_point(point: &str, here: impl FnOnce() -> String) {
    if fail::eval(point, |wanted| wanted.is_none_or(|wanted| wanted == here())) == Some(true) {
        kill_this_process();
    }
}

/// [`crash_point`] for the points that are named after a file.
pub(crate) fn crash_point_for_file(point: &str, path: &std::path::Path) {
    if let Some(file) = path.file_name() {
        crash_point(&format!("{point}:{}", file.to_string_lossy()), String::new);
    }
}

fn kill_this_process() -> ! {
    #[cfg(unix)]
    // SAFETY: kill(2) on our own pid with a valid signal number.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort()
}
