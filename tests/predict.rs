//! `predict` on pictures as people make them: strokes on a transparent canvas, and a batch of
//! files of which one cannot be read.

mod common;

use std::path::{Path, PathBuf};

use image::{GrayImage, LumaA};
use lstm_mnist::data::MnistData;

/// The shipped Adam LSTM (98.8% on the test set).
const MODEL: &str = "artifacts/lstm-adam";

fn predict_json(images: &[&Path]) -> (serde_json::Value, std::process::Output) {
    let mut args = vec!["predict", "--json", "--checkpoint", MODEL];
    args.extend(images.iter().map(|path| path.to_str().unwrap()));
    let output = common::run(&args);
    let json = serde_json::from_slice(&output.stdout).unwrap_or_default();
    (json, output)
}

/// MNIST test image `index` and its label.
fn test_digit(index: usize) -> (GrayImage, u8) {
    let test = MnistData::load_test(&common::mnist_dir()).unwrap();
    let image = GrayImage::from_raw(28, 28, test.image(index).to_vec()).unwrap();
    (image, test.label(index))
}

fn save_plain(dir: &Path, index: usize) -> (PathBuf, u8) {
    let (image, label) = test_digit(index);
    let path = dir.join(format!("plain-{index}.png"));
    image.save(&path).unwrap();
    (path, label)
}

#[test]
fn dark_strokes_on_a_transparent_canvas_read_like_the_digit() {
    let dir = tempfile::tempdir().unwrap();
    // The digit drawn dark on white, as a page holds it.
    let (digit, label) = test_digit(0);
    let mut on_white = digit.clone();
    image::imageops::invert(&mut on_white);
    let plain = dir.path().join("on-white.png");
    on_white.save(&plain).unwrap();
    // What a canvas exports: black ink whose opacity is the stroke, nothing elsewhere.
    let strokes =
        image::ImageBuffer::from_fn(28, 28, |x, y| LumaA([0u8, digit.get_pixel(x, y).0[0]]));
    let transparent = dir.path().join("transparent.png");
    strokes.save(&transparent).unwrap();

    let (json, output) = predict_json(&[&plain, &transparent]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(json[1]["digit"].as_u64(), Some(u64::from(label)), "{json}");
    // Composited over white it is the same picture as the one on white, so the same answer.
    assert_eq!(json[1]["probability"], json[0]["probability"], "{json}");
}

#[test]
fn one_unreadable_file_is_reported_and_the_others_are_still_classified() {
    let dir = tempfile::tempdir().unwrap();
    let (first, first_label) = save_plain(dir.path(), 1);
    let notes = dir.path().join("notes.png");
    std::fs::write(&notes, "these are my notes").unwrap();
    let (last, last_label) = save_plain(dir.path(), 2);

    let (json, output) = predict_json(&[&first, &notes, &last]);
    assert!(!output.status.success(), "an unreadable file fails the run");
    let digits: Vec<u64> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["digit"].as_u64().unwrap())
        .collect();
    assert_eq!(digits, [u64::from(first_label), u64::from(last_label)]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("notes.png") && stderr.contains("not a readable image"),
        "{stderr}"
    );
}
