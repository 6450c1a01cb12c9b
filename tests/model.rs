//! The model's shape, parameter counts and Keras-matching initialisation.

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use lstm_mnist::config::{Bias, Cell, ModelConfig};
use lstm_mnist::model::{Classifier, KerasInit, RecurrentLayer};

fn model(cell: Cell, hidden: usize) -> Classifier {
    Classifier::new(
        &ModelConfig {
            cell,
            hidden,
            ..ModelConfig::default()
        },
        7,
        &Device::flex(),
    )
}

fn values(tensor: Tensor<2>) -> Vec<f32> {
    tensor.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn parameter_counts_match_keras_plus_burns_second_bias() {
    // Keras: LSTM 291,840 + Dense 2,570 = 294,410. Burn adds one recurrent bias per gate.
    assert_eq!(model(Cell::Lstm, 256).num_params(), 294_410 + 4 * 256);
    // Keras SimpleRNN 72,960 + 2,570; Burn adds 256.
    assert_eq!(model(Cell::Rnn, 256).num_params(), 75_530 + 256);
    // Keras's GRU (reset_after) has two biases per gate too: 219,648 + 2,570, exactly Burn's.
    assert_eq!(model(Cell::Gru, 256).num_params(), 222_218);
}

#[test]
fn with_keras_biases_the_counts_are_exactly_keras() {
    let keras = |cell| {
        let config = ModelConfig {
            cell,
            hidden: 256,
            bias: Bias::Keras,
        };
        Classifier::new(&config, 7, &Device::flex()).num_params()
    };
    assert_eq!(keras(Cell::Lstm), 294_410);
    assert_eq!(keras(Cell::Rnn), 75_530);
    assert_eq!(keras(Cell::Gru), 222_218);
}

#[test]
fn classifies_a_batch_into_ten_logits_for_every_cell() {
    let device = Device::flex();
    for cell in [Cell::Lstm, Cell::Gru, Cell::Rnn] {
        let images = Tensor::<3>::random([5, 28, 28], Distribution::Default, &device);
        let logits = model(cell, 16).forward(images);
        assert_eq!(logits.dims(), [5, 10], "{cell}");
        assert!(values(logits).iter().all(|v| v.is_finite()), "{cell}");
    }
}

#[test]
fn lstm_starts_as_keras_does() {
    let classifier = model(Cell::Lstm, 64);
    let RecurrentLayer::Lstm(lstm) = &classifier.recurrent else {
        panic!("expected an LSTM")
    };
    let bias = |gate: &burn::nn::GateController| {
        gate.input_transform
            .bias
            .as_ref()
            .unwrap()
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    // unit_forget_bias: the forget gate starts open, every other bias at zero.
    assert!(
        bias(lstm.forget_gate.as_ref().unwrap())
            .iter()
            .all(|&b| b == 1.0)
    );
    for gate in [&lstm.input_gate, &lstm.cell_gate, &lstm.output_gate] {
        assert!(bias(gate).iter().all(|&b| b == 0.0));
    }
    // Glorot-uniform over the fused [28, 4 x 64] kernel.
    let limit = (6.0f32 / (28.0 + 256.0)).sqrt();
    let kernel = values(lstm.input_gate.input_transform.weight.val());
    assert!(kernel.iter().all(|v| v.abs() <= limit));
    assert!(kernel.iter().any(|v| v.abs() > 0.9 * limit));
    // The recurrent kernels are blocks of one orthogonal [64, 256] matrix: its rows are
    // orthonormal across the four gates.
    let gates = [
        &lstm.input_gate,
        lstm.forget_gate.as_ref().unwrap(),
        &lstm.cell_gate,
        &lstm.output_gate,
    ];
    let blocks: Vec<Vec<f32>> = gates
        .iter()
        .map(|g| values(g.hidden_transform.weight.val()))
        .collect();
    let row = |r: usize| -> Vec<f32> {
        blocks
            .iter()
            .flat_map(|b| b[r * 64..(r + 1) * 64].to_vec())
            .collect()
    };
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    assert!((dot(&row(0), &row(0)) - 1.0).abs() < 1e-4);
    assert!((dot(&row(5), &row(5)) - 1.0).abs() < 1e-4);
    assert!(dot(&row(0), &row(5)).abs() < 1e-4);
}

#[test]
fn orthogonal_is_orthonormal_in_both_orientations() {
    let mut init = KerasInit::new(3);
    for (rows, cols) in [(8, 32), (32, 8), (16, 16)] {
        let m = init.orthogonal(rows, cols);
        let (short, by_rows) = if rows <= cols {
            (rows, true)
        } else {
            (cols, false)
        };
        let vector = |i: usize| -> Vec<f32> {
            if by_rows {
                m.values[i * cols..(i + 1) * cols].to_vec()
            } else {
                (0..rows).map(|r| m.values[r * cols + i]).collect()
            }
        };
        for i in 0..short {
            for j in 0..short {
                let d: f32 = vector(i).iter().zip(vector(j)).map(|(a, b)| a * b).sum();
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((d - expected).abs() < 1e-4, "{rows}x{cols} ({i},{j}) = {d}");
            }
        }
    }
}

#[test]
fn same_seed_same_weights_other_seed_other_weights() {
    let config = ModelConfig {
        cell: Cell::Rnn,
        hidden: 8,
        ..ModelConfig::default()
    };
    let device = Device::flex();
    let head = |seed| values(Classifier::new(&config, seed, &device).head.weight.val());
    assert_eq!(head(1), head(1));
    assert_ne!(head(1), head(2));
}

/// The belief after each row comes from the same forward pass: its last row is the ordinary
/// answer, for every cell on both kernels.
#[test]
fn the_probabilities_after_the_last_row_are_the_answer_for_every_cell_and_kernel() {
    use burn::tensor::activation::softmax;
    use lstm_mnist::model::RecurrentKernel;
    let device = Device::flex();
    let images = Tensor::<3>::random([5, 28, 28], Distribution::Uniform(0.0, 1.0), &device);
    for cell in [Cell::Lstm, Cell::Gru, Cell::Rnn] {
        for kernel in [RecurrentKernel::Fused, RecurrentKernel::Stock] {
            let model = model(cell, 32).with_kernel(kernel);
            let answer = values(softmax(model.forward(images.clone()), 1));
            let steps = softmax(model.forward_steps(images.clone()), 2);
            assert_eq!(steps.dims(), [5, 28, 10]);
            let steps = steps.into_data().try_to_vec::<f32>().unwrap();
            for image in 0..5 {
                let last = &steps[(image * 28 + 27) * 10..(image * 28 + 28) * 10];
                for (a, b) in last.iter().zip(&answer[image * 10..(image + 1) * 10]) {
                    assert!((a - b).abs() <= 1e-5, "{cell:?} {kernel:?}: {a} vs {b}");
                }
                // Earlier rows are a belief of their own, a distribution over the classes.
                let first: f32 = steps[image * 280..image * 280 + 10].iter().sum();
                assert!((first - 1.0).abs() < 1e-5);
            }
        }
    }
}
