//! `lstm-mnist summary`: the model of a config, described as Keras's `model.summary()` does.

use std::fmt::Write;

use burn::module::Module;
use lstm_mnist_model::{COLUMNS, NUM_CLASSES, ROWS};

use crate::backend::Backend;
use crate::config::ExperimentConfig;
use crate::error::Result;
use crate::model::{Classifier, RecurrentLayer};
use crate::output::{self, thousands};
use crate::training::number_reader::NumberExperiment;
use lstm_mnist_model::number::{COLUMNS_PER_STEP, NUMBER_CLASSES, NumberReader, STEP_FEATURES};

/// The config whose model is described.
#[derive(Debug, Clone)]
pub enum SummaryRequest {
    Classifier(ExperimentConfig),
    NumberReader(NumberExperiment),
}

pub fn run(request: &SummaryRequest) -> Result<()> {
    let device = Backend::Flex.device()?;
    output::print(&match request {
        SummaryRequest::Classifier(config) => {
            let model = Classifier::new(&config.model, config.seed, &device);
            summary(&model, &config.name)
        }
        SummaryRequest::NumberReader(experiment) => {
            number_summary(&experiment.number_model.init(&device), &experiment.name)
        }
    });
    Ok(())
}

/// A number reader's summary table: each bidirectional layer, then the head, over a strip of
/// any number of steps.
fn number_summary(reader: &NumberReader, title: &str) -> String {
    // The head reads both directions' states: Burn keeps its weight `[inputs, outputs]`.
    let both_ways = reader.head.weight.shape().dims::<2>()[0];
    let mut rows: Vec<(String, String, usize)> = reader
        .layers
        .iter()
        .enumerate()
        .map(|(k, layer)| {
            (
                format!("bilstm_{} (Bidirectional)", k + 1),
                format!("(None, None, {both_ways})"),
                layer.num_params(),
            )
        })
        .collect();
    rows.push((
        "dense (Linear)".to_string(),
        format!("(None, None, {NUMBER_CLASSES})"),
        reader.head.num_params(),
    ));
    let input = format!("(None, None, {STEP_FEATURES}): {COLUMNS_PER_STEP} strip columns a step");
    table(title, &input, &rows, reader.num_params())
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
    let input = format!("(None, {ROWS}, {COLUMNS})");
    let mut out = table(title, &input, &layers(model), model.num_params());
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

/// Keras's table: the model's name and input, a row per layer, and the totals.
fn table(title: &str, input: &str, rows: &[(String, String, usize)], total: usize) -> String {
    let rule = |c: char| c.to_string().repeat(66);
    let mut out = String::new();
    let _ = writeln!(out, "Model: \"{title}\"  (input: {input})");
    let _ = writeln!(out, "{}", rule('_'));
    let _ = writeln!(
        out,
        "{:<30}{:<22}{:>14}",
        "Layer (type)", "Output Shape", "Param #"
    );
    let _ = writeln!(out, "{}", rule('='));
    for (name, shape, params) in rows {
        let _ = writeln!(out, "{name:<30}{shape:<22}{:>14}", thousands(*params));
    }
    let _ = writeln!(out, "{}", rule('='));
    let _ = writeln!(out, "Total params: {}", thousands(total));
    let _ = writeln!(out, "Trainable params: {}", thousands(total));
    let _ = writeln!(out, "Non-trainable params: 0");
    out
}
