//! Batching for Burn's training loop, straight from the shared pixel buffer.
//!
//! Burn's stock shuffling advances one random generator per epoch, so a run resumed at epoch
//! k would see epoch 1's order again. Here each epoch's order is a pure function of the seed
//! and the epoch number, which makes a resumed run identical to an uninterrupted one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::Examples;

/// A batch of images (`[batch, rows, cols]`, pixels scaled to [0, 1]) and their digit labels.
#[derive(Debug, Clone)]
pub struct MnistBatch {
    pub images: Tensor<3>,
    pub targets: Tensor<1, Int>,
}

impl MnistBatch {
    /// Builds the batch of the given examples, scaling pixels by 1/255 as the seed does.
    pub fn from_examples(examples: &Examples, indices: &[usize], device: &Device) -> Self {
        let (rows, cols) = (examples.rows, examples.cols);
        let mut pixels = Vec::with_capacity(indices.len() * rows * cols);
        let mut labels = Vec::with_capacity(indices.len());
        for &index in indices {
            pixels.extend(examples.image(index).iter().map(|&p| f32::from(p) / 255.0));
            labels.push(i64::from(examples.label(index)));
        }
        let batch = indices.len();
        Self {
            images: Tensor::from_data(TensorData::new(pixels, [batch, rows, cols]), device),
            targets: Tensor::from_data(TensorData::new(labels, [batch]), device),
        }
    }
}

/// Yields the examples in batches, reshuffled every epoch when a seed is given.
#[derive(Clone)]
pub struct MnistLoader {
    examples: Examples,
    batch_size: usize,
    shuffle_seed: Option<u64>,
    device: Device,
    /// Epochs started so far, shared by the device copies Burn makes of this loader.
    epochs_started: Arc<AtomicUsize>,
}

impl MnistLoader {
    pub fn new(examples: Examples, batch_size: usize, device: Device) -> Self {
        Self {
            examples,
            batch_size,
            shuffle_seed: None,
            device,
            epochs_started: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Shuffles each epoch, in an order determined by `seed` and the epoch number.
    pub fn shuffled(mut self, seed: u64) -> Self {
        self.shuffle_seed = Some(seed);
        self
    }

    /// Declares that `epochs` epochs already ran, so the next one gets epoch `epochs + 1`'s order.
    pub fn resuming_after(self, epochs: usize) -> Self {
        self.epochs_started.store(epochs, Ordering::SeqCst);
        self
    }

    fn epoch_order(&self, epoch: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.examples.len()).collect();
        if let Some(seed) = self.shuffle_seed {
            let epoch_seed = seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            order.shuffle(&mut StdRng::seed_from_u64(epoch_seed));
        }
        order
    }
}

impl DataLoader<MnistBatch> for MnistLoader {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<MnistBatch> + 'a> {
        let epoch = self.epochs_started.fetch_add(1, Ordering::SeqCst);
        Box::new(MnistBatchIter {
            loader: self,
            order: self.epoch_order(epoch),
            position: 0,
        })
    }

    fn num_items(&self) -> usize {
        self.examples.len()
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<MnistBatch>> {
        Arc::new(Self {
            device: device.clone(),
            ..self.clone()
        })
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<MnistBatch>> {
        Arc::new(Self {
            examples: self.examples.range(start, end),
            ..self.clone()
        })
    }
}

struct MnistBatchIter<'a> {
    loader: &'a MnistLoader,
    order: Vec<usize>,
    position: usize,
}

impl Iterator for MnistBatchIter<'_> {
    type Item = Result<MnistBatch, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.position >= self.order.len() {
            return None;
        }
        let end = (self.position + self.loader.batch_size).min(self.order.len());
        let indices = &self.order[self.position..end];
        self.position = end;
        Some(Ok(MnistBatch::from_examples(
            &self.loader.examples,
            indices,
            &self.loader.device,
        )))
    }
}

impl DataLoaderIterator<MnistBatch> for MnistBatchIter<'_> {
    fn progress(&self) -> Progress {
        Progress::new(self.position, self.order.len(), None)
    }
}
