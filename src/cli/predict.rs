//! `predict`: classify pictures and IDX files.

use std::path::PathBuf;

use clap::Args;

use super::shared::BackendArg;
use crate::commands::Request;
use crate::commands::predict::{PredictRequest, Reader};
use crate::error::Result;

pub(super) const EXAMPLES: &str = "\
Examples:
  lstm-mnist predict --checkpoint artifacts/lstm-adam my-digit.png
  lstm-mnist predict --checkpoint artifacts/lstm-adam t10k-images-idx3-ubyte.gz
  lstm-mnist predict --checkpoint artifacts/number-bilstm --steps my-number.png";

#[derive(Debug, Args)]
pub(super) struct PredictArgs {
    /// A run directory (artifacts/<name>) or one of its checkpoint/model-N.bpk files; a number
    /// reader's run (artifacts/number-bilstm) reads each picture's written number.
    #[arg(long, value_name = "PATH")]
    checkpoint: PathBuf,
    /// Image files: PNG, JPEG, ... of any size, or IDX image files (every image in them).
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
    /// Show the K most likely digits of each image.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10))]
    top: u32,
    /// Also show the model's reading row by row: the rows after which its leading class
    /// changes (with --json, the ten probabilities after each of the 28 rows); for a number,
    /// the columns of the strip (as --save-inputs writes it) that gave each digit.
    #[arg(long)]
    steps: bool,
    /// Write the 28x28 picture the model received for each image into DIR, as the serve page
    /// shows it (white digit on black, enlarged 4x): `<file>.input.png`, and
    /// `<file>-<index>.input.png` for the images of an IDX file; with --ink-finder, also what
    /// the finder saw, `<file>.ink.png` (its probability of ink, white, over the part of the
    /// picture it looked at last).
    #[arg(long, value_name = "DIR")]
    save_inputs: Option<PathBuf>,
    /// Find the ink of pictures with the learned ink finder trained in DIR (by `train` on an
    /// ink finder's config; artifacts/ink-finder is the shipped one) instead of the picture
    /// path's rules.
    #[arg(long, value_name = "DIR")]
    ink_finder: Option<PathBuf>,
    /// Print the predictions as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    compute: BackendArg,
}

impl PredictArgs {
    pub(super) fn into_request(self) -> Result<Request> {
        Ok(Request::Predict(PredictRequest {
            reader: Reader::resolve(&self.checkpoint)?,
            images: self.images,
            top: self.top as usize,
            steps: self.steps,
            json: self.json,
            save_inputs: self.save_inputs,
            ink_finder: self.ink_finder,
            backend: self.compute.backend,
        }))
    }
}
