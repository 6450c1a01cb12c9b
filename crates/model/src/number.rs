//! The number reader: a line of handwritten digits, 28 pixels high, read column by column by
//! bidirectional LSTMs (Graves et al.'s CTC, 2006; Tesseract 4's recogniser). A linear head
//! gives every step its odds of the ten digits and of CTC's blank; prefix beam search turns
//! them into the most likely number ([`decode`]).

use std::ops::Range;

use burn::module::Module;
use burn::nn::{BiLstm, BiLstmConfig, Linear, LinearConfig};
use burn::store::{ModuleRecord, RecordError};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::config::MAX_HIDDEN;
use crate::model::RecurrentKernel;
use crate::preprocess::PictureError;
use crate::preprocess::line::{NumberStrip, number_strip};
use crate::{NUM_CLASSES, ROWS};

/// The classes of each step: the ten digits, then CTC's blank.
pub const NUMBER_CLASSES: usize = NUM_CLASSES + 1;
/// The blank's class: "no new digit here".
pub const BLANK: usize = NUM_CLASSES;
/// Columns of the strip read together as one timestep: a digit is about 20 columns wide, so
/// pairs still give each digit ten steps, and the recurrence runs half as long.
pub const COLUMNS_PER_STEP: usize = 2;
/// The values of one timestep: `COLUMNS_PER_STEP` columns of `ROWS` pixels.
pub const STEP_FEATURES: usize = ROWS * COLUMNS_PER_STEP;

/// The number reader's architecture: the `[number_model]` table of a config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberModelConfig {
    /// Units of each direction of each bidirectional LSTM.
    pub hidden: usize,
    /// Bidirectional LSTMs stacked, each reading the one below's states at every step.
    #[serde(default = "one_layer")]
    pub layers: usize,
}

fn one_layer() -> usize {
    1
}

/// The most layers a config may stack.
pub const MAX_LAYERS: usize = 8;

impl NumberModelConfig {
    /// What is wrong with these values, if anything.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        if !(1..=MAX_HIDDEN).contains(&self.hidden) {
            return Some((
                "number_model.hidden",
                format!("must be 1 to {MAX_HIDDEN}, not {}", self.hidden),
            ));
        }
        (!(1..=MAX_LAYERS).contains(&self.layers)).then(|| {
            (
                "number_model.layers",
                format!("must be 1 to {MAX_LAYERS}, not {}", self.layers),
            )
        })
    }

    /// A freshly initialised reader (Burn's initialisation, drawn from the device's seed).
    pub fn init(&self, device: &Device) -> NumberReader {
        NumberReader {
            layers: (0..self.layers)
                .map(|layer| {
                    let input = if layer == 0 {
                        STEP_FEATURES
                    } else {
                        2 * self.hidden
                    };
                    BiLstmConfig::new(input, self.hidden, true).init(device)
                })
                .collect(),
            head: LinearConfig::new(2 * self.hidden, NUMBER_CLASSES).init(device),
            kernel: RecurrentKernel::default(),
        }
    }

    /// The reader whose weights are `weights` (a burnpack record of this config's reader).
    pub fn from_weights(
        &self,
        weights: &[u8],
        device: &Device,
    ) -> Result<NumberReader, RecordError> {
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights.to_vec()))?;
        self.init(device).try_load_record(record)
    }
}

/// The number reader: bidirectional LSTMs over the strip's columns and a linear head.
#[derive(Module, Debug)]
pub struct NumberReader {
    /// Read the columns left to right and right to left, the first the strip, each next one
    /// the states of the one below.
    pub layers: Vec<BiLstm>,
    /// Both directions' hidden states to the classes' logits.
    pub head: Linear,
    /// How the recurrent layer runs; not a parameter, so checkpoints do not record it.
    #[module(skip)]
    pub kernel: RecurrentKernel,
}

impl NumberReader {
    /// The same reader, its recurrent layer run by `kernel`.
    pub fn with_kernel(mut self, kernel: RecurrentKernel) -> Self {
        self.kernel = kernel;
        self
    }

    /// Log-probabilities `[batch, steps, NUMBER_CLASSES]` for strips `[batch, steps,
    /// STEP_FEATURES]` (see [`strip_steps`]).
    pub fn forward(&self, steps: Tensor<3>) -> Tensor<3> {
        log_softmax(self.head.forward(self.hidden_states(steps)), 2)
    }

    /// The top layer's states, both directions', at every step: `[batch, steps, 2 * hidden]`.
    fn hidden_states(&self, steps: Tensor<3>) -> Tensor<3> {
        self.layers
            .iter()
            .fold(steps, |below, layer| self.layer_states(layer, below))
    }

