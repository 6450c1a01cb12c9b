//! `lstm-mnist results`: one row per finished run in an artifacts directory, every figure read
//! from the run's report.json, beside the Keras example's published accuracy; then, for every
//! experiment trained with several random seeds, the spread of its test accuracy over them.
//! The runs that have no readable report are named below. docs/results.md embeds the output, and a
//! test keeps the two equal.

use std::path::PathBuf;

use super::statistics::median;
use crate::config::ExperimentConfig;
use crate::error::Result;
use crate::evaluation::numbers::GapKind;
use crate::evaluation::robustness::RobustnessReport;
use crate::output;
use crate::run_dir::{FinishedRun, RunListing};
use crate::training::number_reader::NumberReport;

#[derive(Debug, Clone)]
pub struct ResultsRequest {
    pub artifacts: PathBuf,
}

/// Test accuracies (%) the Keras example published, by config name.
const KERAS_ACCURACY: &[(&str, f64)] =
    &[("lstm-sgd", 96.2), ("lstm-adam", 98.9), ("rnn-adam", 98.0)];

pub fn run(request: &ResultsRequest) -> Result<()> {
    let listing = RunListing::of(&request.artifacts)?;
    let mut text = table(&listing.finished)?;
    let spreads = spread_table(&listing.finished);
    if !spreads.is_empty() {
        text += &format!("\n{spreads}");
    }
    if !listing.number_readers.is_empty() {
        text += &format!("\n{}", number_table(&listing.number_readers)?);
    }
    if !listing.unfinished.is_empty() {
        text += &format!(
            "\nNot finished (no report yet): {}\n",
            listing.unfinished.join(", ")
        );
    }
    for (name, why) in &listing.unreadable {
        text += &format!("\nUnreadable: {name}: {why}\n");
    }
    output::print(&text);
    Ok(())
}

/// One row per number reader: its report's scores on the test numbers, beside the component
/// baseline's.
fn number_table(readers: &[(String, PathBuf)]) -> Result<String> {
    let mut text = String::from(
        "| number reader | test numbers read whole | character error rate | touching digits \
         | components (baseline) |\n| --- | --- | --- | --- | --- |\n",
    );
    let percent = |fraction: f64| format!("{:.2}%", fraction * 100.0);
    for (name, dir) in readers {
        let report = NumberReport::read(dir)?;
        let touching = report
            .reader
            .by_gap
            .get(&GapKind::Touching)
            .map_or("—".to_string(), |scores| percent(scores.whole_number));
        text += &format!(
            "| `{name}` | {} | {} | {touching} | {} |\n",
            percent(report.reader.all.whole_number),
            percent(report.reader.all.character_error_rate),
            percent(report.baseline.all.whole_number),
        );
    }
    Ok(text)
}

fn keras_accuracy(name: &str) -> Option<f64> {
    KERAS_ACCURACY
        .iter()
        .find(|(config, _)| *config == name)
        .map(|(_, accuracy)| *accuracy)
}

fn seed_of(run: &FinishedRun) -> String {
    run.config
        .as_ref()
        .map_or("—".to_string(), |config| config.seed.to_string())
}

/// The mean accuracy of the run's robustness report (`lstm-mnist robustness`) and its
/// picture suite's lowest row (`--pictures`), where it has them; a damaged report is an error
/// naming it.
fn robustness_columns(run: &FinishedRun) -> Result<(String, String)> {
    let Some(report) = RobustnessReport::in_dir(&run.dir)? else {
        return Ok(("—".to_string(), "—".to_string()));
    };
    let lowest = report
        .pictures
        .iter()
        .map(|row| row.accuracy)
        .min_by(f64::total_cmp)
        .map_or("—".to_string(), |lowest| {
            format!("{:.2}%", lowest * 100.0)
        });
    Ok((format!("{:.2}%", report.mean_accuracy * 100.0), lowest))
}

