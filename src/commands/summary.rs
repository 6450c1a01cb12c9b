//! `lstm-mnist summary`: the model of a config, described as Keras's `model.summary()` does.

use std::fmt::Write;

use burn::module::Module;
use lstm_mnist_model::{COLUMNS, NUM_CLASSES, ROWS};

use crate::backend::Backend;
use crate::config::ExperimentConfig;
use crate::error::Result;
use crate::model::{Classifier, RecurrentLayer};
use crate::output::{self, thousands};

#[derive(Debug, Clone)]
pub struct SummaryRequest {
    pub config: ExperimentConfig,
}

pub fn run(request: &SummaryRequest) -> Result<()> {
    let config = &request.config;
    let model = Classifier::new(&config.model, config.seed, &Backend::Flex.device()?);
    output::print(&summary(&model, &config.name));
    Ok(())
}

/// Parameters of the seed's Keras model (LSTM 256 + Dense 10).
pub(crate) const KERAS_PARAMETERS: usize = 294_410;

/// One row per layer of `model`: name, output shape, parameter count.
fn layers(model: &Classifier) -> Vec<(String, String, usize)> {
    let facts = model.cell().facts();
    let [hidden, _] = model.head.weight.shape().dims();
    vec![
        (
            format!("{} ({})", facts.name, facts.keras.class),
            format!("(None, {hidden})"),
            model.recurrent.num_params(),
        ),
        (
            "dense (Linear)".to_string(),
            format!("(None, {NUM_CLASSES})"),
            model.head.num_params(),
        ),
    ]
}

/// `model`'s summary table, with a note on how the count compares with Keras's.
pub(crate) fn summary(model: &Classifier, title: &str) -> String {
    let rule = |c: char| c.to_string().repeat(66);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Model: \"{title}\"  (input: (None, {ROWS}, {COLUMNS}))"
    );
    let _ = writeln!(out, "{}", rule('_'));
    let _ = writeln!(
        out,
        "{:<30}{:<22}{:>14}",
        "Layer (type)", "Output Shape", "Param #"
    );
    let _ = writeln!(out, "{}", rule('='));
    for (name, shape, params) in layers(model) {
        let _ = writeln!(out, "{name:<30}{shape:<22}{:>14}", thousands(params));
    }
    let _ = writeln!(out, "{}", rule('='));
    let total = model.num_params();
    let _ = writeln!(out, "Total params: {}", thousands(total));
    let _ = writeln!(out, "Trainable params: {}", thousands(total));
    let _ = writeln!(out, "Non-trainable params: 0");
    let has_recurrent_bias =
        |lstm: &burn::nn::Lstm| lstm.input_gate.hidden_transform.bias.is_some();
    if let RecurrentLayer::Lstm(lstm) = &model.recurrent
        && has_recurrent_bias(lstm)
    {
        let _ = writeln!(
            out,
            "Note: the seed's Keras model (LSTM 256) has {}. Burn's LSTM gives each gate a bias \
                 on both the input and the recurrent transform: 4 x hidden = {} more here.",
            thousands(KERAS_PARAMETERS),
            thousands(4 * lstm.d_hidden),
        );
    }
    out
}
