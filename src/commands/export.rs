//! `export-keras`, `export-onnx`, `export-torch`: a run's model in another framework's file,
//! written only after the whole request was checked, and never over an existing file without
//! `--overwrite`.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};

use super::predict::Reader;
use crate::backend::Backend;
use crate::error::{AtFile, Error, Result};
use crate::keras::{check_weights_file_name, export_weights};
use crate::output;
use crate::run_dir::ModelRef;
use crate::training::number_reader::load_reader;
use crate::{fsutil, onnx, torch};
use lstm_mnist_model::inference::Detail;
use lstm_mnist_model::model::host_values;
use lstm_mnist_model::number::{NUMBER_CLASSES, NumberReader, STEP_FEATURES};
use lstm_mnist_model::run::TrainedModel;
use lstm_mnist_model::{COLUMNS, ModelInput, ROWS};

/// Where a model can go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// A `.weights.h5` for Keras's `model.load_weights`.
    Keras,
    /// An ONNX graph of ONNX's own recurrent operators.
    Onnx,
    /// A PyTorch state_dict as safetensors.
    Torch,
}

#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub format: ExportFormat,
    /// A classifier's run (or one of its checkpoints), or a number reader's run.
    pub reader: Reader,
    pub output: PathBuf,
    /// Replace an existing output file.
    pub overwrite: bool,
}

/// How far the ONNX graph may stray from the model, in probability: float32 arithmetic in
/// another order differs by about 1e-7.
const ONNX_TOLERANCE: f32 = 1e-5;
/// Inputs the written graph is checked on.
const PROBE_IMAGES: usize = 16;

pub fn run(request: &ExportRequest) -> Result<()> {
    if request.format == ExportFormat::Keras {
        check_weights_file_name(&request.output)?;
    }
    if request.output.exists() && !request.overwrite {
        return Err(Error::file(
            &request.output,
            "already exists; pass --overwrite to replace it",
        ));
    }
    let device = Backend::Flex.device()?;
    match &request.reader {
        Reader::Digits(model) => export_classifier(request, model, &device),
        Reader::Number(dir) => export_number_reader(request, dir, &device),
    }
}

/// Writes the classifier `model` in the format asked for.
fn export_classifier(request: &ExportRequest, model: &ModelRef, device: &Device) -> Result<()> {
    let (config, model) = model.load(device)?;
    let (cell, hidden, out) = (
        config.model.cell,
        config.model.hidden,
        request.output.display(),
    );
    match request.format {
        ExportFormat::Keras => {
            export_weights(&model.classifier().keras_weights(), &request.output)?;
            output::line(format_args!(
                "Wrote {out}. In Keras 3:\n  model = keras.Sequential([keras.Input((28, 28)), \
                 keras.layers.{}({hidden}), keras.layers.Dense(10, activation=\"softmax\")])\n  \
                 model.load_weights(\"{out}\")",
                cell.facts().keras.class,
            ));
        }
        ExportFormat::Onnx => {
            let bytes = onnx::model_bytes(&model.classifier().gate_weights(), &config.name);
            let difference =
                onnx_difference(&bytes, &model).doing(&request.output, "not written")?;
            fsutil::write_atomic(&request.output, &bytes)?;
            output::line(format_args!(
                "Wrote {out} ({} bytes): ONNX opset {}, {} with {hidden} units; tract runs it \
                 within {difference:.1e} of this model's probabilities. With onnxruntime:\n  \
                 session = onnxruntime.InferenceSession(\"{out}\")\n  \
                 probabilities = session.run([\"{}\"], {{\"{}\": images}})[0]  # images: float32 [N, 28, 28] in [0, 1]",
                bytes.len(),
                onnx::OPSET,
                cell.facts().onnx.operator,
                onnx::OUTPUT,
                onnx::INPUT,
            ));
        }
        ExportFormat::Torch => {
            torch::write_state_dict(&model.classifier().gate_weights(), &request.output)?;
            output::line(format_args!(
                "Wrote {out}. In PyTorch (safetensors.torch.load_file reads it):\n  \
                 model.recurrent = {}(28, {hidden}, batch_first=True); model.head = \
                 nn.Linear({hidden}, 10)\n  model.load_state_dict(load_file(\"{out}\"), strict=True)",
                cell.facts().torch.class,
            ));
        }
    }
    Ok(())
}

