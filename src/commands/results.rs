//! `lstm-mnist results`: one row per finished run in an artifacts directory, every figure read
//! from the run's report.json, beside the seed's published accuracy; the runs that have no
//! readable report are named below the table. README.md embeds the table, and a test keeps the
//! two equal.

use std::path::PathBuf;

use super::write_stdout;
use crate::error::Result;
use crate::run_dir::{RunListing, RunReport};

#[derive(Debug, Clone)]
pub struct ResultsRequest {
    pub artifacts: PathBuf,
}

/// Test accuracies the seed (the Keras example) published, by config name.
const SEED_ACCURACY: &[(&str, &str)] = &[
    ("lstm-sgd", "96.2%"),
    ("lstm-adam", "98.9%"),
    ("rnn-adam", "98.0%"),
];

pub fn run(request: &ResultsRequest) -> Result<()> {
    let listing = RunListing::of(&request.artifacts)?;
    let mut text = table(&listing.finished);
    if !listing.unfinished.is_empty() {
        text += &format!(
            "\nNot finished (no report yet): {}\n",
            listing.unfinished.join(", ")
        );
    }
    for (name, why) in &listing.unreadable {
        text += &format!("\nUnreadable: {name}: {why}\n");
    }
    write_stdout(&text)
}

/// The Markdown table of finished runs.
pub fn table(reports: &[RunReport]) -> String {
    let mut table = String::from(
        "| config | test accuracy | seed (Keras) | epochs | s/epoch (median) | backend | machine |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for report in reports {
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
    table
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