    /// One layer's states over `steps`, both directions' at every step.
    fn layer_states(&self, layer: &BiLstm, steps: Tensor<3>) -> Tensor<3> {
        #[cfg(feature = "fused")]
        if self.kernel == RecurrentKernel::Fused
            && crate::model::fused::applies(&layer.forward, &steps)
            && crate::model::fused::applies(&layer.reverse, &steps)
        {
            use crate::model::fused::forward;
            // Burn's reverse direction reads the steps last to first and writes each state at
            // its step: the fused op over the flipped steps, flipped back.
            let ahead = forward(&layer.forward, steps.clone());
            let back = forward(&layer.reverse, steps.flip([1])).flip([1]);
            return Tensor::cat(vec![ahead, back], 2);
        }
        layer.forward(steps, None).0
    }
}

/// A strip's pixels (`ROWS` rows of `width` values, row after row, white ink on black) as the
/// reader's timesteps: `COLUMNS_PER_STEP` columns a step, each column top to bottom; a last
/// partial step is padded with black. Returns the values and the number of steps.
pub fn strip_steps(strip: &[f32], width: usize) -> (Vec<f32>, usize) {
    let steps = width.div_ceil(COLUMNS_PER_STEP);
    let mut values = vec![0.0; steps * STEP_FEATURES];
    for (column, chunk) in (0..width).zip(values.chunks_exact_mut(ROWS)) {
        for (row, value) in chunk.iter_mut().enumerate() {
            *value = strip[row * width + column];
        }
    }
    (values, steps)
}

/// What the reader reads on one strip: its digits, left to right.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberReading {
    /// The digits read, each with its probability and steps.
    pub digits: Vec<ReadDigit>,
}

impl NumberReading {
    /// The number as text ("" when no digit was read).
    pub fn text(&self) -> String {
        self.digits
            .iter()
            .map(|read| char::from(b'0' + read.digit))
            .collect()
    }

    /// How sure the reader is of the whole number: the product of its digits' probabilities.
    pub fn probability(&self) -> f32 {
        self.digits.iter().map(|read| read.probability).product()
    }
}

/// Reads the strip `strip` (`ROWS` rows of `width` values, row after row, white ink on black).
pub fn read_strip(
    reader: &NumberReader,
    strip: &[f32],
    width: usize,
    device: &Device,
) -> NumberReading {
    let (values, steps) = strip_steps(strip, width);
    let input = Tensor::<3>::from_data(TensorData::new(values, [1, steps, STEP_FEATURES]), device);
    let log_probs = reader
        .forward(input)
        .into_data()
        .try_into_vec::<f32>()
        .expect("the reader computes in f32");
    NumberReading {
        digits: decode(&log_probs),
    }
}

/// One digit of a reading: the digit, how sure the reader was of it (its most likely step's
/// probability) and the steps that gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadDigit {
    /// The digit.
    pub digit: u8,
    /// The highest probability any of its steps gave it.
    pub probability: f32,
    /// The steps that gave it (`COLUMNS_PER_STEP` columns of the strip each).
    pub steps: Range<usize>,
}

/// Prefixes prefix beam search keeps at each step.
pub const BEAM_WIDTH: usize = 10;

/// The number a strip's log-probabilities `[steps, NUMBER_CLASSES]` (row after row) spell:
/// the most likely number prefix beam search finds (Graves' CTC decoding, [`BEAM_WIDTH`]
/// prefixes), each digit at the steps of that number's most likely alignment. Where the best
/// path's own number is the most likely (nearly always), this is what [`greedy_decode`]
/// reads; beam search also adds up the other paths to a number.
pub fn decode(log_probs: &[f32]) -> Vec<ReadDigit> {
    let digits = prefix_beam_search(log_probs, BEAM_WIDTH);
    aligned(log_probs, &digits).unwrap_or_else(|| greedy_decode(log_probs))
}

/// `log(e^a + e^b)`, exact where either is `-inf`.
fn log_add(a: f32, b: f32) -> f32 {
    let high = a.max(b);
    if high == f32::NEG_INFINITY {
        return high;
    }
    high + ((a - high).exp() + (b - high).exp()).ln()
}

