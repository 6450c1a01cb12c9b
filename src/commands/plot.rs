//! `lstm-mnist plot`: the learning curves of several runs overlaid in one picture.

use std::path::PathBuf;

use crate::error::Result;
use crate::output;
use crate::plots::{Curve, curves_png};
use crate::run_dir::metrics_in;

#[derive(Debug, Clone)]
pub struct PlotRequest {
    /// Run directories, each with its metrics.csv.
    pub runs: Vec<PathBuf>,
    /// The PNG to write.
    pub output: PathBuf,
}

pub fn run(request: &PlotRequest) -> Result<()> {
    let runs = request
        .runs
        .iter()
        .map(|run| {
            let name = run.file_name().map(|n| n.to_string_lossy().to_string());
            Ok((name.unwrap_or_default(), metrics_in(run)?))
        })
        .collect::<Result<Vec<_>>>()?;
    let curves: Vec<Curve> = runs
        .iter()
        .map(|(name, epochs)| Curve { name, epochs })
        .collect();
    curves_png(&request.output, &curves, "learning curves")?;
    output::line(format_args!("wrote {}", request.output.display()));
    Ok(())
}
