//! The `serve` page in a real browser: the binary serving on a free port, and headless
//! Chromium driven over its DevTools protocol.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A static file server for the site in `dir`, as any would serve it (each file with its
/// type: browsers load module scripts and WebAssembly only as such); it serves until the test
/// ends.
pub fn static_site(dir: std::path::PathBuf) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let (Ok(stream), dir) = (stream, dir.clone()) else {
                continue;
            };
            std::thread::spawn(move || {
                super::answer_file_request(stream, &dir, Some("index.html"))
            });
        }
    });
    url
}

/// The binary serving the shipped runs (artifacts/) on a free port, killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Server {
    pub fn start() -> Self {
        Self::start_in(std::path::Path::new("artifacts"))
    }

    /// The binary serving the runs under `artifacts`, its page asking the server for every
    /// answer (the API's page).
    pub fn start_in(artifacts: &std::path::Path) -> Self {
        let artifacts = artifacts.to_str().unwrap();
        Self::start_with(&["--artifacts", artifacts, "--no-browser-model"])
    }

    /// The binary serving with these options besides a free port.
    pub fn start_with(options: &[&str]) -> Self {
        let mut child = super::lstm_mnist()
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(options)
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

    pub fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into()
    }

    /// Status and JSON body of a request.
    pub fn call(&self, method: &str, path: &str, body: Option<&[u8]>) -> (u16, Value) {
        let (status, _, bytes) = self.raw_call(method, path, body);
        let text = String::from_utf8_lossy(&bytes);
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text:?}"));
        (status, json)
    }

    /// Status, media type and body of a request.
    pub fn raw_call(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> (u16, String, Vec<u8>) {
        let url = format!("{}{}", self.url, path.trim_start_matches('/'));
        let agent = Self::agent();
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .body(body.unwrap_or_default().to_vec())
            .unwrap();
        let mut response = agent.run(request).unwrap();
        let status = response.status().as_u16();
        let media_type = response
            .headers()
            .get("content-type")
            .map(|value| value.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap();
        (status, media_type, bytes)
    }

    pub fn predict(&self, query: &str, body: &[u8]) -> (u16, Value) {
        self.call("POST", &format!("/api/predict{query}"), Some(body))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium driven over its DevTools protocol.
pub struct Browser {
    child: Child,
    socket: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub fn open(url: &str) -> Self {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                // Input events are acknowledged without waiting for a frame, and background
                // requests to the closed network are not made.
                "--disable-gpu-vsync",
                "--disable-frame-rate-limit",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
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
    pub fn page_socket(port: &str) -> String {
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
                started.elapsed() < Duration::from_secs(60),
                "no page target"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn call(&mut self, method: &str, params: Value) -> Value {
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

    pub fn eval(&mut self, expression: &str) -> Value {
        let params =
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true });
        self.call("Runtime.evaluate", params)["result"]["value"].clone()
    }

    pub fn wait_for(&mut self, expression: &str) -> Value {
        let started = Instant::now();
        loop {
            let value = self.eval(expression);
            if !value.is_null() && value != json!(false) {
                return value;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "waited for {expression}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The drawing pad's left and top edges and its width, in the page's pixels.
    pub fn pad(&mut self) -> (f64, f64, f64) {
        let pad = self.eval(
            "(() => { const r = document.getElementById('pad').getBoundingClientRect(); \
             return [r.left, r.top, r.width]; })()",
        );
        let number = |i: usize| pad[i].as_f64().unwrap();
        (number(0), number(1), number(2))
    }

    /// The page's answer for what the pad shows now, once it has shown one and has no
    /// request in flight or queued (the pad's last change has been answered).
    pub fn settled_answer(&mut self) -> u64 {
        let digit = self.wait_for(
            "document.body.dataset.busy === 'false' && document.body.dataset.predictions \
             ? document.getElementById('answer').dataset.digit : null",
        );
        digit.as_str().unwrap().parse().unwrap()
    }

    pub fn mouse(&mut self, kind: &str, x: f64, y: f64) {
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