/// The most likely digits under CTC, summed over every path to them, among the `width`
/// likeliest prefixes kept at each step (each with its log-probability of ending in a blank
/// and in its last digit).
fn prefix_beam_search(log_probs: &[f32], width: usize) -> Vec<u8> {
    let total = |&(blank, digit): &(f32, f32)| log_add(blank, digit);
    let mut beams: Vec<(Vec<u8>, (f32, f32))> = vec![(Vec::new(), (0.0, f32::NEG_INFINITY))];
    for row in log_probs.chunks_exact(NUMBER_CLASSES) {
        let mut next: std::collections::BTreeMap<Vec<u8>, (f32, f32)> = Default::default();
        let mut add = |prefix: Vec<u8>, blank: f32, digit: f32| {
            let entry = next
                .entry(prefix)
                .or_insert((f32::NEG_INFINITY, f32::NEG_INFINITY));
            *entry = (log_add(entry.0, blank), log_add(entry.1, digit));
        };
        for (prefix, (blank, digit)) in &beams {
            let so_far = log_add(*blank, *digit);
            // A blank, or the last digit again without a blank between: the same prefix.
            add(prefix.clone(), so_far + row[BLANK], f32::NEG_INFINITY);
            if let Some(&last) = prefix.last() {
                add(
                    prefix.clone(),
                    f32::NEG_INFINITY,
                    digit + row[usize::from(last)],
                );
            }
            for class in 0..NUM_CLASSES as u8 {
                let p = row[usize::from(class)];
                // The same digit twice needs a blank between.
                let before = if prefix.last() == Some(&class) {
                    *blank
                } else {
                    so_far
                };
                let mut longer = prefix.clone();
                longer.push(class);
                add(longer, f32::NEG_INFINITY, before + p);
            }
        }
        beams = next.into_iter().collect();
        beams.sort_by(|a, b| total(&b.1).total_cmp(&total(&a.1)));
        beams.truncate(width);
    }
    beams
        .into_iter()
        .next()
        .map(|(digits, _)| digits)
        .unwrap_or_default()
}

/// `digits` placed on the steps by their most likely CTC alignment (Viterbi over the digits
/// with blanks between and around), each with its steps and its highest probability on them;
/// `None` where no alignment fits the steps.
fn aligned(log_probs: &[f32], digits: &[u8]) -> Option<Vec<ReadDigit>> {
    let steps = log_probs.len() / NUMBER_CLASSES;
    if steps == 0 {
        return digits.is_empty().then(Vec::new);
    }
    // The states: blank, digit 0, blank, digit 1, ..., blank.
    let states = 2 * digits.len() + 1;
    let class = |state: usize| match state % 2 {
        0 => BLANK,
        _ => usize::from(digits[state / 2]),
    };
    let at = |step: usize, state: usize| log_probs[step * NUMBER_CLASSES + class(state)];
    let mut best = vec![f32::NEG_INFINITY; states];
    let mut from = vec![0usize; steps * states];
    best[0] = at(0, 0);
    if states > 1 {
        best[1] = at(0, 1);
    }
    for step in 1..steps {
        let mut now = vec![f32::NEG_INFINITY; states];
        for state in 0..states {
            // Stay, come from the state before, or skip a blank between two different digits.
            let mut candidates = vec![state];
            if state >= 1 {
                candidates.push(state - 1);
            }
            if state >= 2 && class(state) != BLANK && class(state) != class(state - 2) {
                candidates.push(state - 2);
            }
            let (previous, score) = candidates
                .into_iter()
                .map(|previous| (previous, best[previous]))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .expect("a state has a predecessor");
            now[state] = score + at(step, state);
            from[step * states + state] = previous;
        }
        best = now;
    }
    let last = if states > 1 && best[states - 2] > best[states - 1] {
        states - 2
    } else {
        states - 1
    };
    if best[last] == f32::NEG_INFINITY {
        return None;
    }
    let mut path = vec![last; steps];
    for step in (1..steps).rev() {
        path[step - 1] = from[step * states + path[step]];
    }
    let mut read: Vec<ReadDigit> = Vec::with_capacity(digits.len());
    for (step, &state) in path.iter().enumerate() {
        if state % 2 == 0 {
            continue;
        }
        let probability = at(step, state).exp();
        match read.get_mut(state / 2) {
            Some(digit) => {
                digit.steps.end = step + 1;
                digit.probability = digit.probability.max(probability);
            }
            None => read.push(ReadDigit {
                digit: digits[state / 2],
                probability,
                steps: step..step + 1,
            }),
        }
    }
    Some(read)
}

