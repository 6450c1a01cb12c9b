//! Tracking on a real MLflow server (`$LSTM_MNIST_TEST_MLFLOW`, which `.ci/run` starts): a
//! run logged and read back through MLflow's REST API, a resumed run continuing its MLflow
//! run, and servers that are not there or go away costing a run nothing.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::needs::{Need, met, mlflow_uri};
use common::succeeded;
use lstm_mnist::faults;
use lstm_mnist::run_dir::{read_metrics, read_report};
use serde_json::Value;

const SMALL: &str = r#"
name = "tracked"
seed = 3
[model]
cell = "lstm"
hidden = 32
[optimizer]
kind = "adam"
learning_rate = 0.003
[training]
epochs = 3
batch_size = 64
[data]
dataset = "mnist"
train_samples = 640
test_samples = 200
"#;

/// An experiment name no other test run uses.
fn experiment(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("test-{test}-{}-{nanos}", std::process::id())
}

fn train(dir: &Path, uri: &str, experiment: &str) -> std::process::Command {
    let config = dir.join("small.toml");
    std::fs::write(&config, SMALL).unwrap();
    let mut command = common::lstm_mnist();
    command
        .args(["train", "--config"])
        .arg(&config)
        .arg("--artifacts")
        .arg(dir.join("runs"))
        .env("MLFLOW_TRACKING_URI", uri)
        .env("MLFLOW_EXPERIMENT_NAME", experiment);
    command
}

fn get(uri: &str, call: &str, query: &[(&str, &str)]) -> Value {
    let mut request = ureq::get(format!("{uri}/api/2.0/mlflow/{call}"));
    for (key, value) in query {
        request = request.query(*key, *value);
    }
    let text = request.call().unwrap().body_mut().read_to_string().unwrap();
    serde_json::from_str(&text).unwrap()
}

fn tracked_run_id(run: &Path) -> String {
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("tracking.json")).unwrap()).unwrap();
    record["run_id"].as_str().unwrap().to_string()
}

