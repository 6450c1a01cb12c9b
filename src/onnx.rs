//! ONNX: a classifier as an ONNX graph built from ONNX's own recurrent operators, and that
//! graph run by tract (a pure-Rust ONNX runtime), so that `export-onnx` checks what it wrote
//! against the model before keeping it.
//!
//! A number reader likewise: its bidirectional LSTMs as ONNX's `LSTM` with
//! `direction="bidirectional"` (see [`number_model_bytes`]).
//!
//! The classifier's graph: `images [N, 28, 28]` (float32 in [0, 1], N dynamic) → `Transpose` to the
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

use crate::config::Cell;
use crate::data::NUM_CLASSES;
use crate::model::{GateWeights, HostMatrix, stack_gates};
use lstm_mnist_model::number::{NUMBER_CLASSES, NumberLayout, STEP_FEATURES};
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
    serialised(graph(weights, name))
}

/// The number reader's input: its steps (see `lstm_mnist_model::number::strip_steps`).
pub(crate) const NUMBER_INPUT: &str = "strip_steps";
/// The number reader's output: each step's log-probabilities of the ten digits and the blank.
pub(crate) const NUMBER_OUTPUT: &str = "log_probabilities";

/// The serialised ONNX model of a number reader, its graph named `name`:
/// `strip_steps [N, T, 56]` (N and T dynamic) → `Transpose` → per layer a bidirectional `LSTM`
/// (`Y [T, 2, N, hidden]`) → `Transpose`, `Reshape` to `[T, N, 2·hidden]` → `MatMul`, `Add`
/// (the head) → `LogSoftmax` → `Transpose` → `log_probabilities [N, T, 11]`.
pub(crate) fn number_model_bytes(layout: &NumberLayout, name: &str) -> Vec<u8> {
    serialised(number_graph(layout, name))
}

/// A model of `graph`, in the opset and IR version above.
fn serialised(graph: GraphProto) -> Vec<u8> {
    let model = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "lstm-mnist".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        graph: Some(graph),
        ..Default::default()
    };
    model.encode_to_vec()
}

