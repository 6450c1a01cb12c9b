//! `lstm-mnist augment-preview`: what `[data.augment]` does to the training images, as a grid
//! of a few of them, each beside its distortions in the first epochs.

use std::path::PathBuf;

use crate::config::ExperimentConfig;
use crate::data::augment::Augmenter;
use crate::data::{MnistData, download};
use crate::error::{Error, Result};
use crate::output;
use crate::plots::digit_grid_png;

#[derive(Debug, Clone)]
pub struct AugmentPreviewRequest {
    pub(crate) config_path: PathBuf,
    pub output: PathBuf,
    /// Training images shown, the first ones of the set.
    pub images: usize,
    /// Distortions of each, those of epochs 1, 2, ...
    pub distortions: usize,
    pub data_dir: Option<PathBuf>,
}

pub fn run(request: &AugmentPreviewRequest) -> Result<()> {
    let config = ExperimentConfig::load(&request.config_path)?;
    let Some(augment) = config.data.augment.clone() else {
        return Err(Error::file(
            &request.config_path,
            "has no [data.augment] table: its training images are not distorted",
        ));
    };
    let augmenter = Augmenter::new(augment, config.seed);
    let source = config.data.dataset.source();
    let data_dir = download::resolve_data_dir(source, request.data_dir.as_deref())?;
    let train = MnistData::load(&data_dir)?.train;
    let rows: Vec<_> = (0..request.images.min(train.len()))
        .map(|index| {
            let original = train.gray_image(index);
            let mut row = vec![original.clone()];
            let label = train.label(index);
            row.extend(
                (1..=request.distortions).map(|e| augmenter.distort(&original, label, e, index)),
            );
            row
        })
        .collect();
    let mut headings = vec!["original".to_string()];
    headings.extend((1..=request.distortions).map(|epoch| format!("epoch {epoch}")));
    let title = format!(
        "{}: training images as [data.augment] distorts them",
        request.config_path.display()
    );
    digit_grid_png(&request.output, &title, &headings, &rows)?;
    output::line(format_args!("wrote {}", request.output.display()));
    Ok(())
}