/// The Markdown table of finished runs.
fn table(runs: &[FinishedRun]) -> Result<String> {
    let mut table = String::from(
        "| run | random seed | test accuracy | robustness (mean) | pictures (lowest) | Keras example | epochs | s/epoch (median) | backend | machine |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for run in runs {
        let report = &run.report;
        let keras = keras_accuracy(&run.name).map_or("—".to_string(), |a| format!("{a:.1}%"));
        let machine = if report.machine.is_empty() {
            "not recorded"
        } else {
            &report.machine
        };
        let (robustness, pictures) = robustness_columns(run)?;
        table.push_str(&format!(
            "| `{}` | {} | {:.2}% | {} | {} | {} | {} | {:.1} | {} | {} |\n",
            run.name,
            seed_of(run),
            report.test_accuracy * 100.0,
            robustness,
            pictures,
            keras,
            report.epochs,
            median(&report.epoch_seconds),
            report.backend,
            machine,
        ));
    }
    Ok(table)
}

/// Runs of one experiment that differ only in name and random seed, named after the shortest
/// name among them (the main run, `lstm-sgd` beside `lstm-sgd-seed1`, …).
struct SeedGroup<'a> {
    /// The config the runs share, with name and seed blanked (`None`: unreadable, a group
    /// of its own).
    experiment: Option<ExperimentConfig>,
    runs: Vec<&'a FinishedRun>,
}

impl SeedGroup<'_> {
    /// The shortest run name, without the seed a sweep's point names carry
    /// (`seeds/lstm-sgd_seed-42` -> `seeds/lstm-sgd`).
    fn name(&self) -> String {
        let shortest = self
            .runs
            .iter()
            .map(|run| run.name.as_str())
            .min_by_key(|name| (name.len(), *name))
            .expect("a group has runs");
        let Some((sweep, point)) = shortest.split_once('/') else {
            return shortest.to_string();
        };
        let parts: Vec<&str> = point
            .split('_')
            .filter(|part| {
                !part
                    .strip_prefix("seed-")
                    .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
            })
            .collect();
        format!("{sweep}/{}", parts.join("_"))
    }
}

fn seed_groups(runs: &[FinishedRun]) -> Vec<SeedGroup<'_>> {
    let mut groups: Vec<SeedGroup> = Vec::new();
    for run in runs {
        let experiment = run.experiment();
        let same = groups
            .iter_mut()
            .find(|group| experiment.is_some() && group.experiment == experiment);
        match same {
            Some(group) => group.runs.push(run),
            None => groups.push(SeedGroup {
                experiment,
                runs: vec![run],
            }),
        }
    }
    groups
}

/// Mean, sample standard deviation and range of the test accuracy (%) of every experiment
/// with more than one finished run, and where the Keras example's figure falls.
fn spread_table(runs: &[FinishedRun]) -> String {
    let groups: Vec<SeedGroup> = seed_groups(runs)
        .into_iter()
        .filter(|group| group.runs.len() > 1)
        .collect();
    if groups.is_empty() {
        return String::new();
    }
    let mut table = String::from(
        "| experiment | runs | random seeds | mean | std | range | Keras example | Keras vs our range |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for group in groups {
        let accuracies: Vec<f64> = group
            .runs
            .iter()
            .map(|run| run.report.test_accuracy * 100.0)
            .collect();
        let spread = Spread::of(&accuracies);
        let mut seeds: Vec<String> = group.runs.iter().map(|run| seed_of(run)).collect();
        // Numeric order for the digit strings.
        seeds.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
        let name = group.name();
        // A sweep's point of a published config is compared with it too (`seeds/lstm-sgd`).
        let config_name = name.rsplit('/').next().unwrap_or(&name);
        let (keras, verdict) = match keras_accuracy(config_name) {
            Some(keras) => (format!("{keras:.1}%"), spread.place(keras).to_string()),
            None => ("—".to_string(), "—".to_string()),
        };
        table.push_str(&format!(
            "| `{name}` | {} | {} | {:.2}% | {:.2} | {:.2}–{:.2}% | {keras} | {verdict} |\n",
            accuracies.len(),
            seeds.join(", "),
            spread.mean,
            spread.std,
            spread.min,
            spread.max,
        ));
    }
    table
}

struct Spread {
    mean: f64,
    /// Sample standard deviation (n - 1).
    std: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        Self {
            mean,
            std: variance.sqrt(),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    /// Where `value` lies against the range, at the two decimals the table shows.
    fn place(&self, value: f64) -> &'static str {
        let round = |v: f64| (v * 100.0).round();
        if round(value) < round(self.min) {
            "below"
        } else if round(value) > round(self.max) {
            "above"
        } else {
            "inside"
        }
    }
}
