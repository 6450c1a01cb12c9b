//! `lstm-mnist load-check`: a load check of `serve`. Starts the server as a child process
//! on a port the bench chose and waits until it answers, then concurrent clients post MNIST
//! test images (as PNG files, the way the page and scripts send them) for a while; reports
//! predictions per second, latency percentiles, errors, how many answers were right, and the
//! server's peak memory.

use std::io::{BufRead, BufReader, Cursor};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use image::{GrayImage, ImageFormat};
use serde::Serialize;

use crate::backend::Compute;
use crate::data::{MNIST, MnistData, download};
use crate::error::{Context, Error, Result};
use crate::machine;
use crate::output;
use crate::serve::address_in;

/// Test images the clients cycle through.
const IMAGES: usize = 1000;

#[derive(Debug, Clone)]
pub struct LoadRequest {
    /// The backend the server answers on, and where the clients' MNIST test images are.
    pub compute: Compute,
    pub artifacts: PathBuf,
    pub run: Option<String>,
    pub clients: usize,
    pub seconds: u64,
    pub json: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct LoadReport {
    pub clients: usize,
    pub seconds: f64,
    pub predictions: usize,
    pub predictions_per_second: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p99: f64,
    pub errors: usize,
    /// Answers that named the image's label.
    pub correct: usize,
    /// The server process's peak resident memory (Linux), MiB.
    pub server_peak_rss_mib: Option<f64>,
    pub machine: String,
}

pub fn run(request: &LoadRequest) -> Result<()> {
    let data_dir = download::resolve_data_dir(&MNIST, request.compute.data_dir.as_deref())?;
    let test = MnistData::load_test(&data_dir)?;
    let images: Vec<(Vec<u8>, u8)> = (0..IMAGES.min(test.len()))
        .map(|index| (png(test.image(index)), test.label(index)))
        .collect();
    let server = Server::start(request)?;
    let outcome = load(&server.predict_url(), &images, request);
    let peak = server.peak_rss_mib();
    drop(server);
    let report = outcome.report(request, peak);
    if request.json {
        output::line(serde_json::to_string(&report).expect("a report serialises"));
    } else {
        output::print(&report.table());
    }
    Ok(())
}

fn png(pixels: &[u8]) -> Vec<u8> {
    let image = GrayImage::from_raw(28, 28, pixels.to_vec()).expect("a 28x28 image");
    let mut bytes = Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, ImageFormat::Png)
        .expect("PNG encoding into memory");
    bytes.into_inner()
}

/// `lstm-mnist serve` as a child process, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Starts the server on a port the system picks and returns once it says where it
    /// listens (it has loaded every run by then).
    fn start(request: &LoadRequest) -> Result<Self> {
        let exe = std::env::current_exe().context("cannot find the program to start")?;
        let mut command = Command::new(exe);
        command
            .args(["serve", "--addr", "127.0.0.1:0", "--backend"])
            .arg(request.compute.backend.to_string())
            .arg("--artifacts")
            .arg(&request.artifacts)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(run) = &request.run {
            command.args(["--run", run]);
        }
        let mut child = command.spawn().context("cannot start the server")?;
        let stdout = child.stdout.take().expect("the server's output is piped");
        let mut server = Self {
            child,
            url: String::new(),
        };
        server.url = listening_address(stdout)?;
        Ok(server)
    }

    fn predict_url(&self) -> String {
        format!("{}api/predict", self.url)
    }

    /// VmHWM of the server process, where /proc has it.
    fn peak_rss_mib(&self) -> Option<f64> {
        machine::peak_rss_mib_of(self.child.id())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in the server's first line; an error when it ends without one.
fn listening_address(stdout: std::process::ChildStdout) -> Result<String> {
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().and_then(|line| line.ok()).unwrap_or_default();
    let url = address_in(&first)
        .map(str::to_string)
        .ok_or_else(|| Error::msg("the server stopped before it listened (see above)"))?;
    // The rest of its output is read and dropped, so that it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok(url)
}

/// What the clients saw.
struct Outcome {
    latencies: Vec<Duration>,
    errors: usize,
    correct: usize,
    elapsed: Duration,
}

/// `request.clients` threads post images back to back for `request.seconds`.
fn load(url: &str, images: &[(Vec<u8>, u8)], request: &LoadRequest) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(request.seconds);
    let started = Instant::now();
    let per_client: Vec<Outcome> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..request.clients)
            .map(|client| scope.spawn(move || client_loop(url, images, client, deadline)))
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a client thread does not panic"))
            .collect()
    });
    let elapsed = started.elapsed();
    let mut total = Outcome {
        latencies: Vec::new(),
        errors: 0,
        correct: 0,
        elapsed,
    };
    for outcome in per_client {
        total.latencies.extend(outcome.latencies);
        total.errors += outcome.errors;
        total.correct += outcome.correct;
    }
    total
}

fn client_loop(url: &str, images: &[(Vec<u8>, u8)], client: usize, deadline: Instant) -> Outcome {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut outcome = Outcome {
        latencies: Vec::new(),
        errors: 0,
        correct: 0,
        elapsed: Duration::ZERO,
    };
    // Each client starts at its own place in the images.
    let mut index = client * 37 % images.len();
    while Instant::now() < deadline {
        let (body, label) = &images[index];
        index = (index + 1) % images.len();
        let sent = Instant::now();
        match post(&agent, url, body) {
            Some(digit) => {
                outcome.latencies.push(sent.elapsed());
                outcome.correct += usize::from(digit == u64::from(*label));
            }
            None => outcome.errors += 1,
        }
    }
    outcome
}

/// The digit the server answered, or `None` for any failure.
fn post(agent: &ureq::Agent, url: &str, body: &[u8]) -> Option<u64> {
    let mut response = agent
        .post(url)
        .header("Content-Type", "image/png")
        .send(body)
        .ok()?;
    if response.status() != 200 {
        return None;
    }
    let text = response.body_mut().read_to_string().ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["digit"].as_u64()
}

impl Outcome {
    fn report(mut self, request: &LoadRequest, peak: Option<f64>) -> LoadReport {
        self.latencies.sort_unstable();
        let percentile = |p: f64| {
            if self.latencies.is_empty() {
                return 0.0;
            }
            let at = ((self.latencies.len() as f64 * p).ceil() as usize).saturating_sub(1);
            self.latencies[at.min(self.latencies.len() - 1)].as_secs_f64() * 1000.0
        };
        let seconds = self.elapsed.as_secs_f64();
        LoadReport {
            clients: request.clients,
            seconds,
            predictions: self.latencies.len(),
            predictions_per_second: self.latencies.len() as f64 / seconds,
            latency_ms_p50: percentile(0.50),
            latency_ms_p99: percentile(0.99),
            errors: self.errors,
            correct: self.correct,
            server_peak_rss_mib: peak,
            machine: machine::describe(),
        }
    }
}

impl LoadReport {
    fn table(&self) -> String {
        let peak = self
            .server_peak_rss_mib
            .map_or("not measured".to_string(), |mib| format!("{mib:.0} MiB"));
        format!(
            "serve load check · {} clients · {:.1} s · {}\n\
             predictions          {} ({:.0} per second)\n\
             latency              p50 {:.1} ms, p99 {:.1} ms\n\
             errors               {}\n\
             correct answers      {} of {}\n\
             server peak memory   {peak}\n",
            self.clients,
            self.seconds,
            self.machine,
            self.predictions,
            self.predictions_per_second,
            self.latency_ms_p50,
            self.latency_ms_p99,
            self.errors,
            self.correct,
            self.predictions,
        )
    }
}
