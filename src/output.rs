//! People-facing lines on standard output: the one path every command and library module
//! prints through.
//!
//! A reader that went away (`lstm-mnist train | head -1`) ends the program as `head` expects
//! a writer to end: quietly, with status 0. Nothing finished is lost by that: every run file
//! is written atomically and a run's lock is the operating system's, so an interrupted run is
//! resumed like any other. Any other failure to write (a full disk behind `>`) is one line on
//! standard error and status 1: the output it was asked for cannot be had.

use std::io::{ErrorKind, Write};

/// Standard output's reader went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderGone;

/// Prints `text` as it is (include the newline).
pub(crate) fn print(text: &str) {
    if try_print(text).is_err() {
        std::process::exit(0);
    }
}

/// Prints one line.
pub fn line(text: impl std::fmt::Display) {
    print(&format!("{text}\n"));
}

/// A warning on standard error: something went wrong that the command works on without
/// (`warning: ` and the text, one line).
pub(crate) fn warn(text: impl std::fmt::Display) {
    eprintln!("warning: {text}");
}

/// An error on standard error (`error: ` and the text, one line).
pub fn error(text: impl std::fmt::Display) {
    eprintln!("error: {text}");
}

/// A line on standard error as it is (a sweep's point's own lines, relayed).
pub(crate) fn relay_to_stderr(text: impl std::fmt::Display) {
    eprintln!("{text}");
}

/// Prints `text`, or says that the reader went away, for a caller with work to finish before
/// the program ends: training stops once the epoch is checkpointed.
pub(crate) fn try_print(text: &str) -> Result<(), ReaderGone> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == ErrorKind::BrokenPipe => Err(ReaderGone),
        Err(error) => {
            drop(stdout);
            eprintln!("error: cannot write to standard output: {error}");
            std::process::exit(1);
        }
    }
}

/// The panic hook's half of the rule, for what prints without this module (Burn's dashboard
/// prints its closing summary with `println!`): a panic from printing into a closed pipe is
/// the end of the output, not a failure.
pub fn end_if_print_failure(message: &str) {
    if message.starts_with("failed printing to stdout") {
        if message.contains("Broken pipe") {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {message}");
        std::process::exit(1);
    }
}

/// `294410` -> `294,410`.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
