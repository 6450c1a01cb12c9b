//! Training the ink finder (`lstm_mnist_model::ink`) on generated pages: each example a page
//! (or the part of it around the digit, as the picture path's second look sees it) and the
//! digit's exact ink, the loss a per-pixel binary cross-entropy against that ink. A config with
//! an `[ink_finder]` table is such a run: `lstm-mnist train --config configs/ink-finder.toml`
//! writes `ink-finder.toml`, `ink-finder.bpk` and `ink-finder.json` into its run directory.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use image::{GrayImage, RgbImage, imageops};
use lstm_mnist_model::ModelInput;
use lstm_mnist_model::ink::{
    FINDER_CHANNELS, FINDER_SIDE, FinderView, InkFinder, InkFinderConfig, finder_target,
};
use lstm_mnist_model::preprocess::found::{FoundInk, found_ink};
use lstm_mnist_model::preprocess::{from_ink, ink_bounds};
use lstm_mnist_model::run::TrainedModel;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, MAX_CONFIG_BYTES, describe_toml_error};
use crate::data::Examples;
use crate::data::page_generator::{Family, GeneratedPage, PageGenerator, measured_generators};
use crate::error::{AtFile, Error, Result};
use crate::evaluation::pictures::{GENERATED_PICTURES, accuracy, generated_page};
use crate::fsutil::{read_bounded, read_text_bounded, write_atomic};
use crate::output;
use crate::run_dir::{INK_FINDER_CONFIG, INK_FINDER_REPORT, INK_FINDER_WEIGHTS, ModelRef};
use crate::training::own_run::{OwnExperiment, OwnRunRequest};

/// One training example: the finder's view and the ink it should find there.
pub(crate) struct InkExample {
    view: Vec<f32>,
    target: Vec<f32>,
}

/// An ink finder's config file: its name and seed, and how it is trained.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InkFinderExperiment {
    pub name: String,
    #[serde(default)]
    pub seed: u64,
    pub ink_finder: InkFinderTraining,
}

/// How the ink finder is trained: on `pages` freshly generated pages each epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InkFinderTraining {
    /// The finder's channels at full resolution (the shipped finder's: 12).
    #[serde(default = "default_width")]
    pub width: usize,
    pub pages: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// A family of page conditions the generator holds at its plain value, to measure how
    /// the finder does on what it never saw.
    #[serde(default)]
    pub held_out: Option<Family>,
    /// The classifier run whose reading of the found ink the report scores.
    #[serde(default = "default_reader")]
    pub reader: PathBuf,
    /// Test digits per family in the report (the picture suite's generated rows use 2,000).
    #[serde(default = "default_report_pages")]
    pub report_pages: usize,
}

fn default_report_pages() -> usize {
    GENERATED_PICTURES
}

fn default_reader() -> PathBuf {
    "artifacts/lstm-adam-robust".into()
}

fn default_width() -> usize {
    InkFinderConfig::new().width
}

impl InkFinderExperiment {
    /// Whether the TOML `text` is an ink finder's config (it has an `[ink_finder]` table).
    pub(crate) fn is_one(text: &str) -> bool {
        text.parse::<toml::Table>()
            .is_ok_and(|table| table.contains_key("ink_finder"))
    }

    /// The config in `text`, its values checked; the message names the key (or the line) at
    /// fault, as a classifier's config's does.
    pub(crate) fn parse(text: &str) -> std::result::Result<Self, ConfigError> {
        let config: Self =
            toml::from_str(text).map_err(|e| ConfigError::Toml(describe_toml_error(text, &e)))?;
        let training = &config.ink_finder;
        let positive = |key: &str, value: usize| {
            if value == 0 {
                Err(ConfigError::invalid(
                    &format!("ink_finder.{key}"),
                    "must be at least 1",
                ))
            } else {
                Ok(())
            }
        };
        positive("width", training.width)?;
        positive("pages", training.pages)?;
        positive("epochs", training.epochs)?;
        positive("batch_size", training.batch_size)?;
        positive("report_pages", training.report_pages)?;
        if !(training.learning_rate.is_finite() && training.learning_rate > 0.0) {
            return Err(ConfigError::invalid(
                "ink_finder.learning_rate",
                "must be a positive number",
            ));
        }
        Ok(config)
    }

