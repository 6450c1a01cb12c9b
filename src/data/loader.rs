//! Batching for Burn's training loop, straight from the shared pixel buffer.
//!
//! Burn's stock shuffling advances one random generator per epoch, so a run resumed at epoch
//! k would see epoch 1's order again. Here each epoch's order is a pure function of the seed
//! and the epoch number, which makes a resumed run identical to an uninterrupted one; so are
//! the augmented images (`augment`). A training loader's batches are made on a thread of their
//! own, a few ahead of the training step, so that augmentation costs the step no time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::Examples;
use super::augment::Augmenter;
use crate::faults;
pub use lstm_mnist_model::train::MnistBatch;

/// Batches a training loader's thread makes ahead of the one being trained on.
const BATCHES_AHEAD: usize = 4;

impl Examples {
    /// The batch of the examples at `indices`, pixels scaled by 1/255 as the seed does.
    pub fn batch(&self, indices: &[usize], device: &Device) -> MnistBatch {
        BatchValues::of(self, indices, None).into_batch(device)
    }
}

/// A batch's values before they become tensors on a device.
struct BatchValues {
    pixels: Vec<f32>,
    labels: Vec<i64>,
    shape: [usize; 3],
}

impl BatchValues {
    /// The examples at `indices`, each distorted as `augment` says for its epoch.
    fn of(examples: &Examples, indices: &[usize], augment: Option<(&Augmenter, usize)>) -> Self {
        let (rows, cols) = (examples.rows, examples.cols);
        let mut pixels = Vec::with_capacity(indices.len() * rows * cols);
        let mut labels = Vec::with_capacity(indices.len());
        for &index in indices {
            let scaled = |p: &u8| f32::from(*p) / 255.0;
            match augment {
                None => pixels.extend(examples.image(index).iter().map(scaled)),
                Some((augmenter, epoch)) => {
                    let image = examples.gray_image(index);
                    let label = examples.label(index);
                    let distorted = augmenter.distort(&image, label, epoch, index);
                    pixels.extend(distorted.iter().map(scaled));
                }
            }
            labels.push(i64::from(examples.label(index)));
        }
        Self {
            pixels,
            labels,
            shape: [indices.len(), rows, cols],
        }
    }

    fn into_batch(self, device: &Device) -> MnistBatch {
        let batch = self.shape[0];
        MnistBatch {
            images: Tensor::from_data(TensorData::new(self.pixels, self.shape), device),
            targets: Tensor::from_data(TensorData::new(self.labels, [batch]), device),
        }
    }
}

/// Yields the examples in batches, reshuffled every epoch when a seed is given.
#[derive(Clone)]
pub(crate) struct MnistLoader {
    examples: Examples,
    batch_size: usize,
    /// Training loaders only: each epoch's order and distortions come from it.
    training: Option<TrainingOrder>,
    device: Device,
    /// Epochs started so far, shared by the device copies Burn makes of this loader.
    epochs_started: Arc<AtomicUsize>,
}

/// How a training loader orders and distorts each epoch's examples.
#[derive(Clone)]
struct TrainingOrder {
    seed: u64,
    augment: Option<Arc<Augmenter>>,
}

impl MnistLoader {
    /// The examples in their order, in batches (validation and test data).
    pub fn new(examples: Examples, batch_size: usize, device: Device) -> Self {
        Self {
            examples,
            batch_size,
            training: None,
            device,
            epochs_started: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Training data: shuffled each epoch in an order determined by `seed` and the epoch
    /// number, distorted as `augment` says, batches made on a thread of their own.
    pub fn training(
        examples: Examples,
        batch_size: usize,
        device: Device,
        seed: u64,
        augment: Option<Augmenter>,
    ) -> Self {
        Self {
            training: Some(TrainingOrder {
                seed,
                augment: augment.map(Arc::new),
            }),
            ..Self::new(examples, batch_size, device)
        }
    }

    /// Declares that `epochs` epochs already ran, so the next one gets epoch `epochs + 1`'s order.
    pub(crate) fn resuming_after(self, epochs: usize) -> Self {
        self.epochs_started.store(epochs, Ordering::SeqCst);
        self
    }

    /// Epoch `epoch`'s order (epochs counted from 0 here, as they always were for shuffling).
    fn epoch_order(&self, epoch: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.examples.len()).collect();
        if let Some(training) = &self.training {
            let epoch_seed = training.seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            order.shuffle(&mut StdRng::seed_from_u64(epoch_seed));
        }
        order
    }

    /// Makes the epoch's batches on a thread of their own, a few ahead; the thread stops when
    /// the receiver is dropped.
    fn batches_ahead(&self, order: &[usize], epoch: usize) -> mpsc::Receiver<BatchValues> {
        let (sender, receiver) = mpsc::sync_channel(BATCHES_AHEAD);
        let examples = self.examples.clone();
        let batches: Vec<Vec<usize>> = order
            .chunks(self.batch_size)
            .map(<[usize]>::to_vec)
            .collect();
        let augment = self.training.as_ref().and_then(|t| t.augment.clone());
        std::thread::Builder::new()
            .name("training-batches".into())
            .spawn(move || {
                for indices in batches {
                    let augment = augment.as_deref().map(|augmenter| (augmenter, epoch));
                    if sender
                        .send(BatchValues::of(&examples, &indices, augment))
                        .is_err()
                    {
                        return;
                    }
                }
            })
            .expect("the batch thread starts");
        receiver
    }
}

impl DataLoader<MnistBatch> for MnistLoader {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<MnistBatch> + 'a> {
        let epoch = self.epochs_started.fetch_add(1, Ordering::SeqCst);
        let order = self.epoch_order(epoch);
        // Epochs are numbered from 1 where people see them (distortions, fault points).
        let ahead = self
            .training
            .is_some()
            .then(|| self.batches_ahead(&order, epoch + 1));
        Box::new(MnistBatchIter {
            loader: self,
            order,
            position: 0,
            epoch: epoch + 1,
            ahead,
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
    /// The epoch, from 1.
    epoch: usize,
    /// A training loader's batches, made ahead on their own thread.
    ahead: Option<mpsc::Receiver<BatchValues>>,
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
        let values = match &self.ahead {
            Some(ahead) => {
                let batch = self.position.div_ceil(self.loader.batch_size);
                faults::crash_point("train-batch", || format!("{}:{batch}", self.epoch));
                ahead.recv().expect("the batch thread makes every batch")
            }
            None => BatchValues::of(&self.loader.examples, indices, None),
        };
        Some(Ok(values.into_batch(&self.loader.device)))
    }
}

impl DataLoaderIterator<MnistBatch> for MnistBatchIter<'_> {
    fn progress(&self) -> Progress {
        Progress::new(self.position, self.order.len(), None)
    }
}
