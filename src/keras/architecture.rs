//! A Keras model's architecture, from its JSON config (`config.json` in a `.keras` file, the
//! `model_config` attribute of a legacy `.h5`): accepted only when it is the seed's shape, a
//! Sequential of one recurrent layer over (28, 28) and a 10-unit Dense softmax, computing what
//! our classifier computes. Anything else is refused with one line saying what is not
//! supported.

use serde_json::{Value, json};

use super::error::{KerasError, ReadStep};
use crate::config::{Cell, OptimizerConfig, OptimizerKind};
use lstm_mnist_model::{COLUMNS, ROWS};

/// The parts of a Keras model the import needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Architecture {
    pub cell: Cell,
    /// The recurrent layer's and the Dense layer's names (the legacy `.h5` file groups weights
    /// by them).
    pub(crate) recurrent_name: String,
    pub(crate) dense_name: String,
}

/// What our classifier needs of the recurrent layer's settings, as Keras writes them. Settings
/// that only matter to training (dropout, initialisers, regularisers) are not checked.
fn required_settings(cell: Cell) -> Vec<(&'static str, Value)> {
    let mut settings = vec![
        ("return_sequences", json!(false)),
        ("return_state", json!(false)),
        ("go_backwards", json!(false)),
        ("stateful", json!(false)),
        ("use_bias", json!(true)),
        ("activation", json!("tanh")),
    ];
    let keras = &cell.facts().keras;
    if keras.recurrent_activation {
        settings.push(("recurrent_activation", json!("sigmoid")));
    }
    // A recurrent bias of its own is the GRU's reset_after form, the one Burn computes.
    if keras.recurrent_bias {
        settings.push(("reset_after", json!(true)));
    }
    settings
}

/// The model config as JSON.
pub fn json(model_config: &str) -> Result<Value, KerasError> {
    serde_json::from_str(model_config).unreadable("its model config is not JSON")
}

/// The architecture a model config (`json`) describes, if it is one we compute.
pub fn parse(root: &Value) -> Result<Architecture, KerasError> {
    let class = root["class_name"].as_str().unwrap_or("unknown");
    if class != "Sequential" {
        return Err(KerasError::Unsupported(format!(
            "a {class} model: only a Sequential model (one LSTM, GRU or SimpleRNN layer and a \
             Dense softmax) can be imported"
        )));
    }
    let layers = root["config"]["layers"]
        .as_array()
        .ok_or_else(|| KerasError::Unsupported("its model config lists no layers".into()))?;
    let (input_shape, layers) = input_shape(layers)?;
    let expected_shape = [Value::Null, ROWS.into(), COLUMNS.into()];
    if input_shape != expected_shape {
        return Err(KerasError::Unsupported(format!(
            "input shape {}: only (None, {ROWS}, {COLUMNS}) is supported",
            shape_text(&input_shape)
        )));
    }
    let [recurrent, dense] = layers else {
        let classes: Vec<&str> = layers.iter().map(class_name).collect();
        return Err(KerasError::Unsupported(format!(
            "layers {}: only one recurrent layer (LSTM, GRU or SimpleRNN) and a Dense layer \
             are supported",
            classes.join(", ")
        )));
    };
    let cell = check_recurrent(recurrent)?;
    check_dense(dense)?;
    Ok(Architecture {
        cell,
        recurrent_name: layer_name(recurrent)?,
        dense_name: layer_name(dense)?,
    })
}

/// The model's input shape, and the layers after the `InputLayer` (if it has one). Keras 3
/// writes `batch_shape` on the InputLayer; Keras 2 `batch_input_shape` there or on the first
/// layer.
fn input_shape(layers: &[Value]) -> Result<(Vec<Value>, &[Value]), KerasError> {
    let first = layers
        .first()
        .ok_or_else(|| KerasError::Unsupported("its model config lists no layers".into()))?;
    let config = &first["config"];
    let shape = ["batch_shape", "batch_input_shape"]
        .iter()
        .find_map(|key| config[key].as_array())
        .or_else(|| first["build_config"]["input_shape"].as_array())
        .ok_or_else(|| {
            KerasError::Unsupported(
                "no input shape: the model must have been built (keras.Input((28, 28)))".into(),
            )
        })?;
    let rest = if class_name(first) == "InputLayer" {
        &layers[1..]
    } else {
        layers
    };
    Ok((shape.clone(), rest))
}

fn check_recurrent(layer: &Value) -> Result<Cell, KerasError> {
    let class = class_name(layer);
    let cell = Cell::find(|facts| facts.keras.class, class).ok_or_else(|| {
        KerasError::Unsupported(format!(
            "a {class} layer where the recurrent layer should be: only LSTM, GRU and \
             SimpleRNN are supported"
        ))
    })?;
    let config = &layer["config"];
    for (key, supported) in required_settings(cell) {
        let value = &config[key];
        // Keras leaves out settings at their defaults in some versions: absent is the default.
        if !value.is_null() && *value != supported {
            return Err(KerasError::Unsupported(format!(
                "{class} layer `{}` has {key}={value}: only {key}={supported} is supported",
                config["name"].as_str().unwrap_or("?")
            )));
        }
    }
    Ok(cell)
}

fn check_dense(layer: &Value) -> Result<(), KerasError> {
    let class = class_name(layer);
    let config = &layer["config"];
    if class != "Dense" {
        return Err(KerasError::Unsupported(format!(
            "a {class} layer after the recurrent layer: only a Dense layer is supported"
        )));
    }
    let units = config["units"].as_u64().unwrap_or(0);
    let activation = config["activation"].as_str().unwrap_or("?");
    if units != 10 || activation != "softmax" || config["use_bias"] == Value::Bool(false) {
        return Err(KerasError::Unsupported(format!(
            "Dense layer with {units} units, activation {activation}: only Dense(10, \
             activation=\"softmax\") with a bias is supported"
        )));
    }
    Ok(())
}

