//! Reading whole numbers: `train` on a number reader's config writes its run and report;
//! `predict` with the shipped number reader reads pictures of written numbers (composed from
//! MNIST's test digits, as the test numbers are) in the digit's form, with each digit's
//! probability and columns; bad configs and flags are refused in one line.

mod common;

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use image::{GrayImage, Luma, imageops};
use lstm_mnist::data::MnistData;
use lstm_mnist::data::numbers::{ComposedNumber, NumberComposer, TEST_NUMBERS, test_numbers};
use lstm_mnist::evaluation::numbers::{read_numbers, score};
use lstm_mnist_model::number::{NumberModelConfig, NumberReader};
use serde_json::Value;

use common::needs::{Need, met};
use common::page::{Browser, Server};
use common::{assert_one_line_error, succeeded};

/// The shipped number reader.
const NUMBER_RUN: &str = "artifacts/number-bilstm";
/// Pictures of numbers per check.
const NUMBERS: u64 = 60;

/// `count` numbers composed from MNIST's test digits (seed 11: not the fixed test set's).
fn numbers(count: u64) -> Vec<ComposedNumber> {
    let test = MnistData::load_test(&common::mnist_dir()).unwrap();
    let composer = NumberComposer::new(test, 11);
    (0..count).map(|i| composer.number(i)).collect()
}

/// `number` as a person writes it: dark on a white page with room around it, three times
/// larger than the strip.
fn picture(number: &ComposedNumber) -> GrayImage {
    let strip = GrayImage::from_fn(number.width as u32, 28, |x, y| {
        let value = number.strip[y as usize * number.width + x as usize];
        Luma([255 - (value * 255.0).round() as u8])
    });
    let (width, height) = (strip.width() * 3, strip.height() * 3);
    let enlarged = imageops::resize(&strip, width, height, imageops::FilterType::Triangle);
    let mut page = GrayImage::from_pixel(width + 120, height + 160, Luma([245]));
    imageops::overlay(&mut page, &enlarged, 60, 80);
    page
}

fn written(dir: &Path, numbers: &[ComposedNumber]) -> Vec<PathBuf> {
    numbers
        .iter()
        .enumerate()
        .map(|(i, number)| {
            let path = dir.join(format!("number-{i}.png"));
            picture(number).save(&path).unwrap();
            path
        })
        .collect()
}

fn predict_json(args: &[&std::ffi::OsStr]) -> Vec<Value> {
    predict_json_with(NUMBER_RUN, args)
}

