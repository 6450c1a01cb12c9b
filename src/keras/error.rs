//! Why a file is not a Keras model this program imports.

use std::fmt;

use crate::model::WeightsError;

/// Why a file is not a Keras model this program imports; the caller names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KerasError {
    /// Neither a zip (`.keras`) nor HDF5.
    NotAModelFile,
    /// The container, or a part of it, cannot be read (the message says which and why).
    Unreadable(String),
    /// A zip without one of a `.keras` archive's members.
    MissingMember {
        name: String,
    },
    /// An archive member larger than such a member can be.
    MemberTooLarge {
        name: String,
        limit: u64,
    },
    /// An HDF5 file of weights only, without the model's config.
    WeightsOnly,
    /// A model other than the seed's architecture (the message says what is not supported).
    Unsupported(String),
    /// A legacy `.h5` layer without its list of weights.
    NoWeightList {
        layer: String,
        group: String,
    },
    /// A legacy `.h5` layer with another number of weights than its class has.
    WeightCount {
        layer: String,
        found: usize,
        wanted: usize,
    },
    NoArray {
        path: String,
    },
    NotAMatrix {
        path: String,
        shape: Vec<usize>,
    },
    /// The GRU's bias is not `[2, 3·units]`.
    GruBiasShape {
        shape: Vec<usize>,
    },
    /// The arrays do not fit one another as a classifier.
    Weights(WeightsError),
}

impl std::fmt::Display for KerasError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KerasError::NotAModelFile => f.write_str(
                "not a Keras model file (a .keras archive or a .h5 saved by model.save)",
            ),
            KerasError::Unreadable(message) | KerasError::Unsupported(message) => {
                f.write_str(message)
            }
            KerasError::MissingMember { name } => {
                write!(f, "a zip without {name}: not a .keras archive")
            }
            KerasError::MemberTooLarge { name, limit } => {
                write!(f, "its {name} is larger than {limit} bytes")
            }
            KerasError::WeightsOnly => f.write_str(
                "an HDF5 file without a model config: it holds weights only (import needs the \
                 whole model, saved by model.save)",
            ),
            KerasError::NoWeightList { layer, group } => {
                write!(f, "no weight list for layer `{layer}` ({group})")
            }
            KerasError::WeightCount {
                layer,
                found,
                wanted,
            } => write!(f, "layer `{layer}` has {found} weights, expected {wanted}"),
            KerasError::NoArray { path } => write!(f, "no weights at {path}"),
            KerasError::NotAMatrix { path, shape } => {
                write!(f, "{path} has shape {shape:?}, not a matrix")
            }
            KerasError::GruBiasShape { shape } => write!(
                f,
                "the GRU's bias has shape {shape:?}, expected [2, 3·units]"
            ),
            KerasError::Weights(problem) => problem.fmt(f),
        }
    }
}

impl std::error::Error for KerasError {}

impl From<WeightsError> for KerasError {
    fn from(problem: WeightsError) -> Self {
        Self::Weights(problem)
    }
}

/// Says which part of the container a failed read was of: `step.unreadable("cannot read its
/// attributes")?` gives `KerasError::Unreadable("cannot read its attributes: problem")`.
pub(crate) trait ReadStep<T> {
    fn unreadable(self, what: impl fmt::Display) -> Result<T, KerasError>;
}

impl<T, E: fmt::Display> ReadStep<T> for Result<T, E> {
    fn unreadable(self, what: impl fmt::Display) -> Result<T, KerasError> {
        self.map_err(|problem| KerasError::Unreadable(format!("{what}: {problem}")))
    }
}