/// `key` → value of a run's params or tags.
fn pairs(run: &Value, kind: &str) -> std::collections::HashMap<String, String> {
    run["data"][kind]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|p| {
            (
                p["key"].as_str().unwrap().to_string(),
                p["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The runs of the experiment `name`.
fn runs_in(uri: &str, name: &str) -> Vec<Value> {
    let experiment = get(uri, "experiments/get-by-name", &[("experiment_name", name)]);
    let id = experiment["experiment"]["experiment_id"].as_str().unwrap();
    let search = ureq::post(format!("{uri}/api/2.0/mlflow/runs/search"))
        .header("Content-Type", "application/json")
        .send(format!(r#"{{"experiment_ids": ["{id}"]}}"#).as_bytes())
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let search: Value = serde_json::from_str(&search).unwrap();
    search["runs"].as_array().cloned().unwrap_or_default()
}

/// A metric's history as (step, value).
fn history(uri: &str, run_id: &str, key: &str) -> Vec<(u64, f64)> {
    let answer = get(
        uri,
        "metrics/get-history",
        &[("run_id", run_id), ("metric_key", key)],
    );
    let mut points: Vec<(u64, f64)> = answer["metrics"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|m| (m["step"].as_u64().unwrap(), m["value"].as_f64().unwrap()))
        .collect();
    points.sort_by_key(|p| p.0);
    points
}

#[test]
fn a_run_is_logged_to_mlflow_and_read_back() {
    if !met(Need::Mlflow, "a_run_is_logged_to_mlflow_and_read_back") {
        return;
    }
    let uri = mlflow_uri();
    let dir = tempfile::tempdir().unwrap();
    let name = experiment("logged");
    succeeded(train(dir.path(), &uri, &name).output().unwrap());
    let run_dir = dir.path().join("runs/tracked");
    let run_id = tracked_run_id(&run_dir);

    let remote = &get(&uri, "runs/get", &[("run_id", &run_id)])["run"];
    assert_eq!(remote["info"]["status"], "FINISHED", "{remote}");
    assert_eq!(remote["info"]["run_name"], "tracked");
    let experiment = get(
        &uri,
        "experiments/get-by-name",
        &[("experiment_name", &name)],
    );
    assert_eq!(
        remote["info"]["experiment_id"],
        experiment["experiment"]["experiment_id"]
    );
    let params = pairs(remote, "params");
    assert_eq!(params["model.cell"], "lstm");
    assert_eq!(params["model.hidden"], "32");
    assert_eq!(params["optimizer.kind"], "adam");
    assert_eq!(params["optimizer.learning_rate"], "0.003");
    assert_eq!(params["seed"], "3");
    assert_eq!(params["data.train_samples"], "640");
    let tags = pairs(remote, "tags");
    assert_eq!(tags["backend"], "flex");
    assert_eq!(tags["kernel"], "fused");
    assert!(!tags["machine"].is_empty());
    assert_eq!(
        Path::new(&tags["run_dir"]),
        std::fs::canonicalize(&run_dir).unwrap()
    );

    // Each epoch's metrics are metrics.csv's, at step = epoch.
    let rows = read_metrics(&run_dir.join("metrics.csv")).unwrap();
    let losses = history(&uri, &run_id, "train_loss");
    assert_eq!(losses.iter().map(|p| p.0).collect::<Vec<_>>(), [1, 2, 3]);
    for (row, (_, logged)) in rows.iter().zip(&losses) {
        assert!((row.train_loss - logged).abs() < 1e-6, "{row:?} {logged}");
    }
    let valid = history(&uri, &run_id, "valid_accuracy");
    assert!((valid[2].1 - rows[2].valid_accuracy.unwrap()).abs() < 1e-6);
    let report = read_report(&run_dir.join("report.json")).unwrap();
    assert_eq!(
        history(&uri, &run_id, "test_accuracy"),
        [(3, report.test_accuracy)]
    );

    let listed = get(&uri, "artifacts/list", &[("run_id", &run_id)]);
    let mut files: Vec<&str> = listed["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    files.sort_unstable();
    assert_eq!(
        files,
        [
            "config.toml",
            "confusion.png",
            "curves.png",
            "metrics.csv",
            "report.json"
        ]
    );
}

#[test]
fn a_resumed_run_continues_its_mlflow_run() {
    if !met(Need::Mlflow, "a_resumed_run_continues_its_mlflow_run") {
        return;
    }
    let uri = mlflow_uri();
    let dir = tempfile::tempdir().unwrap();
    let name = experiment("resumed");
    let killed = train(dir.path(), &uri, &name)
        // In epoch 3, when epoch 2 has been logged (see tests/resume.rs).
        .env(faults::ENV, "train-batch=return(3:5)")
        .output()
        .unwrap();
    assert_eq!(killed.status.signal(), Some(libc::SIGKILL));
    let run_dir = dir.path().join("runs/tracked");
    let run_id = tracked_run_id(&run_dir);
    let remote = &get(&uri, "runs/get", &[("run_id", &run_id)])["run"];
    assert_eq!(remote["info"]["status"], "RUNNING");

    succeeded(
        common::lstm_mnist()
            .arg("--resume")
            .arg(&run_dir)
            .env("MLFLOW_TRACKING_URI", &uri)
            .output()
            .unwrap(),
    );
    assert_eq!(tracked_run_id(&run_dir), run_id);
    let remote = &get(&uri, "runs/get", &[("run_id", &run_id)])["run"];
    assert_eq!(remote["info"]["status"], "FINISHED");
    // Epoch 2 is logged again when its checkpoint was not complete at the kill.
    let mut steps: Vec<u64> = history(&uri, &run_id, "train_loss")
        .iter()
        .map(|p| p.0)
        .collect();
    steps.dedup();
    assert_eq!(steps, [1, 2, 3]);
    assert_eq!(runs_in(&uri, &name).len(), 1);
}

/// The warnings a run printed about tracking.
fn tracking_warnings(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|line| line.contains("MLflow"))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_server_that_does_not_answer_costs_the_run_nothing() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let output = succeeded(train(dir.path(), &uri, "unreachable").output().unwrap());
    let warnings = tracking_warnings(&output.stderr);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("warning: MLflow tracking at http://127.0.0.1:")
            && warnings[0].contains("training goes on"),
        "{warnings:?}"
    );
    let run_dir = dir.path().join("runs/tracked");
    assert_eq!(read_report(&run_dir.join("report.json")).unwrap().epochs, 3);
    assert!(!run_dir.join("tracking.json").exists());

    // The config's `[tracking] mlflow` is read when the variable is not set, and the variable
    // wins when it is.
    let configured = dir.path().join("configured.toml");
    let from_config = "http://127.0.0.1:1/from-config";
    std::fs::write(
        &configured,
        format!("{SMALL}[tracking]\nmlflow = {from_config:?}\n"),
    )
    .unwrap();
    let run = |uri: Option<&str>, name: &str| {
        let mut command = common::lstm_mnist();
        command
            .args(["train", "--config"])
            .arg(&configured)
            .args(["--name", name, "--artifacts"])
            .arg(dir.path().join("runs"))
            .env_remove("MLFLOW_TRACKING_URI");
        if let Some(uri) = uri {
            command.env("MLFLOW_TRACKING_URI", uri);
        }
        tracking_warnings(&succeeded(command.output().unwrap()).stderr)
    };
    let warnings = run(None, "configured");
    assert!(
        warnings.len() == 1 && warnings[0].contains(from_config),
        "{warnings:?}"
    );
    let warnings = run(Some(&uri), "overridden");
    assert!(
        warnings.len() == 1 && warnings[0].contains(&uri),
        "{warnings:?}"
    );
    // MLflow's local stores are not servers.
    let warnings = run(Some("file:./mlruns"), "local-store");
    assert!(
        warnings.len() == 1 && warnings[0].contains("not an http:// or https:// server"),
        "{warnings:?}"
    );
}

/// A TCP forwarder to the MLflow server that dies (closes every connection and answers no
/// more) as the `fatal`-th `runs/log-batch` request reaches it, before forwarding it: a server
/// gone at a known point of the run, whatever the machine's speed.
struct DyingProxy {
    address: String,
    seen: Arc<AtomicUsize>,
}

impl DyingProxy {
    fn start(upstream: &str, fatal: usize) -> Self {
        let upstream = upstream.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(AtomicUsize::new(0));
        let dead = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let counter = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if dead.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let server = TcpStream::connect(&upstream).unwrap();
                open.lock()
                    .unwrap()
                    .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || copy(s2, c2));
                let (dead, open, counter) = (dead.clone(), open.clone(), counter.clone());
                std::thread::spawn(move || {
                    forward_requests(client, server, fatal, &counter, &dead, &open)
                });
            }
        });
        Self { address, seen }
    }
}

fn copy(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Both);
}

