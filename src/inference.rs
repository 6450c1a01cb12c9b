//! Using trained models on people's own images: reading them (pictures or IDX files, a batch
//! at a time), turning them into MNIST-style inputs, and classifying them.

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData, activation::softmax};
use image::{GrayImage, Luma, imageops};
use serde::Serialize;

use crate::data::NUM_CLASSES;
use crate::data::idx::IdxImageStream;
use crate::error::{Error, Result};
use crate::fsutil::read_bounded;
use crate::model::{DigitClassifier, INFERENCE_BATCH};

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

/// Pictures larger than this are not digit drawings (and could exhaust memory when decoded).
pub const MAX_PICTURE_BYTES: u64 = 64 * 1024 * 1024;

/// The digits of one input file, a batch at a time: a picture (PNG, JPEG, ...) is one digit,
/// an IDX image file holds many.
pub enum DigitSource {
    Picture(Option<DigitImage>),
    Idx {
        stream: IdxImageStream,
        name: String,
    },
}

impl DigitSource {
    pub fn open(path: &Path) -> Result<Self> {
        if path.is_dir() {
            return Err(Error::file(path, "is a directory, not an image"));
        }
        if let Some(stream) = IdxImageStream::open(path)? {
            let name = path.display().to_string();
            return Ok(Self::Idx { stream, name });
        }
        let bytes = read_bounded(path, MAX_PICTURE_BYTES, "an image")?;
        Ok(Self::Picture(Some(DigitImage {
            name: path.display().to_string(),
            pixels: picture_input(&bytes).map_err(|e| Error::file(path, e.to_string()))?,
        })))
    }

    /// The next batch of digits (at most one inference batch); empty once all are read.
    pub fn next_batch(&mut self) -> Result<Vec<DigitImage>> {
        match self {
            Self::Picture(picture) => Ok(picture.take().into_iter().collect()),
            Self::Idx { stream, name } => {
                let first = stream.images_read();
                let (rows, cols) = (stream.rows as u32, stream.cols as u32);
                stream
                    .next_batch(INFERENCE_BATCH)?
                    .into_iter()
                    .enumerate()
                    .map(|(offset, pixels)| {
                        let index = first + offset;
                        Ok(DigitImage {
                            name: format!("{name}[{index}]"),
                            pixels: idx_input(pixels, rows, cols)
                                .map_err(|e| Error::msg(format!("{name}: image {index}: {e}")))?,
                        })
                    })
                    .collect()
            }
        }
    }
}

/// Why a picture gives no model input: it cannot be decoded, or it decodes to something
/// that holds no digit. The message is the one a user reads after the file's name.
#[derive(Debug)]
pub enum PictureError {
    /// Empty, an unknown format, or a corrupt file.
    Unreadable(String),
    /// A readable image that is too small or blank.
    NoDigit(String),
}

impl std::fmt::Display for PictureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (Self::Unreadable(message) | Self::NoDigit(message)) = self;
        f.write_str(message)
    }
}

/// The model input of an encoded picture (PNG, JPEG, ...): decoded, seen as a person sees it
/// (transparent parts are the white page underneath), then made MNIST-style.
pub fn picture_input(bytes: &[u8]) -> std::result::Result<Vec<f32>, PictureError> {
    if bytes.is_empty() {
        return Err(PictureError::Unreadable("is empty".into()));
    }
    let picture = image::load_from_memory(bytes)
        .map_err(|e| PictureError::Unreadable(format!("not a readable image: {e}")))?;
    mnist_style(&over_white(&picture)).map_err(PictureError::NoDigit)
}

/// The picture's gray levels composited over a white background, so that dark strokes on a
/// transparent canvas (what drawing apps and `<canvas>` export) read as dark on white.
fn over_white(picture: &image::DynamicImage) -> GrayImage {
    let with_alpha = picture.to_luma_alpha8();
    GrayImage::from_fn(with_alpha.width(), with_alpha.height(), |x, y| {
        let [gray, alpha] = with_alpha.get_pixel(x, y).0;
        let (gray, alpha) = (u32::from(gray), u32::from(alpha));
        Luma([((gray * alpha + 255 * (255 - alpha) + 127) / 255) as u8])
    })
}

/// The model input of an IDX image: one of the dataset's format (28x28, already centred as
/// the dataset made it) goes in as it is, exactly as in training and `evaluate`; any other
/// size is converted like a picture.
fn idx_input(pixels: Vec<u8>, rows: u32, cols: u32) -> std::result::Result<Vec<f32>, String> {
    if (rows, cols) == (CANVAS, CANVAS) {
        return Ok(pixels.into_iter().map(|p| f32::from(p) / 255.0).collect());
    }
    let gray =
        GrayImage::from_raw(cols, rows, pixels).expect("the IDX image has rows x cols pixels");
    mnist_style(&gray)
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

/// The ten class probabilities of each model input in `pixels` (28x28 values each, one input
/// after another), in one forward pass: `NUM_CLASSES` values per input, in input order.
pub fn class_probabilities(model: &DigitClassifier, pixels: Vec<f32>, device: &Device) -> Vec<f32> {
    let side = CANVAS as usize;
    let count = pixels.len() / (side * side);
    let batch = Tensor::<3>::from_data(TensorData::new(pixels, [count, side, side]), device);
    softmax(model.forward(batch), 1)
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("probabilities are f32")
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
    let probabilities: Vec<f32> = images
        .chunks(INFERENCE_BATCH)
        .flat_map(|chunk| {
            let pixels = chunk
                .iter()
                .flat_map(|i| i.pixels.iter().copied())
                .collect();
            class_probabilities(model, pixels, device)
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
