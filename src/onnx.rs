//! ONNX: a classifier as an ONNX graph built from ONNX's own recurrent operators, and that
//! graph run by tract (a pure-Rust ONNX runtime), so that `export-onnx` checks what it wrote
//! against the model before keeping it.
//!
//! The graph: `images [N, 28, 28]` (float32 in [0, 1], N dynamic) → `Transpose` to the
//! sequence-first layout ONNX's recurrent operators read → `LSTM`/`GRU`/`RNN` (the last hidden
//! state `Y_h`) → `Reshape [N, hidden]` → `Gemm` (the head) → `Softmax` → `probabilities
//! [N, 10]`. The messages are ONNX's `onnx.proto`, as compiled by tract with prost.

use prost::Message;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension};
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto::AttributeType, type_proto,
};
use tract_onnx::prelude::*;

use crate::data::NUM_CLASSES;
use crate::model::{GateWeights, HostMatrix};
use lstm_mnist_model::{COLUMNS, ROWS};

/// The operator set the graph is written for: the recurrent operators' current versions
/// (14) and `Softmax` over one axis (13) are in it, and every maintained runtime reads it.
pub(crate) const OPSET: i64 = 17;
/// The IR version that goes with opset 17.
const IR_VERSION: i64 = 8;
pub(crate) const INPUT: &str = "images";
pub(crate) const OUTPUT: &str = "probabilities";

/// The serialised ONNX model of `weights`, its graph named `name`.
pub(crate) fn model_bytes(weights: &GateWeights, name: &str) -> Vec<u8> {
    let model = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "lstm-mnist".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        graph: Some(graph(weights, name)),
        ..Default::default()
    };
    model.encode_to_vec()
}

fn graph(weights: &GateWeights, name: &str) -> GraphProto {
    let onnx = &weights.cell().facts().onnx;
    let hidden = weights.hidden();
    let gates = weights.stacked(onnx.gate_order);
    let gate_rows = gates.input_weight.rows;
    let biases = [gates.input_bias, gates.hidden_bias].concat();
    let mut recurrent = node(
        onnx.operator,
        &["rows", "W", "R", "B"],
        &["", "last_hidden"],
        vec![int_attribute("hidden_size", hidden as i64)],
    );
    if onnx.linear_before_reset {
        recurrent
            .attribute
            .push(int_attribute("linear_before_reset", 1));
    }
    GraphProto {
        name: name.into(),
        node: vec![
            node(
                "Transpose",
                &[INPUT],
                &["rows"],
                vec![ints_attribute("perm", &[1, 0, 2])],
            ),
            recurrent,
            node(
                "Reshape",
                &["last_hidden", "features_shape"],
                &["features"],
                vec![],
            ),
            node(
                "Gemm",
                &["features", "head_weight", "head_bias"],
                &["logits"],
                vec![int_attribute("transB", 1)],
            ),
            node(
                "Softmax",
                &["logits"],
                &[OUTPUT],
                vec![int_attribute("axis", 1)],
            ),
        ],
        initializer: vec![
            float_tensor("W", &[1, gate_rows, COLUMNS], &gates.input_weight.values),
            float_tensor("R", &[1, gate_rows, hidden], &gates.hidden_weight.values),
            float_tensor("B", &[1, biases.len()], &biases),
            matrix_tensor("head_weight", weights.head_weight()),
            float_tensor("head_bias", &[NUM_CLASSES], weights.head_bias()),
            TensorProto {
                name: "features_shape".into(),
                dims: vec![2],
                data_type: DataType::Int64 as i32,
                int64_data: vec![-1, hidden as i64],
                ..Default::default()
            },
        ],
        input: vec![value_info(INPUT, &[None, Some(ROWS), Some(COLUMNS)])],
        output: vec![value_info(OUTPUT, &[None, Some(NUM_CLASSES)])],
        ..Default::default()
    }
}

fn node(
    op_type: &str,
    inputs: &[&str],
    outputs: &[&str],
    attribute: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: op_type.into(),
        name: outputs
            .iter()
            .rev()
            .find(|o| !o.is_empty())
            .copied()
            .unwrap_or_default()
            .into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute,
        ..Default::default()
    }
}

fn int_attribute(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i: value,
        ..Default::default()
    }
}

fn ints_attribute(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: values.to_vec(),
        ..Default::default()
    }
}

fn float_tensor(name: &str, dims: &[usize], values: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: DataType::Float as i32,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

fn matrix_tensor(name: &str, matrix: &HostMatrix) -> TensorProto {
    float_tensor(name, &matrix.dims(), &matrix.values)
}

/// A float tensor's name and shape; `None` is the dynamic batch, `N`.
fn value_info(name: &str, dims: &[Option<usize>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Some(size) => dimension::Value::DimValue(*size as i64),
                None => dimension::Value::DimParam("N".into()),
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Runs the ONNX model in `bytes` with tract on `images` (28×28 values each, one after another)
/// and returns its output: the ten probabilities of each image.
/// tract's error says what failed (`{:#}` prints its chain of causes).
pub fn run(bytes: &[u8], images: &[f32]) -> Result<Vec<f32>, TractError> {
    let count = images.len() / (ROWS * COLUMNS);
    let model = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])?
        .with_input_fact(0, f32::fact([count, ROWS, COLUMNS]).into())?
        .into_optimized()?
        .into_runnable()?;
    let input = Tensor::from_shape(&[count, ROWS, COLUMNS], images)?;
    let outputs = model.run(tvec!(input.into()))?;
    let probabilities = outputs[0].to_plain_array_view::<f32>()?;
    Ok(probabilities.iter().copied().collect())
}