/// The number greedy decoding reads from one strip's log-probabilities `[steps,
/// NUMBER_CLASSES]` (row after row): the most likely class at each step, runs of one digit
/// merged, blanks dropped.
pub fn greedy_decode(log_probs: &[f32]) -> Vec<ReadDigit> {
    let mut digits: Vec<ReadDigit> = Vec::new();
    let mut previous = BLANK;
    for (step, row) in log_probs.chunks_exact(NUMBER_CLASSES).enumerate() {
        let (class, &best) = row
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .expect("a step has classes");
        let probability = best.exp();
        match digits.last_mut() {
            Some(last) if class == previous && class != BLANK => {
                last.steps.end = step + 1;
                last.probability = last.probability.max(probability);
            }
            _ if class != BLANK => digits.push(ReadDigit {
                digit: class as u8,
                probability,
                steps: step..step + 1,
            }),
            _ => {}
        }
        previous = class;
    }
    digits
}

/// A number read from a picture's strip: the digits, how sure the reader is, and where each
/// digit lies on the strip and on the picture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumberAnswer {
    /// The digits read, as text.
    pub number: String,
    /// The product of the digits' probabilities.
    pub probability: f32,
    /// Each digit, left to right.
    pub digits: Vec<DigitOfNumber>,
}

/// One digit of a read number, and the columns that gave it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DigitOfNumber {
    /// The digit.
    pub digit: u8,
    /// How sure the reader was of it (its most likely step's probability).
    pub probability: f32,
    /// The first and last column (of the strip `--save-inputs` writes) of the steps that read it.
    pub columns: [usize; 2],
    /// Where those columns lie across the picture: from its left edge, in its pixels.
    pub picture_columns: [f32; 2],
}

impl NumberAnswer {
    /// What `reading` of `strip` says.
    pub fn new(reading: &NumberReading, strip: &NumberStrip) -> Self {
        let digit = |read: &ReadDigit| {
            let columns = [
                read.steps.start * COLUMNS_PER_STEP,
                read.steps.end * COLUMNS_PER_STEP - 1,
            ];
            DigitOfNumber {
                digit: read.digit,
                probability: read.probability,
                columns,
                picture_columns: strip.on_picture.picture_span(columns[0]..=columns[1]),
            }
        };
        Self {
            number: reading.text(),
            probability: reading.probability(),
            digits: reading.digits.iter().map(digit).collect(),
        }
    }
}

/// What a number reader reads in a picture, as `serve`'s API and the page in the browser give
/// it: the answer, the strip it read, and where the line lies across the picture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PictureReading {
    /// The number read.
    #[serde(flatten)]
    pub answer: NumberAnswer,
    /// The strip the reader received: `ROWS` rows of `input_width` values, row by row, in
    /// [0, 1].
    pub input: Vec<f32>,
    /// The strip's columns.
    pub input_width: usize,
    /// Where the line of writing lies across the picture: from, to, in its columns.
    pub line_columns: [f32; 2],
}

/// Reads the written number in an encoded picture (PNG, JPEG, ...) with `reader`.
pub fn read_number_picture(
    reader: &NumberReader,
    bytes: &[u8],
    device: &Device,
) -> Result<PictureReading, PictureError> {
    let strip = number_strip(bytes)?;
    let reading = read_strip(reader, &strip.pixels, strip.width, device);
    Ok(PictureReading {
        answer: NumberAnswer::new(&reading, &strip),
        line_columns: strip.line_on_picture(),
        input_width: strip.width,
        input: strip.pixels,
    })
}

/// The `[number_model]` table of a number reader's run config (its `number-model.toml`).
pub fn model_config_in(run_config: &str) -> Result<NumberModelConfig, String> {
    let table: toml::Table = run_config.parse().map_err(|e| format!("not TOML: {e}"))?;
    let model = table
        .get("number_model")
        .ok_or("has no [number_model] table: not a number reader's config")?;
    let config: NumberModelConfig = model
        .clone()
        .try_into()
        .map_err(|e| format!("[number_model]: {e}"))?;
    match config.problem() {
        Some((key, problem)) => Err(format!("{key} {problem}")),
        None => Ok(config),
    }
}

/// A number reader's weights as PyTorch and ONNX keep a stacked bidirectional LSTM's: each
/// layer's two directions (forward, then reverse), gate by gate in Burn's order, each
/// transform's weight `[outputs, inputs]` with both biases; and the head's.
#[cfg(feature = "interchange")]
pub struct NumberLayout {
    /// Units of each direction.
    pub hidden: usize,
    /// Each layer's `[forward, reverse]` gates, the first layer first.
    pub layers: Vec<[Vec<crate::model::Gate>; 2]>,
    /// `[NUMBER_CLASSES, 2 · hidden]`
    pub head_weight: crate::model::HostMatrix,
    /// `[NUMBER_CLASSES]`
    pub head_bias: Vec<f32>,
}

