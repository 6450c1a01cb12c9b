//! `lstm-mnist evaluate`: scores a run's model (or one checkpoint) on the test images the run
//! was evaluated on, and writes `evaluation.json` and `confusion.png` beside the model; a
//! number reader on the fixed test numbers, into `number-evaluation.json`.

use std::path::Path;

use serde::Serialize;

use super::predict::Reader;
use crate::backend::Compute;
use crate::config::Dataset;
use crate::data::MnistData;
use crate::data::download::resolve_data_dir;
use crate::data::numbers::{TEST_NUMBERS, test_numbers};
use crate::error::Error;
use crate::error::Result;
use crate::evaluation::numbers::{NumberEvaluation, read_numbers, score};
use crate::evaluation::{Evaluation, ModelUnderTest, accuracy_after_each_row, evaluate, percent};
use crate::fsutil::write_atomic;
use crate::output;
use crate::plots::{accuracy_by_row_png, confusion_png};
use crate::run_dir::ModelRef;
use crate::run_dir::NUMBER_EVALUATION;
use crate::training::number_reader::load_reader;

#[derive(Debug, Clone)]
pub struct EvaluateRequest {
    /// A classifier's run (or one of its checkpoints), or a number reader's run.
    pub reader: Reader,
    pub compute: Compute,
    /// Also the accuracy after each row (`evaluation.json`'s `accuracy_after_row`, and
    /// `reading.png`).
    pub steps: bool,
}

/// What `evaluation.json` holds: the scores and which model they belong to.
#[derive(Debug, Serialize)]
struct EvaluationFile<'a> {
    model: String,
    backend: String,
    #[serde(flatten)]
    evaluation: &'a Evaluation,
    /// With `--steps`: the accuracy after each of the 28 rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    accuracy_after_row: Option<Vec<f64>>,
}

pub fn run(request: &EvaluateRequest) -> Result<()> {
    match &request.reader {
        Reader::Digits(model) => evaluate_classifier(request, model),
        Reader::Number(dir) => evaluate_number_reader(request, dir),
    }
}

/// Scores a number reader on the fixed test numbers, prints the table and writes
/// `number-evaluation.json` into its run.
fn evaluate_number_reader(request: &EvaluateRequest, dir: &Path) -> Result<()> {
    if request.steps {
        return Err(Error::file(
            dir,
            "--steps scores a classifier after each row; a number reader reads columns \
             (predict --steps shows which columns gave each digit)",
        ));
    }
    let device = request.compute.backend.device()?;
    let reader = load_reader(dir, &device)?;
    let data_dir = resolve_data_dir(Dataset::Mnist.source(), request.compute.data_dir.as_deref())?;
    let tests = test_numbers(&MnistData::load_test(&data_dir)?, TEST_NUMBERS);
    let evaluation = score(&tests, &read_numbers(&reader, &tests, &device));
    let file = NumberEvaluationFile {
        run: dir.display().to_string(),
        backend: request.compute.backend.to_string(),
        evaluation: &evaluation,
    };
    let json = serde_json::to_string_pretty(&file).expect("an evaluation always serialises");
    write_atomic(&dir.join(NUMBER_EVALUATION), json.as_bytes())?;
    output::line(format_args!(
        "{}: the {TEST_NUMBERS} test numbers (1-8 of MNIST's test digits)",
        dir.display()
    ));
    output::print(&evaluation.table());
    Ok(())
}

/// What a number reader's `number-evaluation.json` holds.
#[derive(Debug, Serialize)]
struct NumberEvaluationFile<'a> {
    run: String,
    backend: String,
    #[serde(flatten)]
    evaluation: &'a NumberEvaluation,
}

/// Scores a classifier on its test set, writes `evaluation.json` and `confusion.png` beside
/// it, and with `--steps` its accuracy after each row.
fn evaluate_classifier(request: &EvaluateRequest, model: &ModelRef) -> Result<()> {
    let ModelUnderTest {
        model_ref,
        config,
        model,
        test,
        device,
    } = ModelUnderTest::load(model.clone(), &request.compute)?;
    let evaluation = evaluate(model.classifier(), &test, &device);
    let accuracy_after_row = request
        .steps
        .then(|| accuracy_after_each_row(model.classifier(), &test, &device));

    let file = EvaluationFile {
        model: model_ref.model_path.display().to_string(),
        backend: request.compute.backend.to_string(),
        evaluation: &evaluation,
        accuracy_after_row: accuracy_after_row.clone(),
    };
    let json = serde_json::to_string_pretty(&file).expect("an evaluation always serialises");
    write_atomic(&model_ref.evaluation_path(), json.as_bytes())?;
    let title = format!(
        "{}: test accuracy {}",
        config.name,
        percent(evaluation.accuracy)
    );
    confusion_png(&model_ref.confusion_path(), &evaluation.confusion, &title)?;
    output::print(&evaluation.table());
    if let Some(accuracies) = accuracy_after_row {
        let path = model_ref.reading_path();
        let title = format!("{}: accuracy after each row", config.name);
        accuracy_by_row_png(&path, &[(config.name.as_str(), &accuracies)], &title)?;
        output::print(&reading_table(&accuracies));
    }
    Ok(())
}

/// `Accuracy after row  7: 31.4%` for every seventh row.
fn reading_table(accuracies: &[f64]) -> String {
    let mut text =
        String::from("\nHow early it knows (test accuracy after reading the first rows):\n");
    for row in (7..=accuracies.len()).step_by(7) {
        text += &format!("  after row {row:2}: {}\n", percent(accuracies[row - 1]));
    }
    text
}
