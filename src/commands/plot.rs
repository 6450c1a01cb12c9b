//! `lstm-mnist plot`: the learning curves of several runs overlaid in one picture; number
//! readers' runs their CTC loss.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::output;
use crate::plots::{Curve, curves_png, losses_png};
use crate::run_dir::{EpochLosses, NUMBER_METRICS, metrics_in, read_losses};

#[derive(Debug, Clone)]
pub struct PlotRequest {
    /// Run directories, each with its metrics.csv.
    pub runs: Vec<PathBuf>,
    /// The PNG to write.
    pub output: PathBuf,
}

pub fn run(request: &PlotRequest) -> Result<()> {
    let number_readers: Vec<&PathBuf> = request
        .runs
        .iter()
        .filter(|run| run.join(NUMBER_METRICS).is_file())
        .collect();
    match number_readers.len() {
        0 => {}
        n if n == request.runs.len() => return plot_number_readers(request),
        _ => {
            return Err(Error::file(
                number_readers[0],
                "is a number reader's run, whose CTC loss shares no scale with a classifier's: \
                 plot number readers apart",
            ));
        }
    }
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

/// The CTC loss curves of number readers' runs, each from its `number-metrics.csv`.
fn plot_number_readers(request: &PlotRequest) -> Result<()> {
    let runs = request
        .runs
        .iter()
        .map(|run| {
            let name = run.file_name().map(|n| n.to_string_lossy().to_string());
            Ok((
                name.unwrap_or_default(),
                read_losses(&run.join(NUMBER_METRICS))?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let curves: Vec<(&str, &[EpochLosses])> = runs
        .iter()
        .map(|(name, epochs)| (name.as_str(), epochs.as_slice()))
        .collect();
    losses_png(&request.output, &curves, "CTC loss per digit")?;
    output::line(format_args!("wrote {}", request.output.display()));
    Ok(())
}
