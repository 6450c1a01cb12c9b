//! `export-web`: a static site with the page to draw digits on, where the model runs in the
//! browser (WebAssembly) and no server is needed: the page, the `.wasm` and its JavaScript
//! glue (`tools/build-web.sh` builds them into `web/pkg`), and each run's config and weights.

use std::path::{Path, PathBuf};

use burn::tensor::Device;

use crate::error::{AtFile, Error, Result};
use crate::fsutil::describe_bytes;
use crate::output;
use crate::run_dir::{CONFIG_FILE, MODEL_FILE, ModelRef, NUMBER_CONFIG, NUMBER_WEIGHTS};
use crate::serve::api::{FinderListing, INK_FINDER_URL};
use crate::serve::web::{PKG_URL_DIR, PageModel, WebPkg};
use crate::serve::{NumberRun, NumberRunInfo, RunInfo};
use crate::training::ink_finder::{LoadedFinder, load_finder};
use lstm_mnist_model::record::{ModelFileProblem, Precision, stored_as};

#[derive(Debug, Clone)]
pub struct ExportWebRequest {
    /// The classifiers the page offers, the first one preselected: finished run directories.
    pub runs: Vec<ModelRef>,
    /// The number readers' runs it offers beside them.
    pub number_readers: Vec<PathBuf>,
    /// The directory to make; it must not exist, or be empty.
    pub site: PathBuf,
    /// Where the built `.wasm` and its glue are.
    pub pkg: PathBuf,
    /// How the site stores each run's weights.
    pub precision: Precision,
    /// The run of the learned ink finder the site reads pictures with; the picture path's
    /// rules when `None`.
    pub ink_finder: Option<PathBuf>,
}

/// A run as the site holds it.
struct SiteRun {
    info: RunInfo,
    config: PathBuf,
    weights: PathBuf,
}

pub fn run(request: &ExportWebRequest) -> Result<()> {
    let pkg = WebPkg::read(&request.pkg)?;
    check_destination(&request.site)?;
    let runs = site_runs(&request.runs)?;
    if let ([], [number_reader, ..]) = (runs.as_slice(), request.number_readers.as_slice()) {
        return Err(Error::file(
            number_reader,
            "a site starts with a digit classifier: name one of its runs first",
        ));
    }
    let number_runs = request
        .number_readers
        .iter()
        .map(|dir| site_number_run(dir))
        .collect::<Result<Vec<_>>>()?;
    let ink_finder = request.ink_finder.as_deref().map(load_finder).transpose()?;
    let parent = match request.site.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    // Everything is written beside the site and renamed into place: an interrupted export
    // leaves no half site.
    let staging = tempfile::Builder::new()
        .prefix(".export-web-")
        .tempdir_in(parent)
        .doing(&request.site, "cannot write")?;
    let site = Site {
        pkg: &pkg,
        runs: &runs,
        number_runs: &number_runs,
        precision: request.precision,
        ink_finder: ink_finder.as_ref(),
    };
    site.write(staging.path())?;
    let (bytes, gzipped) = site_size(staging.path())?;
    if request.site.is_dir() {
        std::fs::remove_dir(&request.site).doing(&request.site, "cannot replace")?;
    }
    std::fs::rename(staging.path(), &request.site).doing(&request.site, "cannot write")?;
    output::line(format_args!(
        "Wrote {}: {} run{}, {} ({} gzip'd). Serve it with any static file server, e.g. \
         python3 -m http.server -d {}",
        request.site.display(),
        runs.len() + number_runs.len(),
        if runs.len() + number_runs.len() == 1 {
            ""
        } else {
            "s"
        },
        describe_bytes(bytes),
        describe_bytes(gzipped),
        request.site.display(),
    ));
    Ok(())
}

/// The site goes into a new directory, or an empty one: nothing there is replaced.
fn check_destination(site: &Path) -> Result<()> {
    if !site.exists() {
        return Ok(());
    }
    let mut entries = std::fs::read_dir(site).doing(site, "exists and cannot be listed")?;
    if entries.next().is_some() {
        return Err(Error::file(
            site,
            "exists and is not empty: pick a new directory",
        ));
    }
    Ok(())
}

/// Each run's facts for the page, its weights checked by loading them as `serve` does.
fn site_runs(models: &[ModelRef]) -> Result<Vec<SiteRun>> {
    let mut runs: Vec<SiteRun> = Vec::new();
    for model in models {
        let run = &model.run;
        if model.model_path != run.model_path() {
            return Err(Error::file(
                &model.model_path,
                "export-web takes run directories, not checkpoints",
            ));
        }
        let (config, _) = model.load(&Device::flex())?;
        let name = run.name().to_string();
        if runs.iter().any(|other| other.info.name == name) {
            return Err(Error::file(
                run.path(),
                format!("a second run named `{name}`"),
            ));
        }
        let info = RunInfo::of(name, run.path(), &run.read_report()?, &config)?;
        runs.push(SiteRun {
            info,
            config: run.config_path(),
            weights: model.model_path.clone(),
        });
    }
    Ok(runs)
}

