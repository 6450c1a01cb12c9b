//! Using trained models on people's own images: reading them (pictures or IDX files, a batch
//! at a time; `preprocess` makes them MNIST-style inputs) and classifying them.

use std::path::Path;

use image::GrayImage;
use lstm_mnist_model::inference::{Detail, INFERENCE_BATCH, Reading, turns};
use lstm_mnist_model::number::NumberAnswer;
use lstm_mnist_model::run::TrainedModel;
use lstm_mnist_model::{COLUMNS, ModelInput, ROWS};
use serde::Serialize;

use crate::data::NUM_CLASSES;
use crate::data::idx::IdxImageStream;
use crate::error::{AtFile, Context, Error, Result};
use crate::fsutil::read_bounded;
use crate::preprocess::{NoDigit, found_input, mnist_style, read_picture};
use lstm_mnist_model::ink::InkFinder;

/// An input image and the MNIST-style model input made from it.
pub struct InputImage {
    pub name: String,
    /// Its place in an IDX file; `None` for a picture.
    pub index: Option<usize>,
    pub pixels: ModelInput,
    /// For a picture read with a learned ink finder: its probability of ink over the part of
    /// the picture it looked at last (0-255), what `predict --save-inputs` shows beside the
    /// model input.
    pub ink_seen: Option<GrayImage>,
    /// For a picture read by the rules: whether it holds several digits in a row, which a
    /// digit model cannot read (a number reader can).
    pub several_digits: bool,
}

/// Pictures larger than this are not digit drawings (and could exhaust memory when decoded).
pub(crate) const MAX_PICTURE_BYTES: u64 = 64 * 1024 * 1024;

/// The digits of one input file, a batch at a time: a picture (PNG, JPEG, ...) is one digit,
/// an IDX image file holds many.
pub(crate) enum ImageSource {
    /// Boxed: a model input is 3 KiB, the IDX stream a few words.
    Picture(Option<Box<InputImage>>),
    Idx {
        stream: IdxImageStream,
        name: String,
    },
}

impl ImageSource {
    /// The digits of the file at `path`; a picture's ink is found by `finder` when one is
    /// given, else by the picture path's rules.
    pub fn open(path: &Path, finder: Option<&InkFinder>) -> Result<Self> {
        if path.is_dir() {
            return Err(Error::file(path, "is a directory, not an image"));
        }
        if let Some(stream) = IdxImageStream::open(path)? {
            let name = path.display().to_string();
            return Ok(Self::Idx { stream, name });
        }
        let bytes = read_bounded(path, MAX_PICTURE_BYTES, "an image")?;
        let (pixels, ink_seen, several_digits) = match finder {
            Some(finder) => {
                let found = found_input(&bytes, finder).at(path)?;
                (found.input, found.found.map(|ink| ink.probability), false)
            }
            None => {
                let picture = read_picture(&bytes).at(path)?;
                (picture.input, None, picture.several_digits)
            }
        };
        Ok(Self::Picture(Some(Box::new(InputImage {
            name: path.display().to_string(),
            index: None,
            pixels,
            ink_seen,
            several_digits,
        }))))
    }

    /// The next batch of digits (at most one inference batch); empty once all are read.
    pub fn next_batch(&mut self) -> Result<Vec<InputImage>> {
        match self {
            Self::Picture(picture) => Ok(picture.take().into_iter().map(|image| *image).collect()),
            Self::Idx { stream, name } => {
                let first = stream.images_read();
                let (rows, cols) = (stream.rows as u32, stream.cols as u32);
                stream
                    .next_batch(INFERENCE_BATCH)?
                    .into_iter()
                    .enumerate()
                    .map(|(offset, pixels)| {
                        let index = first + offset;
                        Ok(InputImage {
                            name: format!("{name}[{index}]"),
                            index: Some(index),
                            pixels: idx_input(pixels, rows, cols)
                                .context(format!("{name}: image {index}"))?,
                            ink_seen: None,
                            several_digits: false,
                        })
                    })
                    .collect()
            }
        }
    }
}

/// The model input of an IDX image: one of the dataset's format (28x28, already centred as
/// the dataset made it) goes in as it is, exactly as in training and `evaluate`; any other
/// size is converted like a picture.
fn idx_input(pixels: Vec<u8>, rows: u32, cols: u32) -> std::result::Result<ModelInput, NoDigit> {
    if (rows as usize, cols as usize) == (ROWS, COLUMNS) {
        return Ok(std::array::from_fn(|p| f32::from(pixels[p]) / 255.0));
    }
    let gray =
        GrayImage::from_raw(cols, rows, pixels).expect("the IDX image has rows x cols pixels");
    mnist_style(&gray)
}

