//! `lstm-mnist predict`: classifies image files and IDX image files with a run's model, a batch
//! at a time, printing each batch's lines as it goes. A file that cannot be read is named on
//! its own line and the others are still classified; the exit status says that one failed.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use lstm_mnist_model::ink::InkFinder;
use lstm_mnist_model::number::read_number_picture;
use lstm_mnist_model::run::TrainedModel;
use lstm_mnist_model::{COLUMNS, ROWS};

use crate::backend::Backend;
use crate::data::NUM_CLASSES;
use crate::error::{AtFile, Error, Result};
use crate::fsutil::{read_bounded, write_atomic};
use crate::inference::{
    ImageSource, InputImage, MAX_PICTURE_BYTES, NumberPrediction, PredictOptions, predict,
};
use crate::output;
use crate::run_dir::{ModelRef, NUMBER_CONFIG};
use crate::training::ink_finder::load_finder;
use crate::training::number_reader::load_reader;

/// What reads the pictures: a digit classifier's run (or one of its checkpoints), or a number
/// reader's run.
#[derive(Debug, Clone)]
pub enum Reader {
    Digits(ModelRef),
    Number(PathBuf),
}

impl Reader {
    /// The reader at `path`: a number reader's run directory (it has `number-model.toml`), or
    /// a classifier's run or checkpoint.
    pub fn resolve(path: &Path) -> Result<Self> {
        if path.join(NUMBER_CONFIG).is_file() {
            return Ok(Reader::Number(path.to_path_buf()));
        }
        ModelRef::resolve(path).map(Reader::Digits)
    }
}

#[derive(Debug, Clone)]
pub struct PredictRequest {
    /// What reads the images.
    pub reader: Reader,
    pub images: Vec<PathBuf>,
    /// How many of the most likely classes to show.
    pub top: usize,
    /// Also the model's belief after each row.
    pub steps: bool,
    pub json: bool,
    /// Where the model inputs go as pictures, when asked.
    pub(crate) save_inputs: Option<PathBuf>,
    /// The run of the learned ink finder that reads pictures; the picture path's rules when
    /// `None`.
    pub(crate) ink_finder: Option<PathBuf>,
    pub backend: Backend,
}

pub fn run(request: &PredictRequest) -> Result<()> {
    if let Some(dir) = &request.save_inputs {
        std::fs::create_dir_all(dir).doing(dir, "cannot create the directory")?;
    }
    let device = request.backend.device()?;
    let model = match &request.reader {
        Reader::Digits(model) => model,
        Reader::Number(dir) => return read_numbers(request, dir, &device),
    };
    let (config, model) = model.load(&device)?;
    let finder = request.ink_finder.as_deref().map(load_finder).transpose()?;
    let mut output = Output {
        request,
        model: &model,
        finder: finder.as_ref().map(|loaded| &loaded.finder),
        class_names: config.data.dataset.source().class_names,
        printed: 0,
    };
    each_file(request, |path| output.classify_file(path))
}

/// Runs `read` on every image file of the request, inside a JSON list when asked; a file that
/// fails is named on its own line and the others are still read.
fn each_file(request: &PredictRequest, mut read: impl FnMut(&Path) -> Result<()>) -> Result<()> {
    if request.json {
        output::print("[");
    }
    let mut unreadable = 0;
    for path in &request.images {
        if let Err(error) = read(path) {
            output::error(&error);
            unreadable += 1;
        }
    }
    if request.json {
        output::print("\n]\n");
    }
    match unreadable {
        0 => Ok(()),
        _ => Err(Error::AlreadyReported),
    }
}

/// Reads the written number in each picture with the number reader of the run in `dir`.
fn read_numbers(request: &PredictRequest, dir: &Path, device: &Device) -> Result<()> {
    if request.ink_finder.is_some() {
        return Err(Error::file(
            dir,
            "a number reader's pictures are read with the rules; --ink-finder finds one digit",
        ));
    }
    let reader = load_reader(dir, device)?;
    let mut printed = 0;
    each_file(request, |path| {
        let bytes = read_bounded(path, MAX_PICTURE_BYTES, "a picture")?;
        let reading = read_number_picture(&reader, &bytes, device).at(path)?;
        if let Some(dir) = &request.save_inputs {
            save_strip(dir, path, &reading.input, reading.input_width)?;
        }
        let prediction = NumberPrediction {
            path: path.display().to_string(),
            answer: reading.answer,
        };
        output::print(&listed(request.json, &mut printed, &prediction, || {
            prediction.line(request.steps)
        }));
        Ok(())
    })
}

