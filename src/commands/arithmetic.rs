//! The arithmetic of one training step, from the model's sizes: what `bench` sets against the
//! machine's measured peak to say how close a step comes to it.

use lstm_mnist_model::config::ModelConfig;
use lstm_mnist_model::{COLUMNS, ROWS};

/// Floating-point operations (a multiply-add is two) of the recurrent layer's matrix products
/// in one training step at `batch_size`: the forward pass's `[x_t, h_{t-1}] · [W_x; W_h]` at
/// every step, and backwards the same product's gradient for `h_{t-1}` (steps 2..) and for the
/// weights. The pixels need no gradient; the gate arithmetic and the classifier head are small
/// beside these.
pub(crate) fn training_step_flops(config: &ModelConfig, batch_size: usize) -> f64 {
    let (batch, hidden) = (batch_size as f64, config.hidden as f64);
    let gate_width = config.cell.gates() as f64 * hidden;
    let joined = (COLUMNS + config.hidden) as f64;
    let steps = ROWS as f64;
    let forward = 2.0 * batch * steps * joined * gate_width;
    let hidden_gradients = 2.0 * batch * (steps - 1.0) * gate_width * hidden;
    let weight_gradients = 2.0 * batch * steps * joined * gate_width;
    forward + hidden_gradients + weight_gradients
}

#[cfg(test)]
mod tests {
    use super::*;
    use lstm_mnist_model::cell::Cell;

    #[test]
    fn the_seed_lstm_step_is_about_six_gflop() {
        let config = ModelConfig {
            cell: Cell::Lstm,
            hidden: 256,
            ..ModelConfig::default()
        };
        // 2·128·28·284·1024 twice, plus 2·128·27·1024·256.
        let expected =
            2.0 * 2.0 * 128.0 * 28.0 * 284.0 * 1024.0 + 2.0 * 128.0 * 27.0 * 1024.0 * 256.0;
        assert_eq!(training_step_flops(&config, 128), expected);
        assert!((5.9e9..6.0e9).contains(&expected));
    }
}
