//! The one error type the program reports: a single line, naming the file when there is one.

use std::fmt;
use std::path::{Path, PathBuf};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug)]
pub enum Error {
    /// Something is wrong with a file the user handed us or that we manage for them.
    File { path: PathBuf, message: String },
    /// Anything else the user can act on (bad flag combination, missing device, ...).
    Message(String),
    /// The problems were printed already, each on its own line (`predict` goes on past an
    /// unreadable file); only the exit status is left to give.
    AlreadyReported,
    /// Standard output's reader went away (`| head`): the program ends quietly, with
    /// success, as `head` expects of a writer.
    ReaderGone,
}

impl Error {
    /// A problem with the file at `path`: a message, or one of the library's typed errors
    /// (`ConfigError`, `SweepError`, …) found before the file was known.
    pub fn file(path: impl AsRef<Path>, problem: impl fmt::Display) -> Self {
        Self::File {
            path: path.as_ref().to_path_buf(),
            message: problem.to_string(),
        }
    }

    pub fn msg(problem: impl fmt::Display) -> Self {
        Self::Message(problem.to_string())
    }
}

/// Names the file a failed step was about: `step.at(path)?` and `step.doing(path, "cannot
/// read")?` in place of a hand-written `map_err` at each call.
pub trait AtFile<T> {
    /// `path: problem`.
    fn at(self, path: impl AsRef<Path>) -> Result<T>;
    /// `path: what: problem`.
    fn doing(self, path: impl AsRef<Path>, what: impl fmt::Display) -> Result<T>;
}

/// Says what a failed step not about one file was doing: `step.context("cannot listen on
/// {addr}")?` gives `cannot listen on {addr}: problem`.
pub trait Context<T> {
    fn context(self, what: impl fmt::Display) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl fmt::Display) -> Result<T> {
        self.map_err(|problem| Error::msg(format!("{what}: {problem}")))
    }
}

impl<T, E: fmt::Display> AtFile<T> for std::result::Result<T, E> {
    fn at(self, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|problem| Error::file(path, problem))
    }

    fn doing(self, path: impl AsRef<Path>, what: impl fmt::Display) -> Result<T> {
        self.map_err(|problem| Error::file(path, format!("{what}: {problem}")))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keep it to one line whatever the underlying library printed.
        let one_line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        match self {
            Error::File { path, message } => {
                write!(f, "{}: {}", path.display(), one_line(message))
            }
            Error::Message(message) => f.write_str(&one_line(message)),
            Error::AlreadyReported => f.write_str("see the errors above"),
            Error::ReaderGone => f.write_str("standard output was closed"),
        }
    }
}

impl std::error::Error for Error {}

/// Where a process started by another of ours (a sweep's point) also writes its final error
/// line, so the parent reports the failure itself, not whatever the child printed last.
pub const ERROR_FILE_ENV: &str = "LSTM_MNIST_ERROR_FILE";

/// The final error line, to stderr and, when a parent asked for it, to its file. The file is
/// the parent's to read after the exit; if it cannot be written the parent still has the exit
/// status.
pub fn report_final(line: &str) {
    crate::output::error(line);
    if let Some(path) = std::env::var_os(ERROR_FILE_ENV).filter(|p| !p.is_empty()) {
        let _ = std::fs::write(path, line);
    }
}

thread_local! {
    /// Set while [`contain_panic`] runs its closure on this thread.
    static CONTAINING_PANIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `work`, turning a panic inside it into its message: for third-party code that can
/// panic on a malformed input (an image decoder), so that the input's failure is reported as
/// that input's error. The binary's panic hook stays silent for a contained panic.
pub fn contain_panic<T>(work: impl FnOnce() -> T) -> std::result::Result<T, String> {
    let was = CONTAINING_PANIC.replace(true);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    CONTAINING_PANIC.set(was);
    outcome.map_err(|payload| {
        let message = panic_message(payload.as_ref());
        message.lines().next().unwrap_or_default().to_string()
    })
}

/// A panic's message, from its payload as the panic hook and `catch_unwind` hand it over.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("unknown failure")
}

/// Whether a panic on this thread now is one [`contain_panic`] catches.
pub fn panic_is_contained() -> bool {
    CONTAINING_PANIC.get()
}
