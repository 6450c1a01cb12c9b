//! `export-keras`: a model's weights as the `.weights.h5` that Keras 3's `model.load_weights`
//! reads into the seed's architecture (`Sequential([Input((28, 28)), LSTM(256),
//! Dense(10, activation="softmax")])`, or GRU/SimpleRNN). Keras finds each layer's weights by
//! its class name, so the Keras model's layer names do not matter.

use std::path::Path;

use hdf5_pure::{AttrValue, FileBuilder};

use crate::error::{AtFile, Error, Result};
use crate::fsutil::write_atomic;
use crate::model::{HostMatrix, KerasWeights};

/// Keras's `load_weights` reads only files named so.
pub(crate) const WEIGHTS_SUFFIX: &str = ".weights.h5";

/// Refuses a name Keras's `load_weights` would not read.
pub(crate) fn check_weights_file_name(path: &Path) -> Result<()> {
    if path.to_string_lossy().ends_with(WEIGHTS_SUFFIX) {
        Ok(())
    } else {
        Err(Error::file(
            path,
            format!("Keras's load_weights reads only files named *{WEIGHTS_SUFFIX}"),
        ))
    }
}

pub(crate) fn export_weights(weights: &KerasWeights, path: &Path) -> Result<()> {
    check_weights_file_name(path)?;
    let bytes = weights_file(weights).doing(path, "cannot make the HDF5 file")?;
    write_atomic(path, &bytes)
}

/// The layout Keras 3 writes: `layers/<cell>/cell/vars/{0,1,2}`, `layers/dense/vars/{0,1}`,
/// each `vars` group named by an attribute.
fn weights_file(weights: &KerasWeights) -> std::result::Result<Vec<u8>, hdf5_pure::Error> {
    let cell = weights.model_config().cell.facts().keras.group;
    let mut file = FileBuilder::new();
    let mut layers = file.create_group("layers");

    let mut recurrent = layers.create_group(cell);
    let mut cell_group = recurrent.create_group("cell");
    let mut vars = cell_group.create_group("vars");
    vars.set_attr("name", AttrValue::String(format!("{cell}_cell")));
    add_matrix(&mut vars, "0", weights.kernel());
    add_matrix(&mut vars, "1", weights.recurrent_kernel());
    match weights.recurrent_bias() {
        Some(recurrent_bias) => {
            let both = [weights.bias(), recurrent_bias].concat();
            let shape = [2, weights.bias().len() as u64];
            vars.create_dataset("2")
                .with_f32_data(&both)
                .with_shape(&shape);
        }
        None => add_vector(&mut vars, "2", weights.bias()),
    }
    cell_group.add_group(vars.finish());
    recurrent.add_group(cell_group.finish());
    let mut recurrent_vars = recurrent.create_group("vars");
    recurrent_vars.set_attr("name", AttrValue::String(cell.to_string()));
    recurrent.add_group(recurrent_vars.finish());
    layers.add_group(recurrent.finish());

    let mut dense = layers.create_group("dense");
    let mut dense_vars = dense.create_group("vars");
    dense_vars.set_attr("name", AttrValue::String("dense".into()));
    add_matrix(&mut dense_vars, "0", weights.dense_kernel());
    add_vector(&mut dense_vars, "1", weights.dense_bias());
    dense.add_group(dense_vars.finish());
    layers.add_group(dense.finish());

    file.add_group(layers.finish());
    let mut model_vars = file.create_group("vars");
    model_vars.set_attr("name", AttrValue::String("sequential".into()));
    file.add_group(model_vars.finish());
    file.finish()
}

fn add_matrix(group: &mut hdf5_pure::GroupBuilder, name: &str, matrix: &HostMatrix) {
    group
        .create_dataset(name)
        .with_f32_data(&matrix.values)
        .with_shape(&[matrix.rows as u64, matrix.cols as u64]);
}

fn add_vector(group: &mut hdf5_pure::GroupBuilder, name: &str, values: &[f32]) {
    group
        .create_dataset(name)
        .with_f32_data(values)
        .with_shape(&[values.len() as u64]);
}
