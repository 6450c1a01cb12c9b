//! `lstm-mnist serve` through a real HTTP client against the running binary (answers, every
//! kind of bad request, concurrency, shutdown on SIGTERM), and its page in headless Chromium:
//! an MNIST test digit drawn as pointer strokes gets the answer `predict` gives.

mod common;

use std::io::Cursor;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use image::{GrayImage, ImageFormat};
use lstm_mnist::data::MnistData;
use serde_json::{Value, json};

use common::needs::{Need, met};
use common::page::{Browser, Server};

/// The shipped runs; the default is the most robust MNIST run that reads the test set at
/// 98.5% or more (`lstm-adam-robust`), not the plain `lstm-adam`.
const ARTIFACTS: &str = "artifacts";
const DEFAULT_RUN: &str = "lstm-adam-robust";

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
    // Each run says how robust it is, where it has a robustness report.
    let robustness = |name: &str| {
        runs["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|run| run["name"] == name)
            .unwrap()["robustness"]
            .clone()
    };
    let (plain, robust) = (robustness("lstm-adam"), robustness("lstm-adam-robust"));
    assert!(
        robust.as_f64().unwrap() > plain.as_f64().unwrap(),
        "{plain} {robust}"
    );
    assert!(robustness("fashion-lstm-adam").is_null());
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
    assert!(answer.get("steps").is_none(), "steps only when asked");

    // ?steps=true: the belief after each of the 28 rows, the last one the answer.
    let (status, read) = server.predict("?steps=true", &png);
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["probabilities"], answer["probabilities"]);
    let steps: Vec<Vec<f64>> = serde_json::from_value(read["steps"].clone()).unwrap();
    assert_eq!((steps.len(), steps[0].len()), (28, 10));
    for (a, b) in steps[27].iter().zip(&probabilities) {
        assert!((a - b).abs() <= 1e-5, "{a} vs {b}");
    }
    assert!(
        steps
            .iter()
            .all(|row| (row.iter().sum::<f64>() - 1.0).abs() < 1e-4)
    );

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
        assert!(started.elapsed() < Duration::from_secs(60), "still running");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    let mut rest = String::new();
    std::io::Read::read_to_string(server.child.stdout.as_mut().unwrap(), &mut rest).unwrap();
    assert!(rest.contains("Stopped"), "{rest:?}");
}

/// Draws `digit` on the page's pad as horizontal strokes: one per run of inked pixels in each
/// row, as a mouse would (press, moves, release).
fn draw(browser: &mut Browser, digit: &GrayImage) {
    let (left, top, width) = browser.pad();
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
    if !met(
        Need::Chromium,
        "a_digit_drawn_on_the_page_gets_the_answer_predict_gives",
    ) {
        return;
    }
    let server = Server::start();
    let mut browser = Browser::open(&server.url);
    browser.wait_for("document.body.dataset.ready === 'true'");
    assert_eq!(
        browser.eval("document.getElementById('run').value"),
        DEFAULT_RUN
    );

    let (digit, label) = test_digit(0);
    draw(&mut browser, &digit);
    let page_digit = browser.settled_answer();

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

    // The reading row by row: the page's leading class after each row is the API's for the
    // same input, the last row's is the answer, and the slider shows any earlier row.
    let leaders = browser.eval("document.body.dataset.leaders");
    let leaders: Vec<u64> = leaders
        .as_str()
        .unwrap()
        .split(',')
        .map(|k| k.parse().unwrap())
        .collect();
    assert_eq!((leaders.len(), leaders[27]), (28, page_digit));
    let input = browser.eval("JSON.stringify(reading.input)");
    let body = format!("{{\"pixels\": {}}}", input.as_str().unwrap());
    let (_, api) = server.predict(&format!("?run={DEFAULT_RUN}&steps=true"), body.as_bytes());
    let api_leaders: Vec<u64> = api["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let row: Vec<f64> = serde_json::from_value(row.clone()).unwrap();
            (0..10).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap() as u64
        })
        .collect();
    assert_eq!(leaders, api_leaders);
    let detail = browser.eval(
        "(() => { const s = document.getElementById('row'); s.value = '10'; \
         s.dispatchEvent(new Event('input')); \
         return document.getElementById('row-detail').textContent; })()",
    );
    let detail = detail.as_str().unwrap();
    assert!(
        detail.starts_with(&format!("after row 10: {} (", leaders[9])),
        "{detail}"
    );
    browser.eval("document.getElementById('replay').click()");
    browser.wait_for("document.body.dataset.row === '28' ? true : null");

    // For the guide: LSTM_MNIST_SCREENSHOT=path saves what the page looks like now.
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
fn load_check_checks_the_server_with_mnist_test_images() {
    let output = common::succeeded(
        common::lstm_mnist()
            .args(["load-check", "--clients", "4", "--seconds", "2", "--json"])
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
    // The default run (lstm-adam-robust, 99.4% on the test set) answers the first test images.
    assert!(number("correct") >= 0.95 * predictions, "{report}");
    if cfg!(target_os = "linux") {
        // The server's own peak, read from its /proc entry: a loaded model and a runtime.
        assert!(
            (10.0..2000.0).contains(&number("server_peak_rss_mib")),
            "{report}"
        );
    }
}

#[test]
fn bench_serve_refuses_the_flags_that_do_not_apply_to_the_server() {
    for flag in [["--cell", "gru"], ["--kernel", "stock"], ["--batches", "5"]] {
        let output = common::lstm_mnist()
            .args(["bench", "--serve"])
            .args(flag)
            .output()
            .unwrap();
        common::assert_one_line_error(&output, &["--serve", flag[0]]);
    }
}
