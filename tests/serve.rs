//! `lstm-mnist serve` through a real HTTP client against the running binary (answers, every
//! kind of bad request, concurrency, shutdown on SIGTERM), and its page in headless Chromium:
//! an MNIST test digit drawn as pointer strokes gets the answer `predict` gives.

mod common;

use std::io::{BufRead, BufReader, Cursor};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use image::{GrayImage, ImageFormat};
use lstm_mnist::data::MnistData;
use serde_json::{Value, json};

/// The shipped runs; the most accurate MNIST one (`lstm-adam`) is the default.
const ARTIFACTS: &str = "artifacts";
const DEFAULT_RUN: &str = "lstm-adam";

/// The binary serving on a free port, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start() -> Self {
        let mut child = common::lstm_mnist()
            .args(["serve", "--addr", "127.0.0.1:0", "--artifacts", ARTIFACTS])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first_line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut first_line)
            .unwrap();
        let url = first_line
            .split_whitespace()
            .find(|word| word.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in {first_line:?}"))
            .to_string();
        Self { child, url }
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into()
    }

    /// Status and JSON body of a request.
    fn call(&self, method: &str, path: &str, body: Option<&[u8]>) -> (u16, Value) {
        let url = format!("{}{}", self.url, path.trim_start_matches('/'));
        let agent = Self::agent();
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .body(body.unwrap_or_default().to_vec())
            .unwrap();
        let mut response = agent.run(request).unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text:?}"));
        (status, json)
    }

    fn predict(&self, query: &str, body: &[u8]) -> (u16, Value) {
        self.call("POST", &format!("/api/predict{query}"), Some(body))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn test_digit(index: usize) -> (GrayImage, u8) {
    let test = MnistData::load_test(&common::mnist_dir()).unwrap();
    let image = GrayImage::from_raw(28, 28, test.image(index).to_vec()).unwrap();
    (image, test.label(index))
}

fn png_bytes(image: &GrayImage) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, ImageFormat::Png).unwrap();
    bytes.into_inner()
}

/// What `lstm-mnist predict --json` says of a picture with the default run.
fn predict_command(picture: &Path) -> Value {
    let output = common::succeeded(common::run(&[
        "predict",
        "--json",
        "--checkpoint",
        &format!("{ARTIFACTS}/{DEFAULT_RUN}"),
        picture.to_str().unwrap(),
    ]));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    json[0].clone()
}

#[test]
fn the_api_lists_runs_and_classifies_images_and_pixels_like_predict() {
    let server = Server::start();
    let (status, health) = server.call("GET", "/healthz", None);
    assert_eq!((status, &health["status"]), (200, &json!("ok")));
    let (status, runs) = server.call("GET", "/api/runs", None);
    assert_eq!(status, 200);
    assert_eq!(runs["default"], DEFAULT_RUN);
    let names: Vec<&str> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["name"].as_str().unwrap())
        .collect();
    for shipped in ["lstm-adam", "gru-adam", "rnn-adam", "fashion-lstm-adam"] {
        assert!(names.contains(&shipped), "{shipped} not served: {names:?}");
    }
    assert_eq!(health["runs"].as_u64().unwrap() as usize, names.len());

    let (digit, label) = test_digit(0);
    let png = png_bytes(&digit);
    let (status, answer) = server.predict("", &png);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["run"], DEFAULT_RUN);
    assert_eq!(answer["digit"], u64::from(label));
    let probabilities: Vec<f64> = serde_json::from_value(answer["probabilities"].clone()).unwrap();
    assert_eq!(probabilities.len(), 10);
    assert!((probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-4);
    let input: Vec<f64> = serde_json::from_value(answer["input"].clone()).unwrap();
    assert_eq!(input.len(), 784);
    // The same answer as `predict` on the same file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("digit.png");
    std::fs::write(&file, &png).unwrap();
    let command = predict_command(&file);
    assert_eq!(command["digit"], answer["digit"]);
    let served = probabilities[label as usize];
    assert!((command["probability"].as_f64().unwrap() - served).abs() < 1e-5);

    // The model input as JSON pixels gives the same answer.
    let pixels: Vec<f64> = digit.pixels().map(|p| f64::from(p.0[0]) / 255.0).collect();
    let body = json!({ "pixels": pixels }).to_string();
    let (status, from_pixels) = server.predict("", body.as_bytes());
    assert_eq!((status, &from_pixels["digit"]), (200, &json!(label)));

    // Another run, by name; a Fashion-MNIST run names its classes.
    let (status, gru) = server.predict("?run=gru-adam", &png);
    assert_eq!((status, &gru["run"]), (200, &json!("gru-adam")));
    let (status, fashion) = server.predict("?run=fashion-lstm-adam", &png);
    assert_eq!(status, 200);
    assert!(fashion["name"].is_string(), "{fashion}");
}

/// What is wrong, method, path, body, the status expected, words the error must contain.
type BadRequest<'a> = (&'a str, &'a str, &'a str, Option<&'a [u8]>, u16, &'a str);

