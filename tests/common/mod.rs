//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses its own subset

pub mod needs;
pub mod page;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use lstm_mnist::data::{FASHION_MNIST, MNIST, download};
use lstm_mnist::evaluation::robustness::RobustnessReport;

/// MNIST, found the way the program finds it: `$MNIST_DIR`, else the per-user cache, else
/// downloaded (checksums checked) into that cache.
pub fn mnist_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        download::resolve_data_dir(&MNIST, None)
            .unwrap_or_else(|e| panic!("MNIST is needed: {e} (or set MNIST_DIR to a copy)"))
    })
    .clone()
}

/// Fashion-MNIST from Debian's package (check `needs::Need::FashionMnist` first).
pub fn fashion_mnist_dir() -> PathBuf {
    let dir = FASHION_MNIST
        .system_dir
        .expect("Fashion-MNIST has a system package");
    PathBuf::from(dir)
}

/// The binary, with `MNIST_DIR` pointing at the MNIST the tests use.
pub fn lstm_mnist() -> Command {
    let mut command = bare_lstm_mnist();
    command.env("MNIST_DIR", mnist_dir());
    command
}

/// The binary with no `MNIST_DIR`, for tests that hand it data (or none) themselves.
pub fn bare_lstm_mnist() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lstm-mnist"));
    command.env_remove("MNIST_DIR");
    command
}

/// Runs the binary with `args` (MNIST available) and returns what it did.
pub fn run(args: &[&str]) -> Output {
    lstm_mnist().args(args).output().unwrap()
}

/// `train --config config --artifacts artifacts --name name`, and what it did.
pub fn train_config(config: &Path, artifacts: &Path, name: &str) -> Output {
    lstm_mnist()
        .args(["train", "--config"])
        .arg(config)
        .arg("--artifacts")
        .arg(artifacts)
        .args(["--name", name])
        .output()
        .unwrap()
}

/// Asserts that the program succeeded, showing what it said otherwise.
pub fn succeeded(output: Output) -> Output {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The digit `predict --json --checkpoint run` reads in each image `predict` is given by
/// `args` (files, and flags), in order.
pub fn predicted_digits<S: AsRef<std::ffi::OsStr>>(
    run: &str,
    args: impl IntoIterator<Item = S>,
) -> Vec<u8> {
    let output = succeeded(
        lstm_mnist()
            .args(["predict", "--json", "--checkpoint", run])
            .args(args)
            .output()
            .unwrap(),
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|p| p["digit"].as_u64().unwrap() as u8)
        .collect()
}

/// What is wrong with `output` as a refusal: it must fail with one line on stderr that holds
/// every `expected` part, with no panic or backtrace. `None` when it is right.
pub fn one_line_error_problem(output: &Output, expected: &[&str]) -> Option<String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        return Some(format!("exited 0: {stderr}"));
    }
    if stderr.trim_end().lines().count() != 1 {
        return Some(format!("not one line: {stderr}"));
    }
    if [
        "panicked",
        "backtrace",
        "RUST_BACKTRACE",
        "internal failure",
    ]
    .iter()
    .any(|word| stderr.contains(word))
    {
        return Some(format!("panicked: {stderr}"));
    }
    expected
        .iter()
        .find(|part| !stderr.contains(*part))
        .map(|part| format!("`{part}` missing from: {stderr}"))
}

/// Asserts that `output` is a one-line refusal naming every `expected` part.
pub fn assert_one_line_error(output: &Output, expected: &[&str]) {
    if let Some(problem) = one_line_error_problem(output, expected) {
        panic!("{problem}");
    }
}

/// An IDX image file: magic 0x803, then count x rows x cols, then `pixels`.
pub fn idx_images(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for word in [0x0803, count, rows, cols] {
        bytes.extend(word.to_be_bytes());
    }
    bytes.extend(pixels);
    bytes
}