    /// The finder's architecture this config trains.
    fn finder_config(&self) -> InkFinderConfig {
        InkFinderConfig::new().with_width(self.ink_finder.width)
    }

    fn generator(&self) -> PageGenerator {
        self.ink_finder
            .held_out
            .map_or_else(PageGenerator::all, PageGenerator::without)
    }
}

/// Ink pixels weigh this much more than paper in the loss: a digit covers a few percent of a
/// page, and a finder that misses thin strokes costs more than one that keeps a speck.
const INK_WEIGHT: f32 = 3.0;

/// The examples of `pages` pages drawn from `generator` on the digits of `digits`, each seen
/// whole or, half of the time, cut around its digit with a random margin.
pub(crate) fn ink_examples(
    generator: &PageGenerator,
    digits: &Examples,
    pages: usize,
    seed: u64,
) -> Vec<InkExample> {
    (0..pages)
        .into_par_iter()
        .map(|index| {
            let mut rng = StdRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9e37_79b9));
            let digit = digits.image(rng.random_range(0..digits.len()));
            let page = generator.render(digit, &mut rng);
            let (picture, ink) = if rng.random_bool(0.5) {
                around_the_digit(&page, &mut rng)
            } else {
                (page.picture, page.ink)
            };
            InkExample {
                view: FinderView::of(&picture).values,
                target: finder_target(&ink),
            }
        })
        .collect()
}

/// The part of the page around its digit: the digit's box widened by 15-60% of its longer
/// side on each side, shifted a little, as the picture path cuts it once it has found the digit.
fn around_the_digit(page: &GeneratedPage, rng: &mut StdRng) -> (RgbImage, GrayImage) {
    let Some((left, top, w, h)) = ink_bounds(&page.ink) else {
        return (page.picture.clone(), page.ink.clone());
    };
    let side = w.max(h) as f32;
    let margin = rng.random_range(0.15..=0.6) * side;
    let jitter = |rng: &mut StdRng| rng.random_range(-0.1..=0.1) * side;
    let (pw, ph) = page.picture.dimensions();
    let x0 = (left as f32 - margin + jitter(rng)).clamp(0.0, pw as f32 - 1.0) as u32;
    let y0 = (top as f32 - margin + jitter(rng)).clamp(0.0, ph as f32 - 1.0) as u32;
    let x1 = ((left + w) as f32 + margin + jitter(rng)).clamp(x0 as f32 + 1.0, pw as f32) as u32;
    let y1 = ((top + h) as f32 + margin + jitter(rng)).clamp(y0 as f32 + 1.0, ph as f32) as u32;
    (
        imageops::crop_imm(&page.picture, x0, y0, x1 - x0, y1 - y0).to_image(),
        imageops::crop_imm(&page.ink, x0, y0, x1 - x0, y1 - y0).to_image(),
    )
}

/// The batch's views `[batch, 4, S, S]` and targets `[batch, 1, S, S]`.
fn batch_tensors(examples: &[&InkExample], device: &Device) -> (Tensor<4>, Tensor<4>) {
    let n = examples.len();
    let views: Vec<f32> = examples
        .iter()
        .flat_map(|e| e.view.iter().copied())
        .collect();
    let targets: Vec<f32> = examples
        .iter()
        .flat_map(|e| e.target.iter().copied())
        .collect();
    (
        Tensor::from_data(
            TensorData::new(views, [n, FINDER_CHANNELS, FINDER_SIDE, FINDER_SIDE]),
            device,
        ),
        Tensor::from_data(
            TensorData::new(targets, [n, 1, FINDER_SIDE, FINDER_SIDE]),
            device,
        ),
    )
}

/// The weighted binary cross-entropy of `logits` against soft `targets`, per pixel, averaged.
pub(crate) fn ink_loss(logits: Tensor<4>, targets: Tensor<4>) -> Tensor<1> {
    // log(1 + e^z) computed without overflow: max(z, 0) + log(1 + e^-|z|).
    let softplus = |z: Tensor<4>| z.clone().clamp_min(0.0) + z.abs().neg().exp().log1p();
    let weight = targets.clone().mul_scalar(INK_WEIGHT - 1.0).add_scalar(1.0);
    let loss = targets.clone() * softplus(logits.clone().neg())
        + (targets.neg().add_scalar(1.0)) * softplus(logits);
    (loss * weight).mean()
}

