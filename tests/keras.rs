//! `import-keras` and `export-keras` against Keras itself: the fixtures in
//! tests/fixtures/keras were written once by tools/keras_fixtures.py with TensorFlow 2.21
//! (Keras 3.15); these tests need no TensorFlow.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{assert_one_line_error, largest_difference, our_probabilities, run, succeeded};

const FIXTURES: &str = "tests/fixtures/keras";
const CELLS: [&str; 3] = ["lstm", "gru", "rnn"];

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

/// Keras's probabilities (20 images x 10 classes) from a fixture file.
fn keras_probabilities(file: &str) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(fixture(file)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    serde_json::from_value(json["probabilities"].clone()).unwrap()
}

fn import(file: &Path, artifacts: &Path, name: &str) -> std::process::Output {
    run(&[
        "import-keras",
        file.to_str().unwrap(),
        "--name",
        name,
        "--artifacts",
        artifacts.to_str().unwrap(),
    ])
}

#[test]
fn imported_models_of_every_cell_and_format_answer_as_keras_does() {
    let artifacts = tempfile::tempdir().unwrap();
    for cell in CELLS {
        let expected = keras_probabilities(&format!("{cell}.probabilities.json"));
        for format in ["keras", "h5"] {
            let name = format!("{cell}-{format}");
            let output = succeeded(import(
                &fixture(&format!("{cell}.{format}")),
                artifacts.path(),
                &name,
            ));
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(stdout.contains("Test accuracy:"), "{stdout}");
            let run_dir = artifacts.path().join(&name);
            let difference = largest_difference(&our_probabilities(&run_dir), &expected);
            println!("{cell} .{format}: largest difference from Keras {difference:.2e}");
            assert!(difference <= 1e-5, "{cell} .{format}: {difference}");

            let config = std::fs::read_to_string(run_dir.join("config.toml")).unwrap();
            assert!(config.contains("bias = \"keras\""), "{config}");
            assert!(config.contains("hidden = 16"), "{config}");
            let report = std::fs::read_to_string(run_dir.join("report.json")).unwrap();
            assert!(report.contains(&format!("{cell}.{format}")), "{report}");
        }
    }
    // Imported runs are runs: `results` lists them with their scores.
    let output = succeeded(run(&[
        "results",
        "--artifacts",
        artifacts.path().to_str().unwrap(),
    ]));
    let table = String::from_utf8_lossy(&output.stdout);
    for cell in CELLS {
        assert!(table.contains(&format!("{cell}-h5")), "{table}");
    }
}

#[test]
fn an_imported_lstm_has_exactly_the_keras_parameters() {
    let artifacts = tempfile::tempdir().unwrap();
    succeeded(import(&fixture("lstm.keras"), artifacts.path(), "lstm"));
    let config = artifacts.path().join("lstm/config.toml");
    let output = succeeded(run(&["summary", "--config", config.to_str().unwrap()]));
    let summary = String::from_utf8_lossy(&output.stdout);
    // Keras: LSTM 4·(28·16 + 16·16 + 16) = 2,880, Dense 16·10 + 10 = 170.
    assert!(summary.contains("Total params: 3,050"), "{summary}");
}

/// The committed runs (trained here, Burn's two biases per gate) and Keras's probabilities
/// for their exported weights, which tools/keras_fixtures.py predict-weights wrote.
#[test]
fn exported_weights_give_keras_our_answers() {
    let dir = tempfile::tempdir().unwrap();
    for cell in CELLS {
        let run_dir = fixture(&format!("burn-{cell}"));
        let expected = keras_probabilities(&format!("burn-{cell}.keras-probabilities.json"));
        let difference = largest_difference(&our_probabilities(&run_dir), &expected);
        println!("burn-{cell}: largest difference from Keras on our export {difference:.2e}");
        assert!(difference <= 1e-5, "burn-{cell}: {difference}");

        // Today's export is what Keras was given: imported back (in a .keras archive with
        // the Keras model's config), it answers as the run does.
        let exported = dir.path().join(format!("{cell}.weights.h5"));
        succeeded(run(&[
            "export-keras",
            run_dir.to_str().unwrap(),
            exported.to_str().unwrap(),
        ]));
        let archive = dir.path().join(format!("{cell}-export.keras"));
        keras_archive_with_weights(&fixture(&format!("{cell}.keras")), &exported, &archive);
        succeeded(import(&archive, dir.path(), &format!("{cell}-back")));
        let back = our_probabilities(&dir.path().join(format!("{cell}-back")));
        assert!(largest_difference(&back, &expected) <= 1e-5, "burn-{cell}");
    }
}

