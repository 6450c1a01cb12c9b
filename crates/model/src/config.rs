//! What a classifier is: the `[model]` table of a run's `config.toml`.

use serde::{Deserialize, Serialize};

use crate::cell::Cell;

/// The widest recurrent layer a config may ask for; past it a typo would exhaust memory
/// before saying anything.
pub const MAX_HIDDEN: usize = 4096;

/// The classifier's architecture: the `[model]` table of a config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The recurrent layer's cell.
    pub cell: Cell,
    /// Units of the recurrent layer (the seed's 256).
    pub hidden: usize,
    /// Biases of the recurrent layer; configs and runs without the key are Burn's.
    #[serde(default, skip_serializing_if = "Bias::is_burn")]
    pub bias: Bias,
}

/// How many biases each gate of the recurrent layer has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bias {
    /// Burn's: one on the input transform and one on the recurrent transform.
    #[default]
    Burn,
    /// Keras's: the input transform's only, so the parameters are exactly the Keras model's.
    /// (Keras's GRU, `reset_after=True`, has both, as Burn's does: for it the two agree.)
    Keras,
}

impl Bias {
    /// Whether these are Burn's two biases (left out of a config as the default).
    pub fn is_burn(&self) -> bool {
        *self == Bias::Burn
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            cell: Cell::Lstm,
            hidden: 256,
            bias: Bias::Burn,
        }
    }
}
