//! `augment-preview`: a config's training distortions, drawn.

use std::path::PathBuf;

use clap::Args;

use super::shared::DataDirArg;
use crate::commands::Request;
use crate::commands::augment_preview::AugmentPreviewRequest;
use crate::error::Result;

pub(super) const EXAMPLES: &str = "\
Examples:
  lstm-mnist augment-preview --config configs/lstm-adam-robust.toml
  lstm-mnist augment-preview --config mine.toml --images 4 --distortions 12 --output preview.png";

#[derive(Debug, Args)]
pub(super) struct AugmentPreviewArgs {
    /// Experiment config (TOML) with a [data.augment] table.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Where to write the picture (PNG).
    #[arg(long, value_name = "FILE", default_value = "augment-preview.png")]
    output: PathBuf,
    /// Training images shown (the first ones).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100))]
    images: u32,
    /// Distortions of each (those of epochs 1, 2, ...).
    #[arg(long, value_name = "K", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=50))]
    distortions: u32,
    #[command(flatten)]
    data: DataDirArg,
}

impl AugmentPreviewArgs {
    pub(super) fn into_request(self) -> Result<Request> {
        Ok(Request::AugmentPreview(AugmentPreviewRequest {
            config_path: self.config,
            output: self.output,
            images: self.images as usize,
            distortions: self.distortions as usize,
            data_dir: self.data.data_dir,
        }))
    }
}
