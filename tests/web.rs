//! The model in the browser, in headless Chromium: `export-web`'s static site, and `serve`'s
//! page where the browser's model is built.

mod common;

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use common::needs::{Need, met};
use common::page::{Browser, Server, static_site};
use common::{assert_one_line_error, lstm_mnist, mnist_dir, succeeded};
use lstm_mnist::data::idx::IdxImageStream;
use lstm_mnist::run_dir::ModelRef;
use lstm_mnist_model::ModelInput;
use lstm_mnist_model::inference::{Detail, leading};
use lstm_mnist_model::record::{Precision, stored_as};
use lstm_mnist_model::run::TrainedModel;
use serde_json::{Value, json};

/// Test images read through the site and natively.
const PARITY_IMAGES: usize = 200;

/// Whether headless Chromium and the browser's model (tools/build-web.sh) are here for
/// `test` (which says so where not).
fn chromium_and_web_build(test: &str) -> bool {
    met(Need::Chromium, test) && met(Need::WebBuild, test)
}

/// `export-web RUN… DIR OPTION…` into a fresh directory; the directory it wrote.
fn export_site(runs: &[&str], scratch: &Path, options: &[&str]) -> PathBuf {
    let site = scratch.join("site");
    let output = succeeded(
        lstm_mnist()
            .arg("export-web")
            .args(runs)
            .arg(&site)
            .args(options)
            .output()
            .unwrap(),
    );
    let line = String::from_utf8_lossy(&output.stdout);
    assert!(
        line.starts_with(&format!("Wrote {}", site.display())),
        "{line}"
    );
    site
}

/// The first `count` MNIST test images, as model inputs.
fn test_images(count: usize) -> Vec<Vec<f32>> {
    let path = mnist_dir().join("t10k-images-idx3-ubyte.gz");
    let mut stream = IdxImageStream::open(&path).unwrap().unwrap();
    stream
        .next_batch(count)
        .unwrap()
        .into_iter()
        .map(|pixels| pixels.into_iter().map(|p| f32::from(p) / 255.0).collect())
        .collect()
}

/// Each image's ten class probabilities, one image after another, read natively through the
/// model crate's classify path.
fn class_probabilities(model: &TrainedModel, images: &[Vec<f32>]) -> Vec<f32> {
    let inputs: Vec<ModelInput> = images
        .iter()
        .map(|image| image.as_slice().try_into().expect("a 28x28 input"))
        .collect();
    model
        .read_batch(&inputs, Detail::Answer)
        .iter()
        .flat_map(|reading| *reading.probabilities())
        .collect()
}

/// A site's answers in headless Chromium for the first MNIST test images, read with `run`
/// through the page's own model, with their timings.
struct SiteReading {
    run: String,
    images: Vec<Vec<f32>>,
    probabilities: Vec<Vec<f32>>,
    /// From navigation to the page's first possible answer.
    ready_ms: Value,
    /// A digit's answer, the median over the images.
    median_ms: f64,
}

impl SiteReading {
    fn of(site: PathBuf, run: &str, count: usize) -> Self {
        let mut browser = Browser::open(&static_site(site));
        let ready_ms = browser
            .wait_for("document.body.dataset.ready === 'true' && document.body.dataset.readyMs");
        let images = test_images(count);
        let bytes: Vec<Vec<u8>> = images
            .iter()
            .map(|image| image.iter().map(|&p| (p * 255.0).round() as u8).collect())
            .collect();
        let read = format!(
            "(async () => {{ const model = await browserModel('{run}'); const times = []; \
             const answers = {}.map(image => {{ const input = new Float32Array(image.map(p => p / 255)); \
             const started = performance.now(); const rows = model.read(input); \
             times.push(performance.now() - started); return Array.from(rows.subarray(270, 280)); }}); \
             times.sort((a, b) => a - b); return [answers, times[times.length >> 1]]; }})()",
            serde_json::to_string(&bytes).unwrap()
        );
        let result = browser.eval(&read);
        Self {
            run: run.to_string(),
            images,
            probabilities: serde_json::from_value(result[0].clone()).unwrap(),
            median_ms: result[1].as_f64().unwrap(),
            ready_ms,
        }
    }

