//! `lstm-mnist summary`: the model of a config, described as Keras's `model.summary()` does.

use crate::backend::Backend;
use crate::config::ExperimentConfig;
use crate::error::Result;
use crate::model::Classifier;
use crate::output;

#[derive(Debug, Clone)]
pub struct SummaryRequest {
    pub config: ExperimentConfig,
}

pub fn run(request: &SummaryRequest) -> Result<()> {
    let config = &request.config;
    let model = Classifier::new(&config.model, config.seed, &Backend::Flex.device()?);
    output::print(&model.summary(&config.name));
    Ok(())
}
