//! The page's model in the browser: the `.wasm` and its JavaScript glue that
//! `tools/build-web.sh` builds into `web/pkg`, and the page's switch between reading a drawing
//! there and asking the server. `serve` and `export-web` both hand these out.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::api::{self, INK_FINDER_URL};
use super::models::{Models, ServedRun};
use crate::error::{AtFile, Error, Result};
use crate::run_dir::{CONFIG_FILE, MODEL_FILE, NUMBER_CONFIG, NUMBER_WEIGHTS};

/// Where `tools/build-web.sh` leaves the browser's model.
pub const DEFAULT_PKG: &str = "web/pkg";
/// The files of the browser's model, as wasm-bindgen names them.
pub const PKG_FILES: [&str; 2] = ["lstm_mnist_web.js", "lstm_mnist_web_bg.wasm"];
/// Where the page asks for them.
pub(crate) const PKG_URL_DIR: &str = "web";
/// The page to draw digits on, as `serve` without a browser build hands it out.
const PAGE: &str = include_str!("page.html");

/// Who reads a drawing: what the page's `lstm-mnist-model` meta tag says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageModel {
    /// The server's API (`serve` without a browser build).
    Server,
    /// The model in the browser, and nothing else (a static site: `export-web`).
    Browser,
    /// The model in the browser where it loads, the server's API otherwise (`serve`).
    BrowserOrServer,
}

impl PageModel {
    fn meta_content(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::Browser => "browser",
            Self::BrowserOrServer => "auto",
        }
    }

    /// The page, saying who reads its drawings.
    pub fn page(self) -> String {
        let meta = |content: &str| format!(r#"<meta name="lstm-mnist-model" content="{content}">"#);
        PAGE.replace(
            &meta(Self::Server.meta_content()),
            &meta(self.meta_content()),
        )
    }
}

/// The browser's model as built: each of [`PKG_FILES`], read.
#[derive(Debug, Clone)]
pub(crate) struct WebPkg {
    dir: PathBuf,
    files: Vec<(&'static str, Bytes)>,
}

impl WebPkg {
    /// The build in `dir`; an error naming the first file missing says how to make it.
    pub fn read(dir: &Path) -> Result<Self> {
        let mut files = Vec::new();
        for name in PKG_FILES {
            let path = dir.join(name);
            if !path.is_file() {
                return Err(Error::file(
                    path,
                    "missing: build the browser's model first with tools/build-web.sh",
                ));
            }
            let bytes = std::fs::read(&path).doing(&path, "cannot read")?;
            files.push((name, Bytes::from(bytes)));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            files,
        })
    }

    /// Whether `dir` holds a build (any of its files: a partial one is an error to report).
    pub(crate) fn is_in(dir: &Path) -> bool {
        PKG_FILES.iter().any(|name| dir.join(name).exists())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Each file's name and content.
    pub fn files(&self) -> impl Iterator<Item = (&'static str, &Bytes)> {
        self.files.iter().map(|(name, bytes)| (*name, bytes))
    }

    /// The file called `name`, with its media type.
    pub fn file(&self, name: &str) -> Option<(&'static str, Bytes)> {
        let (name, bytes) = self.files.iter().find(|(file, _)| *file == name)?;
        Some((media_type(name), bytes.clone()))
    }
}

/// The media type a browser needs: a module script must be JavaScript, and
/// `WebAssembly.instantiateStreaming` takes only `application/wasm`.
pub fn media_type(name: &str) -> &'static str {
    match Path::new(name).extension().and_then(|e| e.to_str()) {
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("html") => "text/html; charset=utf-8",
        Some("toml") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `serve`'s routes for the page's model in the browser: the build at `/web/<file>`, and each
/// served run's `config.toml` and `model.bpk` (a number reader's `number-model.toml` and
/// `number-model.bpk`) at `/runs/<name>/`, as a static site lays them out (`export-web`);
/// `models` must have kept their files (`Models::load`).
pub(crate) fn routes(pkg: WebPkg, models: Arc<Models>) -> Router {
    let pkg = Router::new()
        .route(&format!("/{PKG_URL_DIR}/{{file}}"), get(pkg_file))
        .with_state(Arc::new(pkg));
    Router::new()
        .route("/runs/{run}/{file}", get(run_file))
        .route(&format!("/{INK_FINDER_URL}"), get(ink_finder_weights))
        .with_state(models)
        .merge(pkg)
}

async fn ink_finder_weights(State(models): State<Arc<Models>>, uri: Uri) -> Response {
    match &models.ink_finder {
        Some(loaded) => (
            [(header::CONTENT_TYPE, media_type(INK_FINDER_URL))],
            Bytes::from(loaded.weights.clone()),
        )
            .into_response(),
        None => api::not_found(Method::GET, uri).await.into_response(),
    }
}

async fn pkg_file(
    State(pkg): State<Arc<WebPkg>>,
    UrlPath(file): UrlPath<String>,
    uri: Uri,
) -> Response {
    match pkg.file(&file) {
        Some((media_type, bytes)) => ([(header::CONTENT_TYPE, media_type)], bytes).into_response(),
        None => api::not_found(Method::GET, uri).await.into_response(),
    }
}

async fn run_file(
    State(models): State<Arc<Models>>,
    UrlPath((run, file)): UrlPath<(String, String)>,
    uri: Uri,
) -> Response {
    // A run's files under the names its run directory gives them.
    let files = match models.served(&run) {
        Some(ServedRun::Digits(index)) => models
            .files
            .get(index)
            .map(|files| (files, [CONFIG_FILE, MODEL_FILE])),
        Some(ServedRun::Number(index)) => models.number_runs[index]
            .files
            .as_ref()
            .map(|files| (files, [NUMBER_CONFIG, NUMBER_WEIGHTS])),
        None => None,
    };
    let bytes = match files {
        Some((files, [config, _])) if file == config => files.config.clone(),
        Some((files, [_, weights])) if file == weights => files.weights.clone(),
        _ => return api::not_found(Method::GET, uri).await.into_response(),
    };
    ([(header::CONTENT_TYPE, media_type(&file))], bytes).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_page_says_who_reads_its_drawings() {
        for (model, content) in [
            (PageModel::Server, "server"),
            (PageModel::Browser, "browser"),
            (PageModel::BrowserOrServer, "auto"),
        ] {
            let page = model.page();
            let tag = format!(r#"<meta name="lstm-mnist-model" content="{content}">"#);
            assert_eq!(page.matches(&tag).count(), 1, "{model:?}");
            assert_eq!(page.matches(r#"<meta name="lstm-mnist-model""#).count(), 1);
        }
    }
}