#[cfg(feature = "interchange")]
impl NumberReader {
    /// The reader's weights, laid out as [`NumberLayout`] says.
    pub fn layout(&self) -> NumberLayout {
        use crate::model::{bias_values, lstm_gates, outputs_by_inputs};
        let head_weight = outputs_by_inputs(&self.head);
        NumberLayout {
            hidden: head_weight.cols / 2,
            layers: self
                .layers
                .iter()
                .map(|layer| [lstm_gates(&layer.forward), lstm_gates(&layer.reverse)])
                .collect(),
            head_weight,
            head_bias: bias_values(&self.head),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(class: usize, probability: f32) -> Vec<f32> {
        let rest = (1.0 - probability) / (NUMBER_CLASSES - 1) as f32;
        (0..NUMBER_CLASSES)
            .map(|c| if c == class { probability } else { rest }.ln())
            .collect()
    }

    /// Steps whose best path reads 7, 7 (a blank between), 0: a run of 7s at steps 1-2, a 7
    /// at step 4, a 0 at step 5.
    fn seven_seven_zero() -> Vec<f32> {
        [
            step(BLANK, 0.9),
            step(7, 0.6),
            step(7, 0.8),
            step(BLANK, 0.9),
            step(7, 0.7),
            step(0, 0.5),
            step(BLANK, 0.9),
        ]
        .concat()
    }

    #[test]
    fn greedy_decoding_merges_runs_and_keeps_a_digit_twice_across_a_blank() {
        let steps = seven_seven_zero();
        let read = greedy_decode(&steps);
        let digits: Vec<u8> = read.iter().map(|d| d.digit).collect();
        assert_eq!(digits, [7, 7, 0]);
        assert_eq!(read[0].steps, 1..3);
        assert!((read[0].probability - 0.8).abs() < 1e-6);
        assert_eq!(read[2].steps, 5..6);
        assert!(greedy_decode(&step(BLANK, 0.9)).is_empty());
    }

    /// Two steps, each a digit 7 at `p` and a blank at the rest.
    fn seven_twice(p: f32) -> Vec<f32> {
        let step = |p: f32| -> Vec<f32> {
            (0..NUMBER_CLASSES)
                .map(|c| match c {
                    7 => p,
                    BLANK => 1.0 - p,
                    _ => 1e-9,
                })
                .map(f32::ln)
                .collect()
        };
        [step(p), step(p)].concat()
    }

    #[test]
    fn beam_search_adds_up_the_paths_to_a_number_that_no_single_path_wins() {
        // The best path is two blanks (0.55²), but "7" has three paths (1 - 0.45² - 0.55²).
        let steps = seven_twice(0.45);
        assert!(greedy_decode(&steps).is_empty());
        let read = decode(&steps);
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].digit, 7);
        assert_eq!(read[0].steps.len(), 1);
        assert!((read[0].probability - 0.45).abs() < 1e-6);
        // Where the best path is the most likely number, both read the same, steps and all.
        let steps = seven_seven_zero();
        assert_eq!(decode(&steps), greedy_decode(&steps));
        assert!(decode(&[]).is_empty());
    }

    #[test]
    fn a_strip_becomes_steps_of_whole_columns_top_to_bottom() {
        // Three columns: each pixel is its column number plus its row over 100.
        let width = 3;
        let strip: Vec<f32> = (0..ROWS * width)
            .map(|i| (i % width) as f32 + (i / width) as f32 / 100.0)
            .collect();
        let (values, steps) = strip_steps(&strip, width);
        assert_eq!(steps, 2);
        assert_eq!(values[1], 0.01);
        assert_eq!(values[ROWS], 1.0);
        assert_eq!(values[STEP_FEATURES + ROWS - 1], 2.27);
        assert!(values[STEP_FEATURES + ROWS..].iter().all(|&v| v == 0.0));
    }

    #[cfg(feature = "fused")]
    #[test]
    fn the_fused_kernel_reads_both_directions_as_burns_bilstm_does() {
        use burn::tensor::{Distribution, Tolerance};
        let device = Device::flex();
        let reader = NumberModelConfig {
            hidden: 8,
            layers: 2,
        }
        .init(&device);
        let steps = Tensor::<3>::random([3, 9, STEP_FEATURES], Distribution::Default, &device);
        let fused = reader.forward(steps.clone());
        let stock = reader
            .with_kernel(RecurrentKernel::Stock)
            .forward(steps.clone());
        fused
            .into_data()
            .assert_approx_eq::<f32>(&stock.into_data(), Tolerance::absolute(1e-5));
    }
}
