//! The classifier and the number reader as Burn's `Learner` trains and validates them: a batch
//! in, the loss (and a classifier's logits) out.

use burn::nn::loss::{CTCLossConfig, CrossEntropyLossConfig, Reduction};
use burn::tensor::{ExecutionError, Int, Tensor};
use burn::train::metric::{Adaptor, ItemLazy, LossInput};
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};

use crate::model::Classifier;
use crate::number::{BLANK, NumberReader};

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

/// A batch of number strips as the reader's timesteps (`[batch, steps, STEP_FEATURES]`, each
/// strip padded on the right with black to the longest) and their digits.
#[derive(Debug, Clone)]
pub struct NumberBatch {
    /// `[batch, steps, STEP_FEATURES]`, in [0, 1].
    pub steps: Tensor<3>,
    /// `[batch, most digits]`: each number's digits, padded with zeros.
    pub targets: Tensor<2, Int>,
    /// `[batch]`: how many digits each number has.
    pub target_lengths: Tensor<1, Int>,
}

/// What a step of the number reader gives the `Learner`: its CTC loss.
#[derive(Debug)]
pub struct NumberOutput {
    /// The batch's CTC loss, per digit, averaged over the batch (PyTorch's "mean").
    pub loss: Tensor<1>,
}

impl NumberReader {
    /// The batch's CTC loss, every strip read to its (padded) end.
    pub fn forward_ctc(&self, batch: NumberBatch) -> NumberOutput {
        let log_probs = self.forward(batch.steps);
        let [size, steps, _] = log_probs.dims();
        let input_lengths = Tensor::<1, Int>::full([size], steps as i64, &log_probs.device());
        NumberOutput {
            loss: ctc_loss(
                log_probs,
                batch.targets,
                input_lengths,
                batch.target_lengths,
            ),
        }
    }
}

/// CTC loss of log-probabilities `[batch, steps, NUMBER_CLASSES]` against `targets` (`[batch,
/// most digits]`), blank `BLANK`: each sequence's loss over its target length, averaged over
/// the batch (PyTorch's `reduction="mean"`).
pub fn ctc_loss(
    log_probs: Tensor<3>,
    targets: Tensor<2, Int>,
    input_lengths: Tensor<1, Int>,
    target_lengths: Tensor<1, Int>,
) -> Tensor<1> {
    CTCLossConfig::new()
        .with_blank(BLANK)
        .init()
        .forward_with_reduction(
            log_probs.swap_dims(0, 1),
            targets,
            input_lengths,
            target_lengths,
            Reduction::Mean,
        )
}

impl Adaptor<LossInput> for NumberOutput {
    fn adapt(&self) -> LossInput {
        LossInput::new(self.loss.clone())
    }
}

impl ItemLazy for NumberOutput {
    fn sync(self) -> Result<Self, ExecutionError> {
        // As Burn's own outputs: the metric thread gets the loss off the autodiff tape.
        self.loss.device().flush()?;
        Ok(NumberOutput {
            loss: self.loss.without_autodiff(),
        })
    }
}

impl TrainStep for NumberReader {
    type Input = NumberBatch;
    type Output = NumberOutput;

    fn step(&self, batch: NumberBatch) -> TrainOutput<NumberOutput> {
        let item = self.forward_ctc(batch);
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for NumberReader {
    type Input = NumberBatch;
    type Output = NumberOutput;

    fn step(&self, batch: NumberBatch) -> NumberOutput {
        self.forward_ctc(batch)
    }
}
