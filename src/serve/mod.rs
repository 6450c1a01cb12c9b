//! `lstm-mnist serve`: an HTTP server (axum on tokio) with a page to draw digits on and a JSON
//! API, answering with every finished run under an artifacts directory. Models are loaded once
//! and shared; inference runs on its own thread, batching concurrent requests; SIGINT and
//! SIGTERM stop the server after the requests in flight. Where the browser's model is built
//! (`tools/build-web.sh`), the page reads drawings in the browser and asks the API only where
//! that model does not load.

pub mod api;
mod models;
pub mod web;

pub(crate) use models::{NumberRun, NumberRunInfo, RunInfo};

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::response::Html;
use axum::routing::{get, post};

use crate::backend::Backend;
use crate::error::{Context, Result};
use crate::output;
use crate::training::ink_finder::load_finder;
use models::Models;
use web::{PageModel, WebPkg};

#[derive(Debug, Clone)]
pub struct ServeRequest {
    pub artifacts: PathBuf,
    /// The run used when a request names none (without it, the most robust MNIST run that
    /// reads the test set at 98.5% or more, else the most accurate one).
    pub run: Option<String>,
    /// `HOST:PORT` to listen on; port 0 picks a free one.
    pub addr: String,
    pub backend: Backend,
    pub(crate) browser_model: BrowserModel,
    /// The run of the learned ink finder that finds pictures' ink; the picture path's rules
    /// when `None`.
    pub(crate) ink_finder: Option<PathBuf>,
}

/// Where the page's model in the browser comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BrowserModel {
    /// The build in this directory where there is one (`web/pkg`, by default); without it the
    /// page asks the server.
    IfBuilt(PathBuf),
    /// The build in this directory, which must hold one.
    At(PathBuf),
    /// None: the page always asks the server.
    Off,
}

impl BrowserModel {
    /// The build to serve, read; `None` where the page asks the server.
    fn read(&self) -> Result<Option<WebPkg>> {
        match self {
            Self::IfBuilt(dir) if !WebPkg::is_in(dir) => Ok(None),
            Self::IfBuilt(dir) | Self::At(dir) => WebPkg::read(dir).map(Some),
            Self::Off => Ok(None),
        }
    }
}

pub fn serve(request: &ServeRequest) -> Result<()> {
    let pkg = request.browser_model.read()?;
    let device = request.backend.device()?;
    let ink_finder = request.ink_finder.as_deref().map(load_finder).transpose()?;
    let models = Arc::new(
        Models::load(
            &request.artifacts,
            request.run.as_deref(),
            pkg.is_some(),
            &device,
        )?
        .with_ink_finder(ink_finder),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    runtime.block_on(run_server(models, pkg, &request.addr))
}

async fn run_server(models: Arc<Models>, pkg: Option<WebPkg>, addr: &str) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .context(format!("cannot listen on {addr}"))?;
    let local = listener
        .local_addr()
        .context(format!("cannot listen on {addr}"))?;
    let served = models.runs.len();
    let page_model = match &pkg {
        Some(_) => PageModel::BrowserOrServer,
        None => PageModel::Server,
    };
    let page = Bytes::from(page_model.page());
    let mut app = Router::new()
        .route("/", get(move || async move { Html(page) }))
        .route("/healthz", get(api::healthz))
        .route("/api/runs", get(api::runs))
        .route("/api/predict", post(api::predict))
        .with_state(models.clone());
    let browser_note = pkg.as_ref().map(|pkg| {
        format!(
            "The page reads drawings in the browser (the model built in {}) and asks this \
             server where that model does not load",
            pkg.dir().display()
        )
    });
    if let Some(pkg) = pkg {
        app = app.merge(web::routes(pkg, models));
    }
    let app = app
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed);
    output::line(listening_line(served, &format!("http://{local}/")));
    if let Some(note) = browser_note {
        output::line(note);
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the server failed")?;
    output::line(format_args!("Stopped"));
    Ok(())
}

/// The first line `serve` prints, once it listens (and has loaded every run): the address,
/// with the port the system chose for `--addr HOST:0`.
pub(crate) fn listening_line(served: usize, url: &str) -> String {
    format!("Serving {served} runs at {url} (Ctrl-C stops)")
}

/// The address in `serve`'s [`listening_line`], for a program that started it.
pub(crate) fn address_in(line: &str) -> Option<&str> {
    let (_, rest) = line.strip_prefix("Serving ")?.split_once(" runs at ")?;
    rest.strip_suffix(" (Ctrl-C stops)")
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