/// Writes the number reader of the run in `dir` as an ONNX graph or a PyTorch state_dict; the
/// graph only once tract runs it as the reader reads.
fn export_number_reader(request: &ExportRequest, dir: &Path, device: &Device) -> Result<()> {
    let reader = load_reader(dir, device)?;
    let layout = reader.layout();
    let (hidden, layers, out) = (layout.hidden, layout.layers.len(), request.output.display());
    match request.format {
        ExportFormat::Keras => {
            return Err(Error::file(
                dir,
                "a number reader has no Keras form here: export-onnx and export-torch take it",
            ));
        }
        ExportFormat::Onnx => {
            let name = dir.file_name().unwrap_or_default().to_string_lossy();
            let bytes = onnx::number_model_bytes(&layout, &name);
            let difference = number_onnx_difference(&bytes, &reader, device)
                .doing(&request.output, "not written")?;
            fsutil::write_atomic(&request.output, &bytes)?;
            output::line(format_args!(
                "Wrote {out} ({} bytes): ONNX opset {}, {layers} bidirectional LSTM layers of \
                 {hidden} units; tract runs it within {difference:.1e} of this reader's step \
                 probabilities. With onnxruntime:\n  \
                 session = onnxruntime.InferenceSession(\"{out}\")\n  \
                 log_probabilities = session.run([\"{}\"], {{\"{}\": steps}})[0]  \
                 # steps: float32 [N, T, {STEP_FEATURES}], two strip columns a step",
                bytes.len(),
                onnx::OPSET,
                onnx::NUMBER_OUTPUT,
                onnx::NUMBER_INPUT,
            ));
        }
        ExportFormat::Torch => {
            torch::write_number_state_dict(&layout, &request.output)?;
            output::line(format_args!(
                "Wrote {out}. In PyTorch (safetensors.torch.load_file reads it):\n  \
                 model.recurrent = nn.LSTM({STEP_FEATURES}, {hidden}, num_layers={layers}, \
                 bidirectional=True, batch_first=True); model.head = nn.Linear({}, \
                 {NUMBER_CLASSES})\n  model.load_state_dict(load_file(\"{out}\"), strict=True)",
                2 * hidden,
            ));
        }
    }
    Ok(())
}

/// The largest difference between the step probabilities tract computes from the number
/// reader's ONNX graph and the reader's own, on fixed probe strips; an error as for a
/// classifier's graph.
fn number_onnx_difference(
    bytes: &[u8],
    reader: &NumberReader,
    device: &Device,
) -> std::result::Result<f32, OnnxMismatch> {
    let (count, steps) = (PROBE_STRIPS, PROBE_STEPS);
    let strips: Vec<f32> = (0..count * steps * STEP_FEATURES)
        .map(|i| {
            let (step, row) = ((i / STEP_FEATURES) % steps, i % ROWS);
            let stroke = (-((row as f32 - 14.0).powi(2) + (step % 9) as f32) / 20.0).exp();
            (stroke + 0.05 * ((i * 7 % 11) as f32 / 10.0)).min(1.0)
        })
        .collect();
    let input = Tensor::<3>::from_data(
        TensorData::new(strips.clone(), [count, steps, STEP_FEATURES]),
        device,
    );
    let expected = host_values(reader.forward(input).exp());
    let found = onnx::run_number(bytes, [count, steps], &strips)
        .map_err(|e| OnnxMismatch::Unrunnable(format!("{e:#}")))?;
    largest_difference(
        &expected,
        &found.iter().map(|v| v.exp()).collect::<Vec<_>>(),
    )
}

/// Probe strips the number reader's graph is checked on, and their steps.
const PROBE_STRIPS: usize = 3;
const PROBE_STEPS: usize = 40;

/// The largest difference between the model's `expected` probabilities and the graph's
/// `found` ones; an error where they differ by more than float32 rounding.
fn largest_difference(expected: &[f32], found: &[f32]) -> std::result::Result<f32, OnnxMismatch> {
    let difference = expected
        .iter()
        .zip(found)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    if found.len() != expected.len() || difference.is_nan() || difference > ONNX_TOLERANCE {
        return Err(OnnxMismatch::Differs { difference });
    }
    Ok(difference)
}

/// The largest difference between the probabilities tract computes from the ONNX graph and
/// the model's own, on fixed probe inputs; an error where they differ by more than float32
/// rounding, or where tract cannot run the graph.
fn onnx_difference(bytes: &[u8], model: &TrainedModel) -> std::result::Result<f32, OnnxMismatch> {
    let images = probe_images();
    let expected: Vec<f32> = model
        .read_batch(&images, Detail::Answer)
        .iter()
        .flat_map(|reading| *reading.probabilities())
        .collect();
    let found = onnx::run(bytes, images.as_flattened())
        .map_err(|e| OnnxMismatch::Unrunnable(format!("{e:#}")))?;
    largest_difference(&expected, &found)
}

/// Why a written ONNX graph is not kept.
#[derive(Debug)]
enum OnnxMismatch {
    /// tract cannot run it (tract's words).
    Unrunnable(String),
    /// It computes other probabilities than the model, by this much at most.
    Differs { difference: f32 },
}

impl std::fmt::Display for OnnxMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OnnxMismatch::Unrunnable(why) => write!(f, "tract cannot run the graph: {why}"),
            OnnxMismatch::Differs { difference } => write!(
                f,
                "tract's run of the graph differs from the model by {difference} (over \
                 {ONNX_TOLERANCE})"
            ),
        }
    }
}

/// Fixed inputs in [0, 1] that exercise every pixel: a blurred diagonal stroke on a faint,
/// varying background, different in each image.
fn probe_images() -> Vec<ModelInput> {
    (0..PROBE_IMAGES)
        .map(|k| {
            std::array::from_fn(|p| {
                let (row, col) = ((p / COLUMNS) as f32, (p % COLUMNS) as f32);
                let stroke = (-(row - col * (0.5 + k as f32 / 16.0) - 4.0).powi(2) / 8.0).exp();
                let background = 0.05 * (((p * 7 + k * 13) % 11) as f32 / 10.0);
                (stroke + background).min(1.0)
            })
        })
        .collect()
}
