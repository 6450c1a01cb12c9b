//! `lstm-mnist predict`: classifies image files and IDX image files with a run's model, a batch
//! at a time, printing each batch's lines as it goes. A file that cannot be read is named on
//! its own line and the others are still classified; the exit status says that one failed.

use std::path::{Path, PathBuf};

use lstm_mnist_model::ink::InkFinder;
use lstm_mnist_model::run::TrainedModel;
use lstm_mnist_model::{COLUMNS, ROWS};

use crate::backend::Backend;
use crate::data::NUM_CLASSES;
use crate::error::{AtFile, Error, Result};
use crate::fsutil::write_atomic;
use crate::inference::{ImageSource, InputImage, PredictOptions, predict};
use crate::output;
use crate::run_dir::ModelRef;
use crate::training::ink_finder::load_finder;

#[derive(Debug, Clone)]
pub struct PredictRequest {
    /// A run's model, or one of its checkpoints.
    pub model: ModelRef,
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
    let (config, model) = request.model.load(&device)?;
    let finder = request.ink_finder.as_deref().map(load_finder).transpose()?;
    let mut output = Output {
        request,
        model: &model,
        finder: finder.as_ref().map(|loaded| &loaded.finder),
        class_names: config.data.dataset.source().class_names,
        printed: 0,
    };
    if request.json {
        output::print("[");
    }
    let mut unreadable = 0;
    for path in &request.images {
        if let Err(error) = output.classify_file(path) {
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
            let mut text = String::new();
            for prediction in predictions {
                if self.request.json {
                    text += if self.printed == 0 { "\n" } else { ",\n" };
                    text += &serde_json::to_string(&prediction).expect("predictions serialise");
                } else {
                    text += &(prediction.line() + "\n");
                }
                self.printed += 1;
            }
            output::print(&text);
        }
    }
}

/// How much larger a saved input is than the model's 28x28, so that a person can see it.
const SAVED_INPUT_SCALE: u32 = 4;

/// Writes `image`'s model input, read from the file at `path`, into `dir` as a picture
/// (`<name>.input.png`), and for a picture what the ink finder saw (`<name>.ink.png`: its
/// probability of ink, white, over the part of the picture it looked at last).
fn save_input(dir: &Path, path: &Path, image: &InputImage) -> Result<()> {
    let stem = path
        .file_stem()
        .unwrap_or(path.as_os_str())
        .to_string_lossy();
    let name = match image.index {
        Some(index) => format!("{stem}-{index}"),
        None => stem.to_string(),
    };
    let (width, height) = (COLUMNS as u32, ROWS as u32);
    let input = image::GrayImage::from_fn(
        width * SAVED_INPUT_SCALE,
        height * SAVED_INPUT_SCALE,
        |x, y| {
            let (row, column) = (y / SAVED_INPUT_SCALE, x / SAVED_INPUT_SCALE);
            let value = image.pixels[(row * width + column) as usize];
            image::Luma([(value * 255.0).round() as u8])
        },
    );
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
