//! Scoring readers of whole numbers on composed test numbers: whole-number accuracy and
//! character error rate (edit distance over digits), overall, by length and by the narrowest
//! gap; for the number reader, and for the obvious alternative, cutting the strip into
//! connected marks and classifying each with a digit model.

use std::collections::BTreeMap;

use burn::tensor::Device;
use image::{GrayImage, Luma, imageops};
use imageproc::region_labelling::{Connectivity, connected_components};
use lstm_mnist_model::inference::Detail;
use lstm_mnist_model::number::{NUMBER_CLASSES, NumberReader, decode};
use lstm_mnist_model::preprocess::from_ink;
use lstm_mnist_model::run::TrainedModel;
use lstm_mnist_model::{ModelInput, ROWS};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::number_loader::number_batch;
use crate::data::numbers::ComposedNumber;

/// Numbers read at once.
const READ_BATCH: usize = 256;

/// How often a reader got whole numbers right and how many digits it got wrong.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NumberScores {
    pub numbers: usize,
    /// The fraction of numbers read exactly.
    pub whole_number: f64,
    /// Edits (digits inserted, dropped or changed) over the digits there are.
    pub character_error_rate: f64,
}

/// A reader's scores, overall and by subset.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NumberEvaluation {
    pub all: NumberScores,
    /// By digits in the number.
    pub by_length: BTreeMap<usize, NumberScores>,
    /// By the narrowest gap between neighbouring digits (see [`GapKind`]).
    pub by_gap: BTreeMap<GapKind, NumberScores>,
}

impl NumberEvaluation {
    /// The scores as `evaluate` prints them: all numbers, then by length and by gap.
    pub fn table(&self) -> String {
        let line = |label: String, scores: &NumberScores| {
            format!(
                "  {label:<14} {:>6}  {:>7.2}%  {:>6.2}%\n",
                scores.numbers,
                scores.whole_number * 100.0,
                scores.character_error_rate * 100.0
            )
        };
        let mut text = String::from("                 numbers    whole      CER\n");
        text += &line("all".into(), &self.all);
        for (length, scores) in &self.by_length {
            let digits = if *length == 1 { "digit" } else { "digits" };
            text += &line(format!("{length} {digits}"), scores);
        }
        for (gap, scores) in &self.by_gap {
            text += &line(gap.name().into(), scores);
        }
        text
    }
}

/// How close a number's digits come together, by its narrowest gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GapKind {
    /// One digit: no gap.
    Single,
    /// Two digits' ink overlaps or touches (gap of 0 columns or less).
    Touching,
    /// 1 to 4 columns.
    Close,
    /// 5 columns or more.
    Wide,
}

impl GapKind {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            GapKind::Single => "single digit",
            GapKind::Touching => "touching",
            GapKind::Close => "close",
            GapKind::Wide => "wide",
        }
    }

    fn of(number: &ComposedNumber) -> Self {
        match number.closest_gap {
            None => GapKind::Single,
            Some(gap) if gap <= 0 => GapKind::Touching,
            Some(gap) if gap <= 4 => GapKind::Close,
            Some(_) => GapKind::Wide,
        }
    }
}

/// Scores the readings `read` (one per number, in order) of `numbers`.
pub fn score(numbers: &[ComposedNumber], read: &[Vec<u8>]) -> NumberEvaluation {
    let mut tallies: BTreeMap<(u8, usize), Tally> = BTreeMap::new();
    for (number, read) in numbers.iter().zip(read) {
        let edits = strsim::generic_levenshtein(&number.digits, read);
        let right = edits == 0;
        for key in [
            (0, 0),
            (1, number.digits.len()),
            (2, GapKind::of(number) as usize),
        ] {
            tallies
                .entry(key)
                .or_default()
                .add(number.digits.len(), edits, right);
        }
    }
    let scores = |kind: u8| tallies.iter().filter(move |((k, _), _)| *k == kind);
    let gaps = [
        GapKind::Single,
        GapKind::Touching,
        GapKind::Close,
        GapKind::Wide,
    ];
    NumberEvaluation {
        all: tallies.get(&(0, 0)).map(Tally::scores).unwrap_or_default(),
        by_length: scores(1).map(|((_, n), t)| (*n, t.scores())).collect(),
        by_gap: scores(2)
            .map(|((_, g), t)| (gaps[*g], t.scores()))
            .collect(),
    }
}

#[derive(Debug, Default)]
struct Tally {
    numbers: usize,
    right: usize,
    digits: usize,
    edits: usize,
}

impl Tally {
    fn add(&mut self, digits: usize, edits: usize, right: bool) {
        self.numbers += 1;
        self.right += usize::from(right);
        self.digits += digits;
        self.edits += edits;
    }

    fn scores(&self) -> NumberScores {
        NumberScores {
            numbers: self.numbers,
            whole_number: self.right as f64 / self.numbers.max(1) as f64,
            character_error_rate: self.edits as f64 / self.digits.max(1) as f64,
        }
    }
}

