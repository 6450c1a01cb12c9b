//! `lstm-mnist bench`: how long a training step, an inference batch, an epoch and a full
//! evaluation take on a backend, timed after warm-up on random images.

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Int, Tensor};
use image::{GrayImage, Luma};
use serde::Serialize;

use super::arithmetic::training_step_flops;
use super::statistics::median;
use crate::backend::Backend;
use crate::config::{AugmentConfig, Cell, ModelConfig};
use crate::data::MnistBatch;
use crate::data::augment::Augmenter;
use crate::error::Result;
use crate::machine;
use crate::model::{Classifier, RecurrentKernel};
use crate::output;
use lstm_mnist_model::inference::INFERENCE_BATCH;

/// Steps of one epoch of the 60,000 training images at batch 128.
const STEPS_PER_EPOCH: usize = 469;
const TEST_IMAGES: usize = 10_000;
const TRAIN_BATCH: usize = 128;
const WARM_UP: usize = 3;

#[derive(Debug, Clone)]
pub struct BenchRequest {
    pub backend: Backend,
    pub cell: Cell,
    pub kernel: RecurrentKernel,
    /// Timed batches of each kind.
    pub batches: usize,
    /// Print one JSON object instead of the table.
    pub json: bool,
}

pub fn run(request: &BenchRequest) -> Result<()> {
    let report = measure(
        request.backend,
        request.cell,
        request.kernel,
        request.batches,
    )?;
    if request.json {
        output::line(serde_json::to_string(&report).expect("a report serialises"));
    } else {
        output::print(&report.table());
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct BenchReport {
    pub backend: String,
    pub cell: String,
    /// Which recurrent-layer implementation ran: "fused" (flex only) or "stock".
    pub kernel: String,
    pub batches: usize,
    pub train_step_ms_median: f64,
    pub train_step_ms_min: f64,
    pub train_step_ms_max: f64,
    /// One forward pass over `infer_batch_size` images.
    pub infer_batch_ms_median: f64,
    pub infer_batch_size: usize,
    pub epoch_seconds: f64,
    pub eval_seconds: f64,
    pub peak_rss_mib: f64,
    pub machine: String,
    /// The recurrent layer's matrix arithmetic in one training step (`training_step_flops`).
    pub train_step_gflop: f64,
    /// This machine's measured FMA peak over all threads (`machine::fma_peak_gflops`); absent
    /// on wgpu and on CPUs without a probe.
    pub fma_peak_gflops: Option<f64>,
    /// The share of that peak the median step's matrix arithmetic runs at.
    pub train_step_share_of_peak: Option<f64>,
    /// Distorting one training batch with the default `[data.augment]`, on the one thread
    /// that makes a training loader's batches (beside the step, not inside it).
    pub augment_batch_ms_median: f64,
}

/// Times `batches` training steps (forward, backward, Adam step) at batch 128 and as many
/// inference batches, after a warm-up.
pub(crate) fn measure(
    backend: Backend,
    cell: Cell,
    kernel: RecurrentKernel,
    batches: usize,
) -> Result<BenchReport> {
    let device = backend.device()?;
    // First, while no worker threads of the benchmark are busy (or still spinning). A GPU's
    // step is not measured against the CPU's peak.
    let peak = if backend == Backend::Wgpu {
        None
    } else {
        machine::fma_peak_gflops()
    };
    let train_device = device.clone().autodiff();
    let config = ModelConfig {
        cell,
        hidden: 256,
        ..ModelConfig::default()
    };
    let kernel = if backend == Backend::Flex {
        kernel
    } else {
        RecurrentKernel::Stock
    };

    let train_ms = time_training_steps(&config, kernel, batches, &train_device);
    let infer_ms = time_inference(&config, kernel, batches, &device);
    let augment_ms = time_augmenting(batches);

    let train_median = median(&train_ms);
    let infer_median = median(&infer_ms);
    let step_gflop = training_step_flops(&config, TRAIN_BATCH) / 1e9;
    let step_rate = gflops(step_gflop, train_median);
    Ok(BenchReport {
        backend: backend.to_string(),
        cell: cell.to_string(),
        kernel: kernel.name().into(),
        batches,
        train_step_ms_median: train_median,
        train_step_ms_min: train_ms.iter().copied().fold(f64::INFINITY, f64::min),
        train_step_ms_max: train_ms.iter().copied().fold(0.0, f64::max),
        infer_batch_ms_median: infer_median,
        infer_batch_size: INFERENCE_BATCH,
        epoch_seconds: train_median * STEPS_PER_EPOCH as f64 / 1000.0,
        eval_seconds: infer_median * (TEST_IMAGES / INFERENCE_BATCH) as f64 / 1000.0,
        peak_rss_mib: machine::peak_rss_mib(),
        machine: machine::describe(),
        train_step_gflop: step_gflop,
        fma_peak_gflops: peak,
        train_step_share_of_peak: peak.map(|peak| step_rate / peak),
        augment_batch_ms_median: median(&augment_ms),
    })
}

/// Milliseconds of each training step (forward, backward, Adam step) at batch 128.
fn time_training_steps(
    config: &ModelConfig,
    kernel: RecurrentKernel,
    batches: usize,
    device: &Device,
) -> Vec<f64> {
    let mut model = Classifier::new(config, 42, device).with_kernel(kernel);
    let mut optimizer = AdamConfig::new().with_epsilon(1e-7).init();
    let batch = random_batch(TRAIN_BATCH, device);
    time_each(batches, || {
        let output = model.forward_classification(batch.clone());
        let loss = output.loss.clone();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(0.001, model.clone(), grads);
        // Reading the loss waits for the step to finish, as the training loop's metrics do.
        loss.into_scalar::<f32>();
    })
}

/// Milliseconds of each inference batch of `INFERENCE_BATCH` images.
fn time_inference(
    config: &ModelConfig,
    kernel: RecurrentKernel,
    batches: usize,
    device: &Device,
) -> Vec<f64> {
    let inference = Classifier::new(config, 42, device).with_kernel(kernel);
    let images = random_batch(INFERENCE_BATCH, device).images;
    time_each(batches, || {
        inference.forward(images.clone()).into_data();
    })
}

/// Milliseconds to distort a training batch of digits with the default `[data.augment]`.
fn time_augmenting(batches: usize) -> Vec<f64> {
    let augmenter = Augmenter::new(AugmentConfig::default(), 42);
    // The cost does not depend on the picture: any 28x28 one will do.
    let digit = GrayImage::from_fn(28, 28, |x, y| Luma([((x * 7 + y * 13) % 256) as u8]));
    let mut epoch = 0;
    time_each(batches, || {
        epoch += 1;
        for index in 0..TRAIN_BATCH {
            let label = (index % 10) as u8;
            std::hint::black_box(augmenter.distort(&digit, label, epoch, index));
        }
    })
}

fn random_batch(size: usize, device: &Device) -> MnistBatch {
    MnistBatch {
        images: Tensor::random([size, 28, 28], Distribution::Default, device),
        targets: Tensor::<1, Int>::random([size], Distribution::Uniform(0.0, 10.0), device),
    }
}

/// Milliseconds of each of `runs` calls, after `WARM_UP` untimed ones.
fn time_each(runs: usize, mut call: impl FnMut()) -> Vec<f64> {
    for _ in 0..WARM_UP {
        call();
    }
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            call();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect()
}

/// The rate of `gflop` of arithmetic done in `ms` milliseconds, in GFLOP/s.
fn gflops(gflop: f64, ms: f64) -> f64 {
    gflop / (ms / 1000.0)
}

impl BenchReport {
    pub fn table(&self) -> String {
        format!(
            "backend {} · cell {} · kernel {} · {} timed batches after {WARM_UP} warm-up\n\
             machine {}\n\
             train step (batch {TRAIN_BATCH})  median {:.1} ms  (min {:.1}, max {:.1})\n\
             inference (batch {})       median {:.1} ms\n\
             epoch ({STEPS_PER_EPOCH} steps)           {:.1} s\n\
             evaluation ({TEST_IMAGES} images)   {:.2} s\n\
             peak memory                {:.0} MiB\n\
             {}\
             augmenting a batch         median {:.1} ms (its own thread, beside the step)\n",
            self.backend,
            self.cell,
            self.kernel,
            self.batches,
            self.machine,
            self.train_step_ms_median,
            self.train_step_ms_min,
            self.train_step_ms_max,
            self.infer_batch_size,
            self.infer_batch_ms_median,
            self.epoch_seconds,
            self.eval_seconds,
            self.peak_rss_mib,
            self.arithmetic_line(),
            self.augment_batch_ms_median,
        )
    }

    /// How fast the median step does its matrix arithmetic, against the machine's peak.
    fn arithmetic_line(&self) -> String {
        let rate = gflops(self.train_step_gflop, self.train_step_ms_median);
        let against_peak = self.fma_peak_gflops.map_or(String::new(), |peak| {
            format!(
                ", {:.0}% of this machine's measured FMA peak ({peak:.0} GFLOP/s)",
                rate / peak * 100.0
            )
        });
        format!(
            "step arithmetic            {:.2} GFLOP at {rate:.0} GFLOP/s{against_peak}\n",
            self.train_step_gflop
        )
    }
}
