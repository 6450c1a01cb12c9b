//! The fused CPU layers (LSTM, GRU, SimpleRNN) compute what Burn's stock layers compute:
//! outputs and every gradient, and the same loss curve when they train.

mod common;

use burn::nn::{GateController, GruConfig, Lstm, LstmConfig, RnnConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor};
use lstm_mnist::config::{Cell, ModelConfig};
use lstm_mnist::data::{MnistBatch, MnistData};
use lstm_mnist::model::{Classifier, RecurrentKernel, fused};

/// `max |actual - expected| / max |expected|`
fn relative_error<const D: usize>(actual: Tensor<D>, expected: Tensor<D>) -> f64 {
    let scale = expected.clone().abs().max().into_scalar::<f64>();
    let diff = (actual - expected).abs().max().into_scalar::<f64>();
    diff / scale
}

/// Runs the fused and the stock forward of one layer over the same random input, weighs every
/// hidden state randomly, and compares the outputs and the gradients of the input and of every
/// weight and bias of `gates`. Returns the largest gradient error.
fn assert_parity(
    gates: &[(&str, &GateController)],
    fused: impl Fn(Tensor<3>) -> Tensor<3>,
    stock: impl Fn(Tensor<3>) -> Tensor<3>,
    device: &Device,
) -> f64 {
    // Batch 37, so the batch splits unevenly into per-thread chunks.
    let input = Tensor::<3>::random([37, 28, 28], Distribution::Normal(0.0, 1.0), device);
    let hidden = gates[0].1.hidden_transform.weight.dims()[0];
    // A random weighting of every hidden state, so every timestep's output carries gradient.
    let weighting = Tensor::<3>::random([37, 28, hidden], Distribution::Normal(0.0, 1.0), device);

    let run = |forward: &dyn Fn(Tensor<3>) -> Tensor<3>| {
        let input = input.clone().require_grad();
        let outputs = forward(input.clone());
        let grads = (outputs.clone() * weighting.clone()).sum().backward();
        let mut tensors = vec![(
            "input".to_string(),
            input.grad(&grads).unwrap().flatten::<1>(0, 2),
        )];
        for (name, gate) in gates {
            for (part, linear) in [
                ("input_transform", &gate.input_transform),
                ("hidden_transform", &gate.hidden_transform),
            ] {
                let weight = linear.weight.val().grad(&grads).unwrap();
                tensors.push((format!("{name}.{part}.weight"), weight.flatten::<1>(0, 1)));
                // `bias = "keras"` layers have no recurrent-transform bias.
                if let Some(bias) = &linear.bias {
                    let bias = bias.val().grad(&grads).unwrap();
                    tensors.push((format!("{name}.{part}.bias"), bias));
                }
            }
        }
        (outputs.inner(), tensors)
    };
    let (fused_outputs, fused_grads) = run(&fused);
    let (stock_outputs, stock_grads) = run(&stock);

    let output_error = relative_error(fused_outputs, stock_outputs);
    println!("outputs: relative error {output_error:.2e}");
    assert!(output_error < 1e-4, "outputs differ: {output_error:.2e}");
    let biases = gates
        .iter()
        .flat_map(|(_, g)| [&g.input_transform.bias, &g.hidden_transform.bias])
        .filter(|bias| bias.is_some())
        .count();
    assert_eq!(fused_grads.len(), 1 + 2 * gates.len() + biases);
    let mut worst = 0.0f64;
    for ((name, fused), (_, stock)) in fused_grads.into_iter().zip(stock_grads) {
        let error = relative_error(fused, stock);
        println!("{name}: relative error {error:.2e}");
        assert!(error < 1e-4, "gradient of {name} differs: {error:.2e}");
        worst = worst.max(error);
    }
    println!("largest gradient relative error: {worst:.2e}");
    worst
}

/// `assert_parity` for an LSTM and all its gates.
fn assert_lstm_parity(lstm: &Lstm, device: &Device) {
    let gates = [
        ("input", &lstm.input_gate),
        ("forget", lstm.forget_gate.as_ref().unwrap()),
        ("cell", &lstm.cell_gate),
        ("output", &lstm.output_gate),
    ];
    assert_parity(
        &gates,
        |input| fused::forward(lstm, input),
        |input| lstm.forward(input, None).0,
        device,
    );
}

// Burn's own random initialisation below: every weight and bias non-zero.

#[test]
fn lstm_outputs_and_every_gradient_match_the_stock_layer() {
    let device = Device::flex().autodiff();
    let lstm = LstmConfig::new(28, 64, true).init(&device);
    assert_lstm_parity(&lstm, &device);
}

#[test]
fn gru_outputs_and_every_gradient_match_the_stock_layer() {
    let device = Device::flex().autodiff();
    let gru = GruConfig::new(28, 64, true)
        .with_reset_after(true)
        .init(&device);
    let gates = [
        ("update", &gru.update_gate),
        ("reset", &gru.reset_gate),
        ("new", &gru.new_gate),
    ];
    assert_parity(
        &gates,
        |input| fused::forward(&gru, input),
        |input| gru.forward(input, None),
        &device,
    );
}

