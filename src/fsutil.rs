//! Atomic file writes: a kill at any moment leaves either the old file or the new one.

use std::io::Write;
use std::path::Path;

use crate::error::{AtFile, Error, Result};
use crate::faults;

pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// Deletes the temporary files a killed process left in `dir` (never a finished file).
pub(crate) fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it, and renames it into place.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).doing(path, "cannot write")?;
    let mut temp = new_temp_file(dir).doing(path, "cannot write")?;
    let (first_half, second_half) = bytes.split_at(bytes.len() / 2);
    temp.write_all(first_half).doing(path, "cannot write")?;
    faults::crash_point_for_file("write-partial", path);
    temp.write_all(second_half).doing(path, "cannot write")?;
    temp.as_file().sync_all().doing(path, "cannot write")?;
    faults::crash_point_for_file("before-rename", path);
    temp.persist(path)
        .map_err(|e| e.error)
        .doing(path, "cannot write")?;
    Ok(())
}

/// A temporary file in `dir` that, once renamed, has ordinary file permissions rather than the
/// owner-only ones temporary files get by default.
pub(crate) fn new_temp_file(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    builder.tempfile_in(dir)
}

/// Reads at most `limit` bytes of `path`; a longer file (or an endless one, like `/dev/zero`)
/// is an error naming it rather than a read that never ends. `what` names the file's role.
pub(crate) fn read_bounded(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    let doing = format!("cannot read {what}");
    let file = std::fs::File::open(path).doing(path, &doing)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .doing(path, &doing)?;
    if bytes.len() as u64 > limit {
        return Err(Error::file(
            path,
            format!("too large for {what}: more than {}", describe_bytes(limit)),
        ));
    }
    Ok(bytes)
}

/// [`read_bounded`], as UTF-8 text.
pub(crate) fn read_text_bounded(path: &Path, limit: u64, what: &str) -> Result<String> {
    String::from_utf8(read_bounded(path, limit, what)?)
        .map_err(|_| Error::file(path, format!("cannot read {what}: not UTF-8 text")))
}

/// `1048576` -> `1 MiB`.
pub(crate) fn describe_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 {
        format!("{value} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