/// What `predict --json` with the run at `run` says of each of `args`' pictures.
fn predict_json_with(run: &str, args: &[impl AsRef<std::ffi::OsStr>]) -> Vec<Value> {
    let output = succeeded(
        common::lstm_mnist()
            .args(["predict", "--json", "--checkpoint", run])
            .args(args)
            .output()
            .unwrap(),
    );
    serde_json::from_slice::<Value>(&output.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The shipped reader, as its run directory describes it.
fn shipped_reader(device: &Device) -> NumberReader {
    let run = Path::new(NUMBER_RUN);
    let config: toml::Table = std::fs::read_to_string(run.join("number-model.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let model: NumberModelConfig = config["number_model"].clone().try_into().unwrap();
    let weights = std::fs::read(run.join("number-model.bpk")).unwrap();
    model.from_weights(&weights, device).unwrap()
}

/// The shipped run was trained from configs/number-bilstm.toml's very values, and reads the
/// fixed test numbers as its report says.
#[test]
fn the_shipped_reader_is_its_configs_and_scores_what_its_report_says() {
    let table =
        |path: &str| -> toml::Table { std::fs::read_to_string(path).unwrap().parse().unwrap() };
    let (config, trained) = (
        table("configs/number-bilstm.toml"),
        table(&format!("{NUMBER_RUN}/number-model.toml")),
    );
    for key in ["number_model", "number_training"] {
        assert_eq!(config[key], trained[key], "{key}");
    }
    let device = Device::flex();
    let test = MnistData::load_test(&common::mnist_dir()).unwrap();
    let numbers = test_numbers(&test, TEST_NUMBERS);
    let scores = score(
        &numbers,
        &read_numbers(&shipped_reader(&device), &numbers, &device),
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(format!("{NUMBER_RUN}/number-report.json")).unwrap())
            .unwrap();
    assert_eq!(scores.all.numbers, TEST_NUMBERS);
    assert_eq!(
        report["reader"]["all"]["whole_number"],
        scores.all.whole_number
    );
    assert_eq!(
        report["reader"]["all"]["character_error_rate"],
        scores.all.character_error_rate
    );
}

#[test]
fn predict_reads_pictures_of_written_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let numbers = numbers(NUMBERS);
    let files = written(dir.path(), &numbers);
    let args: Vec<&std::ffi::OsStr> = files.iter().map(|f| f.as_os_str()).collect();
    let predictions = predict_json(&args);
    assert_eq!(predictions.len(), numbers.len());
    // The picture path hands the reader the strip it would read as a tensor: the same number
    // for every picture whose digits stand apart, and for most of those whose digits overlap
    // (there a small change of the strip can change the reading).
    let device = Device::flex();
    let from_strips = read_numbers(&shipped_reader(&device), &numbers, &device);
    let text = |digits: &Vec<u8>| {
        digits
            .iter()
            .map(|d| char::from(b'0' + d))
            .collect::<String>()
    };
    let same = predictions
        .iter()
        .zip(&from_strips)
        .filter(|(p, strip)| p["number"] == text(strip).as_str())
        .count();
    let right = |read: &mut dyn Iterator<Item = String>| {
        read.zip(&numbers).filter(|(r, n)| *r == n.text()).count()
    };
    let right_from_pictures = right(
        &mut predictions
            .iter()
            .map(|p| p["number"].as_str().unwrap().to_string()),
    );
    let right_from_strips = right(&mut from_strips.iter().map(text));
    eprintln!(
        "{same} of {} pictures read as their strips; right: {right_from_pictures} from the \
         pictures, {right_from_strips} from the strips",
        numbers.len()
    );
    for ((prediction, strip), number) in predictions.iter().zip(&from_strips).zip(&numbers) {
        if number.closest_gap.is_none_or(|gap| gap > 0) {
            assert_eq!(
                prediction["number"],
                text(strip).as_str(),
                "{}",
                prediction["path"]
            );
        }
    }
    assert!(
        same * 100 >= numbers.len() * 80,
        "{same} of {} read as their strips",
        numbers.len()
    );
    assert!(right_from_pictures + 5 >= right_from_strips);
    for prediction in &predictions {
        let digits = prediction["digits"].as_array().unwrap();
        let text: String = digits.iter().map(|d| d["digit"].to_string()).collect();
        assert_eq!(prediction["number"].as_str().unwrap(), text);
        let product: f64 = digits
            .iter()
            .map(|d| d["probability"].as_f64().unwrap())
            .product();
        assert!((prediction["probability"].as_f64().unwrap() - product).abs() < 1e-4);
        let columns: Vec<[u64; 2]> = digits
            .iter()
            .map(|d| {
                let c = d["columns"].as_array().unwrap();
                [c[0].as_u64().unwrap(), c[1].as_u64().unwrap()]
            })
            .collect();
        assert!(
            columns.windows(2).all(|w| w[0][1] < w[1][0]),
            "digits are read left to right: {columns:?}"
        );
    }
}

#[test]
fn predict_prints_a_number_as_it_prints_a_digit_and_its_columns_with_steps() {
    let dir = tempfile::tempdir().unwrap();
    let number = numbers(NUMBERS)
        .into_iter()
        .find(|n| n.digits.len() == 4 && n.closest_gap.unwrap() > 2)
        .unwrap();
    let file = written(dir.path(), std::slice::from_ref(&number)).remove(0);
    let output = succeeded(
        common::lstm_mnist()
            .args(["predict", "--steps", "--checkpoint", NUMBER_RUN])
            .arg(&file)
            .args(["--save-inputs"])
            .arg(dir.path())
            .output()
            .unwrap(),
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut lines = stdout.lines();
    // `FILE: 2026 (96.0%: 2 99.1%, 0 98.7%, 2 99.9%, 6 97.0%)`, then a line per digit.
    let first = lines.next().unwrap();
    let rest = first
        .strip_prefix(&format!("{}: ", file.display()))
        .unwrap_or_else(|| panic!("{first}"));
    let (number, probabilities) = rest.split_once(" (").unwrap();
    assert!(
        number.len() >= 3 && number.chars().all(|c| c.is_ascii_digit()),
        "{first}"
    );
    let digits: Vec<&str> = probabilities
        .trim_end_matches(')')
        .split(": ")
        .nth(1)
        .unwrap()
        .split(", ")
        .collect();
    assert_eq!(digits.len(), number.len(), "{first}");
    for (shown, digit) in digits.iter().zip(number.chars()) {
        assert!(shown.starts_with(digit) && shown.ends_with('%'), "{first}");
    }
    let columns: Vec<&str> = lines.collect();
    assert_eq!(columns.len(), number.len(), "{stdout}");
    assert!(
        columns
            .iter()
            .all(|l| l.trim_start().starts_with("columns "))
    );
    let strip = image::open(dir.path().join("number-0.input.png")).unwrap();
    assert_eq!(
        strip.height(),
        28 * 4,
        "the strip is 28 rows, enlarged four times"
    );
}

#[test]
fn a_number_reader_takes_no_ink_finder() {
    let dir = tempfile::tempdir().unwrap();
    let picture = written(dir.path(), &numbers(1)).remove(0);
    let output = common::run(&[
        "predict",
        "--checkpoint",
        NUMBER_RUN,
        "--ink-finder",
        "artifacts/ink-finder",
        picture.to_str().unwrap(),
    ]);
    assert_one_line_error(&output, &[NUMBER_RUN, "--ink-finder"]);
}

/// A number reader's config for a quick run, with `model` and `training` added to their tables.
fn quick_config(dir: &Path, model: &str, training: &str) -> PathBuf {
    let path = dir.join("quick.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"quick-numbers\"\nseed = 3\n\n[number_model]\nhidden = 8\n{model}\n\n\
             [number_training]\nnumbers = 128\nepochs = 1\nbatch_size = 32\n\
             learning_rate = 0.001\nvalidation_numbers = 64\n{training}\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn train_on_a_number_readers_config_writes_its_run_and_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let config = quick_config(dir.path(), "layers = 2", "final_learning_rate = 0.0001");
    let artifacts = dir.path().join("runs");
    let train = || common::train_config(&config, &artifacts, "quick-numbers");
    let output = succeeded(train());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("number reader: ") && stdout.contains("components: "),
        "{stdout}"
    );
    let run = artifacts.join("quick-numbers");
    for file in [
        "number-model.toml",
        "number-model.bpk",
        "number-report.json",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    assert!(run.join("checkpoint/model-1.bpk").is_file());
    let report: Value =
        serde_json::from_slice(&std::fs::read(run.join("number-report.json")).unwrap()).unwrap();
    assert_eq!(report["reader"]["all"]["numbers"], 10_000);
    // Cutting the strip into marks reads nearly every number whose digits stand apart, and
    // few of those whose digits touch.
    let baseline = &report["baseline"]["by_gap"];
    assert!(
        baseline["wide"]["whole_number"].as_f64().unwrap() > 0.9,
        "{baseline}"
    );
    assert!(
        baseline["touching"]["whole_number"].as_f64().unwrap() < 0.5,
        "{baseline}"
    );
    // The run is the user's: a second run of the same name is refused, and it stays.
    assert_one_line_error(&train(), &["quick-numbers"]);
    assert!(run.join("number-model.bpk").is_file());
    // A number reader's run is not a classifier's: predict reads numbers with it.
    let picture = written(dir.path(), &numbers(1)).remove(0);
    let output = succeeded(
        common::lstm_mnist()
            .args(["predict", "--checkpoint"])
            .arg(&run)
            .arg(&picture)
            .output()
            .unwrap(),
    );
    assert!(String::from_utf8_lossy(&output.stdout).starts_with(&picture.display().to_string()));
}

#[test]
fn a_number_readers_bad_config_value_is_one_line_naming_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    for (model, training, key) in [
        ("layers = 0", "", "number_model.layers"),
        (
            "",
            "final_learning_rate = 0.01",
            "number_training.final_learning_rate",
        ),
        (
            "",
            "[number_training.augment]\nrotation = 500",
            "number_training.augment.rotation",
        ),
    ] {
        let config = quick_config(dir.path(), model, training);
        let output = common::run(&[
            "train",
            "--config",
            config.to_str().unwrap(),
            "--artifacts",
            dir.path().join("runs").to_str().unwrap(),
        ]);
        assert_one_line_error(&output, &["quick.toml", key]);
        assert!(!dir.path().join("runs").exists(), "nothing is written");
    }
}

/// A digit run shown a picture of several digits in a row says so (and names the number
/// reader), and says nothing of the kind of a picture of one digit.
#[test]
fn a_digit_run_shown_a_number_says_it_holds_several_digits() {
    let dir = tempfile::tempdir().unwrap();
    let all = numbers(NUMBERS);
    let (single, several): (Vec<ComposedNumber>, Vec<ComposedNumber>) =
        all.into_iter().partition(|n| n.digits.len() == 1);
    let several: Vec<ComposedNumber> = several.into_iter().take(20).collect();
    assert!(single.len() >= 4, "{} single digits", single.len());
    let read = |numbers: &[ComposedNumber], name: &str| -> Vec<Value> {
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        predict_json_with("artifacts/lstm-adam-robust", &written(&sub, numbers))
    };
    for prediction in read(&several, "several") {
        assert_eq!(prediction["several_digits"], true, "{prediction}");
    }
    for prediction in read(&single, "single") {
        assert!(prediction.get("several_digits").is_none(), "{prediction}");
    }
    let file = written(dir.path(), &several[..1]).remove(0);
    let output = succeeded(
        common::lstm_mnist()
            .args(["predict", "--checkpoint", "artifacts/lstm-adam-robust"])
            .arg(&file)
            .output()
            .unwrap(),
    );
    let line = String::from_utf8(output.stdout).unwrap();
    assert!(
        line.contains("several digits in a row") && line.contains(NUMBER_RUN),
        "{line}"
    );
}

/// `serve` lists the number reader and reads a picture of a written number as `predict` does,
/// each digit's columns placed on the picture (a large one too, which is read scaled down);
/// a number run takes pictures, not a digit's pixels.
#[test]
fn serve_reads_a_picture_of_a_number_as_predict_does() {
    let dir = tempfile::tempdir().unwrap();
    let composed = numbers(40);
    let numbers = &composed[..3];
    let files = written(dir.path(), numbers);
    // The last picture twice as large again: wider than the page the ink is found on.
    let large = picture(&numbers[2]);
    imageops::resize(
        &large,
        large.width() * 2,
        large.height() * 2,
        imageops::FilterType::Triangle,
    )
    .save(&files[2])
    .unwrap();
    let server = Server::start();
    let (status, runs) = server.call("GET", "/api/runs", None);
    assert_eq!(status, 200);
    let listed = &runs["number_runs"][0];
    let report: Value =
        serde_json::from_slice(&std::fs::read(format!("{NUMBER_RUN}/number-report.json")).unwrap())
            .unwrap();
    assert_eq!(listed["name"], "number-bilstm");
    assert_eq!(
        listed["whole_number"],
        report["reader"]["all"]["whole_number"]
    );
    let args: Vec<&std::ffi::OsStr> = files.iter().map(|f| f.as_os_str()).collect();
    let predicted = predict_json(&args);
    for (i, (file, expected)) in files.iter().zip(&predicted).enumerate() {
        let (status, answer) = server.predict("?run=number-bilstm", &std::fs::read(file).unwrap());
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["run"], "number-bilstm");
        for key in ["number", "probability", "digits"] {
            assert_eq!(answer[key], expected[key], "{key} of {}", file.display());
        }
        let width = answer["input_width"].as_u64().unwrap() as usize;
        assert_eq!(answer["input"].as_array().unwrap().len(), 28 * width);
        // The line lies where the number was written on the page (60 pixels in, three times
        // the strip's size; twice that again for the last), and each digit's columns on it,
        // left to right.
        let scale = if i == 2 { 2.0 } else { 1.0 };
        let from = |v: &Value| v[0].as_f64().unwrap() / scale;
        let to = |v: &Value| v[1].as_f64().unwrap() / scale;
        let line = &answer["line_columns"];
        let page = (60.0, 60.0 + 3.0 * numbers[i].width as f64);
        assert!(
            from(line) >= page.0 - 2.0 && to(line) <= page.1 + 2.0,
            "{line}"
        );
        let digits = answer["digits"].as_array().unwrap();
        for pair in digits.windows(2) {
            assert!(to(&pair[0]["picture_columns"]) <= from(&pair[1]["picture_columns"]));
        }
        for digit in digits {
            let columns = &digit["picture_columns"];
            assert!(
                from(columns) >= from(line) - 15.0 && to(columns) <= to(line) + 15.0,
                "{columns} beside {line}"
            );
        }
    }
    // A digit run says when a picture holds several digits, and names the number reader.
    let several = composed.iter().find(|n| n.digits.len() >= 4).unwrap();
    let one = composed.iter().find(|n| n.digits.len() == 1).unwrap();
    let png = |number: &ComposedNumber| {
        let mut bytes = std::io::Cursor::new(Vec::new());
        picture(number)
            .write_to(&mut bytes, image::ImageFormat::Png)
            .unwrap();
        bytes.into_inner()
    };
    let (_, digit) = server.predict("", &png(several));
    assert_eq!(
        (&digit["several_digits"], &digit["number_run"]),
        (&Value::Bool(true), &Value::from("number-bilstm")),
        "{digit}"
    );
    let (_, digit) = server.predict("", &png(one));
    assert!(digit.get("several_digits").is_none(), "{digit}");
    assert_eq!(digit["digit"], u64::from(one.digits[0]));
    let (status, refused) = server.predict("?run=number-bilstm", b"{\"pixels\": [0.5]}");
    assert_eq!(status, 400);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("reads pictures"),
        "{refused}"
    );
}

/// Writes `number` on the page's wide pad (a number reader chosen) as a mouse would, at ten
/// of its pixels a strip pixel, and returns the page's answer once it has settled.
fn write_number(browser: &mut Browser, number: &ComposedNumber) -> String {
    let (left, top, css_width) = browser.pad();
    let cell = css_width / 84.0;
    let at = |x: usize, y: usize| {
        (
            left + (x as f64 + 2.5) * cell,
            top + (y as f64 + 0.5) * cell,
        )
    };
    for y in 0..28 {
        let inked: Vec<bool> = (0..number.width)
            .map(|x| number.strip[y * number.width + x] > 0.4)
            .collect();
        let mut x = 0;
        while x < number.width {
            if !inked[x] {
                x += 1;
                continue;
            }
            let start = x;
            while x < number.width && inked[x] {
                x += 1;
            }
            let (x0, y0) = at(start, y);
            browser.mouse("mousePressed", x0, y0);
            for step in start..x {
                let (xs, ys) = at(step, y);
                browser.mouse("mouseMoved", xs, ys);
            }
            let (x1, y1) = at(x - 1, y);
            browser.mouse("mouseReleased", x1, y1);
        }
    }
    let read = browser.wait_for(
        "document.body.dataset.busy === 'false' && document.body.dataset.predictions \
         && document.body.dataset.number !== undefined ? document.body.dataset.number : null",
    );
    read.as_str().unwrap().to_string()
}

/// The pad's picture, as the page sent it, saved in `dir`.
fn pad_picture(browser: &mut Browser, dir: &Path) -> PathBuf {
    use base64::Engine;
    let data_url = browser.eval("pad.toDataURL('image/png')");
    let (_, encoded) = data_url.as_str().unwrap().split_once(',').unwrap();
    let file = dir.join("pad.png");
    let png = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    std::fs::write(&file, png).unwrap();
    file
}

/// Chooses the run `name` on the page.
fn choose_run(browser: &mut Browser, name: &str) {
    browser.eval(&format!(
        "(() => {{ runSelect.value = '{name}'; runSelect.dispatchEvent(new Event('change')); }})()"
    ));
}

/// Three digits whose strip fits the pad at ten of its pixels a strip pixel.
fn pad_number() -> ComposedNumber {
    numbers(40)
        .into_iter()
        .find(|n| n.digits.len() == 3 && n.width <= 80)
        .unwrap()
}

/// On the served page, a number written on the wide pad (a number reader chosen) is read as
/// `predict` reads the pad's picture, its digits marked under the strokes.
#[test]
fn a_number_written_on_the_page_gets_the_answer_predict_gives() {
    if !met(
        Need::Chromium,
        "a_number_written_on_the_page_gets_the_answer_predict_gives",
    ) {
        return;
    }
    let number = pad_number();
    let server = Server::start();
    let mut browser = Browser::open(&server.url);
    browser.wait_for("document.body.dataset.ready === 'true'");
    choose_run(&mut browser, "number-bilstm");
    assert_eq!(browser.eval("pad.width"), 840);
    let page_number = write_number(&mut browser, &number);
    let truth: String = number.digits.iter().map(|d| char::from(b'0' + d)).collect();
    // What `predict` reads in the picture the page sent.
    let dir = tempfile::tempdir().unwrap();
    let file = pad_picture(&mut browser, dir.path());
    let predicted = predict_json(&[file.as_os_str()]);
    println!("wrote {truth} on the pad; the page read {page_number}");
    assert_eq!(page_number, predicted[0]["number"].as_str().unwrap());
    assert_eq!(page_number, truth);
    assert_eq!(browser.eval("document.body.dataset.marks"), "3");
    assert_eq!(
        browser.eval("document.body.classList.contains('number')"),
        true
    );
    // For the guide: LSTM_MNIST_NUMBER_SCREENSHOT=path saves what the page looks like now.
    if let Ok(path) = std::env::var("LSTM_MNIST_NUMBER_SCREENSHOT") {
        use base64::Engine;
        let shot = browser.call(
            "Page.captureScreenshot",
            serde_json::json!({ "format": "png" }),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
    // Back to a digit run: the square pad, blank.
    choose_run(&mut browser, "lstm-adam-robust");
    assert_eq!(browser.eval("pad.width"), 280);
    assert_eq!(
        browser.eval("document.getElementById('answer').textContent"),
        "–"
    );
}

/// `export-onnx` writes the number reader as ONNX's bidirectional `LSTM`s, which tract runs to
/// the numbers `predict` reads; `export-torch` writes `nn.LSTM(bidirectional=True)`'s
/// state_dict, each direction's gates in PyTorch's order; `export-keras` refuses it in one
/// line.
#[test]
fn a_number_reader_exports_to_onnx_and_pytorch() {
    use lstm_mnist_model::number::{decode, strip_steps};
    use lstm_mnist_model::preprocess::line::number_strip;
    let dir = tempfile::tempdir().unwrap();
    let onnx_file = dir.path().join("reader.onnx");
    let export =
        |command: &str, file: &Path| common::run(&[command, NUMBER_RUN, file.to_str().unwrap()]);
    let output = succeeded(export("export-onnx", &onnx_file));
    assert!(String::from_utf8_lossy(&output.stdout).contains("bidirectional LSTM"));
    let graph = std::fs::read(&onnx_file).unwrap();
    let files = written(dir.path(), &numbers(6));
    let args: Vec<&std::ffi::OsStr> = files.iter().map(|f| f.as_os_str()).collect();
    for (file, predicted) in files.iter().zip(predict_json(&args)) {
        let strip = number_strip(&std::fs::read(file).unwrap()).unwrap();
        let (steps, count) = strip_steps(&strip.pixels, strip.width);
        let log_probs = lstm_mnist::onnx::run_number(&graph, [1, count], &steps).unwrap();
        let read: String = decode(&log_probs)
            .iter()
            .map(|d| char::from(b'0' + d.digit))
            .collect();
        assert_eq!(read, predicted["number"].as_str().unwrap());
    }

    let torch_file = dir.path().join("reader.safetensors");
    succeeded(export("export-torch", &torch_file));
    let bytes = std::fs::read(&torch_file).unwrap();
    let state = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut keys = state.names();
    keys.sort();
    let mut wanted: Vec<String> = ["head.weight".to_string(), "head.bias".to_string()].into();
    for layer in 0..2 {
        for suffix in ["", "_reverse"] {
            for key in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] {
                wanted.push(format!("recurrent.{key}_l{layer}{suffix}"));
            }
        }
    }
    wanted.sort();
    assert_eq!(keys, wanted.iter().map(String::as_str).collect::<Vec<_>>());
    let array = |key: &str| {
        let view = state.tensor(key).unwrap();
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        (view.shape().to_vec(), values)
    };
    assert_eq!(array("recurrent.weight_ih_l0").0, [512, 56]);
    assert_eq!(array("recurrent.weight_ih_l1_reverse").0, [512, 256]);
    assert_eq!(array("head.weight").0, [11, 256]);
    // PyTorch's gates are input, forget, cell, output: the reverse direction's forget gate is
    // its second block of rows, Burn's weight `[inputs, outputs]` transposed.
    let reader = shipped_reader(&Device::flex());
    let forget = reader.layers[0].reverse.forget_gate.as_ref().unwrap();
    let burn = lstm_mnist_model::model::host_values(forget.input_transform.weight.val());
    let (_, torch) = array("recurrent.weight_ih_l0_reverse");
    for (unit, input) in [(0, 0), (5, 30), (127, 55)] {
        assert_eq!(torch[(128 + unit) * 56 + input], burn[input * 128 + unit]);
    }
    let cell = &reader.layers[1].forward.cell_gate;
    let burn =
        lstm_mnist_model::model::host_values(cell.hidden_transform.bias.as_ref().unwrap().val());
    assert_eq!(array("recurrent.bias_hh_l1").1[256..384], burn[..]);

    assert_one_line_error(
        &export("export-keras", &dir.path().join("reader.weights.h5")),
        &["number-bilstm", "export-onnx"],
    );
}

/// A copy of the shipped number reader's run in `dir` (its files, no checkpoints), for a
/// command that writes into it.
fn copy_of_shipped_run(dir: &Path) -> PathBuf {
    let run = dir.join("number-bilstm");
    std::fs::create_dir(&run).unwrap();
    for file in [
        "number-model.toml",
        "number-model.bpk",
        "number-report.json",
    ] {
        std::fs::copy(Path::new(NUMBER_RUN).join(file), run.join(file)).unwrap();
    }
    run
}

/// `evaluate` on a number reader's run scores it on the fixed test numbers as training's
/// report did, prints them by length and gap and writes `number-evaluation.json`; `--steps`
/// (a classifier's accuracy after each row) is refused in one line.
#[test]
fn evaluate_scores_a_number_reader_on_the_test_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let run = copy_of_shipped_run(dir.path());
    let evaluate = |extra: &[&str]| {
        common::lstm_mnist()
            .args(["evaluate", "--checkpoint"])
            .arg(&run)
            .args(extra)
            .output()
            .unwrap()
    };
    let output = succeeded(evaluate(&[]));
    let table = String::from_utf8_lossy(&output.stdout);
    for row in ["all ", "8 digits", "touching", "wide"] {
        assert!(table.contains(row), "{row} missing from {table}");
    }
    let read = |file: &str| -> Value {
        serde_json::from_slice(&std::fs::read(run.join(file)).unwrap()).unwrap()
    };
    let (evaluation, report) = (read("number-evaluation.json"), read("number-report.json"));
    assert_eq!(evaluation["all"], report["reader"]["all"]);
    assert_eq!(evaluation["by_gap"], report["reader"]["by_gap"]);
    assert_one_line_error(&evaluate(&["--steps"]), &["number-bilstm", "--steps"]);
}

/// `export-web` puts a number reader on a static site beside a digit run, and the page reads a
/// number written on it in the browser (WebAssembly) as `predict` reads the pad's picture.
#[test]
fn a_static_site_reads_a_number_in_the_browser_as_predict_does() {
    let test = "a_static_site_reads_a_number_in_the_browser_as_predict_does";
    if !(met(Need::Chromium, test) && met(Need::WebBuild, test)) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    // The page starts with a digit run: a site of a number reader alone is refused.
    let alone = common::run(&["export-web", NUMBER_RUN, site.to_str().unwrap()]);
    assert_one_line_error(&alone, &["number-bilstm", "digit"]);
    assert!(!site.exists());
    succeeded(common::run(&[
        "export-web",
        "artifacts/lstm-adam-robust",
        NUMBER_RUN,
        site.to_str().unwrap(),
    ]));
    for file in ["number-model.toml", "number-model.bpk"] {
        assert!(
            site.join("runs/number-bilstm").join(file).is_file(),
            "{file}"
        );
    }
    // A picture of a six-digit number beside the page, read in the browser as a file is.
    let six = numbers(40)
        .into_iter()
        .find(|n| n.digits.len() == 6)
        .unwrap();
    let six_file = written(dir.path(), std::slice::from_ref(&six)).remove(0);
    std::fs::copy(&six_file, site.join("six.png")).unwrap();
    // The same number as its bare strip (28 pixels high, dark on white): little picture path.
    let bare = GrayImage::from_fn(six.width as u32, 28, |x, y| {
        Luma([255 - (six.strip[y as usize * six.width + x as usize] * 255.0).round() as u8])
    });
    bare.save(site.join("six-bare.png")).unwrap();
    let mut browser = Browser::open(&common::page::static_site(site));
    browser.wait_for("document.body.dataset.ready === 'true'");
    choose_run(&mut browser, "number-bilstm");
    let native = predict_json(&[six_file.as_os_str()]).remove(0);
    for (file, what) in [
        (
            "six.png",
            "a picture of a six-digit number (the picture path and the reader)",
        ),
        ("six-bare.png", "its bare strip"),
    ] {
        let read = browser.eval(&format!(
            "(async () => {{ const picture = await (await fetch('{file}')).blob(); \
             const times = []; let answer = null; for (let i = 0; i < 7; i++) {{ \
             answer = await readInBrowser(picture); \
             times.push(Number(document.body.dataset.readMs)); }} \
             return JSON.stringify({{ number: answer.number, times }}); }})()"
        ));
        let read: Value = serde_json::from_str(read.as_str().unwrap()).unwrap();
        assert_eq!(read["number"], native["number"], "{file}");
        let mut times: Vec<f64> = serde_json::from_value(read["times"].clone()).unwrap();
        times.sort_by(f64::total_cmp);
        println!(
            "{what}, read in the browser: median {:.1} ms of 7",
            times[3]
        );
    }
    // A digit run in the browser says the picture holds several digits, as the server does.
    choose_run(&mut browser, "lstm-adam-robust");
    let flagged = browser.eval(
        "(async () => { const a = await readInBrowser(await (await fetch('six.png')).blob()); \
         return [a.several_digits, a.number_run]; })()",
    );
    assert_eq!(flagged, serde_json::json!([true, "number-bilstm"]));
    choose_run(&mut browser, "number-bilstm");
    let number = pad_number();
    let page_number = write_number(&mut browser, &number);
    assert_eq!(browser.eval("document.body.dataset.modelIn"), "browser");
    let file = pad_picture(&mut browser, dir.path());
    let predicted = predict_json(&[file.as_os_str()]).remove(0);
    let read_ms = browser.eval("document.body.dataset.readMs");
    println!(
        "the site read {page_number} in the browser in {} ms",
        read_ms.as_str().unwrap()
    );
    assert_eq!(page_number, predicted["number"].as_str().unwrap());
    let page: Value =
        serde_json::from_str(browser.eval("JSON.stringify(lastAnswer)").as_str().unwrap()).unwrap();
    for (ours, native) in page["digits"]
        .as_array()
        .unwrap()
        .iter()
        .zip(predicted["digits"].as_array().unwrap())
    {
        assert_eq!(ours["digit"], native["digit"]);
        assert_eq!(ours["columns"], native["columns"]);
        let difference =
            (ours["probability"].as_f64().unwrap() - native["probability"].as_f64().unwrap()).abs();
        assert!(difference < 1e-5, "{ours} vs {native}");
    }
}

/// `summary` of a number reader's config lists its bidirectional layers and head with their
/// parameters, as many as the shipped reader has; `--cell` is refused for it in one line.
#[test]
fn summary_describes_a_number_readers_layers() {
    let output = succeeded(common::run(&[
        "summary",
        "--config",
        "configs/number-bilstm.toml",
    ]));
    let text = String::from_utf8_lossy(&output.stdout);
    // Each direction's LSTM: four gates, each an input and a recurrent transform with biases.
    let lstm = |inputs: usize| 4 * (inputs * 128 + 128 * 128 + 2 * 128);
    let rows = [
        ("bilstm_1 (Bidirectional)", 2 * lstm(56)),
        ("bilstm_2 (Bidirectional)", 2 * lstm(256)),
        ("dense (Linear)", 256 * 11 + 11),
    ];
    let thousands = |n: usize| {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    for (layer, params) in rows {
        let line = text.lines().find(|l| l.starts_with(layer)).unwrap();
        assert!(line.ends_with(&thousands(params)), "{line}");
    }
    let total = burn::module::Module::num_params(&shipped_reader(&Device::flex()));
    assert_eq!(total, rows.iter().map(|(_, p)| p).sum::<usize>());
    assert!(
        text.contains(&format!("Total params: {}", thousands(total))),
        "{text}"
    );
    assert_one_line_error(
        &common::run(&[
            "summary",
            "--config",
            "configs/number-bilstm.toml",
            "--cell",
            "gru",
        ]),
        &["number-bilstm.toml", "--cell"],
    );
}

/// `results` lists a number reader apart from the classifiers, its report's scores beside the
/// component baseline's.
#[test]
fn results_lists_a_number_reader_with_its_reports_scores() {
    let dir = tempfile::tempdir().unwrap();
    let run = copy_of_shipped_run(dir.path());
    let output = succeeded(common::run(&[
        "results",
        "--artifacts",
        dir.path().to_str().unwrap(),
    ]));
    let text = String::from_utf8_lossy(&output.stdout);
    let row = text
        .lines()
        .find(|line| line.starts_with("| `number-bilstm`"))
        .unwrap_or_else(|| panic!("no number reader row in {text}"));
    let report: Value =
        serde_json::from_slice(&std::fs::read(run.join("number-report.json")).unwrap()).unwrap();
    let percent = |value: &Value| format!("{:.2}%", value.as_f64().unwrap() * 100.0);
    for figure in [
        &report["reader"]["all"]["whole_number"],
        &report["reader"]["by_gap"]["touching"]["whole_number"],
        &report["baseline"]["all"]["whole_number"],
    ] {
        assert!(row.contains(&percent(figure)), "{row}");
    }
}

/// `plot` draws number readers' CTC losses from their `number-metrics.csv`, and refuses to set
/// one beside a classifier's curves (their losses share no scale) in one line.
#[test]
fn plot_draws_number_readers_losses_and_keeps_them_apart_from_classifiers() {
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("losses.png");
    let plot = |runs: &[&str]| {
        common::lstm_mnist()
            .arg("plot")
            .args(runs)
            .arg("--output")
            .arg(&picture)
            .output()
            .unwrap()
    };
    succeeded(plot(&[NUMBER_RUN]));
    let drawn = image::open(&picture).unwrap();
    assert_eq!((drawn.width(), drawn.height()), (600, 520));
    std::fs::remove_file(&picture).unwrap();
    assert_one_line_error(
        &plot(&[NUMBER_RUN, "artifacts/lstm-adam"]),
        &["number-bilstm", "apart"],
    );
    assert!(!picture.exists());
}