/// One class and its probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Guess {
    /// The class index: the digit, for MNIST. (`digit` in JSON, as the API has always said.)
    #[serde(rename = "digit")]
    pub class: usize,
    /// The class's name, for datasets whose classes are not digits (Fashion-MNIST).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'static str>,
    pub probability: f32,
}

/// An image's classification, most likely class first.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    pub path: String,
    /// The most likely class (`digit` in JSON).
    #[serde(rename = "digit")]
    pub class: usize,
    pub probability: f32,
    pub top: Vec<Guess>,
    /// With `--steps`: the ten probabilities after each of the 28 rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<[f32; NUM_CLASSES]>>,
    /// Whether the picture holds several digits in a row (only said when it does).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub several_digits: bool,
}

/// What `predict` says of each image.
#[derive(Debug, Clone, Copy)]
pub struct PredictOptions {
    /// Guesses per image, best first.
    pub top: usize,
    /// Names for the classes, where the dataset has them.
    pub class_names: Option<[&'static str; NUM_CLASSES]>,
    /// Also the probabilities after each row.
    pub steps: bool,
}

/// Classifies the images in one batch, in one forward pass per inference batch (the rows
/// too, where asked for).
pub fn predict(
    model: &TrainedModel,
    images: &[InputImage],
    options: PredictOptions,
) -> Vec<Prediction> {
    let inputs: Vec<ModelInput> = images.iter().map(|image| image.pixels).collect();
    let detail = if options.steps {
        Detail::Rows
    } else {
        Detail::Answer
    };
    let readings = model.read_batch(&inputs, detail);
    images
        .iter()
        .zip(readings)
        .map(|(image, reading)| Prediction::of(image, &reading, options))
        .collect()
}

impl Prediction {
    /// What `predict` says of `image`, which the model read as `reading`.
    fn of(image: &InputImage, reading: &Reading, options: PredictOptions) -> Self {
        let top: Vec<Guess> = reading
            .top(options.top)
            .into_iter()
            .map(|(class, probability)| Guess {
                class,
                name: options.class_names.map(|names| names[class]),
                probability,
            })
            .collect();
        Self {
            path: image.name.clone(),
            class: top[0].class,
            probability: top[0].probability,
            top,
            steps: reading.rows().map(<[_]>::to_vec),
            several_digits: image.several_digits,
        }
    }

    /// `path: 7 (99.2%)`, with the other guesses after it, and with steps the rows after
    /// which the leading class changed.
    pub fn line(&self) -> String {
        let guesses: Vec<String> = self
            .top
            .iter()
            .map(|g| match g.name {
                Some(name) => format!("{} {name} ({:.1}%)", g.class, g.probability * 100.0),
                None => format!("{} ({:.1}%)", g.class, g.probability * 100.0),
            })
            .collect();
        let mut line = format!("{}: {}", self.path, guesses.join(", "));
        if self.several_digits {
            line += " — but the picture holds several digits in a row, and a digit model reads \
                     one: read them with a number reader (--checkpoint artifacts/number-bilstm)";
        }
        for (row, class, probability) in turns(self.steps.as_deref().unwrap_or_default()) {
            line += &format!("\n  row {row}: {class} ({:.0}%)", probability * 100.0);
        }
        line
    }
}

/// What `predict` says of a picture read by a number reader.
#[derive(Debug, Clone, Serialize)]
pub struct NumberPrediction {
    pub path: String,
    #[serde(flatten)]
    pub answer: NumberAnswer,
}

impl NumberPrediction {
    /// `FILE: 2026 (96.0%: 2 99.1%, 0 98.7%, 2 99.9%, 6 97.0%)`, and with `columns` a line per
    /// digit naming the columns that gave it.
    pub fn line(&self, columns: bool) -> String {
        let answer = &self.answer;
        if answer.digits.is_empty() {
            return format!("{}: no digits read", self.path);
        }
        let digits: Vec<String> = answer
            .digits
            .iter()
            .map(|d| format!("{} {:.1}%", d.digit, d.probability * 100.0))
            .collect();
        let mut line = format!(
            "{}: {} ({:.1}%: {})",
            self.path,
            answer.number,
            answer.probability * 100.0,
            digits.join(", ")
        );
        if columns {
            for d in &answer.digits {
                let [first, last] = d.columns;
                line += &format!("\n  columns {first}-{last}: {}", d.digit);
            }
        }
        line
    }
}
