//! The classifier as Burn's `Learner` trains and validates it: a batch in, the loss and the
//! logits out.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Int, Tensor};
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};

use crate::model::Classifier;

/// A batch of images (`[batch, rows, cols]`, pixels scaled to [0, 1]) and their digit labels.
#[derive(Debug, Clone)]
pub struct MnistBatch {
    /// `[batch, 28, 28]`, row by row, in [0, 1].
    pub images: Tensor<3>,
    /// `[batch]`: each image's class.
    pub targets: Tensor<1, Int>,
}

impl Classifier {
    /// The batch's logits and their cross-entropy loss against its labels.
    pub fn forward_classification(&self, batch: MnistBatch) -> ClassificationOutput {
        let logits = self.forward(batch.images);
        let loss = CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), batch.targets.clone());
        ClassificationOutput::new(loss, logits, batch.targets)
    }
}

impl TrainStep for Classifier {
    type Input = MnistBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: MnistBatch) -> TrainOutput<ClassificationOutput> {
        let item = self.forward_classification(batch);
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for Classifier {
    type Input = MnistBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: MnistBatch) -> ClassificationOutput {
        self.forward_classification(batch)
    }
}
