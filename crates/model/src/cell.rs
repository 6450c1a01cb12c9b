//! The recurrent cells a classifier can have, and everything the program and each file format
//! say about one: a cell is described once, in [`Cell::facts`], and every other module asks
//! it. Where a module must decide by cell it matches on [`Cell`] exhaustively, so adding a
//! cell makes the compiler name each such place.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The recurrent layer that reads the image row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Cell {
    /// Long short-term memory (four gates).
    Lstm,
    /// Gated recurrent unit, Keras's `reset_after` form (three gates).
    Gru,
    /// Simple RNN with tanh (one gate).
    Rnn,
}

/// What one cell is, in this program and in the formats it reads and writes. Every format
/// here has each cell; a cell that some format lacks would make that format's field an
/// `Option`.
#[derive(Debug)]
pub struct CellFacts {
    /// The cell's name in configs, on the command line and in `summary`.
    pub name: &'static str,
    /// The variant's name in a saved record (`model.bpk`): `recurrent.<tag>.…`.
    pub record_tag: &'static str,
    /// Gate blocks, each `hidden` wide, as Keras counts them (the GRU's new gate is one
    /// block), in Burn's order (Keras's).
    pub gates: usize,
    /// The gate that starts with a bias of one (Keras's `unit_forget_bias`), if any.
    pub forget_gate: Option<usize>,
    /// The cell as Keras has it.
    pub keras: KerasCell,
    /// The cell as PyTorch has it.
    pub torch: TorchCell,
    /// The cell as ONNX has it.
    pub onnx: OnnxCell,
}

/// The cell as a Keras layer.
#[derive(Debug)]
pub struct KerasCell {
    /// The layer class, `class_name` in a model config.
    pub class: &'static str,
    /// Its group in a Keras 3 `.weights.h5`: the class name in snake case.
    pub group: &'static str,
    /// Whether the layer has a `recurrent_activation` (its gates' sigmoid).
    pub recurrent_activation: bool,
    /// Whether Keras keeps the recurrent transform's bias apart (the GRU's `reset_after`):
    /// then both of Burn's biases are kept, else Keras's one bias is their sum.
    pub recurrent_bias: bool,
}

/// The cell as a PyTorch module.
#[derive(Debug)]
pub struct TorchCell {
    /// The module's class, e.g. `nn.LSTM`.
    pub class: &'static str,
    /// Which of Burn's gates stands at each of PyTorch's places.
    pub gate_order: &'static [usize],
}

/// The cell as an ONNX operator.
#[derive(Debug)]
pub struct OnnxCell {
    /// The operator's name, e.g. `LSTM`.
    pub operator: &'static str,
    /// Which of Burn's gates stands at each of ONNX's places.
    pub gate_order: &'static [usize],
    /// Whether the operator needs `linear_before_reset=1` to compute Burn's cell (the GRU
    /// that applies the reset gate after the hidden transform).
    pub linear_before_reset: bool,
}

const LSTM: CellFacts = CellFacts {
    name: "lstm",
    record_tag: "Lstm",
    // input, forget, cell, output
    gates: 4,
    forget_gate: Some(1),
    keras: KerasCell {
        class: "LSTM",
        group: "lstm",
        recurrent_activation: true,
        recurrent_bias: false,
    },
    // PyTorch: input, forget, cell, output
    torch: TorchCell {
        class: "nn.LSTM",
        gate_order: &[0, 1, 2, 3],
    },
    // ONNX: input, output, forget, cell
    onnx: OnnxCell {
        operator: "LSTM",
        gate_order: &[0, 3, 1, 2],
        linear_before_reset: false,
    },
};

const GRU: CellFacts = CellFacts {
    name: "gru",
    record_tag: "Gru",
    // update, reset, new (Keras's reset_after form)
    gates: 3,
    forget_gate: None,
    keras: KerasCell {
        class: "GRU",
        group: "gru",
        recurrent_activation: true,
        recurrent_bias: true,
    },
    // PyTorch: reset, update, new
    torch: TorchCell {
        class: "nn.GRU",
        gate_order: &[1, 0, 2],
    },
    // ONNX: update, reset, hidden
    onnx: OnnxCell {
        operator: "GRU",
        gate_order: &[0, 1, 2],
        linear_before_reset: true,
    },
};

const RNN: CellFacts = CellFacts {
    name: "rnn",
    record_tag: "Rnn",
    gates: 1,
    forget_gate: None,
    keras: KerasCell {
        class: "SimpleRNN",
        group: "simple_rnn",
        recurrent_activation: false,
        recurrent_bias: false,
    },
    torch: TorchCell {
        class: "nn.RNN",
        gate_order: &[0],
    },
    onnx: OnnxCell {
        operator: "RNN",
        gate_order: &[0],
        linear_before_reset: false,
    },
};

impl Cell {
    /// Every cell, in the order the help lists them.
    pub fn all() -> &'static [Cell] {
        // The match is exhaustive, so a new variant makes the compiler point here.
        match Cell::Lstm {
            Cell::Lstm | Cell::Gru | Cell::Rnn => &[Cell::Lstm, Cell::Gru, Cell::Rnn],
        }
    }

    /// The one description of this cell.
    pub const fn facts(self) -> &'static CellFacts {
        match self {
            Cell::Lstm => &LSTM,
            Cell::Gru => &GRU,
            Cell::Rnn => &RNN,
        }
    }

    /// Gate blocks of the cell, each `hidden` wide (see [`CellFacts::gates`]).
    pub const fn gates(self) -> usize {
        self.facts().gates
    }

    /// The cell whose fact `pick` says `value`, if any (a Keras class, a record's tag).
    pub fn find(pick: fn(&'static CellFacts) -> &'static str, value: &str) -> Option<Cell> {
        Cell::all()
            .iter()
            .copied()
            .find(|cell| pick(cell.facts()) == value)
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.facts().name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gate_order_names_each_gate_once() {
        for &cell in Cell::all() {
            let facts = cell.facts();
            for order in [facts.torch.gate_order, facts.onnx.gate_order] {
                let mut sorted = order.to_vec();
                sorted.sort_unstable();
                assert_eq!(sorted, (0..facts.gates).collect::<Vec<_>>(), "{cell}");
            }
            assert!(facts.forget_gate.is_none_or(|g| g < facts.gates));
        }
    }

    #[test]
    fn names_match_the_config_spelling() {
        for &cell in Cell::all() {
            let text = format!("cell = \"{cell}\"");
            #[derive(Deserialize)]
            struct Probe {
                cell: Cell,
            }
            let probe: Probe = toml::from_str(&text).expect("the name parses");
            assert_eq!(probe.cell, cell);
            assert_eq!(
                Cell::find(|f| f.record_tag, cell.facts().record_tag),
                Some(cell)
            );
        }
    }
}
