//! Every kind of bad input a person can hand the program ends in one line naming the file and
//! the problem, with a non-zero exit status and no panic.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{gzip, idx_images, idx_labels, one_line_error_problem, write_tiny_dataset};

struct Outcome {
    case: &'static str,
    problem: Option<String>,
}

/// Runs the binary and judges its output; `expected` must all appear in the message.
fn run(case: &'static str, command: &mut Command, expected: &[&str]) -> Outcome {
    let output = command.output().unwrap();
    eprintln!(
        "{case}: {}",
        String::from_utf8_lossy(&output.stderr).trim_end()
    );
    let problem = one_line_error_problem(&output, expected);
    Outcome { case, problem }
}

fn binary() -> Command {
    common::bare_lstm_mnist()
}

fn report(outcomes: Vec<Outcome>) {
    let failures: Vec<String> = outcomes
        .iter()
        .filter_map(|o| o.problem.as_ref().map(|p| format!("{}: {p}", o.case)))
        .collect();
    eprintln!(
        "bad inputs: {} tried, {} handled",
        outcomes.len(),
        outcomes.len() - failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A valid tiny dataset in a fresh directory, with `damage` applied to it.
fn dataset(damage: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_dataset(dir.path(), 20);
    damage(dir.path());
    dir
}

fn train_on(data: &Path, artifacts: &Path) -> Command {
    let mut command = binary();
    command
        .args(["train", "--epochs", "1", "--data-dir"])
        .arg(data)
        .arg("--artifacts")
        .arg(artifacts);
    command
}

#[test]
fn bad_datasets() {
    let artifacts = tempfile::tempdir().unwrap();
    let images = "train-images-idx3-ubyte";
    let labels = "train-labels-idx1-ubyte";
    let write = |name: &'static str, bytes: Vec<u8>| {
        move |dir: &Path| std::fs::write(dir.join(name), bytes).unwrap()
    };
    let cases: Vec<(&'static str, tempfile::TempDir, Vec<&str>)> = vec![
        (
            "missing file",
            dataset(|d| std::fs::remove_file(d.join(labels)).unwrap()),
            vec![labels, "missing"],
        ),
        (
            "empty file",
            dataset(write(images, vec![])),
            vec![images, "too short"],
        ),
        (
            "gzip cut in the middle",
            dataset(|d| {
                let full = gzip(&idx_images(20, 28, 28, &[9; 20 * 784]));
                std::fs::remove_file(d.join(images)).unwrap();
                std::fs::write(d.join(format!("{images}.gz")), &full[..full.len() / 2]).unwrap();
            }),
            vec![images, "corrupt gzip"],
        ),
        (
            "wrong magic",
            dataset(write(images, idx_labels(20, &[0; 20]))),
            vec![images, "magic number"],
        ),
        (
            "image count differs from label count",
            dataset(write(labels, idx_labels(19, &[0; 19]))),
            vec![labels, "19 labels", "20 images"],
        ),
        (
            "header declares more items than the file holds",
            dataset(write(images, idx_images(25, 28, 28, &[0; 20 * 784]))),
            vec![images, "truncated"],
        ),
        (
            "header declares 4 billion items",
            dataset(write(images, idx_images(u32::MAX, 28, 28, &[0; 784]))),
            vec![images, "truncated"],
        ),
        (
            "label above 9",
            dataset(write(
                labels,
                idx_labels(20, &[[0u8; 19].as_slice(), &[10]].concat()),
            )),
            vec![labels, "label 10"],
        ),
    ];
    let mut outcomes: Vec<Outcome> = cases
        .iter()
        .map(|(case, data, expected)| {
            run(case, &mut train_on(data.path(), artifacts.path()), expected)
        })
        .collect();

    // A download whose checksum is wrong is refused, and not kept in the cache.
    let mirror_files = dataset(|d| {
        for name in [
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ] {
            let bytes = gzip(&std::fs::read(d.join(name)).unwrap());
            std::fs::write(d.join(format!("{name}.gz")), bytes).unwrap();
        }
    });
    let mirror = common::serve(mirror_files.path().to_path_buf(), 1);
    let cache = tempfile::tempdir().unwrap();
    let mut command = binary();
    command
        .args(["train", "--epochs", "1", "--artifacts"])
        .arg(artifacts.path())
        .env("LSTM_MNIST_CACHE", cache.path())
        .env("MNIST_MIRROR", &mirror);
    outcomes.push(run(
        "checksum mismatch on a download",
        &mut command,
        &["train-images-idx3-ubyte.gz", "checksum mismatch"],
    ));
    let kept: Vec<PathBuf> = walk(cache.path());
    if !kept.is_empty() {
        outcomes.push(Outcome {
            case: "bad download deleted",
            problem: Some(format!("kept {kept:?}")),
        });
    }
    report(outcomes);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn bad_configs() {
    let dir = tempfile::tempdir().unwrap();
    let valid = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/configs/lstm-sgd.toml"
    ))
    .unwrap();
    let cases: Vec<(&'static str, String, Vec<&str>)> = vec![
        ("not TOML", "name = [unclosed\n".into(), vec!["line 1"]),
        (
            "unknown key",
            valid.replace("hidden = 256", "hidden = 256\nlayers = 2"),
            vec!["model.layers", "unknown field"],
        ),
        (
            "wrong type",
            valid.replace("epochs = 20", "epochs = \"twenty\""),
            vec!["training.epochs"],
        ),
        (
            "batch_size 0",
            valid.replace("batch_size = 128", "batch_size = 0"),
            vec!["training.batch_size"],
        ),
        (
            "negative lr",
            valid.replace("learning_rate = 0.01", "learning_rate = -0.01"),
            vec!["optimizer.learning_rate"],
        ),
        (
            "zero lr",
            valid.replace("learning_rate = 0.01", "learning_rate = 0"),
            vec!["optimizer.learning_rate"],
        ),
        (
            "epochs 0",
            valid.replace("epochs = 20", "epochs = 0"),
            vec!["training.epochs"],
        ),
        (
            "validation_split 1",
            valid.replace("validation_split = 0.0", "validation_split = 1.0"),
            vec!["training.validation_split"],
        ),
        (
            "validation_split negative",
            valid.replace("validation_split = 0.0", "validation_split = -0.2"),
            vec!["training.validation_split"],
        ),
        (
            "unknown cell",
            valid.replace("cell = \"lstm\"", "cell = \"lstn\""),
            vec!["model.cell", "lstn"],
        ),
        (
            "unknown bias",
            valid.replace("cell = \"lstm\"", "cell = \"lstm\"\nbias = \"kears\""),
            vec!["model.bias", "kears"],
        ),
        (
            "unknown optimizer",
            valid.replace("kind = \"sgd\"", "kind = \"rmsprop\""),
            vec!["optimizer.kind", "rmsprop"],
        ),
        (
            "unknown early-stopping monitor",
            valid.replace(
                "validation_split = 0.0",
                "validation_split = 0.0\n[training.early_stopping]\nmonitor = \"loss\"",
            ),
            vec!["training.early_stopping.monitor", "loss"],
        ),
        (
            "negative patience",
            valid.replace(
                "validation_split = 0.0",
                "validation_split = 0.0\n[training.early_stopping]\npatience = -1",
            ),
            vec!["training.early_stopping.patience"],
        ),
        (
            "unknown dataset",
            valid.replace("dataset = \"mnist\"", "dataset = \"cifar\""),
            vec!["data.dataset", "cifar"],
        ),
        (
            "unknown top-level key",
            format!("colour = 1\n{valid}"),
            vec!["colour", "unknown field"],
        ),
        (
            "hidden 0",
            valid.replace("hidden = 256", "hidden = 0"),
            vec!["model.hidden"],
        ),
        (
            "hidden a million",
            valid.replace("hidden = 256", "hidden = 1000000"),
            vec!["model.hidden", "4096"],
        ),
        (
            "batch size above the training set",
            valid.replace("batch_size = 128", "batch_size = 1000000"),
            vec!["training.batch_size", "60000"],
        ),
        (
            "model and batch too large for memory",
            valid
                .replace("hidden = 256", "hidden = 4096")
                .replace("batch_size = 128", "batch_size = 60000"),
            vec!["model.hidden", "training.batch_size", "memory"],
        ),
        (
            "momentum 1.5",
            valid.replace("momentum = 0.0", "momentum = 1.5"),
            vec!["optimizer.momentum"],
        ),
        (
            "momentum with adam",
            valid
                .replace("momentum = 0.0", "momentum = 0.9")
                .replace("kind = \"sgd\"", "kind = \"adam\""),
            vec!["optimizer.momentum"],
        ),
        (
            "name that is a path",
            valid.replace("name = \"lstm-sgd\"", "name = \"../elsewhere\""),
            vec!["name", "one path component"],
        ),
        (
            "name `.`",
            valid.replace("name = \"lstm-sgd\"", "name = \".\""),
            vec!["name", "one path component"],
        ),
        (
            "unknown augmentation",
            format!("{valid}\n[data.augment]\nswirl = 3.0\n"),
            vec!["data.augment.swirl", "unknown field"],
        ),
        (
            "augmentation probability above 1",
            format!("{valid}\n[data.augment]\nblur = 1.5\n"),
            vec!["data.augment.blur", "from 0 to 1"],
        ),
        (
            "thicker and thinner strokes more than always",
            format!("{valid}\n[data.augment]\nthicken = 0.7\nthin = 0.6\n"),
            vec!["data.augment.thicken + thin"],
        ),
        (
            "zoom range upside down",
            format!("{valid}\n[data.augment]\nscale = [1.2, 0.8]\n"),
            vec!["data.augment.scale"],
        ),
        (
            "ink no brighter than the background",
            format!("{valid}\n[data.augment]\ncontrast = 0.2\ncontrast_background = 0.6\n"),
            vec!["data.augment.contrast_ink", "above `contrast_background`"],
        ),
        (
            "a tracking server that is not a web address",
            format!("{valid}\n[tracking]\nmlflow = \"localhost:5000\"\n"),
            vec!["tracking.mlflow", "http:// or https://"],
        ),
        (
            "JPEG quality 0",
            format!("{valid}\n[data.augment]\njpeg_quality = [0, 20]\n"),
            vec!["data.augment.jpeg_quality", "from 1 to 100"],
        ),
        (
            "negative rotation",
            format!("{valid}\n[data.augment]\nrotation = -5.0\n"),
            vec!["data.augment.rotation"],
        ),
        (
            "config of 2 MiB",
            format!("{valid}\n#{}\n", "x".repeat(2 << 20)),
            vec!["too large", "1 MiB"],
        ),
    ];
    let mut outcomes: Vec<Outcome> = cases
        .into_iter()
        .enumerate()
        .map(|(i, (case, text, expected))| {
            let path = dir.path().join(format!("case-{i}.toml"));
            std::fs::write(&path, text).unwrap();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let mut expected: Vec<&str> = expected;
            let name: &'static str = Box::leak(name.into_boxed_str());
            expected.push(name);
            run(
                case,
                binary().args(["train", "--config"]).arg(&path),
                &expected,
            )
        })
        .collect();
    outcomes.push(run(
        "missing config file",
        binary().args(["--config", "no-such.toml"]),
        &["no-such.toml"],
    ));
    outcomes.push(run(
        "endless config file",
        binary().args(["--config", "/dev/zero"]),
        &["/dev/zero", "too large"],
    ));
    outcomes.push(run(
        "unknown backend",
        binary().args(["--backend", "cuda"]),
        &["cuda", "flex, ndarray, wgpu"],
    ));
    outcomes.push(run(
        "negative learning rate on the command line",
        binary().args(["--lr", "-1", "--epochs", "1"]),
        &["optimizer.learning_rate"],
    ));
    for (case, name) in [
        ("--name `.`", "."),
        ("--name with a slash", "a/b"),
        ("--name starting with a dot", ".hidden"),
        ("--name with a space", "my run"),
    ] {
        outcomes.push(run(
            case,
            binary().args(["--epochs", "1", "--name", name]),
            &["--name", "one path component"],
        ));
    }
    report(outcomes);
}

