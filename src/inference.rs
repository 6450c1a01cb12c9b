//! Using trained models: loading a run's checkpoint, and classifying people's own images.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Device, Tensor, TensorData, activation::softmax};
use image::{GrayImage, Luma, imageops};
use serde::Serialize;

use crate::config::{Cell, ExperimentConfig};
use crate::data::{NUM_CLASSES, idx};
use crate::error::{Error, Result};
use crate::evaluation::EVAL_BATCH;
use crate::model::DigitClassifier;
use crate::training::{CHECKPOINT_DIR, CONFIG_FILE, MODEL_FILE};

/// A model loaded from a run, with where it came from.
pub struct LoadedModel {
    pub config: ExperimentConfig,
    pub model: DigitClassifier,
    /// The weights file that was loaded.
    pub model_path: PathBuf,
    /// The run directory (where `config.toml` lives).
    pub run_dir: PathBuf,
}

/// Loads `artifacts/<name>` (its `model.bpk`) or a single `checkpoint/model-N.bpk` of a run,
/// with the architecture from the run's `config.toml`.
pub fn load_checkpoint(path: &Path, device: &Device) -> Result<LoadedModel> {
    let (run_dir, model_path) = if path.is_dir() {
        (path.to_path_buf(), path.join(MODEL_FILE))
    } else if path.is_file() {
        let parent = path.parent().unwrap_or(Path::new("."));
        let run_dir = if parent.file_name().is_some_and(|n| n == CHECKPOINT_DIR) {
            parent.parent().unwrap_or(Path::new("."))
        } else {
            parent
        };
        (run_dir.to_path_buf(), path.to_path_buf())
    } else {
        return Err(Error::file(
            path,
            "no such run directory or checkpoint file",
        ));
    };
    let config_path = run_dir.join(CONFIG_FILE);
    if !config_path.is_file() {
        return Err(Error::file(
            &run_dir,
            format!("not a run directory: it has no {CONFIG_FILE}"),
        ));
    }
    let config = ExperimentConfig::load(&config_path)?;
    if !model_path.is_file() {
        return Err(Error::file(
            &model_path,
            "missing: the run has no final model (did it finish?)",
        ));
    }
    let record = ModuleRecord::load(&model_path).map_err(|e| {
        Error::file(
            &model_path,
            format!("not a readable Burn model (burnpack) file: {e}"),
        )
    })?;
    let model = DigitClassifier::new(&config.model, config.seed, device)
        .try_load_record(record)
        .map_err(|e| {
            // Only a file that does not fit is read a second time, to say what it holds.
            let expected = (config.model.cell, config.model.hidden);
            let message = match architecture_of(&model_path) {
                Some(found) if found != expected => format!(
                    "holds a {} model with hidden size {}, but {} says {} with hidden size {}",
                    found.0,
                    found.1,
                    config_path.display(),
                    expected.0,
                    expected.1
                ),
                _ => format!("does not fit {}: {e}", config_path.display()),
            };
            Error::file(&model_path, message)
        })?;
    Ok(LoadedModel {
        config,
        model,
        model_path,
        run_dir,
    })
}

/// The cell and hidden size a saved classifier was built with, read from its tensor names and
/// the head's shape; `None` when the file is not one of ours.
fn architecture_of(path: &Path) -> Option<(Cell, usize)> {
    let tensors = burn_pack::Reader::from_file(path)
        .ok()?
        .into_tensors()
        .ok()?;
    let mut cell = None;
    let mut hidden = None;
    for tensor in tensors {
        let (name, _, shape, _, _) = tensor.into_parts().ok()?;
        if name == "head.weight" {
            hidden = shape.iter().next().copied();
        }
        cell = cell.or(match name.split('.').nth(1) {
            Some("Lstm") => Some(Cell::Lstm),
            Some("Gru") => Some(Cell::Gru),
            Some("Rnn") => Some(Cell::Rnn),
            _ => None,
        });
    }
    Some((cell?, hidden?))
}

/// Side of the MNIST canvas, and of the box its digits are fitted into.
const CANVAS: u32 = 28;
const DIGIT_BOX: u32 = 20;
/// Smaller inputs cannot hold a recognisable digit.
const MIN_SIDE: u32 = 8;

/// An input image and the MNIST-style 28x28 pixels (0..=1) made from it.
pub struct DigitImage {
    pub name: String,
    pub pixels: Vec<f32>,
}

/// Reads an image file (PNG, JPEG, ...) or an IDX image file (every image in it).
pub fn read_digit_images(path: &Path) -> Result<Vec<DigitImage>> {
    if path.is_dir() {
        return Err(Error::file(path, "is a directory, not an image"));
    }
    let bytes = idx::read_maybe_gzip(path)?;
    if bytes.is_empty() {
        return Err(Error::file(path, "is empty"));
    }
    if bytes.starts_with(&[0, 0, 8, 3]) {
        let images = idx::parse_images(path, &bytes)?;
        let size = images.rows * images.cols;
        return (0..images.count)
            .map(|i| {
                let gray = GrayImage::from_raw(
                    images.cols as u32,
                    images.rows as u32,
                    images.pixels[i * size..(i + 1) * size].to_vec(),
                )
                .expect("the IDX image has rows x cols pixels");
                Ok(DigitImage {
                    name: format!("{}[{i}]", path.display()),
                    pixels: mnist_style(&gray)
                        .map_err(|e| Error::file(path, format!("image {i}: {e}")))?,
                })
            })
            .collect();
    }
    let gray = image::load_from_memory(&bytes)
        .map_err(|e| Error::file(path, format!("not a readable image: {e}")))?
        .to_luma8();
    Ok(vec![DigitImage {
        name: path.display().to_string(),
        pixels: mnist_style(&gray).map_err(|e| Error::file(path, e))?,
    }])
}