/// One prediction as `predict` prints it: its `line`, or with `json` an element of the list
/// (after a comma unless it is the first); `printed` counts those printed so far.
fn listed(
    json: bool,
    printed: &mut usize,
    prediction: &impl serde::Serialize,
    line: impl FnOnce() -> String,
) -> String {
    *printed += 1;
    if json {
        let separator = if *printed == 1 { "\n" } else { ",\n" };
        separator.to_string() + &serde_json::to_string(prediction).expect("predictions serialise")
    } else {
        line() + "\n"
    }
}

/// Where predictions go, and what makes them.
struct Output<'a> {
    request: &'a PredictRequest,
    model: &'a TrainedModel,
    finder: Option<&'a InkFinder>,
    class_names: Option<[&'static str; NUM_CLASSES]>,
    /// Predictions printed so far (JSON needs commas between them).
    printed: usize,
}

impl Output<'_> {
    /// Classifies every image in one file, printing a batch at a time.
    fn classify_file(&mut self, path: &Path) -> Result<()> {
        let mut source = ImageSource::open(path, self.finder)?;
        loop {
            let batch = source.next_batch()?;
            if batch.is_empty() {
                return Ok(());
            }
            let options = PredictOptions {
                top: self.request.top,
                class_names: self.class_names,
                steps: self.request.steps,
            };
            if let Some(dir) = &self.request.save_inputs {
                for image in &batch {
                    save_input(dir, path, image)?;
                }
            }
            let predictions = predict(self.model, &batch, options);
            let text: String = predictions
                .iter()
                .map(|prediction| {
                    listed(self.request.json, &mut self.printed, prediction, || {
                        prediction.line()
                    })
                })
                .collect();
            output::print(&text);
        }
    }
}

/// How much larger a saved input is than the model's 28x28, so that a person can see it.
const SAVED_INPUT_SCALE: u32 = 4;

/// The name a saved input of the file at `path` takes: its stem, and the image's index in an
/// IDX file.
fn saved_name(path: &Path, index: Option<usize>) -> String {
    let stem = path
        .file_stem()
        .unwrap_or(path.as_os_str())
        .to_string_lossy();
    match index {
        Some(index) => format!("{stem}-{index}"),
        None => stem.to_string(),
    }
}

/// Writes the strip the number reader received for the picture at `path` (`ROWS` rows of
/// `width` values) into `dir` (`<name>.input.png`, enlarged as a digit's input is).
fn save_strip(dir: &Path, path: &Path, strip: &[f32], width: usize) -> Result<()> {
    let picture = enlarged(strip, width as u32, ROWS as u32);
    save_png(
        &dir.join(format!("{}.input.png", saved_name(path, None))),
        &picture,
    )
}

/// `values` (`width` by `height`, in [0, 1]) as a picture `SAVED_INPUT_SCALE` times larger.
fn enlarged(values: &[f32], width: u32, height: u32) -> image::GrayImage {
    image::GrayImage::from_fn(
        width * SAVED_INPUT_SCALE,
        height * SAVED_INPUT_SCALE,
        |x, y| {
            let (row, column) = (y / SAVED_INPUT_SCALE, x / SAVED_INPUT_SCALE);
            let value = values[(row * width + column) as usize];
            image::Luma([(value * 255.0).round() as u8])
        },
    )
}

/// Writes `image`'s model input, read from the file at `path`, into `dir` as a picture
/// (`<name>.input.png`), and for a picture what the ink finder saw (`<name>.ink.png`: its
/// probability of ink, white, over the part of the picture it looked at last).
fn save_input(dir: &Path, path: &Path, image: &InputImage) -> Result<()> {
    let name = saved_name(path, image.index);
    let input = enlarged(&image.pixels, COLUMNS as u32, ROWS as u32);
    save_png(&dir.join(format!("{name}.input.png")), &input)?;
    match &image.ink_seen {
        Some(ink) => save_png(&dir.join(format!("{name}.ink.png")), ink),
        None => Ok(()),
    }
}

/// Writes `picture` as a PNG file at `path`, atomically.
fn save_png(path: &Path, picture: &image::GrayImage) -> Result<()> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut bytes, image::ImageFormat::Png)
        .doing(path, "cannot encode")?;
    write_atomic(path, &bytes.into_inner())
}