#[test]
fn bad_requests_get_a_4xx_with_a_one_sentence_json_error() {
    let server = Server::start();
    let png = png_bytes(&test_digit(1).0);
    let blank = png_bytes(&GrayImage::from_pixel(28, 28, image::Luma([255])));
    let too_large = vec![0u8; 5 * 1024 * 1024];
    let cases: Vec<BadRequest> = vec![
        (
            "body over the limit",
            "POST",
            "/api/predict",
            Some(&too_large),
            413,
            "limit",
        ),
        (
            "not an image",
            "POST",
            "/api/predict",
            Some(b"hello"),
            400,
            "not a readable image",
        ),
        (
            "empty body",
            "POST",
            "/api/predict",
            Some(b""),
            400,
            "empty",
        ),
        (
            "blank image",
            "POST",
            "/api/predict",
            Some(&blank),
            422,
            "no digit found",
        ),
        (
            "wrong JSON",
            "POST",
            "/api/predict",
            Some(b"{\"pixel\": [0.5]}"),
            400,
            "JSON",
        ),
        (
            "broken JSON",
            "POST",
            "/api/predict",
            Some(b"{\"pixels\": ["),
            400,
            "JSON",
        ),
        (
            "too few pixels",
            "POST",
            "/api/predict",
            Some(b"{\"pixels\": [0.5]}"),
            400,
            "784",
        ),
        (
            "unknown run",
            "POST",
            "/api/predict?run=nope",
            Some(&png),
            404,
            "nope",
        ),
        ("GET on predict", "GET", "/api/predict", None, 405, "POST"),
        ("DELETE on runs", "DELETE", "/api/runs", None, 405, "GET"),
        (
            "unknown path",
            "GET",
            "/api/nothing",
            None,
            404,
            "/api/nothing",
        ),
    ];
    for (case, method, path, body, expected_status, expected_words) in cases {
        let (status, json) = server.call(method, path, body);
        assert_eq!(status, expected_status, "{case}: {json}");
        let error = json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{case}: {json}"));
        assert!(error.contains(expected_words), "{case}: {error}");
        assert!(!error.contains('\n'), "{case}: {error}");
    }
    // Still serving after all of that.
    assert_eq!(server.predict("", &png).0, 200);
}

