//! Pictures through `predict`, along the picture path's rules and the learned ink finder
//! (`--ink-finder`): pictures in MNIST's own form read as the same image read as a tensor, a
//! small light digit on a large dark picture; then the finder where a user meets it alone:
//! `predict --save-inputs` showing what it saw, and `train` on an ink finder's config.

mod common;

use std::path::{Path, PathBuf};

use image::{GrayImage, Luma, imageops};
use lstm_mnist::data::MnistData;
use serde_json::Value;

use common::{assert_one_line_error, succeeded};

const DEFAULT_RUN: &str = "artifacts/lstm-adam-robust";
/// The shipped ink finder.
const FINDER: &str = "artifacts/ink-finder";
/// Test images per check (MNIST's first; the whole test set is in the guide).
const DIGITS: usize = 300;

/// How `predict` finds a picture's ink.
#[derive(Debug, Clone, Copy)]
enum InkPath {
    /// The picture path's rules (the default).
    Rules,
    /// `--ink-finder` with the shipped finder.
    Finder,
}

/// The digits `predict --json` reads in `files` (in order) along `ink_path`, and those of the IDX
/// file's first `files.len()` images (the tensor path).
fn read_both(files: &[PathBuf], ink_path: InkPath) -> (Vec<u8>, Vec<u8>) {
    let finder_args: &[&str] = match ink_path {
        InkPath::Rules => &[],
        InkPath::Finder => &["--ink-finder", FINDER],
    };
    let pictures = common::predicted_digits(
        DEFAULT_RUN,
        finder_args
            .iter()
            .map(std::ffi::OsStr::new)
            .chain(files.iter().map(|f| f.as_os_str())),
    );
    let idx = common::mnist_dir().join("t10k-images-idx3-ubyte.gz");
    let tensors = common::predicted_digits(DEFAULT_RUN, [idx]);
    (pictures, tensors[..files.len()].to_vec())
}

/// Test images 0.. written into `dir` by `draw` (from the 28x28 white-on-black image).
fn written(dir: &Path, draw: impl Fn(&GrayImage, usize) -> GrayImage) -> Vec<PathBuf> {
    let test = MnistData::load_test(&common::mnist_dir()).unwrap();
    (0..DIGITS)
        .map(|index| {
            let digit = GrayImage::from_raw(28, 28, test.image(index).to_vec()).unwrap();
            let path = dir.join(format!("digit-{index}.png"));
            draw(&digit, index).save(&path).unwrap();
            path
        })
        .collect()
}

/// Asserts that, along each ink path, the pictures in `files` give the digits their images
/// give read as tensors, but for at most `misses` of them.
fn assert_both_paths_agree(files: &[PathBuf], misses: usize) {
    for ink_path in [InkPath::Rules, InkPath::Finder] {
        let (pictures, tensors) = read_both(files, ink_path);
        let agree = pictures
            .iter()
            .zip(&tensors)
            .filter(|(a, b)| a == b)
            .count();
        assert!(agree + misses >= DIGITS, "{ink_path:?}: {agree}/{DIGITS}");
    }
}

#[test]
fn mnist_s_own_pictures_read_as_the_same_images_read_as_tensors() {
    let dir = tempfile::tempdir().unwrap();
    let files = written(dir.path(), |digit, _| digit.clone());
    // A picture in MNIST's form is its own input: every one agrees, along either path (the
    // whole test set does too: the guide's table).
    assert_both_paths_agree(&files, 0);
}

#[test]
fn an_enlarged_mnist_picture_reads_as_its_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let files = written(dir.path(), |digit, index| match index % 3 {
        0 => imageops::resize(digit, 112, 112, imageops::FilterType::Nearest),
        1 => imageops::resize(digit, 112, 112, imageops::FilterType::Triangle),
        _ => imageops::resize(digit, 100, 100, imageops::FilterType::CatmullRom),
    });
    assert_both_paths_agree(&files, 1);
}

#[test]
fn a_small_light_digit_on_a_large_dark_picture_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let files = written(dir.path(), |digit, index| {
        let mut picture = GrayImage::from_pixel(160, 120, Luma([8]));
        let (x, y) = ((index * 37 % 120) as i64, (index * 53 % 80) as i64);
        imageops::overlay(&mut picture, digit, x, y);
        picture
    });
    assert_both_paths_agree(&files, 6);
}