    /// The largest difference of a probability from the native model's with the run's own
    /// weights.
    fn largest_difference_from_native(&self) -> f32 {
        let device = Device::flex();
        let (_, model) = ModelRef::resolve(&Path::new("artifacts").join(&self.run))
            .unwrap()
            .load(&device)
            .unwrap();
        let native = class_probabilities(&model, &self.images);
        assert_eq!(self.probabilities.len(), self.images.len());
        self.probabilities
            .concat()
            .iter()
            .zip(&native)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max)
    }
}

#[test]
fn the_static_site_answers_in_the_browser_as_the_native_model_does() {
    if !chromium_and_web_build("the_static_site_answers_in_the_browser_as_the_native_model_does") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let site = export_site(
        &["artifacts/lstm-adam"],
        scratch.path(),
        &["--precision", "f32"],
    );
    assert!(
        std::fs::read(site.join("runs/lstm-adam/model.bpk")).unwrap()
            == std::fs::read("artifacts/lstm-adam/model.bpk").unwrap(),
        "f32: the run's own file"
    );
    for file in [
        "index.html",
        "runs.json",
        "runs/lstm-adam/config.toml",
        "runs/lstm-adam/model.bpk",
    ] {
        assert!(site.join(file).is_file(), "{file}");
    }
    let listing: Value =
        serde_json::from_slice(&std::fs::read(site.join("runs.json")).unwrap()).unwrap();
    assert_eq!(listing["default"], "lstm-adam");
    assert_eq!(listing["runs"][0]["cell"], "lstm");

    let reading = SiteReading::of(site, "lstm-adam", PARITY_IMAGES);
    let largest = reading.largest_difference_from_native();
    eprintln!(
        "static site: {PARITY_IMAGES} test images, largest difference from the native model \
         {largest:e}; median {:.2} ms a digit in the browser; ready {} ms after navigation",
        reading.median_ms, reading.ready_ms
    );
    assert!(
        largest <= 1e-5,
        "the site's probabilities differ by {largest}"
    );
}

#[test]
fn a_site_with_f16_weights_answers_within_1e_3_of_the_f32_model() {
    if !chromium_and_web_build("a_site_with_f16_weights_answers_within_1e_3_of_the_f32_model") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let run = "lstm-adam-robust";
    let site = export_site(
        &["artifacts/lstm-adam-robust"],
        scratch.path(),
        &["--precision", "f16"],
    );
    let f16_file = std::fs::metadata(site.join("runs").join(run).join("model.bpk")).unwrap();
    let f32_file = std::fs::metadata(Path::new("artifacts").join(run).join("model.bpk")).unwrap();
    assert!(f16_file.len() * 100 < f32_file.len() * 52);
    let reading = SiteReading::of(site, run, PARITY_IMAGES);
    let largest = reading.largest_difference_from_native();
    eprintln!("static site, f16 weights: largest difference from the native f32 model {largest:e}");
    assert!(largest <= 1e-3, "f16 moves a probability by {largest}");
}

/// The shipped MNIST runs (the Fashion-MNIST run reads another test set).
const MNIST_RUNS: [&str; 6] = [
    "lstm-adam-robust",
    "lstm-adam",
    "lstm-sgd",
    "gru-adam",
    "rnn-adam",
    "rnn-sgd",
];

/// f16 weights (`export-web --precision f16`) against the run's f32 ones on the whole MNIST
/// test set: how many classes change and how far a probability moves.
fn f16_changes(run: &str, images: &[Vec<f32>], device: &Device) -> (usize, f32) {
    let dir = Path::new("artifacts").join(run);
    let (_, f32_model) = ModelRef::resolve(&dir).unwrap().load(device).unwrap();
    let weights = std::fs::read(dir.join("model.bpk")).unwrap();
    let f16_weights = stored_as(&weights, Precision::F16).unwrap();
    assert!(
        f16_weights.len() * 100 < weights.len() * 52,
        "{run}: f16 halves the file"
    );
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    let f16_model = TrainedModel::from_bytes(&config, &f16_weights, device).unwrap();
    let full = class_probabilities(&f32_model, images);
    let half = class_probabilities(&f16_model, images);
    let largest = full
        .iter()
        .zip(&half)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let changed = full
        .chunks(10)
        .zip(half.chunks(10))
        .filter(|(a, b)| leading(a).0 != leading(b).0)
        .count();
    (changed, largest)
}