/// What `reader` reads on each of `numbers` (`lstm_mnist_model::number::decode`).
pub fn read_numbers(
    reader: &NumberReader,
    numbers: &[ComposedNumber],
    device: &Device,
) -> Vec<Vec<u8>> {
    let mut read = Vec::with_capacity(numbers.len());
    for chunk in numbers.chunks(READ_BATCH) {
        let batch = number_batch(chunk, device);
        let log_probs = reader.forward(batch.steps);
        let [_, steps, _] = log_probs.dims();
        let values: Vec<f32> = log_probs
            .into_data()
            .try_into_vec::<f32>()
            .expect("log-probabilities are f32");
        read.extend(
            values
                .chunks_exact(steps * NUMBER_CLASSES)
                .map(|one| decode(one).iter().map(|d| d.digit).collect::<Vec<u8>>()),
        );
    }
    read
}

/// What the component baseline reads on each of `numbers`: the strip's connected marks, left
/// to right, each classified by `digits` as a digit on its own.
pub fn read_by_components(digits: &TrainedModel, numbers: &[ComposedNumber]) -> Vec<Vec<u8>> {
    numbers
        .par_iter()
        .map(|number| {
            let inputs = component_inputs(number);
            digits
                .read_batch(&inputs, Detail::Answer)
                .iter()
                .map(|reading| reading.digit() as u8)
                .collect()
        })
        .collect()
}

/// Ink above this (of 255) joins marks into one component.
const COMPONENT_INK: u8 = 64;
/// Components smaller than this many pixels are specks, not digits.
const SMALLEST_COMPONENT: usize = 12;

/// The strip's connected marks, left to right, each as a digit model's input.
fn component_inputs(number: &ComposedNumber) -> Vec<ModelInput> {
    let strip = GrayImage::from_fn(number.width as u32, ROWS as u32, |x, y| {
        let value = number.strip[y as usize * number.width + x as usize];
        Luma([(value * 255.0).round() as u8])
    });
    let inked = GrayImage::from_fn(strip.width(), strip.height(), |x, y| {
        Luma([u8::from(strip.get_pixel(x, y).0[0] > COMPONENT_INK)])
    });
    let labels = connected_components(&inked, Connectivity::Eight, Luma([0u8]));
    let count = labels.pixels().map(|p| p.0[0]).max().unwrap_or(0) as usize;
    // Per component: its pixels and its leftmost column.
    let mut marks = vec![(0usize, u32::MAX); count];
    for (x, _, label) in labels.enumerate_pixels() {
        if label.0[0] > 0 {
            let mark = &mut marks[label.0[0] as usize - 1];
            mark.0 += 1;
            mark.1 = mark.1.min(x);
        }
    }
    let mut order: Vec<usize> = (0..count)
        .filter(|&i| marks[i].0 >= SMALLEST_COMPONENT)
        .collect();
    order.sort_by_key(|&i| marks[i].1);
    order
        .into_iter()
        .filter_map(|i| {
            // The component's own ink, soft edges and all (within a pixel of its mask).
            let mask = GrayImage::from_fn(strip.width(), strip.height(), |x, y| {
                Luma([u8::from(labels.get_pixel(x, y).0[0] as usize == i + 1)])
            });
            let near =
                imageproc::morphology::dilate(&mask, imageproc::distance_transform::Norm::LInf, 1);
            let mut ink = strip.clone();
            for (value, keep) in ink.pixels_mut().zip(near.pixels()) {
                if keep.0[0] == 0 {
                    value.0[0] = 0;
                }
            }
            let side = ink.width().max(ROWS as u32);
            let mut square = GrayImage::new(side, side);
            imageops::overlay(&mut square, &ink, 0, i64::from((side - ink.height()) / 2));
            from_ink(&square).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(digits: &[u8], closest_gap: Option<i32>) -> ComposedNumber {
        ComposedNumber {
            strip: vec![],
            width: 0,
            digits: digits.to_vec(),
            closest_gap,
        }
    }

    #[test]
    fn scores_count_whole_numbers_and_edits_by_length_and_gap() {
        let numbers = [
            number(&[1, 2, 3], Some(-2)),
            number(&[4, 5], Some(3)),
            number(&[6], None),
        ];
        // One right, one with a digit changed, one with a digit dropped.
        let read = [vec![1, 2, 3], vec![4, 7], vec![]];
        let scores = score(&numbers, &read);
        assert_eq!(scores.all.numbers, 3);
        assert!((scores.all.whole_number - 1.0 / 3.0).abs() < 1e-9);
        assert!((scores.all.character_error_rate - 2.0 / 6.0).abs() < 1e-9);
        assert_eq!(scores.by_length[&3].whole_number, 1.0);
        assert_eq!(scores.by_length[&2].character_error_rate, 0.5);
        assert_eq!(scores.by_gap[&GapKind::Touching].whole_number, 1.0);
        assert_eq!(scores.by_gap[&GapKind::Close].whole_number, 0.0);
        assert_eq!(scores.by_gap[&GapKind::Single].character_error_rate, 1.0);
        assert!(!scores.by_gap.contains_key(&GapKind::Wide));
    }
}
