//! The wgpu path computes what flex computes (CI runs it on Mesa's CPU Vulkan driver).
//! Kept to one small forward+backward: the first LSTM step compiles many shaders.

mod common;

use common::needs::{Need, met};

use burn::tensor::Device;
use lstm_mnist::backend::Backend;
use lstm_mnist::config::{Cell, ModelConfig};
use lstm_mnist::data::MnistData;
use lstm_mnist::model::Classifier;

/// Loss and the head's weight gradient for one batch of 8 test images, from seed-1 weights.
fn loss_and_head_gradient(device: Device) -> (f32, Vec<f32>) {
    let device = device.autodiff();
    let test = MnistData::load_test(&common::mnist_dir()).unwrap();
    let model = Classifier::new(
        &ModelConfig {
            cell: Cell::Lstm,
            hidden: 32,
            ..ModelConfig::default()
        },
        1,
        &device,
    );
    let batch = test.batch(&(0..8).collect::<Vec<_>>(), &device);
    let loss = model.forward_classification(batch).loss;
    let grads = loss.backward();
    let gradient = model
        .head
        .weight
        .val()
        .grad(&grads)
        .expect("the head has a gradient");
    (
        loss.into_scalar::<f32>(),
        gradient.into_data().try_to_vec::<f32>().unwrap(),
    )
}

#[test]
fn wgpu_forward_and_backward_match_flex() {
    // CubeCL's autotune benchmarks several candidate kernels per new shape, each compiled by
    // the CPU Vulkan driver here: minutes that say nothing about the results checked below.
    // SAFETY: the only test of this binary, before any thread reads the environment.
    unsafe { std::env::set_var("CUBECL_AUTOTUNE_LEVEL", "minimal") };
    if !met(Need::GpuAdapter, "wgpu_forward_and_backward_match_flex") {
        return;
    }
    let wgpu = Backend::Wgpu.device().unwrap();
    let (flex_loss, flex_grad) = loss_and_head_gradient(Backend::Flex.device().unwrap());
    let (wgpu_loss, wgpu_grad) = loss_and_head_gradient(wgpu);
    eprintln!("loss: flex {flex_loss}, wgpu {wgpu_loss}");
    assert!(
        (flex_loss - wgpu_loss).abs() < 1e-3,
        "flex {flex_loss} vs wgpu {wgpu_loss}"
    );
    let largest = flex_grad
        .iter()
        .zip(&wgpu_grad)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(largest < 1e-3, "head gradients differ by up to {largest}");
}