#[test]
fn f16_weights_keep_the_default_runs_answers_and_nearly_every_other() {
    let images = test_images(10_000);
    let device = Device::flex();
    for run in MNIST_RUNS {
        let (changed, largest) = f16_changes(run, &images, &device);
        eprintln!(
            "{run}: f16 weights, 10,000 MNIST test images: {changed} classes changed, largest \
             probability difference {largest:.1e}"
        );
        if run == "lstm-adam-robust" {
            // The page's default run: same classes, probabilities within 1e-3.
            assert_eq!((changed, largest <= 1e-3), (0, true), "{run}: {largest}");
        }
        assert!(
            changed <= 2 && largest <= 1e-2,
            "{run}: {changed}, {largest}"
        );
    }
}

/// A browser build's files with nothing in them, in `scratch/pkg`: for the checks that come
/// before the site is written.
fn stand_in_pkg(scratch: &Path) -> PathBuf {
    let pkg = scratch.join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    for file in lstm_mnist::serve::web::PKG_FILES {
        std::fs::write(pkg.join(file), "built").unwrap();
    }
    pkg
}

#[test]
fn export_web_refuses_a_directory_with_something_in_it_and_leaves_it_as_it_was() {
    let scratch = tempfile::tempdir().unwrap();
    let pkg = stand_in_pkg(scratch.path());
    let site = scratch.path().join("site");
    std::fs::create_dir(&site).unwrap();
    std::fs::write(site.join("notes.txt"), "mine").unwrap();
    let output = lstm_mnist()
        .args(["export-web", "artifacts/lstm-adam"])
        .arg(&site)
        .arg("--pkg")
        .arg(&pkg)
        .output()
        .unwrap();
    assert_one_line_error(&output, &["site", "exists and is not empty"]);
    assert_eq!(
        std::fs::read_to_string(site.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_dir(&site).unwrap().count(), 1);
    assert_eq!(
        std::fs::read_dir(scratch.path()).unwrap().count(),
        2,
        "no staging left"
    );
}

#[test]
fn export_web_and_serve_without_the_browser_build_they_are_given_say_how_to_make_it() {
    let scratch = tempfile::tempdir().unwrap();
    let site = scratch.path().join("site");
    let site = site.to_str().unwrap();
    let pkg = scratch.path().to_str().unwrap();
    for command in [
        &["export-web", "artifacts/lstm-adam", site, "--pkg", pkg][..],
        // Before it loads a run or listens.
        &["serve", "--addr", "127.0.0.1:0", "--pkg", pkg],
    ] {
        let output = lstm_mnist().args(command).output().unwrap();
        assert_one_line_error(
            &output,
            &["lstm_mnist_web.js", "missing", "tools/build-web.sh"],
        );
    }
    assert!(!scratch.path().join("site").exists());
}

#[test]
fn export_web_refuses_a_run_without_its_model_and_writes_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let pkg = stand_in_pkg(scratch.path());
    // The extra seeds are kept for their figures; their weights are not shipped.
    let output = lstm_mnist()
        .args([
            "export-web",
            "artifacts/lstm-adam",
            "artifacts/lstm-adam-seed1",
        ])
        .arg(scratch.path().join("site"))
        .arg("--pkg")
        .arg(&pkg)
        .output()
        .unwrap();
    assert_one_line_error(&output, &["lstm-adam-seed1", "model.bpk", "missing"]);
    assert_eq!(
        std::fs::read_dir(scratch.path()).unwrap().count(),
        1,
        "only the pkg"
    );
}

/// Draws a stroke on the page's pad (a "1", top to bottom) and returns the page's answer for
/// it, the model's input and its ten probabilities, asked again through the page's own path.
fn draw_and_read(browser: &mut Browser) -> (u64, Vec<f32>, Vec<f32>) {
    browser.wait_for("document.body.dataset.ready === 'true'");
    let (left, top, width) = browser.pad();
    let at = |fraction: f64| width * fraction;
    browser.mouse("mousePressed", left + at(0.5), top + at(0.2));
    for step in 1..=12 {
        browser.mouse(
            "mouseMoved",
            left + at(0.5),
            top + at(0.2 + 0.05 * f64::from(step)),
        );
    }
    browser.mouse("mouseReleased", left + at(0.5), top + at(0.8));
    let digit = browser.settled_answer();
    let answer = browser.eval(
        "(async () => { const a = await send(padBlob()); return [a.input, a.probabilities]; })()",
    );
    let values = |i: usize| serde_json::from_value(answer[i].clone()).unwrap();
    (digit, values(0), values(1))
}