/// An IDX label file: magic 0x801, then count, then `labels`.
pub fn idx_labels(count: u32, labels: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for word in [0x0801, count] {
        bytes.extend(word.to_be_bytes());
    }
    bytes.extend(labels);
    bytes
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Writes a complete, valid dataset of `n` training and `n` test images of 28x28 to `dir`.
pub fn write_tiny_dataset(dir: &Path, n: u32) {
    let pixels = vec![0u8; (n * 28 * 28) as usize];
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    for split in ["train", "t10k"] {
        std::fs::write(
            dir.join(format!("{split}-images-idx3-ubyte")),
            idx_images(n, 28, 28, &pixels),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{split}-labels-idx1-ubyte")),
            idx_labels(n, &labels),
        )
        .unwrap();
    }
}

/// A local HTTP server: serves the files of `files` for `requests` requests, then stops.
pub fn serve(files: PathBuf, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            answer_file_request(stream.unwrap(), &files, None);
        }
    });
    address
}

/// Reads one HTTP request and answers it with the file at its path under `dir` (`index` for
/// the root), with its media type, or with a 404.
pub fn answer_file_request(mut stream: std::net::TcpStream, dir: &Path, index: Option<&str>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    let _ = reader.read_line(&mut request_line);
    // Drain the headers.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = path
        .split('?')
        .next()
        .unwrap_or("/")
        .trim_start_matches('/');
    let file = dir.join(match (path, index) {
        ("", Some(index)) => index,
        _ => path,
    });
    let response = match std::fs::read(&file) {
        Ok(body) => {
            let media_type = lstm_mnist::serve::web::media_type(&file.to_string_lossy());
            let mut head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {media_type}\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            head.extend(body);
            head
        }
        Err(_) => {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        }
    };
    let _ = stream.write_all(&response);
}

/// The first 20 MNIST test images, which the Keras and PyTorch fixtures' probabilities are
/// those frameworks' answers for.
pub const PROBE_IMAGES: &str = "tests/fixtures/keras/mnist-test-20.idx3-ubyte";

/// A run's probabilities for the 20 probe images, by class, from `predict --json --top 10`.
pub fn our_probabilities(run_dir: &Path) -> Vec<Vec<f64>> {
    let output = succeeded(run(&[
        "predict",
        "--json",
        "--top",
        "10",
        "--checkpoint",
        run_dir.to_str().unwrap(),
        PROBE_IMAGES,
    ]));
    let predictions: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let predictions = predictions.as_array().unwrap();
    assert_eq!(predictions.len(), 20);
    predictions
        .iter()
        .map(|prediction| {
            let mut by_class = vec![f64::NAN; 10];
            for guess in prediction["top"].as_array().unwrap() {
                let class = guess["digit"].as_u64().unwrap() as usize;
                by_class[class] = guess["probability"].as_f64().unwrap();
            }
            by_class
        })
        .collect()
}

/// The largest difference between two sets of probabilities.
pub fn largest_difference(ours: &[Vec<f64>], theirs: &[Vec<f64>]) -> f64 {
    assert_eq!(ours.len(), theirs.len());
    ours.iter()
        .flatten()
        .zip(theirs.iter().flatten())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

/// `robustness --json ARGS --checkpoint RUN`: the report it printed, which must be the
/// `robustness.json` it wrote. Scoring again (without `--json`) must write the very same
/// figures, since the suite's corrupted images are fixed.
pub fn fixed_robustness_report(run: &Path, args: &[&str]) -> RobustnessReport {
    let robustness = |json: &[&str]| {
        succeeded(
            lstm_mnist()
                .arg("robustness")
                .args(json)
                .args(args)
                .arg("--checkpoint")
                .arg(run)
                .output()
                .unwrap(),
        )
    };
    let output = robustness(&["--json"]);
    let printed: RobustnessReport = serde_json::from_slice(&output.stdout).unwrap();
    let written = RobustnessReport::read(&run.join("robustness.json")).unwrap();
    assert_eq!(printed, written);
    robustness(&[]);
    assert_eq!(
        RobustnessReport::read(&run.join("robustness.json")).unwrap(),
        written
    );
    written
}
