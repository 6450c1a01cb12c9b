//! Burn's CTC loss as the number reader uses it (`lstm_mnist_model::train::ctc_loss`, blank
//! 10) against PyTorch's `ctc_loss` on a fixture made once (`tools/ctc_fixture.py`), and its
//! gradient against finite differences.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData, s};
use lstm_mnist_model::number::BLANK;
use lstm_mnist_model::train::ctc_loss;
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    blank: usize,
    /// `[steps, batch, classes]`, as PyTorch takes them.
    logits: Vec<Vec<Vec<f64>>>,
    targets: Vec<Vec<i64>>,
    input_lengths: Vec<i64>,
    target_lengths: Vec<i64>,
    losses: Vec<f64>,
    mean: f64,
    mean_gradient: Vec<Vec<Vec<f64>>>,
}

fn read_fixture() -> Fixture {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ctc/ctc.json"
    ))
    .expect("the CTC fixture is there");
    serde_json::from_str(&text).expect("the CTC fixture parses")
}

fn flat(values: &[Vec<Vec<f64>>]) -> (Vec<f32>, [usize; 3]) {
    let shape = [values.len(), values[0].len(), values[0][0].len()];
    let flat = values
        .iter()
        .flatten()
        .flatten()
        .map(|&v| v as f32)
        .collect();
    (flat, shape)
}

/// The fixture's mean loss of `logits` (`[steps, batch, classes]`) through our `ctc_loss`.
fn mean_loss(fixture: &Fixture, logits: Tensor<3>, device: &Device) -> Tensor<1> {
    let batch = fixture.targets.len();
    let most = fixture.targets[0].len();
    let targets: Vec<i64> = fixture.targets.iter().flatten().copied().collect();
    let int = |values: Vec<i64>, shape: [usize; 1]| {
        Tensor::<1, Int>::from_data(TensorData::new(values, shape), device)
    };
    ctc_loss(
        log_softmax(logits.swap_dims(0, 1), 2),
        Tensor::<2, Int>::from_data(TensorData::new(targets, [batch, most]), device),
        int(fixture.input_lengths.clone(), [batch]),
        int(fixture.target_lengths.clone(), [batch]),
    )
}

#[test]
fn burns_ctc_loss_is_pytorchs_and_so_is_its_gradient() {
    let fixture = read_fixture();
    assert_eq!(fixture.blank, BLANK);
    let device = Device::flex().autodiff();
    let (values, shape) = flat(&fixture.logits);
    let logits = Tensor::<3>::from_data(TensorData::new(values, shape), &device).require_grad();
    let loss = mean_loss(&fixture, logits.clone(), &device);
    let mean = loss.clone().into_scalar::<f64>();
    assert!(
        (mean - fixture.mean).abs() < 1e-4 * fixture.mean,
        "mean loss {mean}, PyTorch's {}",
        fixture.mean
    );
    // Each sequence alone: its own loss over its target length.
    for (sequence, &expected) in fixture.losses.iter().enumerate() {
        let alone = Fixture {
            targets: vec![fixture.targets[sequence].clone()],
            input_lengths: vec![fixture.input_lengths[sequence]],
            target_lengths: vec![fixture.target_lengths[sequence]],
            ..read_fixture()
        };
        let logits = logits.clone().slice(s![.., sequence..sequence + 1, ..]);
        let per_digit = mean_loss(&alone, logits, &device).into_scalar::<f64>();
        let loss = per_digit * fixture.target_lengths[sequence] as f64;
        assert!(
            (loss - expected).abs() < 1e-4 * expected,
            "sequence {sequence}: loss {loss}, PyTorch's {expected}"
        );
    }
    let gradients = loss.backward();
    let gradient = logits.grad(&gradients).expect("the logits have a gradient");
    let (expected, _) = flat(&fixture.mean_gradient);
    let actual: Vec<f32> = gradient.into_data().try_into_vec().expect("f32");
    let worst = actual
        .iter()
        .zip(&expected)
        .map(|(a, e)| (a - e).abs())
        .fold(0.0f32, f32::max);
    assert!(
        worst < 1e-5,
        "gradient differs from PyTorch's by up to {worst}"
    );
}

#[test]
fn the_ctc_gradient_is_the_losss_slope() {
    let fixture = read_fixture();
    let device = Device::flex().autodiff();
    let (values, shape) = flat(&fixture.logits);
    let at = |values: Vec<f32>| Tensor::<3>::from_data(TensorData::new(values, shape), &device);
    let logits = at(values.clone()).require_grad();
    let gradients = mean_loss(&fixture, logits.clone(), &device).backward();
    let analytic: Vec<f32> = logits
        .grad(&gradients)
        .expect("a gradient")
        .into_data()
        .try_into_vec()
        .expect("f32");
    // Central differences in f64 arithmetic of f32 losses: a step of 1e-2 leaves an error of
    // about 1e-4 against gradients up to a few tenths.
    let step = 1e-2f32;
    let loss_with = |index: usize, delta: f32| {
        let mut moved = values.clone();
        moved[index] += delta;
        mean_loss(&fixture, at(moved), &device).into_scalar::<f64>()
    };
    // Steps inside and past the shorter input, of the blank, a target digit and another class.
    let [_, batch, classes] = shape;
    for (step_index, sequence, class) in
        [(0, 0, 7), (3, 1, BLANK), (5, 2, 5), (10, 2, 3), (11, 0, 9)]
    {
        let index = (step_index * batch + sequence) * classes + class;
        let numeric = (loss_with(index, step) - loss_with(index, -step)) / (2.0 * f64::from(step));
        let difference = (numeric - f64::from(analytic[index])).abs();
        assert!(
            difference < 1e-3,
            "step {step_index}, sequence {sequence}, class {class}: autodiff {}, finite differences {numeric}",
            analytic[index]
        );
    }
    // Past its input length a sequence has no loss, so no gradient.
    let past = (10 * batch + 2) * classes + 3;
    assert_eq!(analytic[past], 0.0);
}
