//! What a few tests need beyond a Rust toolchain and MNIST: a browser, a Slurm cluster, a GPU
//! adapter (Mesa's CPU Vulkan driver will do), Debian's Fashion-MNIST, a pseudo-terminal, an
//! MLflow server.
//!
//! On a machine without one, those tests are skipped with a line saying what is missing and
//! how to get it, so a contributor's `cargo test --release` is green with only a toolchain.
//! `.ci/run` sets `LSTM_MNIST_FULL_SUITE=1`, under which a missing need fails the test
//! instead: a green CI has run every test.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Set by `.ci/run`: every need must be met.
pub const FULL_SUITE: &str = "LSTM_MNIST_FULL_SUITE";

#[derive(Debug, Clone, Copy)]
pub enum Need {
    /// Headless Chromium, for the serve page's tests.
    Chromium,
    /// A Slurm cluster that answers, for the emitted array job.
    Slurm,
    /// A wgpu adapter: a GPU, or Mesa's CPU Vulkan driver.
    GpuAdapter,
    /// Debian's `dataset-fashion-mnist` package.
    FashionMnist,
    /// util-linux's `script`, which runs a command on a pseudo-terminal.
    Terminal,
    /// An MLflow tracking server at `$LSTM_MNIST_TEST_MLFLOW` (see [`mlflow_uri`]).
    Mlflow,
    /// The browser's model built into `web/pkg` (`tools/build-web.sh`), for the static site.
    WebBuild,
}

/// The variable naming the MLflow server the tracking tests log to (`.ci/run` starts one with
/// `tools/mlflow-server.sh`).
pub const MLFLOW_ENV: &str = "LSTM_MNIST_TEST_MLFLOW";

/// The test MLflow server's URI (set when [`Need::Mlflow`] is met).
pub fn mlflow_uri() -> String {
    std::env::var(MLFLOW_ENV).unwrap_or_default()
}

impl Need {
    /// Why it is missing, or `None` when it is there.
    fn missing(self) -> Option<String> {
        match self {
            Need::Chromium => {
                (!runs("chromium", &["--version"])).then(|| "no `chromium` on the PATH".to_string())
            }
            Need::Slurm => (!runs("timeout", &["60", "sinfo", "--noheader"]))
                .then(|| "no Slurm cluster answers `sinfo`".to_string()),
            Need::GpuAdapter => lstm_mnist::backend::Backend::Wgpu
                .device()
                .err()
                .map(|e| e.to_string()),
            Need::FashionMnist => {
                let dir = lstm_mnist::data::FASHION_MNIST
                    .system_dir
                    .expect("Fashion-MNIST has a system package");
                (!Path::new(dir).is_dir()).then(|| format!("{dir} is missing"))
            }
            Need::Terminal => (!runs("script", &["--version"]))
                .then(|| "no `script` (util-linux) on the PATH".to_string()),
            Need::Mlflow => {
                let uri = mlflow_uri();
                if uri.is_empty() {
                    return Some(format!("${MLFLOW_ENV} is not set"));
                }
                let health = ureq::get(format!("{uri}/health")).call();
                health
                    .err()
                    .map(|e| format!("the server at {uri} does not answer: {e}"))
            }
            Need::WebBuild => lstm_mnist::serve::web::PKG_FILES
                .iter()
                .map(|file| Path::new(lstm_mnist::serve::web::DEFAULT_PKG).join(file))
                .find(|path| !path.is_file())
                .map(|path| format!("{} is not built", path.display())),
        }
    }

    fn remedy(self) -> &'static str {
        match self {
            Need::Chromium => "apt-get install chromium",
            Need::Slurm => {
                "apt-get install slurm-wlm munge, then tools/slurm-single-node.sh (as root)"
            }
            Need::GpuAdapter => "apt-get install mesa-vulkan-drivers (or a GPU driver)",
            Need::FashionMnist => "apt-get install dataset-fashion-mnist",
            Need::Terminal => "apt-get install bsdutils",
            Need::Mlflow => {
                "LSTM_MNIST_TEST_MLFLOW=$(tools/mlflow-server.sh) && export LSTM_MNIST_TEST_MLFLOW"
            }
            Need::WebBuild => "tools/build-web.sh",
        }
    }
}

/// Whether `need` is met. Where it is not, the calling test should return at once: this says
/// so on the terminal (past the test harness's capture, so `cargo test` shows it); under
/// `LSTM_MNIST_FULL_SUITE=1` it fails the test instead.
pub fn met(need: Need, test: &str) -> bool {
    let Some(why) = need.missing() else {
        return true;
    };
    let remedy = need.remedy();
    if std::env::var_os(FULL_SUITE).is_some_and(|v| v != "0") {
        panic!("{test} needs {need:?}: {why} ({FULL_SUITE} is set; {remedy})");
    }
    let line = format!("skipped: {test} needs {need:?}: {why} (for the full suite: {remedy})\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    false
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
