//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// The offline MNIST copy beside the project root (`../shared/mnist`), or `$MNIST_DIR`.
pub fn mnist_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MNIST_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/mnist")
}

/// Asserts that the program succeeded, showing what it said otherwise.
pub fn succeeded(output: std::process::Output) -> std::process::Output {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
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
            let mut stream = stream.unwrap();
            let mut request_line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            reader.read_line(&mut request_line).unwrap();
            // Drain the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            let file = files.join(path.trim_start_matches('/'));
            let response = match std::fs::read(&file) {
                Ok(body) => {
                    let mut head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    head.extend(body);
                    head
                }
                Err(_) => {
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_vec()
                }
            };
            let _ = stream.write_all(&response);
        }
    });
    address
}