/// Trains a finder on `train` digits; `report(epoch, mean loss)` after each epoch.
pub(crate) fn train_ink_finder(
    experiment: &InkFinderExperiment,
    train: &Examples,
    device: &Device,
    mut report: impl FnMut(usize, f64),
) -> InkFinder {
    let training = &experiment.ink_finder;
    let generator = experiment.generator();
    let train_device = device.clone().autodiff();
    device.seed(experiment.seed);
    let mut finder = experiment.finder_config().init(&train_device);
    let mut optimizer = AdamConfig::new().init();
    let mut rng = StdRng::seed_from_u64(experiment.seed);
    for epoch in 1..=training.epochs {
        let examples = ink_examples(
            &generator,
            train,
            training.pages,
            experiment.seed ^ ((epoch as u64) << 40),
        );
        let mut order: Vec<&InkExample> = examples.iter().collect();
        order.shuffle(&mut rng);
        let (mut total, mut batches) = (0.0, 0);
        for batch in order.chunks(training.batch_size) {
            let (views, targets) = batch_tensors(batch, &train_device);
            let loss = ink_loss(finder.forward(views), targets);
            total += f64::from(loss.clone().into_scalar::<f32>());
            batches += 1;
            let grads = GradientsParams::from_grads(loss.backward(), &finder);
            finder = optimizer.step(training.learning_rate, finder, grads);
        }
        report(epoch, total / batches.max(1) as f64);
    }
    finder.valid()
}

/// An ink finder's run, loaded: the finder, and what a page in the browser builds it from.
pub(crate) struct LoadedFinder {
    pub finder: InkFinder,
    /// Its width (`ink_finder.width` of its config).
    pub width: usize,
    /// Its `ink-finder.bpk`, as it is on disk.
    pub weights: Vec<u8>,
}

/// The ink finder of the run in `dir` (its `ink-finder.toml` and `ink-finder.bpk`), on the CPU.
pub(crate) fn load_finder(dir: &Path) -> Result<LoadedFinder> {
    let config_path = dir.join(INK_FINDER_CONFIG);
    if !config_path.is_file() {
        return Err(Error::file(
            dir,
            format!("not an ink finder's run: it has no {INK_FINDER_CONFIG}"),
        ));
    }
    let text = read_text_bounded(&config_path, MAX_CONFIG_BYTES, "a config")?;
    let experiment = InkFinderExperiment::parse(&text).at(&config_path)?;
    let weights_path = dir.join(INK_FINDER_WEIGHTS);
    let weights = read_bounded(&weights_path, MAX_FINDER_BYTES, "an ink finder's weights")?;
    let finder = InkFinder::from_weights(&experiment.finder_config(), &weights, &Device::flex())
        .map_err(|e| {
            Error::file(
                &weights_path,
                format!("not the weights of the finder its config describes: {e}"),
            )
        })?;
    Ok(LoadedFinder {
        finder,
        width: experiment.ink_finder.width,
        weights,
    })
}

/// An ink finder's weights are far smaller than this.
const MAX_FINDER_BYTES: u64 = 64 << 20;

/// The record bytes of a trained finder.
pub(crate) fn finder_bytes(finder: &InkFinder) -> Vec<u8> {
    finder
        .clone()
        .into_record()
        .into_bytes()
        .expect("a finder's record serialises")
        .to_vec()
}

/// An ink finder's training run, checked: its config and where it goes.
pub type InkFinderRequest = OwnRunRequest<InkFinderExperiment>;

impl OwnExperiment for InkFinderExperiment {
    const CONFIG_FILE: &'static str = INK_FINDER_CONFIG;

    fn name(&self) -> &str {
        &self.name
    }

    fn set_name(&mut self, name: String) {
        self.name = name;
    }

    fn set_epochs(&mut self, epochs: usize) {
        self.ink_finder.epochs = epochs;
    }
}

/// How well a finder finds the ink of generated test pages, per family of conditions (each
/// alone, then all at once): the pages of `robustness --pictures`'s generated rows.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct InkFinderReport {
    pub held_out: Option<Family>,
    /// Pages measured per family.
    pub pages: usize,
    /// The run whose reading is scored.
    pub reader: PathBuf,
    pub families: Vec<FamilyScore>,
}