/// Client to server, counting `log-batch` request lines; at the fatal one, every connection
/// is shut and the proxy is dead.
fn forward_requests(
    mut client: TcpStream,
    mut server: TcpStream,
    fatal: usize,
    counter: &AtomicUsize,
    dead: &AtomicBool,
    open: &Mutex<Vec<TcpStream>>,
) {
    const MARK: &[u8] = b"POST /api/2.0/mlflow/runs/log-batch";
    let mut buffer = [0u8; 16 * 1024];
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let read = match client.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut window = std::mem::take(&mut tail);
        window.extend_from_slice(&buffer[..read]);
        let marks = window.windows(MARK.len()).filter(|w| *w == MARK).count();
        let total = counter.fetch_add(marks, Ordering::SeqCst) + marks;
        if total >= fatal {
            dead.store(true, Ordering::SeqCst);
            for stream in open.lock().unwrap().iter() {
                let _ = stream.shutdown(Shutdown::Both);
            }
            break;
        }
        if server.write_all(&buffer[..read]).is_err() {
            break;
        }
        tail = window[window.len().saturating_sub(MARK.len() - 1)..].to_vec();
    }
}

#[test]
fn a_server_that_goes_away_mid_run_costs_the_run_nothing() {
    if !met(
        Need::Mlflow,
        "a_server_that_goes_away_mid_run_costs_the_run_nothing",
    ) {
        return;
    }
    let uri = mlflow_uri();
    // log-batch calls: the params, then one per epoch: the server goes as epoch 2's arrive.
    let proxy = DyingProxy::start(&uri, 3);
    let dir = tempfile::tempdir().unwrap();
    let output = succeeded(
        train(dir.path(), &proxy.address, &experiment("dying"))
            .output()
            .unwrap(),
    );
    assert!(proxy.seen.load(Ordering::SeqCst) >= 3);
    let warnings = tracking_warnings(&output.stderr);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("runs/log-batch"), "{warnings:?}");
    let run_dir: PathBuf = dir.path().join("runs/tracked");
    assert_eq!(read_report(&run_dir.join("report.json")).unwrap().epochs, 3);
    // What reached the server before it went is there: epoch 1, and the run never ended.
    let run_id = tracked_run_id(&run_dir);
    assert_eq!(
        history(&uri, &run_id, "train_loss")
            .iter()
            .map(|p| p.0)
            .collect::<Vec<_>>(),
        [1]
    );
    let remote = &get(&uri, "runs/get", &[("run_id", &run_id)])["run"];
    assert_eq!(remote["info"]["status"], "RUNNING");
}

#[test]
fn each_point_of_a_sweep_is_a_run_in_the_sweeps_experiment() {
    if !met(
        Need::Mlflow,
        "each_point_of_a_sweep_is_a_run_in_the_sweeps_experiment",
    ) {
        return;
    }
    let uri = mlflow_uri();
    let dir = tempfile::tempdir().unwrap();
    let name = experiment("sweep");
    let base = std::fs::canonicalize("configs/rnn-adam.toml").unwrap();
    let file = dir.path().join("points.toml");
    std::fs::write(
        &file,
        format!(
            "name = {name:?}\nbase = {base:?}\n\
             [grid]\nmodel.hidden = [16, 24]\n\
             training.epochs = [2]\ndata.train_samples = [320]\ndata.test_samples = [100]\n"
        ),
    )
    .unwrap();
    succeeded(
        common::lstm_mnist()
            .args([
                "sweep",
                file.to_str().unwrap(),
                "--jobs",
                "1",
                "--artifacts",
            ])
            .arg(dir.path().join("runs"))
            .env("MLFLOW_TRACKING_URI", &uri)
            .env_remove("MLFLOW_EXPERIMENT_NAME")
            .output()
            .unwrap(),
    );
    let runs = runs_in(&uri, &name);
    let mut names: Vec<&str> = runs
        .iter()
        .map(|run| {
            assert_eq!(run["info"]["status"], "FINISHED");
            run["info"]["run_name"].as_str().unwrap()
        })
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["hidden-16", "hidden-24"]);
}