#[test]
fn save_inputs_shows_what_the_ink_finder_saw() {
    let dir = tempfile::tempdir().unwrap();
    // A dark 3 on a light page, the page lit from one side.
    let test = MnistData::load_test(&common::mnist_dir()).unwrap();
    let digit = GrayImage::from_raw(28, 28, test.image(18).to_vec()).unwrap();
    let large = imageops::resize(&digit, 140, 140, imageops::FilterType::Triangle);
    let page = GrayImage::from_fn(300, 240, |x, y| {
        let light = 240.0 - 0.3 * x as f32;
        let ink = if (60..200).contains(&x) && (50..190).contains(&y) {
            f32::from(large.get_pixel(x - 60, y - 50).0[0]) / 255.0
        } else {
            0.0
        };
        Luma([(light * (1.0 - 0.85 * ink)) as u8])
    });
    let file = dir.path().join("three.png");
    page.save(&file).unwrap();
    let inputs = dir.path().join("inputs");
    succeeded(
        common::lstm_mnist()
            .args([
                "predict",
                "--checkpoint",
                DEFAULT_RUN,
                "--ink-finder",
                FINDER,
            ])
            .arg("--save-inputs")
            .arg(&inputs)
            .arg(&file)
            .output()
            .unwrap(),
    );
    let seen = image::open(inputs.join("three.ink.png"))
        .unwrap()
        .to_luma8();
    // The finder's probability: high on the 3's strokes, low on the page around it.
    let (w, h) = seen.dimensions();
    let at = |x: u32, y: u32| seen.get_pixel(x * w / 300, y * h / 240).0[0];
    let sure = seen.pixels().filter(|p| p.0[0] > 200).count();
    assert!(sure > 50, "{sure} sure pixels");
    assert!(at(10, 10) < 30 && at(290, 230) < 30, "the page is not ink");
    assert!(inputs.join("three.input.png").is_file());
}

/// An ink finder's config that trains in seconds.
fn tiny_config(dir: &Path, name: &str) -> PathBuf {
    let config = std::fs::read_to_string("configs/ink-finder.toml")
        .unwrap()
        .replace("name = \"ink-finder\"", &format!("name = \"{name}\""))
        .replace("pages = 8000", "pages = 16")
        .replace("epochs = 4", "epochs = 1")
        .replace("[ink_finder]", "[ink_finder]\nreport_pages = 8");
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, config).unwrap();
    path
}

#[test]
fn train_on_an_ink_finder_config_writes_its_run_and_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(dir.path(), "finder");
    let artifacts = dir.path().join("artifacts");
    let train = || common::train_config(&config, &artifacts, "finder");
    succeeded(train());
    let run = artifacts.join("finder");
    for file in ["ink-finder.toml", "ink-finder.bpk", "ink-finder.json"] {
        assert!(run.join(file).is_file(), "{file}");
    }
    let report: Value =
        serde_json::from_slice(&std::fs::read(run.join("ink-finder.json")).unwrap()).unwrap();
    let families: Vec<&str> = report["families"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["family"].as_str().unwrap())
        .collect();
    assert_eq!(
        families,
        ["paper", "light", "camera", "surroundings", "ink", "all"]
    );
    assert_eq!(report["pages"], 8);
    // The run is kept: the same name again is refused, naming what is there.
    assert_one_line_error(&train(), &["finder", "an ink finder", "--overwrite"]);
    // It is no classifier: `results` lists no run.
    let results = succeeded(
        common::lstm_mnist()
            .arg("results")
            .arg("--artifacts")
            .arg(&artifacts)
            .output()
            .unwrap(),
    );
    assert!(!String::from_utf8_lossy(&results.stdout).contains("| finder"));
}

#[test]
fn a_bad_value_in_an_ink_finder_config_is_one_line_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(dir.path(), "bad");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("pages = 16", "pages = 0");
    std::fs::write(&config, text).unwrap();
    let output = common::lstm_mnist()
        .args(["train", "--config"])
        .arg(&config)
        .arg("--artifacts")
        .arg(dir.path().join("artifacts"))
        .output()
        .unwrap();
    assert_one_line_error(&output, &["bad.toml", "ink_finder.pages"]);
    assert!(!dir.path().join("artifacts").exists());
}

#[test]
fn an_ink_finder_that_is_not_one_is_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("digit.png");
    GrayImage::from_pixel(40, 40, Luma([255]))
        .save(&picture)
        .unwrap();
    let output = common::lstm_mnist()
        .args([
            "predict",
            "--checkpoint",
            DEFAULT_RUN,
            "--ink-finder",
            DEFAULT_RUN,
        ])
        .arg(&picture)
        .output()
        .unwrap();
    assert_one_line_error(&output, &["lstm-adam-robust", "not an ink finder's run"]);
}