/// The shipped `rnn-sgd` run: a finished run to damage copies of.
const SHIPPED_RUN: &str = "artifacts/rnn-sgd";

fn copy_run(run: &Path, to: &Path, damage: impl FnOnce(&Path)) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for file in ["config.toml", "model.bpk"] {
        std::fs::copy(run.join(file), to.join(file)).unwrap();
    }
    damage(to);
    to.to_path_buf()
}

#[test]
fn bad_checkpoints_and_images() {
    let data = dataset(|_| {});
    let artifacts = tempfile::tempdir().unwrap();
    let run_dir = Path::new(SHIPPED_RUN);
    let evaluate = |checkpoint: &Path| {
        let mut command = binary();
        command
            .args(["evaluate", "--data-dir"])
            .arg(data.path())
            .arg("--checkpoint")
            .arg(checkpoint);
        command
    };
    let edit_config = |from: &'static str, to: &'static str| {
        move |dir: &Path| {
            let text = std::fs::read_to_string(dir.join("config.toml")).unwrap();
            std::fs::write(dir.join("config.toml"), text.replace(from, to)).unwrap();
        }
    };
    let root = artifacts.path();
    let truncated = copy_run(run_dir, &root.join("truncated"), |d| {
        let bytes = std::fs::read(d.join("model.bpk")).unwrap();
        std::fs::write(d.join("model.bpk"), &bytes[..bytes.len() / 2]).unwrap();
    });
    let foreign = copy_run(run_dir, &root.join("foreign"), |d| {
        std::fs::write(d.join("model.bpk"), b"PK\x03\x04 not burnpack").unwrap()
    });
    let other_cell = copy_run(
        run_dir,
        &root.join("other-cell"),
        edit_config("cell = \"rnn\"", "cell = \"gru\""),
    );
    let other_hidden = copy_run(
        run_dir,
        &root.join("other-hidden"),
        edit_config("hidden = 256", "hidden = 16"),
    );
    let mut outcomes = vec![
        run(
            "missing checkpoint directory",
            &mut evaluate(&root.join("no-such-run")),
            &["no-such-run", "no such run"],
        ),
        run(
            "truncated model.bpk",
            &mut evaluate(&truncated),
            &["model.bpk"],
        ),
        run(
            "model.bpk that is not burnpack",
            &mut evaluate(&foreign),
            &["model.bpk", "not a readable Burn model"],
        ),
        run(
            "checkpoint of another cell",
            &mut evaluate(&other_cell),
            &["model.bpk", "rnn", "gru"],
        ),
        run(
            "checkpoint of another hidden size",
            &mut evaluate(&other_hidden),
            &["model.bpk", "hidden size 256", "hidden size 16"],
        ),
    ];

    let images = tempfile::tempdir().unwrap();
    let not_image = images.path().join("notes.png");
    std::fs::write(&not_image, "these are my notes").unwrap();
    let empty = images.path().join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let tiny = images.path().join("dot.png");
    image::GrayImage::new(1, 1).save(&tiny).unwrap();
    let cut_idx = images.path().join("cut-idx3-ubyte");
    std::fs::write(&cut_idx, idx_images(3, 28, 28, &[0; 784 + 100])).unwrap();
    let predict = |image: &Path| {
        let mut command = binary();
        command
            .args(["predict", "--checkpoint"])
            .arg(run_dir)
            .arg(image);
        command
    };
    outcomes.extend([
        run(
            "image that is not an image",
            &mut predict(&not_image),
            &["notes.png", "not a readable image"],
        ),
        run(
            "empty image file",
            &mut predict(&empty),
            &["empty.png", "empty"],
        ),
        run(
            "directory as image",
            &mut predict(images.path()),
            &["is a directory"],
        ),
        run(
            "1x1 image",
            &mut predict(&tiny),
            &["dot.png", "too small", "1x1"],
        ),
        run(
            "IDX image file cut short",
            &mut predict(&cut_idx),
            &["cut-idx3-ubyte", "truncated", "image 1"],
        ),
        run(
            "endless image file",
            &mut predict(Path::new("/dev/zero")),
            &["/dev/zero", "too large"],
        ),
    ]);
    report(outcomes);
}

#[test]
fn wgpu_without_an_adapter() {
    let data = dataset(|_| {});
    let artifacts = tempfile::tempdir().unwrap();
    let mut command = train_on(data.path(), artifacts.path());
    command
        .args(["--backend", "wgpu"])
        // Hide every Vulkan driver from the loader, and every EGL vendor (wgpu's GL fallback).
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .env("__EGL_VENDOR_LIBRARY_DIRS", "/nonexistent")
        .env("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/egl.json");
    report(vec![run(
        "wgpu with no adapter",
        &mut command,
        &["wgpu", "no usable GPU adapter"],
    )]);
}