/// The optimizer a model was compiled with (`{"class_name": "Adam", "config": {...}}`, from
/// the `.keras` file's `compile_config` or the `.h5` file's `training_config`), where it is
/// Adam or SGD with a fixed learning rate. Keras keeps the rate as a float32: it is given back
/// as the decimal that float32 prints (0.001, not 0.0010000000474974513).
pub(crate) fn compiled_optimizer(optimizer: &Value) -> Option<OptimizerConfig> {
    let kind = match optimizer["class_name"].as_str()? {
        "Adam" | "adam" => OptimizerKind::Adam,
        "SGD" | "sgd" => OptimizerKind::Sgd,
        _ => return None,
    };
    let config = &optimizer["config"];
    Some(OptimizerConfig {
        kind,
        learning_rate: as_float32_decimal(config["learning_rate"].as_f64()?),
        momentum: config["momentum"].as_f64().unwrap_or(0.0),
    })
}

fn as_float32_decimal(value: f64) -> f64 {
    (value as f32).to_string().parse().unwrap_or(value)
}

fn class_name(layer: &Value) -> &str {
    layer["class_name"].as_str().unwrap_or("unknown")
}

fn layer_name(layer: &Value) -> Result<String, KerasError> {
    layer["config"]["name"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| {
            KerasError::Unsupported(format!("its {} layer has no name", class_name(layer)))
        })
}

/// `[null, 14, 56]` -> `(None, 14, 56)`.
fn shape_text(shape: &[Value]) -> String {
    let dims: Vec<String> = shape
        .iter()
        .map(|d| match d {
            Value::Null => "None".to_string(),
            other => other.to_string(),
        })
        .collect();
    format!("({})", dims.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequential(layers: &str) -> Value {
        json(&format!(
            r#"{{"class_name": "Sequential", "config": {{"layers": [{layers}]}}}}"#
        ))
        .unwrap()
    }

    const INPUT: &str =
        r#"{"class_name": "InputLayer", "config": {"batch_shape": [null, 28, 28]}}"#;
    const DENSE: &str = r#"{"class_name": "Dense", "config": {"name": "dense", "units": 10, "activation": "softmax", "use_bias": true}}"#;

    #[test]
    fn the_seed_model_is_accepted_with_its_names() {
        let lstm = r#"{"class_name": "LSTM", "config": {"name": "lstm_1", "units": 256, "activation": "tanh", "recurrent_activation": "sigmoid"}}"#;
        let architecture = parse(&sequential(&format!("{INPUT}, {lstm}, {DENSE}"))).unwrap();
        assert_eq!(architecture.cell, Cell::Lstm);
        assert_eq!(architecture.recurrent_name, "lstm_1");
        assert_eq!(architecture.dense_name, "dense");
    }

    #[test]
    fn the_compiled_optimizer_keeps_the_learning_rate_keras_printed() {
        let adam: Value = serde_json::from_str(
            r#"{"class_name": "Adam", "config": {"learning_rate": 0.0010000000474974513}}"#,
        )
        .unwrap();
        let optimizer = compiled_optimizer(&adam).unwrap();
        assert_eq!(optimizer.kind, OptimizerKind::Adam);
        assert_eq!(optimizer.learning_rate, 0.001);
        let schedule: Value = serde_json::from_str(
            r#"{"class_name": "SGD", "config": {"learning_rate": {"class_name": "ExponentialDecay"}}}"#,
        )
        .unwrap();
        assert_eq!(compiled_optimizer(&schedule), None);
    }

    #[test]
    fn keras_2_input_shape_on_the_first_layer_is_read() {
        let rnn = r#"{"class_name": "SimpleRNN", "config": {"name": "r", "batch_input_shape": [null, 28, 28]}}"#;
        let architecture = parse(&sequential(&format!("{rnn}, {DENSE}"))).unwrap();
        assert_eq!(architecture.cell, Cell::Rnn);
    }

    #[test]
    fn what_differs_is_named() {
        let cases = [
            (
                r#"{"class_name": "GRU", "config": {"name": "g", "reset_after": false}}"#,
                "GRU layer `g` has reset_after=false",
            ),
            (
                r#"{"class_name": "LSTM", "config": {"name": "l", "recurrent_activation": "hard_sigmoid"}}"#,
                "recurrent_activation=\"hard_sigmoid\"",
            ),
            (
                r#"{"class_name": "Conv1D", "config": {"name": "c"}}"#,
                "a Conv1D layer",
            ),
        ];
        // Every refusal is of an unsupported architecture, saying what is not supported.
        let unsupported = |root: &Value| match parse(root).unwrap_err() {
            KerasError::Unsupported(what) => what,
            other => panic!("not an architecture refusal: {other:?}"),
        };
        for (layer, expected) in cases {
            let error = unsupported(&sequential(&format!("{INPUT}, {layer}, {DENSE}")));
            assert!(error.contains(expected), "{error}");
        }
        let functional = json(r#"{"class_name": "Functional", "config": {}}"#).unwrap();
        let error = unsupported(&functional);
        assert!(error.starts_with("a Functional model"), "{error}");
        let error = unsupported(&sequential(DENSE));
        assert!(error.contains("no input shape"), "{error}");
    }
}
