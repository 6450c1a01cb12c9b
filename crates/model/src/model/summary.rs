//! A Keras-style `model.summary()` table.

use std::fmt::Write;

use burn::module::Module;

use super::{Classifier, ROW_FEATURES, RecurrentLayer};
use crate::NUM_CLASSES;

/// Parameters of the seed's Keras model (LSTM 256 + Dense 10).
pub const KERAS_PARAMETERS: usize = 294_410;

impl Classifier {
    /// One row per layer: name, output shape, parameter count.
    pub fn layers(&self) -> Vec<(String, String, usize)> {
        let facts = self.cell().facts();
        let [hidden, _] = self.head.weight.shape().dims();
        vec![
            (
                format!("{} ({})", facts.name, facts.keras.class),
                format!("(None, {hidden})"),
                self.recurrent.num_params(),
            ),
            (
                "dense (Linear)".to_string(),
                format!("(None, {NUM_CLASSES})"),
                self.head.num_params(),
            ),
        ]
    }

    /// The summary table, with a note on how the count compares with Keras's.
    pub fn summary(&self, title: &str) -> String {
        let rule = |c: char| c.to_string().repeat(66);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Model: \"{title}\"  (input: (None, 28, {ROW_FEATURES}))"
        );
        let _ = writeln!(out, "{}", rule('_'));
        let _ = writeln!(
            out,
            "{:<30}{:<22}{:>14}",
            "Layer (type)", "Output Shape", "Param #"
        );
        let _ = writeln!(out, "{}", rule('='));
        for (name, shape, params) in self.layers() {
            let _ = writeln!(out, "{name:<30}{shape:<22}{:>14}", thousands(params));
        }
        let _ = writeln!(out, "{}", rule('='));
        let total = self.num_params();
        let _ = writeln!(out, "Total params: {}", thousands(total));
        let _ = writeln!(out, "Trainable params: {}", thousands(total));
        let _ = writeln!(out, "Non-trainable params: 0");
        let has_recurrent_bias =
            |lstm: &burn::nn::Lstm| lstm.input_gate.hidden_transform.bias.is_some();
        if let RecurrentLayer::Lstm(lstm) = &self.recurrent
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
}

/// `294410` -> `294,410`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
