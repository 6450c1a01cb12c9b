//! The picture suite: each test digit photographed on paper under each page condition
//! (`data::pages`) and read through exactly the path `predict` uses (`picture_input`), so it
//! scores the whole pipeline, not only the model. The page of image i depends only on the
//! suite's seed, the condition and i, so every run is scored on the very same pictures.

use lstm_mnist_model::ModelInput;
use lstm_mnist_model::inference::{Detail, INFERENCE_BATCH};
use lstm_mnist_model::run::TrainedModel;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;

use super::robustness::CorruptionScore;
use crate::data::Examples;
use crate::data::page_generator::{GeneratedPage, PageGenerator, measured_generators};
use crate::data::pages::PageCondition;
use crate::preprocess::picture_input;

/// The suite's own seed: changing it changes every figure.
const SUITE_SEED: u64 = 1979;

/// Test digits per row of generated pages (rendering a page costs more than one of the
/// fixed conditions').
pub(crate) const GENERATED_PICTURES: usize = 2_000;

/// The model's accuracy on `test` photographed under each page condition, then on the first
/// [`GENERATED_PICTURES`] of it on generated pages (each family of conditions alone, then all
/// at once). A picture whose digit the path does not find counts as misread.
pub(crate) fn picture_suite(model: &TrainedModel, test: &Examples) -> Vec<CorruptionScore> {
    let generated_test = test.first(GENERATED_PICTURES);
    let generated = measured_generators()
        .into_iter()
        .map(|(name, ranges, generator)| CorruptionScore {
            name: format!("generated {name}"),
            severity: ranges,
            accuracy: accuracy(model, &generated_test, |index| {
                picture_input(&generated_page(&generator, &generated_test, index).png()).ok()
            }),
        });
    PageCondition::ALL
        .iter()
        .enumerate()
        .map(|(row, &condition)| CorruptionScore {
            name: condition.name().to_string(),
            severity: condition.severity().to_string(),
            accuracy: accuracy(model, test, |index| {
                picture_input(&suite_picture(condition, row, test.image(index), index)).ok()
            }),
        })
        .chain(generated)
        .collect()
}

/// The generated page of test digit `index` of `test`: the same for every run scored.
pub(crate) fn generated_page(
    generator: &PageGenerator,
    test: &Examples,
    index: usize,
) -> GeneratedPage {
    let seed = GENERATED_SEED ^ index as u64;
    generator.render(test.image(index), &mut StdRng::seed_from_u64(seed))
}

/// The generated pages' own seed (apart from the one the ink finder trains with).
const GENERATED_SEED: u64 = 0x7e57_0000_0000;

/// The suite's picture of test image `index` (whose pixels are `digit`) under `condition`, the
/// suite's row `row`.
pub fn suite_picture(condition: PageCondition, row: usize, digit: &[u8], index: usize) -> Vec<u8> {
    let seed = SUITE_SEED ^ ((row as u64) << 32) ^ index as u64;
    condition
        .render(digit, &mut StdRng::seed_from_u64(seed))
        .bytes
}

/// The fraction of `test` read right when image i is read from the model input `input(i)`
/// (`None`: no digit found, misread).
pub(crate) fn accuracy(
    model: &TrainedModel,
    test: &Examples,
    input: impl Fn(usize) -> Option<ModelInput> + Sync,
) -> f64 {
    let mut right = 0;
    let indices: Vec<usize> = (0..test.len()).collect();
    for chunk in indices.chunks(INFERENCE_BATCH) {
        let inputs: Vec<Option<ModelInput>> = chunk.par_iter().map(|&index| input(index)).collect();
        let (read, inputs): (Vec<usize>, Vec<ModelInput>) = chunk
            .iter()
            .zip(inputs)
            .filter_map(|(&index, input)| Some((index, input?)))
            .unzip();
        let readings = model.read_batch(&inputs, Detail::Answer);
        for (index, reading) in read.into_iter().zip(readings) {
            right += usize::from(reading.digit() == usize::from(test.label(index)));
        }
    }
    right as f64 / test.len().max(1) as f64
}
