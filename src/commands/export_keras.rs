//! `lstm-mnist export-keras`: a run's model as a `.weights.h5` for Keras's `load_weights`.

use std::path::PathBuf;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::keras::{check_weights_file_name, export_weights, layer_class};
use crate::run_dir::ModelRef;

#[derive(Debug, Clone)]
pub struct ExportKerasRequest {
    /// A run directory or one of its checkpoint files.
    pub model: PathBuf,
    pub output: PathBuf,
    /// Replace an existing output file.
    pub overwrite: bool,
}

pub fn run(request: &ExportKerasRequest) -> Result<()> {
    check_weights_file_name(&request.output)?;
    if request.output.exists() && !request.overwrite {
        return Err(Error::file(
            &request.output,
            "already exists; pass --overwrite to replace it",
        ));
    }
    let device = Backend::Flex.device()?;
    let (config, model) = ModelRef::resolve(&request.model)?.load(&device)?;
    export_weights(&model.keras_weights(), &request.output)?;
    let layer = layer_class(config.model.cell);
    println!(
        "Wrote {}. In Keras 3:\n  model = keras.Sequential([keras.Input((28, 28)), \
         keras.layers.{layer}({}), keras.layers.Dense(10, activation=\"softmax\")])\n  \
         model.load_weights(\"{}\")",
        request.output.display(),
        config.model.hidden,
        request.output.display(),
    );
    Ok(())
}
