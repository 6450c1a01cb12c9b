//! Downloading MNIST into the cache, against local HTTP servers (no network here): a good
//! mirror, one that lacks a file, one that never answers and one that offers too much. (A
//! download with a wrong checksum is tried through the binary in `bad_input.rs`.)

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{assert_one_line_error, succeeded};
use lstm_mnist::data::{MNIST_FILES, TEST_LABELS, download, locate};

#[test]
fn downloads_and_verifies_a_file() {
    let mirror = common::serve(common::mnist_dir(), 1);
    let cache = tempfile::tempdir().unwrap();
    let path = download::download(&mirror, cache.path(), TEST_LABELS).unwrap();
    assert_eq!(path, cache.path().join("t10k-labels-idx1-ubyte.gz"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(common::mnist_dir().join("t10k-labels-idx1-ubyte.gz")).unwrap()
    );
    assert_eq!(
        std::fs::read_dir(cache.path()).unwrap().count(),
        1,
        "no temporary file is left"
    );
}

#[test]
fn a_missing_file_on_the_mirror_is_one_clear_error() {
    let empty = tempfile::tempdir().unwrap();
    let mirror = common::serve(empty.path().to_path_buf(), 1);
    let cache = tempfile::tempdir().unwrap();
    let error = download::download(&mirror, cache.path(), TEST_LABELS)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("download from") && error.contains("404"),
        "{error}"
    );
}

/// `evaluate` of a copy of the shipped `rnn-sgd` run, with an empty cache and `mirror`.
fn evaluate_with_mirror(mirror: &str, cache: &Path) -> std::process::Output {
    let run = tempfile::tempdir().unwrap();
    for file in ["config.toml", "model.bpk"] {
        std::fs::copy(
            Path::new("artifacts/rnn-sgd").join(file),
            run.path().join(file),
        )
        .unwrap();
    }
    common::bare_lstm_mnist()
        .args(["evaluate", "--checkpoint"])
        .arg(run.path())
        .env("LSTM_MNIST_CACHE", cache)
        .env("MNIST_MIRROR", mirror)
        .env("LSTM_MNIST_TIMEOUT", "1")
        .output()
        .unwrap()
}

#[test]
fn the_program_fills_an_empty_cache_from_the_mirror() {
    let mirror = common::serve(common::mnist_dir(), MNIST_FILES.len());
    let cache = tempfile::tempdir().unwrap();
    let output = succeeded(evaluate_with_mirror(&mirror, cache.path()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("(loss "), "{stdout}");
    for file in MNIST_FILES {
        let cached = locate(&cache.path().join("mnist"), file);
        assert!(cached.is_some(), "{} not cached", file.name);
    }
}

/// A server that accepts connections and answers each with `answer` (or never, when `None`),
/// and keeps every connection open for as long as the test holds it: the client must give
/// up by itself.
struct StubbornServer {
    address: String,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl StubbornServer {
    fn start(answer: Option<&'static [u8]>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}/", listener.local_addr().unwrap());
        let held = Arc::new(Mutex::new(Vec::new()));
        let holder = Arc::clone(&held);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut request = [0u8; 1024];
                let _ = stream.read(&mut request);
                if let Some(answer) = answer {
                    let _ = stream.write_all(answer);
                }
                holder.lock().unwrap().push(stream);
            }
        });
        Self { address, held }
    }
}

impl Drop for StubbornServer {
    /// The test is over: the connections close.
    fn drop(&mut self) {
        self.held.lock().unwrap().clear();
    }
}

#[test]
fn a_mirror_that_never_answers_times_out() {
    let mirror = StubbornServer::start(None);
    let cache = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = evaluate_with_mirror(&mirror.address, cache.path());
    assert_one_line_error(&output, &["download from", "timeout"]);
    // The server keeps the connection open until the test ends: only a client that gave up by
    // itself (after its one-second timeout) gets here, and any machine does that well within
    // the bound.
    assert!(
        started.elapsed() < Duration::from_secs(110),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_mirror_that_stops_sending_times_out() {
    let mirror = StubbornServer::start(Some(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc"));
    let cache = tempfile::tempdir().unwrap();
    let output = evaluate_with_mirror(&mirror.address, cache.path());
    assert_one_line_error(&output, &["download from", "broke off"]);
}

#[test]
fn a_download_larger_than_the_limit_is_refused_before_it_is_read() {
    let mirror = StubbornServer::start(Some(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n",
    ));
    let cache = tempfile::tempdir().unwrap();
    let output = evaluate_with_mirror(&mirror.address, cache.path());
    assert_one_line_error(&output, &["download from", "larger than the 64 MiB"]);
    assert_eq!(
        std::fs::read_dir(cache.path().join("mnist"))
            .unwrap()
            .count(),
        0
    );
}
