//! Keras's `EarlyStopping` through Burn's early-stopping support: the rule that stops the
//! epochs, the checkpoint that keeps the best epoch for `restore_best_weights`, and which
//! epoch that was.

use burn::train::checkpoint::MetricCheckpointingStrategy;
use burn::train::metric::store::{Aggregate, Direction, Split};
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{MetricEarlyStoppingStrategy, StoppingCondition};

use crate::config::{EarlyStoppingConfig, Monitor};
use crate::run_dir::EpochMetrics;

/// Stops once `monitor` has not improved for `patience` epochs (as Keras counts them: with
/// patience 0, the first epoch that does not improve is the last).
pub(crate) fn stopping_rule(config: &EarlyStoppingConfig) -> MetricEarlyStoppingStrategy {
    let condition = StoppingCondition::NoImprovementSince {
        n_epochs: config.patience,
    };
    match config.monitor {
        Monitor::ValLoss => MetricEarlyStoppingStrategy::new(
            &LossMetric::new(),
            Aggregate::Mean,
            Direction::Lowest,
            Split::Valid,
            condition,
        ),
        Monitor::ValAccuracy => MetricEarlyStoppingStrategy::new(
            &AccuracyMetric::new(),
            Aggregate::Mean,
            Direction::Highest,
            Split::Valid,
            condition,
        ),
    }
}

/// Keeps the checkpoint of the best epoch so far (beside the last ones kept for resuming).
pub(crate) fn best_checkpoint(monitor: Monitor) -> MetricCheckpointingStrategy {
    match monitor {
        Monitor::ValLoss => MetricCheckpointingStrategy::new(
            &LossMetric::new(),
            Aggregate::Mean,
            Direction::Lowest,
            Split::Valid,
        ),
        Monitor::ValAccuracy => MetricCheckpointingStrategy::new(
            &AccuracyMetric::new(),
            Aggregate::Mean,
            Direction::Highest,
            Split::Valid,
        ),
    }
}

/// The first epoch with the best `monitor` value, as the rules above pick it.
pub(crate) fn best_epoch(rows: &[EpochMetrics], monitor: Monitor) -> Option<usize> {
    let score = |row: &EpochMetrics| match monitor {
        Monitor::ValLoss => row.valid_loss.map(|loss| -loss),
        Monitor::ValAccuracy => row.valid_accuracy,
    };
    let mut best: Option<(usize, f64)> = None;
    for row in rows {
        if let Some(value) = score(row)
            && best.is_none_or(|(_, best_value)| value > best_value)
        {
            best = Some((row.epoch, value));
        }
    }
    best.map(|(epoch, _)| epoch)
}
