//! Where the dataset comes from: a directory the user names, or a per-user cache that is filled
//! from the web once, with a progress bar and verified checksums.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::{DataFile, DatasetSource, idx, locate};
use crate::error::{AtFile, Error, Result};
use crate::fsutil::{describe_bytes, new_temp_file};

/// Environment variables that steer where data comes from (besides each dataset's own
/// directory variable, `MNIST_DIR` for MNIST).
pub(crate) const CACHE_ENV: &str = "LSTM_MNIST_CACHE";
pub(crate) const MIRROR_ENV: &str = "MNIST_MIRROR";
/// Seconds a download may wait to connect, and then for each read, before it gives up.
pub(crate) const TIMEOUT_ENV: &str = "LSTM_MNIST_TIMEOUT";
const DEFAULT_TIMEOUT_SECONDS: u64 = 30;
/// The largest file a mirror may send: MNIST's largest is 9.9 MB, Fashion-MNIST's 26 MB.
pub(crate) const MAX_DOWNLOAD_BYTES: u64 = 64 * 1024 * 1024;

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
    std::fs::create_dir_all(dir).doing(&dest, "cannot write download")?;

    let too_large = || {
        Error::file(
            &dest,
            format!(
                "download from {url} is larger than the {} a dataset file may be",
                describe_bytes(MAX_DOWNLOAD_BYTES)
            ),
        )
    };
    let mut response = agent()?
        .get(&url)
        .call()
        .doing(&dest, format_args!("download from {url} failed"))?;
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if total.is_some_and(|total| total > MAX_DOWNLOAD_BYTES) {
        return Err(too_large());
    }
    let bar = progress_bar(total, file.name);
    let mut temp = new_temp_file(dir).doing(&dest, "cannot write download")?;
    // One byte past the limit tells a file that is too large from one that just fits.
    let mut body = bar
        .wrap_read(response.body_mut().as_reader())
        .take(MAX_DOWNLOAD_BYTES + 1);
    let received = std::io::copy(&mut body, &mut temp)
        .doing(&dest, format_args!("download from {url} broke off"))?;
    if received > MAX_DOWNLOAD_BYTES {
        return Err(too_large());
    }
    bar.finish_and_clear();
    temp.as_file()
        .sync_all()
        .doing(&dest, "cannot write download")?;

    // Dropping `temp` on any error below deletes the unverified download.
    let content = idx::read_maybe_gzip(temp.path())
        .doing(&dest, format_args!("download from {url} is unreadable"))?;
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
    temp.persist(&dest)
        .map_err(|e| e.error)
        .doing(&dest, "cannot write download")?;
    Ok(dest)
}

/// An HTTP client that gives up on a mirror that does not connect, or stops sending, within
/// the timeout (`$LSTM_MNIST_TIMEOUT` seconds, 30 by default).
fn agent() -> Result<ureq::Agent> {
    let seconds = match std::env::var(TIMEOUT_ENV) {
        Ok(value) => value
            .parse::<u64>()
            .ok()
            .filter(|&s| s > 0)
            .ok_or_else(|| {
                Error::msg(format!(
                    "${TIMEOUT_ENV} = `{value}`: expected a whole number of seconds, at least 1"
                ))
            })?,
        Err(_) => DEFAULT_TIMEOUT_SECONDS,
    };
    let timeout = Some(Duration::from_secs(seconds));
    let config = ureq::Agent::config_builder()
        .timeout_connect(timeout)
        .timeout_recv_response(timeout)
        .timeout_per_read(timeout)
        .build();
    Ok(config.into())
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
