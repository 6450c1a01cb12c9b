//! Where the dataset comes from: a directory the user names, or a per-user cache that is filled
//! from the web once, with a progress bar and verified checksums.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::{DataFile, DatasetSource, idx, locate};
use crate::error::{Error, Result};
use crate::fsutil::new_temp_file;

/// Environment variables that steer where data comes from (besides each dataset's own
/// directory variable, `MNIST_DIR` for MNIST).
pub const CACHE_ENV: &str = "LSTM_MNIST_CACHE";
pub const MIRROR_ENV: &str = "MNIST_MIRROR";

/// Picks the data directory: `--data-dir`, else the dataset's variable (`$MNIST_DIR`), else
/// the system package's directory where it exists, else the cache (downloading whatever it
/// lacks). A directory the user named is used as is: a missing file there is an error, never a
/// silent download elsewhere.
pub fn resolve_data_dir(source: &DatasetSource, data_dir: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = data_dir {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(source.dir_env).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = source.system_dir.map(Path::new)
        && source.files.iter().all(|file| locate(dir, *file).is_some())
    {
        return Ok(dir.to_path_buf());
    }
    let dir = cache_dir(source)?.join(source.id);
    let mirror = std::env::var(MIRROR_ENV).unwrap_or_else(|_| source.mirror.to_string());
    for file in source.files {
        if locate(&dir, file).is_none() {
            download(&mirror, &dir, file)?;
        }
    }
    Ok(dir)
}

fn cache_dir(source: &DatasetSource) -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(CACHE_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::cache_dir()
        .map(|dir| dir.join("lstm-mnist"))
        .ok_or_else(|| {
            Error::msg(format!(
                "no cache directory on this system: pass --data-dir or set {}",
                source.dir_env
            ))
        })
}

/// Fetches `<mirror><name>.gz` into `dir`, verifying the SHA-256 of its uncompressed bytes.
/// Nothing is left behind unless it verified: the download goes to a temporary file first.
pub fn download(mirror: &str, dir: &Path, file: DataFile) -> Result<PathBuf> {
    let url = format!("{}/{}.gz", mirror.trim_end_matches('/'), file.name);
    let dest = dir.join(format!("{}.gz", file.name));
    let io_error = |e: std::io::Error| Error::file(&dest, format!("cannot write download: {e}"));
    std::fs::create_dir_all(dir).map_err(io_error)?;

    let mut response = ureq::get(&url)
        .call()
        .map_err(|e| Error::file(&dest, format!("download from {url} failed: {e}")))?;
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let bar = progress_bar(total, file.name);
    let mut temp = new_temp_file(dir).map_err(io_error)?;
    let mut body = response.body_mut().as_reader();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = body
            .read(&mut buffer)
            .map_err(|e| Error::file(&dest, format!("download from {url} broke off: {e}")))?;
        if n == 0 {
            break;
        }
        temp.write_all(&buffer[..n]).map_err(io_error)?;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    temp.as_file().sync_all().map_err(io_error)?;

    // Dropping `temp` on any error below deletes the unverified download.
    let content = idx::read_maybe_gzip(temp.path())
        .map_err(|e| Error::file(&dest, format!("download from {url} is unreadable: {e}")))?;
    let digest = sha256_hex(&content);
    if digest != file.sha256 {
        return Err(Error::file(
            &dest,
            format!(
                "checksum mismatch for the download from {url}: SHA-256 {digest}, expected {}; the file was deleted",
                file.sha256
            ),
        ));
    }
    temp.persist(&dest).map_err(|e| io_error(e.error))?;
    Ok(dest)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn progress_bar(total: Option<u64>, name: &str) -> ProgressBar {
    let bar = match total {
        Some(total) => ProgressBar::new(total),
        None => ProgressBar::no_length(),
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>24} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .expect("valid progress template")
        .progress_chars("=> "),
    );
    bar.set_message(format!("downloading {name}"));
    bar
}
