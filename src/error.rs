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

    pub(crate) fn msg(problem: impl fmt::Display) -> Self {
        Self::Message(problem.to_string())
    }
}

/// Names the file a failed step was about: `step.at(path)?` and `step.doing(path, "cannot
/// read")?` in place of a hand-written `map_err` at each call.
pub(crate) trait AtFile<T> {
    /// `path: problem`.
    fn at(self, path: impl AsRef<Path>) -> Result<T>;
    /// `path: what: problem`.
    fn doing(self, path: impl AsRef<Path>, what: impl fmt::Display) -> Result<T>;
}

/// Says what a failed step not about one file was doing: `step.context("cannot listen on
/// {addr}")?` gives `cannot listen on {addr}: problem`.
pub(crate) trait Context<T> {
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
pub(crate) const ERROR_FILE_ENV: &str = "LSTM_MNIST_ERROR_FILE";

/// The final error line, to stderr and, when a parent asked for it, to its file. The file is
/// the parent's to read after the exit; if it cannot be written the parent still has the exit
/// status.
pub fn report_final(line: &str) {
    crate::output::error(line);
    if let Some(path) = std::env::var_os(ERROR_FILE_ENV).filter(|p| !p.is_empty()) {
        let _ = std::fs::write(path, line);
    }
}

pub use lstm_mnist_model::panic::{contain_panic, panic_is_contained, panic_message};
