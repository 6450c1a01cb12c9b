//! How much memory training a model takes, estimated from its sizes before anything is
//! allocated, so that a config that cannot fit is refused at once rather than after minutes of
//! swapping or an out-of-memory kill.

use crate::config::ModelConfig;
use crate::data::NUM_CLASSES;
use crate::fsutil::describe_bytes;
use crate::machine;
use lstm_mnist_model::{COLUMNS, ROWS};

/// Tensors the stock layers' autodiff keeps per gate and timestep for the backward pass (the
/// fused LSTM keeps fewer); measured peaks stay below this estimate.
const KEPT_PER_GATE_STEP: u64 = 8;

/// Bytes to train `config` at `batch_size`: weights, gradients and two optimizer moments, plus
/// the activations kept for backpropagation through time (f32 everywhere).
pub(crate) fn training_bytes(config: &ModelConfig, batch_size: usize) -> u64 {
    let hidden = config.hidden as u64;
    let gates = config.cell.gates() as u64;
    let rows = COLUMNS as u64;
    let parameters =
        gates * (rows * hidden + hidden * hidden + 2 * hidden) + (hidden + 1) * NUM_CLASSES as u64;
    let activations = batch_size as u64 * ROWS as u64 * hidden * gates * KEPT_PER_GATE_STEP;
    4u64.saturating_mul(parameters.saturating_mul(4).saturating_add(activations))
}

/// Training a model too large for this machine's memory: what it needs and what there is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLargeForMemory {
    pub hidden: usize,
    pub batch_size: usize,
    pub needed_bytes: u64,
    pub available_bytes: u64,
}

impl std::fmt::Display for TooLargeForMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`model.hidden` = {} with `training.batch_size` = {} needs about {} to train, more \
             than this machine's {} of memory; use a smaller hidden size or batch",
            self.hidden,
            self.batch_size,
            describe_bytes(self.needed_bytes),
            describe_bytes(self.available_bytes)
        )
    }
}

impl std::error::Error for TooLargeForMemory {}

/// `Err` when training cannot fit this machine's memory.
pub(crate) fn check_fits_in_memory(
    config: &ModelConfig,
    batch_size: usize,
) -> Result<(), TooLargeForMemory> {
    let Some(available) = machine::total_memory_bytes() else {
        return Ok(());
    };
    let needed = training_bytes(config, batch_size);
    if needed <= available {
        return Ok(());
    }
    Err(TooLargeForMemory {
        hidden: config.hidden,
        batch_size,
        needed_bytes: needed,
        available_bytes: available,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_model_needs_about_a_hundred_megabytes() {
        let config = ModelConfig::default();
        let bytes = training_bytes(&config, 128);
        // 295,434 parameters x 4 copies + 128 x 28 x 256 x 4 gates x 8 kept, in f32.
        assert_eq!(bytes, 4 * (295_434 * 4 + 128 * 28 * 256 * 4 * 8));
    }
}