/// A copy of the `.keras` file `model` with its weights replaced by `weights`.
fn keras_archive_with_weights(model: &Path, weights: &Path, output: &Path) {
    let mut source = zip::ZipArchive::new(std::fs::File::open(model).unwrap()).unwrap();
    let mut config = String::new();
    std::io::Read::read_to_string(&mut source.by_name("config.json").unwrap(), &mut config)
        .unwrap();
    let mut archive = zip::ZipWriter::new(std::fs::File::create(output).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    archive.start_file("config.json", options).unwrap();
    archive.write_all(config.as_bytes()).unwrap();
    archive.start_file("model.weights.h5", options).unwrap();
    archive.write_all(&std::fs::read(weights).unwrap()).unwrap();
    archive.finish().unwrap();
}

#[test]
fn models_of_another_architecture_are_refused_naming_what_differs() {
    let artifacts = tempfile::tempdir().unwrap();
    let cases = [
        (
            "refuse-return-sequences.keras",
            "layers LSTM, Flatten, Dense",
        ),
        ("refuse-go-backwards.keras", "go_backwards=true"),
        ("refuse-reset-before.keras", "reset_after=false"),
        ("refuse-relu.keras", "activation=\"relu\""),
        ("refuse-input-shape.keras", "input shape (None, 14, 56)"),
        ("refuse-five-classes.keras", "Dense layer with 5 units"),
        ("mnist-test-20.idx3-ubyte", "not a Keras model file"),
    ];
    for (file, expected) in cases {
        let output = import(&fixture(file), artifacts.path(), "refused");
        assert_one_line_error(&output, &[file, expected]);
    }
    assert!(
        !artifacts.path().join("refused").exists(),
        "a refused import left a run directory"
    );
}

#[test]
fn damaged_and_weights_only_files_are_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(fixture("lstm.keras")).unwrap();
    let truncated = dir.path().join("truncated.keras");
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    assert_one_line_error(
        &import(&truncated, dir.path(), "t"),
        &["truncated.keras", "not a readable .keras archive"],
    );

    let weights = dir.path().join("lstm.weights.h5");
    succeeded(run(&[
        "export-keras",
        &fixture("burn-lstm").to_string_lossy(),
        weights.to_str().unwrap(),
    ]));
    assert_one_line_error(
        &import(&weights, dir.path(), "w"),
        &["lstm.weights.h5", "holds weights only"],
    );

    let h5 = std::fs::read(fixture("lstm.h5")).unwrap();
    let cut = dir.path().join("cut.h5");
    std::fs::write(&cut, &h5[..h5.len() / 3]).unwrap();
    assert_one_line_error(&import(&cut, dir.path(), "c"), &["cut.h5"]);
}

#[test]
fn export_keeps_what_is_there_and_names_the_file_keras_wants() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = fixture("burn-gru");
    let wrong_name = dir.path().join("gru.h5");
    assert_one_line_error(
        &run(&[
            "export-keras",
            run_dir.to_str().unwrap(),
            wrong_name.to_str().unwrap(),
        ]),
        &["gru.h5", "*.weights.h5"],
    );
    let existing = dir.path().join("mine.weights.h5");
    std::fs::write(&existing, "my own file").unwrap();
    assert_one_line_error(
        &run(&[
            "export-keras",
            run_dir.to_str().unwrap(),
            existing.to_str().unwrap(),
        ]),
        &["mine.weights.h5", "already exists"],
    );
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "my own file");
    succeeded(run(&[
        "export-keras",
        run_dir.to_str().unwrap(),
        existing.to_str().unwrap(),
        "--overwrite",
    ]));
    assert!(std::fs::read(&existing).unwrap().starts_with(b"\x89HDF"));
}