/// A number reader as the site holds it: what the listing says of it, and its run directory.
struct SiteNumberRun {
    info: NumberRunInfo,
    dir: PathBuf,
}

/// The number reader's run in `dir`, its weights checked by loading them as `serve` does.
fn site_number_run(dir: &Path) -> Result<SiteNumberRun> {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let info = NumberRun::load(name.into_owned(), dir, false, &Device::flex())?.info;
    Ok(SiteNumberRun {
        info,
        dir: dir.to_path_buf(),
    })
}

/// What a site holds.
struct Site<'a> {
    pkg: &'a WebPkg,
    runs: &'a [SiteRun],
    number_runs: &'a [SiteNumberRun],
    precision: Precision,
    ink_finder: Option<&'a LoadedFinder>,
}

impl Site<'_> {
    /// The site's files in `dir`: `index.html`, `web/` (the model's code), `runs.json` (what
    /// `/api/runs` says), `runs/<name>/` (each run's config and weights, a number reader's
    /// too) and, with an ink finder, its weights.
    fn write(&self, dir: &Path) -> Result<()> {
        let write =
            |path: PathBuf, bytes: &[u8]| std::fs::write(&path, bytes).doing(&path, "cannot write");
        let copy = |from: &Path, to: PathBuf| {
            std::fs::copy(from, &to).doing(&to, format_args!("cannot copy {}", from.display()))
        };
        write(dir.join("index.html"), PageModel::Browser.page().as_bytes())?;
        let pkg_dir = dir.join(PKG_URL_DIR);
        std::fs::create_dir(&pkg_dir).doing(dir, "cannot write")?;
        for (name, bytes) in self.pkg.files() {
            write(pkg_dir.join(name), bytes)?;
        }
        let mut listing = serde_json::json!({
            "default": self.runs[0].info.name,
            "runs": self.runs.iter().map(|run| &run.info).collect::<Vec<_>>(),
        });
        if let Some(loaded) = self.ink_finder {
            listing["ink_finder"] = serde_json::json!(FinderListing::of(loaded));
        }
        if !self.number_runs.is_empty() {
            let infos: Vec<&NumberRunInfo> = self.number_runs.iter().map(|run| &run.info).collect();
            listing["number_runs"] = serde_json::json!(infos);
        }
        write(dir.join("runs.json"), listing.to_string().as_bytes())?;
        for run in self.runs {
            let run_dir = dir.join("runs").join(&run.info.name);
            std::fs::create_dir_all(&run_dir).doing(&run_dir, "cannot write")?;
            copy(&run.config, run_dir.join(CONFIG_FILE))?;
            write_weights(&run.weights, &run_dir.join(MODEL_FILE), self.precision)?;
        }
        // A number reader's weights go as they are (f32).
        for run in self.number_runs {
            let run_dir = dir.join("runs").join(&run.info.name);
            std::fs::create_dir_all(&run_dir).doing(&run_dir, "cannot write")?;
            for file in [NUMBER_CONFIG, NUMBER_WEIGHTS] {
                copy(&run.dir.join(file), run_dir.join(file))?;
            }
        }
        if let Some(loaded) = self.ink_finder {
            write(dir.join(INK_FINDER_URL), &loaded.weights)?;
        }
        Ok(())
    }
}

/// A run's weights on the site: its own file (f32), or that file with its weights as f16.
fn write_weights(weights: &Path, to: &Path, precision: Precision) -> Result<()> {
    let bytes = std::fs::read(weights).doing(weights, "cannot read")?;
    let stored = stored_as(&bytes, precision)
        .map_err(|e| Error::file(weights, ModelFileProblem::unreadable(e)))?;
    std::fs::write(to, stored).doing(to, "cannot write")
}

/// The site's size in bytes, as stored and as a server compressing with gzip sends it.
fn site_size(dir: &Path) -> Result<(u64, u64)> {
    let (mut bytes, mut gzipped) = (0, 0);
    let listing = std::fs::read_dir(dir).doing(dir, "cannot list")?;
    for entry in listing {
        let path = entry.doing(dir, "cannot list")?.path();
        if path.is_dir() {
            let (inner, inner_gzipped) = site_size(&path)?;
            bytes += inner;
            gzipped += inner_gzipped;
        } else {
            let content = std::fs::read(&path).doing(&path, "cannot read")?;
            bytes += content.len() as u64;
            gzipped += gzip_size(&content);
        }
    }
    Ok((bytes, gzipped))
}

fn gzip_size(content: &[u8]) -> u64 {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to memory cannot fail.
    let _ = encoder.write_all(content);
    encoder
        .finish()
        .map_or(0, |compressed| compressed.len() as u64)
}
