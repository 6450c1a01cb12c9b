//! Batching composed numbers for Burn's training loop. A training loader composes fresh numbers
//! every epoch (epoch k's are numbers `k * per_epoch ..` of its composer: each epoch's numbers
//! and order are a function of the seed and the epoch alone); numbers of similar width share a
//! batch, so that little of a batch is padding.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::tensor::{Device, Int, Tensor, TensorData};
use lstm_mnist_model::number::{STEP_FEATURES, strip_steps};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::numbers::{ComposedNumber, NumberComposer};
pub use lstm_mnist_model::train::NumberBatch;

/// Batches sorted by width together: numbers are sorted within groups of this many batches.
const BATCHES_PER_SORT: usize = 16;

/// Where a loader's numbers come from.
#[derive(Clone)]
enum Numbers {
    /// Composed afresh each epoch: `per_epoch` of them.
    Fresh {
        composer: NumberComposer,
        per_epoch: usize,
        seed: u64,
    },
    /// The same numbers every epoch, in their order (validation, test).
    Fixed(Arc<[ComposedNumber]>),
}

/// Yields numbers in batches of `batch_size`.
#[derive(Clone)]
pub(crate) struct NumberLoader {
    numbers: Numbers,
    /// The part of each epoch's numbers this loader yields (Burn slices loaders per device).
    range: (usize, usize),
    batch_size: usize,
    device: Device,
    epochs_started: Arc<AtomicUsize>,
}

impl NumberLoader {
    /// `per_epoch` fresh numbers of `composer` each epoch, in batches of similar width.
    pub fn training(
        composer: NumberComposer,
        per_epoch: usize,
        batch_size: usize,
        seed: u64,
        device: Device,
    ) -> Self {
        Self {
            numbers: Numbers::Fresh {
                composer,
                per_epoch,
                seed,
            },
            range: (0, per_epoch),
            batch_size,
            device,
            epochs_started: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// `numbers`, in their order, every epoch.
    pub fn fixed(numbers: Vec<ComposedNumber>, batch_size: usize, device: Device) -> Self {
        let len = numbers.len();
        Self {
            numbers: Numbers::Fixed(numbers.into()),
            range: (0, len),
            batch_size,
            device,
            epochs_started: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Epoch `epoch`'s batches (epochs from 0).
    fn epoch_batches(&self, epoch: usize) -> Vec<Vec<ComposedNumber>> {
        let (start, end) = self.range;
        match &self.numbers {
            Numbers::Fixed(numbers) => numbers[start..end]
                .chunks(self.batch_size)
                .map(<[ComposedNumber]>::to_vec)
                .collect(),
            Numbers::Fresh {
                composer,
                per_epoch,
                seed,
            } => {
                let first = (epoch * per_epoch) as u64;
                let numbers: Vec<ComposedNumber> = (start..end)
                    .map(|i| composer.number(first + i as u64))
                    .collect();
                let mut batches: Vec<Vec<ComposedNumber>> = Vec::new();
                for group in numbers.chunks(self.batch_size * BATCHES_PER_SORT) {
                    let mut group = group.to_vec();
                    group.sort_by_key(|number| number.width);
                    batches.extend(group.chunks(self.batch_size).map(<[_]>::to_vec));
                }
                let epoch_seed = seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                batches.shuffle(&mut StdRng::seed_from_u64(epoch_seed));
                batches
            }
        }
    }
}

/// The batch of `numbers`: each strip as the reader's steps, padded with black to the longest,
/// and the digits, padded with zeros to the most.
pub(crate) fn number_batch(numbers: &[ComposedNumber], device: &Device) -> NumberBatch {
    let steps: Vec<(Vec<f32>, usize)> = numbers
        .iter()
        .map(|number| strip_steps(&number.strip, number.width))
        .collect();
    let longest = steps.iter().map(|(_, count)| *count).max().unwrap_or(0);
    let most = numbers.iter().map(|n| n.digits.len()).max().unwrap_or(0);
    let mut values = vec![0.0f32; numbers.len() * longest * STEP_FEATURES];
    let mut targets = vec![0i64; numbers.len() * most];
    for (i, ((strip, _), number)) in steps.iter().zip(numbers).enumerate() {
        let at = i * longest * STEP_FEATURES;
        values[at..at + strip.len()].copy_from_slice(strip);
        for (j, &digit) in number.digits.iter().enumerate() {
            targets[i * most + j] = i64::from(digit);
        }
    }
    let lengths: Vec<i64> = numbers.iter().map(|n| n.digits.len() as i64).collect();
    NumberBatch {
        steps: Tensor::from_data(
            TensorData::new(values, [numbers.len(), longest, STEP_FEATURES]),
            device,
        ),
        targets: Tensor::<2, Int>::from_data(
            TensorData::new(targets, [numbers.len(), most]),
            device,
        ),
        target_lengths: Tensor::<1, Int>::from_data(
            TensorData::new(lengths, [numbers.len()]),
            device,
        ),
    }
}

impl DataLoader<NumberBatch> for NumberLoader {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<NumberBatch> + 'a> {
        let epoch = self.epochs_started.fetch_add(1, Ordering::SeqCst);
        let batches = self.epoch_batches(epoch);
        Box::new(NumberBatchIter {
            loader: self,
            total: batches.iter().map(Vec::len).sum(),
            batches: batches.into_iter(),
            done: 0,
        })
    }

    fn num_items(&self) -> usize {
        self.range.1 - self.range.0
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<NumberBatch>> {
        Arc::new(Self {
            device: device.clone(),
            ..self.clone()
        })
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<NumberBatch>> {
        let from = self.range.0;
        Arc::new(Self {
            range: (from + start, from + end),
            ..self.clone()
        })
    }
}

struct NumberBatchIter<'a> {
    loader: &'a NumberLoader,
    batches: std::vec::IntoIter<Vec<ComposedNumber>>,
    done: usize,
    total: usize,
}

impl Iterator for NumberBatchIter<'_> {
    type Item = Result<NumberBatch, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        let numbers = self.batches.next()?;
        self.done += numbers.len();
        Some(Ok(number_batch(&numbers, &self.loader.device)))
    }
}

impl DataLoaderIterator<NumberBatch> for NumberBatchIter<'_> {
    fn progress(&self) -> Progress {
        Progress::new(self.done, self.total, None)
    }
}
