//! The arrays of a Keras model's weights file, in the two layouts Keras writes.

use hdf5_pure::File;

use super::architecture::Architecture;
use super::error::{KerasError, ReadStep};
use crate::config::Cell;
use crate::model::{HostMatrix, KerasWeights};

/// `layers/<cell>/cell/vars/{0,1,2}` and `layers/dense/vars/{0,1}` (Keras 3).
pub(crate) fn from_archive(file: &File, cell: Cell) -> Result<KerasWeights, KerasError> {
    let recurrent = format!("layers/{}/cell/vars", cell.facts().keras.group);
    let array = |path: String| read_array(file, &path);
    assemble(
        cell,
        [
            array(format!("{recurrent}/0"))?,
            array(format!("{recurrent}/1"))?,
            array(format!("{recurrent}/2"))?,
            array("layers/dense/vars/0".into())?,
            array("layers/dense/vars/1".into())?,
        ],
    )
}

/// `model_weights/<layer>/<each of the layer's weight_names>` (legacy `.h5`), in the order
/// Keras lists them: kernel, recurrent kernel, bias; kernel, bias.
pub(crate) fn from_legacy_h5(
    file: &File,
    architecture: &Architecture,
) -> Result<KerasWeights, KerasError> {
    let mut arrays = Vec::new();
    for (layer, count) in [
        (&architecture.recurrent_name, 3),
        (&architecture.dense_name, 2),
    ] {
        let group = format!("model_weights/{layer}");
        let names = file
            .group(&group)
            .and_then(|g| g.attrs())
            .ok()
            .and_then(|attrs| attrs.get("weight_names")?.as_strings().map(<[_]>::to_vec))
            .ok_or_else(|| KerasError::NoWeightList {
                layer: layer.clone(),
                group: group.clone(),
            })?;
        if names.len() != count {
            return Err(KerasError::WeightCount {
                layer: layer.clone(),
                found: names.len(),
                wanted: count,
            });
        }
        for name in names {
            arrays.push(read_array(file, &format!("{group}/{name}"))?);
        }
    }
    let arrays: [Array; 5] = arrays
        .try_into()
        .unwrap_or_else(|_| unreachable!("three weights and two, counted above"));
    assemble(architecture.cell, arrays)
}

/// A dataset's shape and values.
struct Array {
    path: String,
    shape: Vec<usize>,
    values: Vec<f32>,
}

fn read_array(file: &File, path: &str) -> Result<Array, KerasError> {
    let dataset = file
        .dataset(path)
        .map_err(|_| KerasError::NoArray { path: path.into() })?;
    let shape = dataset
        .shape()
        .unreadable(format_args!("cannot read the shape of {path}"))?;
    let values = dataset
        .read_f32()
        .unreadable(format_args!("cannot read {path}"))?;
    Ok(Array {
        path: path.to_string(),
        shape: shape.into_iter().map(|d| d as usize).collect(),
        values,
    })
}

impl Array {
    fn matrix(self) -> Result<HostMatrix, KerasError> {
        match self.shape[..] {
            [rows, cols] => Ok(HostMatrix {
                rows,
                cols,
                values: self.values,
            }),
            _ => Err(KerasError::NotAMatrix {
                path: self.path,
                shape: self.shape,
            }),
        }
    }
}

/// Kernel, recurrent kernel, bias, Dense kernel, Dense bias, checked to fit together. The
/// GRU's bias (`reset_after=True`) is `[2, 3·units]`: the input bias, then the recurrent one.
fn assemble(cell: Cell, arrays: [Array; 5]) -> Result<KerasWeights, KerasError> {
    let [kernel, recurrent_kernel, bias, dense_kernel, dense_bias] = arrays;
    let biases = match (cell.facts().keras.recurrent_bias, &bias.shape[..]) {
        (true, &[2, width]) => {
            let (input, recurrent) = bias.values.split_at(width);
            (input.to_vec(), Some(recurrent.to_vec()))
        }
        (true, _) => {
            return Err(KerasError::GruBiasShape { shape: bias.shape });
        }
        (false, _) => (bias.values, None),
    };
    Ok(KerasWeights::new(
        cell,
        kernel.matrix()?,
        recurrent_kernel.matrix()?,
        biases,
        (dense_kernel.matrix()?, dense_bias.values),
    )?)
}