/// `serve` at a free port with `options`, its page open in Chromium.
fn serve_page(options: &[&str]) -> (Server, Browser) {
    let server = Server::start_with(options);
    let browser = Browser::open(&server.url);
    (server, browser)
}

#[test]
fn serve_reads_drawings_in_the_browser_where_its_model_is_built() {
    if !chromium_and_web_build("serve_reads_drawings_in_the_browser_where_its_model_is_built") {
        return;
    }
    let (server, mut browser) = serve_page(&["--pkg", lstm_mnist::serve::web::DEFAULT_PKG]);
    for (path, media_type, file) in [
        (
            "/web/lstm_mnist_web_bg.wasm",
            "application/wasm",
            "web/pkg/lstm_mnist_web_bg.wasm",
        ),
        (
            "/web/lstm_mnist_web.js",
            "text/javascript",
            "web/pkg/lstm_mnist_web.js",
        ),
        (
            "/runs/lstm-adam/model.bpk",
            "application/octet-stream",
            "artifacts/lstm-adam/model.bpk",
        ),
    ] {
        let (status, served_type, bytes) = server.raw_call("GET", path, None);
        assert_eq!((status, served_type.as_str()), (200, media_type), "{path}");
        assert!(
            bytes == std::fs::read(file).unwrap(),
            "{path} is not {file}"
        );
    }
    let (status, refusal) = server.call("GET", "/runs/no-such-run/model.bpk", None);
    assert_eq!(status, 404);
    assert!(
        refusal["error"]
            .as_str()
            .unwrap()
            .contains("no such endpoint")
    );

    let (digit, input, in_browser) = draw_and_read(&mut browser);
    assert_eq!(browser.eval("document.body.dataset.modelIn"), "browser");
    let (status, by_server) = server.predict("", json!({ "pixels": input }).to_string().as_bytes());
    assert_eq!(status, 200);
    let by_server: Vec<f32> = serde_json::from_value(by_server["probabilities"].clone()).unwrap();
    let largest = in_browser
        .iter()
        .zip(&by_server)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        largest <= 1e-5,
        "the browser and the server differ by {largest}"
    );
    assert_eq!(digit, 1, "a vertical stroke");
}

