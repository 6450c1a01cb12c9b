//! The fused CPU LSTM computes what `burn::nn::Lstm` computes: outputs and every gradient, and
//! the same loss curve when it trains.

mod common;

use burn::nn::{GateController, Linear, Lstm, LstmConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor};
use lstm_mnist::config::{Cell, ModelConfig};
use lstm_mnist::data::{MnistBatch, MnistData};
use lstm_mnist::model::{DigitClassifier, LstmKernel, fused_lstm};

/// `max |actual - expected| / max |expected|`
fn relative_error<const D: usize>(actual: Tensor<D>, expected: Tensor<D>) -> f64 {
    let scale = expected.clone().abs().max().into_scalar::<f64>();
    let diff = (actual - expected).abs().max().into_scalar::<f64>();
    diff / scale
}

fn gates(lstm: &Lstm) -> [&GateController; 4] {
    let forget = lstm.forget_gate.as_ref().unwrap();
    [&lstm.input_gate, forget, &lstm.cell_gate, &lstm.output_gate]
}

fn linears(lstm: &Lstm) -> Vec<(String, &Linear)> {
    let names = ["input", "forget", "cell", "output"];
    gates(lstm)
        .into_iter()
        .zip(names)
        .flat_map(|(gate, name)| {
            [
                (format!("{name}.input_transform"), &gate.input_transform),
                (format!("{name}.hidden_transform"), &gate.hidden_transform),
            ]
        })
        .collect()
}

#[test]
fn outputs_and_every_gradient_match_the_stock_lstm() {
    let device = Device::flex().autodiff();
    // Burn's own random initialisation: every weight and bias non-zero.
    let lstm = LstmConfig::new(28, 64, true).init(&device);
    let input = Tensor::<3>::random([37, 28, 28], Distribution::Normal(0.0, 1.0), &device);
    // A random weighting of every hidden state, so every timestep's output carries gradient.
    let weighting = Tensor::<3>::random([37, 28, 64], Distribution::Normal(0.0, 1.0), &device);

    let run = |fused: bool| {
        let input = input.clone().require_grad();
        let outputs = if fused {
            fused_lstm::forward(&lstm, input.clone())
        } else {
            lstm.forward(input.clone(), None).0
        };
        let grads = (outputs.clone() * weighting.clone()).sum().backward();
        let mut tensors = vec![(
            "input".to_string(),
            input.grad(&grads).unwrap().flatten::<1>(0, 2),
        )];
        for (name, linear) in linears(&lstm) {
            let weight = linear.weight.val().grad(&grads).unwrap();
            let bias = linear.bias.as_ref().unwrap().val().grad(&grads).unwrap();
            tensors.push((format!("{name}.weight"), weight.flatten::<1>(0, 1)));
            tensors.push((format!("{name}.bias"), bias));
        }
        (outputs.inner(), tensors)
    };
    let (fused_outputs, fused_grads) = run(true);
    let (stock_outputs, stock_grads) = run(false);

    let output_error = relative_error(fused_outputs, stock_outputs);
    println!("outputs: relative error {output_error:.2e}");
    assert!(output_error < 1e-4, "outputs differ: {output_error:.2e}");
    assert_eq!(fused_grads.len(), 17);
    let mut worst = 0.0f64;
    for ((name, fused), (_, stock)) in fused_grads.into_iter().zip(stock_grads) {
        let error = relative_error(fused, stock);
        println!("{name}: relative error {error:.2e}");
        assert!(error < 1e-4, "gradient of {name} differs: {error:.2e}");
        worst = worst.max(error);
    }
    println!("largest gradient relative error: {worst:.2e}");
}

#[test]
fn inference_without_autodiff_matches_the_stock_lstm() {
    let device = Device::flex();
    let lstm = LstmConfig::new(28, 32, true).init(&device);
    let input = Tensor::<3>::random([5, 28, 28], Distribution::Default, &device);
    let error = relative_error(
        fused_lstm::forward(&lstm, input.clone()),
        lstm.forward(input, None).0,
    );
    assert!(error < 1e-4, "outputs differ: {error:.2e}");
}

#[test]
#[allow(deprecated)] // Device::ndarray: only to show the fused op stays off other backends.
fn the_fused_path_is_taken_only_where_it_applies() {
    let lstm = LstmConfig::new(28, 8, true).init(&Device::flex());
    let input = |device: &Device| Tensor::<3>::zeros([1, 28, 28], device);
    assert!(fused_lstm::applies(&lstm, &input(&Device::flex())));
    assert!(fused_lstm::applies(
        &lstm,
        &input(&Device::flex().autodiff())
    ));
    assert!(!fused_lstm::applies(&lstm, &input(&Device::ndarray())));
    let clipped = LstmConfig::new(28, 8, true)
        .with_clip(Some(1.0))
        .init(&Device::flex());
    assert!(!fused_lstm::applies(&clipped, &input(&Device::flex())));
}

#[test]
fn training_follows_the_same_loss_curve() {
    let data = MnistData::load(&common::mnist_dir()).unwrap();
    let device = Device::flex().autodiff();
    let config = ModelConfig {
        cell: Cell::Lstm,
        hidden: 256,
    };
    let batches: Vec<MnistBatch> = (0..25)
        .map(|step| {
            let indices: Vec<usize> = (step * 32..(step + 1) * 32).collect();
            MnistBatch::from_examples(&data.train, &indices, &device)
        })
        .collect();

    let curve = |kernel: LstmKernel| {
        let mut model = DigitClassifier::new(&config, 3, &device).with_lstm_kernel(kernel);
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
    let fused = curve(LstmKernel::Fused);
    let stock = curve(LstmKernel::Stock);

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