#[test]
fn rnn_outputs_and_every_gradient_match_the_stock_layer() {
    let device = Device::flex().autodiff();
    let rnn = RnnConfig::new(28, 64, true).init(&device);
    assert_parity(
        &[("gate", &rnn.gate)],
        |input| fused::forward(&rnn, input),
        |input| rnn.forward(input, None).0,
        &device,
    );
}

/// `bias = "keras"`: the LSTM's and SimpleRNN's recurrent transforms have no bias.
#[test]
fn layers_with_keras_single_bias_match_the_stock_layer() {
    let device = Device::flex().autodiff();
    let mut lstm = LstmConfig::new(28, 32, true).init(&device);
    let mut rnn = RnnConfig::new(28, 32, true).init(&device);
    for gate in [
        &mut lstm.input_gate,
        lstm.forget_gate.as_mut().unwrap(),
        &mut lstm.cell_gate,
        &mut lstm.output_gate,
        &mut rnn.gate,
    ] {
        gate.hidden_transform.bias = None;
    }
    assert!(fused::applies(
        &lstm,
        &Tensor::<3>::zeros([1, 28, 28], &device)
    ));
    assert_lstm_parity(&lstm, &device);
    assert_parity(
        &[("gate", &rnn.gate)],
        |input| fused::forward(&rnn, input),
        |input| rnn.forward(input, None).0,
        &device,
    );
}

#[test]
fn inference_without_autodiff_matches_the_stock_layers() {
    let device = Device::flex();
    let input = Tensor::<3>::random([5, 28, 28], Distribution::Default, &device);
    let lstm = LstmConfig::new(28, 32, true).init(&device);
    let gru = GruConfig::new(28, 32, true).init(&device);
    let rnn = RnnConfig::new(28, 32, true).init(&device);
    let errors = [
        relative_error(
            fused::forward(&lstm, input.clone()),
            lstm.forward(input.clone(), None).0,
        ),
        relative_error(
            fused::forward(&gru, input.clone()),
            gru.forward(input.clone(), None),
        ),
        relative_error(
            fused::forward(&rnn, input.clone()),
            rnn.forward(input, None).0,
        ),
    ];
    assert!(
        errors.iter().all(|&e| e < 1e-4),
        "outputs differ: {errors:?}"
    );
}

#[test]
#[allow(deprecated)] // Device::ndarray: only to show the fused op stays off other backends.
fn the_fused_path_is_taken_only_where_it_applies() {
    let lstm = LstmConfig::new(28, 8, true).init(&Device::flex());
    let input = |device: &Device| Tensor::<3>::zeros([1, 28, 28], device);
    assert!(fused::applies(&lstm, &input(&Device::flex())));
    assert!(fused::applies(&lstm, &input(&Device::flex().autodiff())));
    assert!(!fused::applies(&lstm, &input(&Device::ndarray())));
    let clipped = LstmConfig::new(28, 8, true)
        .with_clip(Some(1.0))
        .init(&Device::flex());
    assert!(!fused::applies(&clipped, &input(&Device::flex())));
    let reset_before = GruConfig::new(28, 8, true)
        .with_reset_after(false)
        .init(&Device::flex());
    assert!(!fused::applies(&reset_before, &input(&Device::flex())));
    let rnn = RnnConfig::new(28, 8, true).init(&Device::flex());
    assert!(fused::applies(&rnn, &input(&Device::flex())));
}

#[test]
fn training_follows_the_same_loss_curve_for_every_cell() {
    for cell in [Cell::Lstm, Cell::Gru, Cell::Rnn] {
        println!("{cell:?}");
        assert_same_loss_curve(cell);
    }
}

/// 25 Adam steps on MNIST (batch 32, hidden 256), fused and stock, from the same weights.
fn assert_same_loss_curve(cell: Cell) {
    let data = MnistData::load(&common::mnist_dir()).unwrap();
    let device = Device::flex().autodiff();
    let config = ModelConfig {
        cell,
        hidden: 256,
        ..ModelConfig::default()
    };
    let batches: Vec<MnistBatch> = (0..25)
        .map(|step| {
            let indices: Vec<usize> = (step * 32..(step + 1) * 32).collect();
            data.train.batch(&indices, &device)
        })
        .collect();

    let curve = |kernel: RecurrentKernel| {
        let mut model = Classifier::new(&config, 3, &device).with_kernel(kernel);
        let mut optimizer = AdamConfig::new().with_epsilon(1e-7).init();
        batches
            .iter()
            .map(|batch| {
                let loss = model.forward_classification(batch.clone()).loss;
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optimizer.step(0.002, model.clone(), grads);
                loss.into_scalar::<f64>()
            })
            .collect::<Vec<_>>()
    };
    let fused = curve(RecurrentKernel::Fused);
    let stock = curve(RecurrentKernel::Stock);

    println!("fused: {fused:.4?}\nstock: {stock:.4?}");
    // It learns: the last losses are well below the first.
    assert!(fused[24] < fused[0] * 0.7, "no learning: {fused:?}");
    let worst = fused
        .iter()
        .zip(&stock)
        .map(|(f, s)| (f - s).abs())
        .fold(0.0, f64::max);
    println!("largest loss difference over 25 steps: {worst:.2e}");
    assert!(worst < 1e-3, "loss curves differ by {worst:.2e}");
}