#[test]
fn serve_answers_through_its_api_where_the_browser_model_does_not_load() {
    if !chromium_and_web_build(
        "serve_answers_through_its_api_where_the_browser_model_does_not_load",
    ) {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let [glue, wasm] = lstm_mnist::serve::web::PKG_FILES;
    std::fs::copy(Path::new("web/pkg").join(glue), scratch.path().join(glue)).unwrap();
    std::fs::write(scratch.path().join(wasm), "not WebAssembly").unwrap();
    let pkg = scratch.path().to_str().unwrap();
    let (_server, mut browser) = serve_page(&["--pkg", pkg]);
    let (digit, _, probabilities) = draw_and_read(&mut browser);
    assert_eq!(browser.eval("document.body.dataset.modelIn"), "server");
    assert_eq!(probabilities.len(), 10);
    assert_eq!(digit, 1, "a vertical stroke");
}

/// The shipped ink finder.
const INK_FINDER: &str = "artifacts/ink-finder";

/// A picture whose ink the rules and the ink finder find differently: MNIST test digit 0
/// written dark on grey paper lit from one side, as PNG bytes.
fn page_picture() -> Vec<u8> {
    let test = lstm_mnist::data::MnistData::load_test(&mnist_dir()).unwrap();
    let digit = image::GrayImage::from_raw(28, 28, test.image(0).to_vec()).unwrap();
    let digit = image::imageops::resize(&digit, 84, 84, image::imageops::FilterType::Triangle);
    let page = image::RgbImage::from_fn(200, 160, |x, y| {
        let paper = 200.0 - 60.0 * x as f32 / 200.0;
        let ink = match (x.checked_sub(60), y.checked_sub(40)) {
            (Some(dx), Some(dy)) if dx < 84 && dy < 84 => f32::from(digit.get_pixel(dx, dy).0[0]),
            _ => 0.0,
        } / 255.0;
        let value = (paper * (1.0 - 0.85 * ink)) as u8;
        image::Rgb([value, value, value.saturating_add(8)])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    page.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

#[test]
fn export_web_puts_the_ink_finder_beside_the_runs_and_refuses_a_dir_that_is_none() {
    let scratch = tempfile::tempdir().unwrap();
    let pkg = stand_in_pkg(scratch.path());
    let export = |finder: &str, site: &str| {
        lstm_mnist()
            .args(["export-web", "artifacts/lstm-adam"])
            .arg(scratch.path().join(site))
            .arg("--pkg")
            .arg(&pkg)
            .args(["--ink-finder", finder])
            .output()
            .unwrap()
    };
    succeeded(export(INK_FINDER, "site"));
    let site = scratch.path().join("site");
    assert!(
        std::fs::read(site.join("ink-finder.bpk")).unwrap()
            == std::fs::read(Path::new(INK_FINDER).join("ink-finder.bpk")).unwrap()
    );
    let listing: Value =
        serde_json::from_slice(&std::fs::read(site.join("runs.json")).unwrap()).unwrap();
    assert_eq!(
        listing["ink_finder"],
        json!({ "width": 12, "weights": "ink-finder.bpk" })
    );
    // A classifier's run is no ink finder: refused before anything is written.
    let output = export("artifacts/lstm-adam", "other");
    assert_one_line_error(&output, &["artifacts/lstm-adam", "not an ink finder's run"]);
    assert!(!scratch.path().join("other").exists());
}

#[test]
fn serve_with_an_ink_finder_finds_a_pictures_ink_alike_in_the_browser_and_on_the_server() {
    if !chromium_and_web_build(
        "serve_with_an_ink_finder_finds_a_pictures_ink_alike_in_the_browser_and_on_the_server",
    ) {
        return;
    }
    let (server, mut browser) = serve_page(&[
        "--pkg",
        lstm_mnist::serve::web::DEFAULT_PKG,
        "--ink-finder",
        INK_FINDER,
    ]);
    let (_, runs) = server.call("GET", "/api/runs", None);
    assert_eq!(runs["ink_finder"]["width"], 12);
    let (status, _, weights) = server.raw_call("GET", "/ink-finder.bpk", None);
    assert_eq!(status, 200);
    assert!(weights == std::fs::read(Path::new(INK_FINDER).join("ink-finder.bpk")).unwrap());

    let picture = page_picture();
    let (status, by_server) = server.predict("", &picture);
    assert_eq!(status, 200, "{by_server}");
    let by_server: Vec<f32> = serde_json::from_value(by_server["input"].clone()).unwrap();
    browser.wait_for("document.body.dataset.ready === 'true'");
    let inputs = browser.eval(&format!(
        "(async () => {{ const bytes = new Uint8Array({}); \
         const found = await readInBrowser(new Blob([bytes])); \
         return [found.input, Array.from(web.Model.picture_input(bytes))]; }})()",
        serde_json::to_string(&picture).unwrap()
    ));
    let input = |i: usize| -> Vec<f32> { serde_json::from_value(inputs[i].clone()).unwrap() };
    let largest_difference = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max)
    };
    let (in_browser, by_rules) = (input(0), input(1));
    assert!(
        largest_difference(&in_browser, &by_server) <= 1e-5,
        "the browser and the server differ by {}",
        largest_difference(&in_browser, &by_server)
    );
    assert!(
        largest_difference(&in_browser, &by_rules) > 0.1,
        "the finder's input is the rules' one"
    );
    // How long each path takes in the browser (reported, not asserted: speed is the bench's).
    let mut median_ms = |read: &str| {
        browser.eval(&format!(
            "(async () => {{ const bytes = new Uint8Array({}); const times = []; \
             for (let i = 0; i < 21; i++) {{ const started = performance.now(); {read}(bytes); \
             times.push(performance.now() - started); }} times.sort((a, b) => a - b); \
             return times[10]; }})()",
            serde_json::to_string(&picture).unwrap()
        ))
    };
    let (finder_ms, rules_ms) = (
        median_ms("inkFinder.picture_input"),
        median_ms("web.Model.picture_input"),
    );
    eprintln!(
        "a 200x160 picture's input in the browser, median of 21: {finder_ms} ms with the ink \
         finder, {rules_ms} ms with the rules"
    );
}