/// Converts a grayscale picture the way MNIST was made: white digit on black (inverted when
/// the background is light), fitted into 20x20 by its bounding box, centred by its centre of
/// mass in 28x28, scaled to [0, 1].
pub fn mnist_style(gray: &GrayImage) -> std::result::Result<Vec<f32>, String> {
    let (width, height) = gray.dimensions();
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(format!(
            "too small to hold a digit: {width}x{height} pixels (at least {MIN_SIDE}x{MIN_SIDE})"
        ));
    }
    let border: Vec<u32> = gray
        .enumerate_pixels()
        .filter(|(x, y, _)| *x == 0 || *y == 0 || *x == width - 1 || *y == height - 1)
        .map(|(_, _, p)| u32::from(p.0[0]))
        .collect();
    let light_background = border.iter().sum::<u32>() / border.len() as u32 > 127;
    let ink = GrayImage::from_fn(width, height, |x, y| {
        let v = gray.get_pixel(x, y).0[0];
        Luma([if light_background { 255 - v } else { v }])
    });
    let peak = ink.pixels().map(|p| p.0[0]).max().unwrap_or(0);
    if peak < 64 {
        return Err("no digit found: the image is blank".into());
    }
    // Bounding box of the clearly inked pixels.
    let threshold = peak / 4;
    let (mut left, mut top, mut right, mut bottom) = (width, height, 0, 0);
    for (x, y, p) in ink.enumerate_pixels() {
        if p.0[0] > threshold {
            (left, top) = (left.min(x), top.min(y));
            (right, bottom) = (right.max(x), bottom.max(y));
        }
    }
    let (box_w, box_h) = (right - left + 1, bottom - top + 1);
    let scale = DIGIT_BOX as f32 / box_w.max(box_h) as f32;
    let (fit_w, fit_h) = (
        ((box_w as f32 * scale).round() as u32).max(1),
        ((box_h as f32 * scale).round() as u32).max(1),
    );
    let cropped = imageops::crop_imm(&ink, left, top, box_w, box_h).to_image();
    let fitted = imageops::resize(&cropped, fit_w, fit_h, imageops::FilterType::Triangle);

    // Place it so that its centre of mass lands on the canvas centre, staying inside.
    let (mut mass, mut mx, mut my) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y, p) in fitted.enumerate_pixels() {
        let v = f32::from(p.0[0]);
        mass += v;
        mx += v * x as f32;
        my += v * y as f32;
    }
    let centre = CANVAS as f32 / 2.0;
    let offset = |com: f32, size: u32| {
        ((centre - com).round() as i64).clamp(0, i64::from(CANVAS - size)) as u32
    };
    let (dx, dy) = (offset(mx / mass, fit_w), offset(my / mass, fit_h));
    let mut canvas = vec![0.0f32; (CANVAS * CANVAS) as usize];
    for (x, y, p) in fitted.enumerate_pixels() {
        canvas[((y + dy) * CANVAS + x + dx) as usize] = f32::from(p.0[0]) / 255.0;
    }
    Ok(canvas)
}

/// One class and its probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Guess {
    /// The class index: the digit, for MNIST.
    pub digit: usize,
    /// The class's name, for datasets whose classes are not digits (Fashion-MNIST).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'static str>,
    pub probability: f32,
}

/// An image's classification, most likely class first.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    pub path: String,
    pub digit: usize,
    pub probability: f32,
    pub top: Vec<Guess>,
}

/// Classifies the images in one batch; `top` guesses each, best first, named after
/// `class_names` where the dataset has them.
pub fn predict(
    model: &DigitClassifier,
    images: &[DigitImage],
    top: usize,
    class_names: Option<[&'static str; NUM_CLASSES]>,
    device: &Device,
) -> Vec<Prediction> {
    let side = CANVAS as usize;
    let probabilities: Vec<f32> = images
        .chunks(EVAL_BATCH)
        .flat_map(|chunk| {
            let pixels: Vec<f32> = chunk
                .iter()
                .flat_map(|i| i.pixels.iter().copied())
                .collect();
            let batch =
                Tensor::<3>::from_data(TensorData::new(pixels, [chunk.len(), side, side]), device);
            softmax(model.forward(batch), 1)
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("probabilities are f32")
        })
        .collect();
    images
        .iter()
        .zip(probabilities.chunks(NUM_CLASSES))
        .map(|(image, probabilities)| {
            let mut ranked: Vec<Guess> = probabilities
                .iter()
                .enumerate()
                .map(|(digit, &probability)| Guess {
                    digit,
                    name: class_names.map(|names| names[digit]),
                    probability,
                })
                .collect();
            ranked.sort_by(|a, b| b.probability.total_cmp(&a.probability));
            ranked.truncate(top.max(1));
            Prediction {
                path: image.name.clone(),
                digit: ranked[0].digit,
                probability: ranked[0].probability,
                top: ranked,
            }
        })
        .collect()
}

impl Prediction {
    /// `path: 7 (99.2%)`, with the other guesses after it.
    pub fn line(&self) -> String {
        let guesses: Vec<String> = self
            .top
            .iter()
            .map(|g| match g.name {
                Some(name) => format!("{} {name} ({:.1}%)", g.digit, g.probability * 100.0),
                None => format!("{} ({:.1}%)", g.digit, g.probability * 100.0),
            })
            .collect();
        format!("{}: {}", self.path, guesses.join(", "))
    }
}