#[test]
fn concurrent_requests_are_all_answered_and_sigterm_stops_the_server() {
    let mut server = Server::start();
    let bodies: Vec<(Vec<u8>, u8)> = (0..32)
        .map(|index| {
            let (digit, label) = test_digit(index);
            (png_bytes(&digit), label)
        })
        .collect();
    let correct: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = bodies
            .iter()
            .map(|(body, label)| {
                let server = &server;
                scope.spawn(move || {
                    let (status, answer) = server.predict("", body);
                    assert_eq!(status, 200, "{answer}");
                    usize::from(answer["digit"] == u64::from(*label))
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    assert!(correct >= 30, "{correct} of 32 right");

    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still running");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    let mut rest = String::new();
    std::io::Read::read_to_string(server.child.stdout.as_mut().unwrap(), &mut rest).unwrap();
    assert!(rest.contains("Stopped"), "{rest:?}");
}

/// Headless Chromium driven over its DevTools protocol.
struct Browser {
    child: Child,
    socket: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn open(url: &str) -> Self {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            .arg("--remote-debugging-port=0")
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--window-size=1100,900")
            .arg(url)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("Chromium is needed for the page test: apt-get install -y chromium");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let browser_socket = stderr
            .lines()
            .map_while(Result::ok)
            .find_map(|line| {
                line.strip_prefix("DevTools listening on ")
                    .map(str::to_string)
            })
            .expect("Chromium printed no DevTools address");
        let port = browser_socket
            .trim_start_matches("ws://127.0.0.1:")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let page_socket = Self::page_socket(&port);
        let (socket, _) = tungstenite::connect(page_socket.as_str()).unwrap();
        Self {
            child,
            socket,
            next_id: 0,
            _profile: profile,
        }
    }

    /// The DevTools WebSocket of the page Chromium opened.
    fn page_socket(port: &str) -> String {
        let started = Instant::now();
        loop {
            let list: Option<Value> = ureq::get(&format!("http://127.0.0.1:{port}/json/list"))
                .call()
                .ok()
                .and_then(|mut response| response.body_mut().read_to_string().ok())
                .and_then(|text| serde_json::from_str(&text).ok());
            let page = list.as_ref().and_then(|list| {
                list.as_array()?
                    .iter()
                    .find(|target| target["type"] == "page")?
                    .get("webSocketDebuggerUrl")?
                    .as_str()
                    .map(str::to_string)
            });
            if let Some(page) = page {
                return page;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no page target"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({ "id": id, "method": method, "params": params }).to_string();
        self.socket.send(message.into()).unwrap();
        loop {
            let reply: Value = match self.socket.read().unwrap() {
                tungstenite::Message::Text(text) => serde_json::from_str(&text).unwrap(),
                _ => continue,
            };
            if reply["id"] == id {
                assert!(reply["error"].is_null(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    fn eval(&mut self, expression: &str) -> Value {
        let params =
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true });
        self.call("Runtime.evaluate", params)["result"]["value"].clone()
    }

    fn wait_for(&mut self, expression: &str) -> Value {
        let started = Instant::now();
        loop {
            let value = self.eval(expression);
            if !value.is_null() && value != json!(false) {
                return value;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "waited for {expression}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn mouse(&mut self, kind: &str, x: f64, y: f64) {
        let params = json!({ "type": kind, "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1 });
        self.call("Input.dispatchMouseEvent", params);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Draws `digit` on the page's pad as horizontal strokes: one per run of inked pixels in each
/// row, as a mouse would (press, moves, release).
fn draw(browser: &mut Browser, digit: &GrayImage) {
    let pad = browser.eval(
        "(() => { const r = document.getElementById('pad').getBoundingClientRect(); \
         return [r.left, r.top, r.width]; })()",
    );
    let (left, top, width) = (
        pad[0].as_f64().unwrap(),
        pad[1].as_f64().unwrap(),
        pad[2].as_f64().unwrap(),
    );
    let cell = width / 28.0;
    let at = |x: f64, y: f64| (left + (x + 0.5) * cell, top + (y + 0.5) * cell);
    for y in 0..28u32 {
        let inked: Vec<bool> = (0..28).map(|x| digit.get_pixel(x, y).0[0] > 100).collect();
        let mut x = 0usize;
        while x < 28 {
            if !inked[x] {
                x += 1;
                continue;
            }
            let start = x;
            while x < 28 && inked[x] {
                x += 1;
            }
            let (x0, y0) = at(start as f64, f64::from(y));
            browser.mouse("mousePressed", x0, y0);
            for step in start..x {
                let (xs, ys) = at(step as f64, f64::from(y));
                browser.mouse("mouseMoved", xs, ys);
            }
            let (x1, y1) = at((x - 1) as f64, f64::from(y));
            browser.mouse("mouseReleased", x1, y1);
        }
    }
}

#[test]
fn a_digit_drawn_on_the_page_gets_the_answer_predict_gives() {
    let server = Server::start();
    let mut browser = Browser::open(&server.url);
    browser.wait_for("document.body.dataset.ready === 'true'");
    assert_eq!(
        browser.eval("document.getElementById('run').value"),
        DEFAULT_RUN
    );

    let (digit, label) = test_digit(0);
    draw(&mut browser, &digit);
    // The answer once the page has sent its last drawing and shown the reply.
    browser.wait_for("document.body.dataset.predictions");
    let mut shown = Value::Null;
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(300));
        let now = browser.eval(
            "[document.body.dataset.predictions, document.getElementById('answer').dataset.digit]",
        );
        if now == shown {
            break;
        }
        shown = now;
    }
    let page_digit: u64 = shown[1].as_str().unwrap().parse().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("digit.png");
    digit.save(&file).unwrap();
    let command = predict_command(&file);
    println!("drew MNIST test image 0 (label {label}); the page answered {page_digit}");
    assert_eq!(page_digit, command["digit"].as_u64().unwrap());
    assert_eq!(page_digit, u64::from(label));
    // The page shows ten bars and the model's 28x28 input.
    assert_eq!(
        browser.eval("document.querySelectorAll('#bars .track').length"),
        10
    );

    // For README: LSTM_MNIST_SCREENSHOT=path saves what the page looks like now.
    if let Ok(path) = std::env::var("LSTM_MNIST_SCREENSHOT") {
        use base64::Engine;
        let shot = browser.call("Page.captureScreenshot", json!({ "format": "png" }));
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
}

#[test]
fn bench_serve_load_checks_the_server_with_mnist_test_images() {
    let output = common::succeeded(
        common::lstm_mnist()
            .args([
                "bench",
                "--serve",
                "--clients",
                "4",
                "--seconds",
                "2",
                "--json",
            ])
            .args(["--artifacts", ARTIFACTS])
            .output()
            .unwrap(),
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let number = |key: &str| {
        report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing: {report}"))
    };
    assert_eq!(number("clients"), 4.0);
    assert_eq!(number("errors"), 0.0, "{report}");
    let predictions = number("predictions");
    assert!(predictions >= 4.0, "{report}");
    assert!((number("predictions_per_second") - predictions / number("seconds")).abs() < 1e-6);
    assert!(0.0 < number("latency_ms_p50") && number("latency_ms_p50") <= number("latency_ms_p99"));
    // The default run (lstm-adam, 98.8% on the test set) answers the first test images.
    assert!(number("correct") >= 0.95 * predictions, "{report}");
    if cfg!(target_os = "linux") {
        // The server's own peak, read from its /proc entry: a loaded model and a runtime.
        assert!(
            (10.0..2000.0).contains(&number("server_peak_rss_mib")),
            "{report}"
        );
    }
}
