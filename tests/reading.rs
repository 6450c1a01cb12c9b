//! Watching the model read: its belief after each of the 28 rows, from `predict --steps` and
//! `evaluate --steps`, through the binary.

mod common;

use std::path::Path;

use common::{PROBE_IMAGES, run, succeeded};

#[test]
fn predict_steps_names_the_rows_where_the_leading_class_changes() {
    let output = succeeded(run(&[
        "predict",
        "--checkpoint",
        "artifacts/lstm-adam",
        "--steps",
        PROBE_IMAGES,
    ]));
    let text = String::from_utf8(output.stdout).unwrap();
    // Each picture: its answer, then `  row N: C (P%)` lines.
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in text.lines() {
        match line.strip_prefix("  ") {
            Some(row) => blocks.last_mut().unwrap().push(row),
            None => blocks.push(vec![line]),
        }
    }
    assert_eq!(blocks.len(), 20, "{text}");
    for block in blocks {
        let answer: u64 = block[0].split(": ").nth(1).unwrap()[..1].parse().unwrap();
        let rows: Vec<(usize, u64)> = block[1..]
            .iter()
            .map(|line| {
                let (row, guess) = line.strip_prefix("row ").unwrap().split_once(": ").unwrap();
                (row.parse().unwrap(), guess[..1].parse().unwrap())
            })
            .collect();
        // From row 1, rising, ending at row 28 on the answer; each listed row before the last
        // changes the leading class.
        assert!(rows.windows(2).all(|w| w[0].0 < w[1].0), "{block:?}");
        assert_eq!(rows.first().unwrap().0, 1, "{block:?}");
        assert_eq!(*rows.last().unwrap(), (28, answer), "{block:?}");
        for pair in rows[..rows.len() - 1].windows(2) {
            assert_ne!(pair[0].1, pair[1].1, "{block:?}");
        }
    }

    let json = succeeded(run(&[
        "predict",
        "--checkpoint",
        "artifacts/lstm-adam",
        "--steps",
        "--json",
        PROBE_IMAGES,
    ]));
    let predictions: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    for prediction in predictions.as_array().unwrap() {
        let steps: Vec<Vec<f64>> = serde_json::from_value(prediction["steps"].clone()).unwrap();
        assert_eq!((steps.len(), steps[27].len()), (28, 10));
        let last = (0..10)
            .max_by(|&a, &b| steps[27][a].total_cmp(&steps[27][b]))
            .unwrap();
        assert_eq!(prediction["digit"], last as u64);
        let top = prediction["probability"].as_f64().unwrap();
        assert!((steps[27][last] - top).abs() <= 1e-5);
    }
}

#[test]
fn evaluate_steps_records_the_accuracy_after_each_row_and_draws_it() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("burn-rnn");
    std::fs::create_dir(&run_dir).unwrap();
    let source = Path::new("tests/fixtures/keras/burn-rnn");
    for entry in std::fs::read_dir(source).unwrap().flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), run_dir.join(entry.file_name())).unwrap();
        }
    }
    let output = succeeded(run(&[
        "evaluate",
        "--checkpoint",
        run_dir.to_str().unwrap(),
        "--steps",
    ]));
    let text = String::from_utf8(output.stdout).unwrap();
    let evaluation: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("evaluation.json")).unwrap())
            .unwrap();
    let after: Vec<f64> = serde_json::from_value(evaluation["accuracy_after_row"].clone()).unwrap();
    assert_eq!(after.len(), 28);
    assert_eq!(after[27], evaluation["accuracy"].as_f64().unwrap());
    // After the first row (blank in MNIST) the model can only guess; after all 28 it knows
    // what this small 3-epoch model knows.
    assert!(after[0] < 0.15 && after[27] > after[0] + 0.3, "{after:?}");
    let row_28 = format!("after row 28: {:.1}%", 100.0 * after[27]);
    assert!(text.contains(&row_28), "{row_28} not in {text}");
    let picture = std::fs::read(run_dir.join("reading.png")).unwrap();
    assert!(picture.starts_with(b"\x89PNG"));

    // Without --steps, evaluation.json has no such field and no picture is drawn.
    std::fs::remove_file(run_dir.join("reading.png")).unwrap();
    succeeded(run(&[
        "evaluate",
        "--checkpoint",
        run_dir.to_str().unwrap(),
    ]));
    let plain = std::fs::read_to_string(run_dir.join("evaluation.json")).unwrap();
    assert!(!plain.contains("accuracy_after_row"));
    assert!(!run_dir.join("reading.png").exists());
}
