//! `lstm-mnist predict`: classifies image files and IDX image files with a run's model, a batch
//! at a time, printing each batch's lines as it goes.

use std::path::PathBuf;

use super::write_stdout;
use crate::backend::Backend;
use crate::error::Result;
use crate::inference::{DigitSource, predict};
use crate::run_dir::ModelRef;

#[derive(Debug, Clone)]
pub struct PredictRequest {
    /// A run directory or one of its checkpoint files.
    pub model: PathBuf,
    pub images: Vec<PathBuf>,
    /// How many of the most likely classes to show.
    pub top: usize,
    pub json: bool,
    pub backend: Backend,
}

pub fn run(request: &PredictRequest) -> Result<()> {
    let device = request.backend.device()?;
    let (config, model) = ModelRef::resolve(&request.model)?.load(&device)?;
    let class_names = config.data.dataset.source().class_names;
    let mut printed = 0usize;
    if request.json {
        write_stdout("[")?;
    }
    for path in &request.images {
        let mut source = DigitSource::open(path)?;
        loop {
            let batch = source.next_batch()?;
            if batch.is_empty() {
                break;
            }
            let mut text = String::new();
            for prediction in predict(&model, &batch, request.top, class_names, &device) {
                if request.json {
                    text += if printed == 0 { "\n" } else { ",\n" };
                    text += &serde_json::to_string(&prediction).expect("predictions serialise");
                } else {
                    text += &(prediction.line() + "\n");
                }
                printed += 1;
            }
            write_stdout(&text)?;
        }
    }
    if request.json {
        write_stdout("\n]\n")?;
    }
    Ok(())
}