fn number_graph(layout: &NumberLayout, name: &str) -> GraphProto {
    let hidden = layout.hidden;
    let order = Cell::Lstm.facts().onnx.gate_order;
    let mut nodes = vec![node(
        "Transpose",
        &[NUMBER_INPUT],
        &["states_0"],
        vec![ints_attribute("perm", &[1, 0, 2])],
    )];
    let mut initializer = vec![int64_tensor("states_shape", &[0, 0, -1])];
    for (k, directions) in layout.layers.iter().enumerate() {
        let [ahead, back] = directions.each_ref().map(|gates| stack_gates(gates, order));
        let inputs = ahead.input_weight.cols;
        let rows = ahead.input_weight.rows;
        let [w, r, b] = [format!("W_{k}"), format!("R_{k}"), format!("B_{k}")];
        let below = format!("states_{k}");
        let [both, apart, states] = [
            format!("directions_{k}"),
            format!("apart_{k}"),
            format!("states_{}", k + 1),
        ];
        initializer.extend([
            float_tensor(
                &w,
                &[2, rows, inputs],
                &[ahead.input_weight.values, back.input_weight.values].concat(),
            ),
            float_tensor(
                &r,
                &[2, rows, hidden],
                &[ahead.hidden_weight.values, back.hidden_weight.values].concat(),
            ),
            float_tensor(
                &b,
                &[2, 2 * rows],
                &[
                    ahead.input_bias,
                    ahead.hidden_bias,
                    back.input_bias,
                    back.hidden_bias,
                ]
                .concat(),
            ),
        ]);
        let mut lstm = node(
            "LSTM",
            &[&below, &w, &r, &b],
            &[&both],
            vec![int_attribute("hidden_size", hidden as i64)],
        );
        lstm.attribute
            .push(string_attribute("direction", "bidirectional"));
        nodes.extend([
            lstm,
            node(
                "Transpose",
                &[&both],
                &[&apart],
                vec![ints_attribute("perm", &[0, 2, 1, 3])],
            ),
            node("Reshape", &[&apart, "states_shape"], &[&states], vec![]),
        ]);
    }
    let top = format!("states_{}", layout.layers.len());
    nodes.extend([
        node("MatMul", &[&top, "head_weight"], &["scaled"], vec![]),
        node("Add", &["scaled", "head_bias"], &["logits"], vec![]),
        node(
            "LogSoftmax",
            &["logits"],
            &["step_log_probabilities"],
            vec![int_attribute("axis", 2)],
        ),
        node(
            "Transpose",
            &["step_log_probabilities"],
            &[NUMBER_OUTPUT],
            vec![ints_attribute("perm", &[1, 0, 2])],
        ),
    ]);
    initializer.extend([
        matrix_tensor("head_weight", &layout.head_weight.transposed()),
        float_tensor("head_bias", &[NUMBER_CLASSES], &layout.head_bias),
    ]);
    GraphProto {
        name: name.into(),
        node: nodes,
        initializer,
        input: vec![value_info(
            NUMBER_INPUT,
            &[Dim::Batch, Dim::Steps, Dim::Fixed(STEP_FEATURES)],
        )],
        output: vec![value_info(
            NUMBER_OUTPUT,
            &[Dim::Batch, Dim::Steps, Dim::Fixed(NUMBER_CLASSES)],
        )],
        ..Default::default()
    }
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
            int64_tensor("features_shape", &[-1, hidden as i64]),
        ],
        input: vec![value_info(
            INPUT,
            &[Dim::Batch, Dim::Fixed(ROWS), Dim::Fixed(COLUMNS)],
        )],
        output: vec![value_info(OUTPUT, &[Dim::Batch, Dim::Fixed(NUM_CLASSES)])],
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

fn string_attribute(name: &str, value: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::String as i32,
        s: value.as_bytes().to_vec(),
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

fn int64_tensor(name: &str, values: &[i64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: vec![values.len() as i64],
        data_type: DataType::Int64 as i32,
        int64_data: values.to_vec(),
        ..Default::default()
    }
}

fn matrix_tensor(name: &str, matrix: &HostMatrix) -> TensorProto {
    float_tensor(name, &matrix.dims(), &matrix.values)
}

/// A dimension of an input or output: fixed, or one the caller chooses.
enum Dim {
    Fixed(usize),
    /// The batch, `N`.
    Batch,
    /// A number's steps, `T`.
    Steps,
}

/// A float tensor's name and shape.
fn value_info(name: &str, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Fixed(size) => dimension::Value::DimValue(*size as i64),
                Dim::Batch => dimension::Value::DimParam("N".into()),
                Dim::Steps => dimension::Value::DimParam("T".into()),
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
    run_on(bytes, &[count, ROWS, COLUMNS], images)
}

/// Runs the number reader's ONNX model in `bytes` with tract on `strips` (`[count, steps,
/// STEP_FEATURES]`, one after another) and returns its output: each step's log-probabilities.
pub fn run_number(
    bytes: &[u8],
    [count, steps]: [usize; 2],
    strips: &[f32],
) -> Result<Vec<f32>, TractError> {
    run_on(bytes, &[count, steps, STEP_FEATURES], strips)
}

/// The output of the model in `bytes` run by tract on `values` of shape `shape`.
fn run_on(bytes: &[u8], shape: &[usize], values: &[f32]) -> Result<Vec<f32>, TractError> {
    let model = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])?
        .with_input_fact(0, f32::fact(shape).into())?
        .into_optimized()?
        .into_runnable()?;
    let input = Tensor::from_shape(shape, values)?;
    let outputs = model.run(tvec!(input.into()))?;
    let output = outputs[0].to_plain_array_view::<f32>()?;
    Ok(output.iter().copied().collect())
}