/// A finder's scores on one family's pages.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct FamilyScore {
    pub family: String,
    /// The mean intersection over union of the found and the true ink.
    pub ink_iou: f64,
    /// The fraction of pages the reader reads right from the found ink.
    pub read_right: f64,
}

/// Trains the finder, writes its run, and reports its ink quality and the reader's accuracy
/// on the generated test pages. The reader and the data are loaded before anything is written.
pub(crate) fn run_ink_finder(request: &InkFinderRequest) -> Result<InkFinderReport> {
    let device = Device::flex();
    let (_, reader) = ModelRef::resolve(&request.experiment.ink_finder.reader)?.load(&device)?;
    let data = request.mnist()?;
    let (run, experiment) = request.claim()?;
    let start = std::time::Instant::now();
    let finder = train_ink_finder(&experiment, &data.train, &device, |epoch, loss| {
        output::line(format!(
            "epoch {epoch}/{}: loss {loss:.4} ({:.0} s)",
            experiment.ink_finder.epochs,
            start.elapsed().as_secs_f64()
        ));
    });
    let bytes = finder_bytes(&finder);
    write_atomic(&run.path().join(INK_FINDER_WEIGHTS), &bytes)?;
    let finder = InkFinder::from_weights(&experiment.finder_config(), &bytes, &device)
        .expect("a finder's own record loads");
    let test = data.test.first(experiment.ink_finder.report_pages);
    let report = InkFinderReport {
        held_out: experiment.ink_finder.held_out,
        pages: test.len(),
        reader: experiment.ink_finder.reader.clone(),
        families: measured_generators()
            .into_iter()
            .map(|(family, _, generator)| {
                let score = family_score(&finder, &reader, &generator, &test, &device, family);
                output::line(format!(
                    "{}: ink IoU {:.3}, read right {:.1}%",
                    score.family,
                    score.ink_iou,
                    score.read_right * 100.0
                ));
                score
            })
            .collect(),
    };
    let json = serde_json::to_string_pretty(&report).expect("a report serialises");
    write_atomic(&run.path().join(INK_FINDER_REPORT), json.as_bytes())?;
    Ok(report)
}

/// The finder's scores on `test`'s generated pages of `generator`.
fn family_score(
    finder: &InkFinder,
    reader: &TrainedModel,
    generator: &PageGenerator,
    test: &Examples,
    device: &Device,
    family: String,
) -> FamilyScore {
    let (ious, inputs): (Vec<f64>, Vec<Option<ModelInput>>) = (0..test.len())
        .into_par_iter()
        .map(|index| {
            let page = generated_page(generator, test, index);
            match found_ink(finder, &page.picture, device) {
                Some(found) => (ink_iou(&found, &page.ink), from_ink(&found.ink).ok()),
                None => (0.0, None),
            }
        })
        .unzip();
    let ink_iou = ious.iter().sum::<f64>() / test.len().max(1) as f64;
    let read_right = accuracy(reader, test, |index| inputs[index]);
    FamilyScore {
        family,
        ink_iou,
        read_right,
    }
}

/// The intersection over union of the found ink and the true ink (each where it exceeds a
/// quarter), on the region the finder last looked at; true ink outside that region counts as
/// missed.
fn ink_iou(found: &FoundInk, truth: &GrayImage) -> f64 {
    let (left, top, width, height) = found.region;
    let inked = |image: &GrayImage| image.pixels().filter(|p| p.0[0] > 64).count() as f64;
    let inside = imageops::crop_imm(truth, left, top, width, height).to_image();
    let scale = (found.ink.width() * found.ink.height()) as f64 / (width * height).max(1) as f64;
    let missed_outside = (inked(truth) - inked(&inside)).max(0.0) * scale;
    let inside = imageops::resize(
        &inside,
        found.ink.width(),
        found.ink.height(),
        imageops::FilterType::Triangle,
    );
    let (mut both, mut either) = (0.0, missed_outside);
    for (f, t) in found.ink.pixels().zip(inside.pixels()) {
        let (f, t) = (f.0[0] > 64, t.0[0] > 64);
        both += f64::from(u8::from(f && t));
        either += f64::from(u8::from(f || t));
    }
    if either == 0.0 { 0.0 } else { both / either }
}
