//! The results table: one row per finished run in an artifacts directory, every figure read
//! from the run's report.json, beside the seed's published accuracy. README.md embeds it, and a
//! test keeps the two equal.

use std::path::Path;

use crate::error::{Error, Result};
use crate::training::{REPORT_FILE, RunReport, read_report};

/// Test accuracies the seed (the Keras example) published, by config name.
const SEED_ACCURACY: &[(&str, &str)] = &[
    ("lstm-sgd", "96.2%"),
    ("lstm-adam", "98.9%"),
    ("rnn-adam", "98.0%"),
];

/// The runs under `artifacts` that have a report.json, by name.
pub fn finished_runs(artifacts: &Path) -> Result<Vec<RunReport>> {
    let entries = std::fs::read_dir(artifacts)
        .map_err(|e| Error::file(artifacts, format!("cannot list runs: {e}")))?;
    let mut reports = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::file(artifacts, format!("cannot list runs: {e}")))?;
        let report = entry.path().join(REPORT_FILE);
        if report.is_file() {
            reports.push(read_report(&report)?);
        }
    }
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(reports)
}

/// The Markdown table of the finished runs under `artifacts`.
pub fn table(artifacts: &Path) -> Result<String> {
    let mut table = String::from(
        "| config | test accuracy | seed (Keras) | epochs | s/epoch (median) | backend | machine |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for report in finished_runs(artifacts)? {
        let seed = SEED_ACCURACY
            .iter()
            .find(|(name, _)| *name == report.name)
            .map_or("—", |(_, accuracy)| accuracy);
        let machine = if report.machine.is_empty() {
            "not recorded"
        } else {
            &report.machine
        };
        table.push_str(&format!(
            "| `{}` | {:.2}% | {} | {} | {:.1} | {} | {} |\n",
            report.name,
            report.test_accuracy * 100.0,
            seed,
            report.epochs,
            median(&report.epoch_seconds),
            report.backend,
            machine,
        ));
    }
    Ok(table)
}

/// The median, which a single epoch slowed by something else on the machine does not move.
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}
