//! What a fuzzing campaign found, each case kept as it was found: damaged run files, a config
//! edited under its checkpoints, a picture that crashes its decoder, one that would cost
//! gigabytes, IDX data of another shape. Every one ends in one line naming the file (or a
//! warning and the work going on), never a panic, and nothing the user wrote is rewritten.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use common::page::Server;
use common::{assert_one_line_error, idx_images, idx_labels, succeeded};
use tempfile::TempDir;

/// A small Adam run (its optimizer has state to checkpoint), written with comments and CRLF
/// line endings as a user's editor might leave them.
const CONFIG: &str = "# a small run\r\nname = \"small\"\r\nseed = 3\r\n\r\n[model]\r\n\
    cell = \"lstm\"   # the cell\r\nhidden = 32\r\n\r\n[optimizer]\r\nkind = \"adam\"\r\n\
    learning_rate = 0.001\r\n\r\n[training]\r\nepochs = 2\r\nbatch_size = 64\r\n\r\n[data]\r\n\
    dataset = \"mnist\"\r\ntrain_samples = 256\r\ntest_samples = 64\r\n";

/// A finished two-epoch run, trained once per test binary; each test copies it.
fn trained() -> &'static Path {
    static RUN: OnceLock<(TempDir, PathBuf)> = OnceLock::new();
    let (_, run) = RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("small.toml");
        std::fs::write(&config, CONFIG).unwrap();
        let artifacts = dir.path().join("artifacts");
        succeeded(
            common::lstm_mnist()
                .args(["train", "--config"])
                .arg(&config)
                .arg("--artifacts")
                .arg(&artifacts)
                .output()
                .unwrap(),
        );
        (dir, artifacts.join("small"))
    });
    run
}

/// A copy of the trained run, as `artifacts/small` in a fresh directory.
fn copy_of_run() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("artifacts").join("small");
    copy_dir(trained(), &run);
    (dir, run)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The campaign's first case: one tensor's dtype `F32` turned into `U32`, three bytes.
fn flip_first_dtype(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes.windows(3).position(|w| w == b"F32").unwrap();
    bytes[at..at + 3].copy_from_slice(b"U32");
    std::fs::write(path, bytes).unwrap();
}

fn run_args(args: &[&str], run: &Path) -> Output {
    common::lstm_mnist().args(args).arg(run).output().unwrap()
}

fn resume(run: &Path, epochs: &str) -> Output {
    common::lstm_mnist()
        .args(["train", "--epochs", epochs, "--resume"])
        .arg(run)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_damaged_model_file_is_one_line_naming_it() {
    let (_dir, run) = copy_of_run();
    let model = run.join("model.bpk");
    flip_first_dtype(&model);
    let evaluation = std::fs::read(run.join("evaluation.json")).ok();
    let output = run_args(&["evaluate", "--checkpoint"], &run);
    assert_one_line_error(&output, &["model.bpk", "damaged model file", "U32"]);
    assert_eq!(std::fs::read(run.join("evaluation.json")).ok(), evaluation);

    let digit = common::mnist_dir().join("t10k-images-idx3-ubyte");
    let output = common::lstm_mnist()
        .args(["predict", "--checkpoint"])
        .arg(&run)
        .arg(digit)
        .output()
        .unwrap();
    assert_one_line_error(&output, &["model.bpk", "damaged model file"]);

    // Cut short, the file is refused the same way.
    let bytes = std::fs::read(&model).unwrap();
    std::fs::write(&model, &bytes[..bytes.len() / 2]).unwrap();
    let output = run_args(&["evaluate", "--checkpoint"], &run);
    assert_one_line_error(&output, &["model.bpk", "not a readable Burn model"]);
}

#[test]
fn serve_skips_a_damaged_run_with_one_warning_and_serves_the_others() {
    let (dir, run) = copy_of_run();
    let artifacts = dir.path().join("artifacts");
    copy_dir(&run, &artifacts.join("intact"));
    flip_first_dtype(&run.join("model.bpk"));
    let mut server = Server::start_in(&artifacts);
    let (status, runs) = server.call("GET", "/api/runs", None);
    assert_eq!((status, runs["default"].as_str()), (200, Some("intact")));
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1);
    server.child.kill().unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(server.child.stderr.as_mut().unwrap(), &mut text).unwrap();
    let warnings: Vec<&str> = text.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(warnings[0].contains("not serving small") && warnings[0].contains("model.bpk"));
    assert!(
        !text.contains("panicked") && !text.contains("internal failure"),
        "{text}"
    );
}

#[test]
fn a_resume_falls_back_past_a_damaged_checkpoint_with_one_warning() {
    for (record, damage) in [
        ("optim", Damage::Empty),
        ("optim", Damage::FlipDtype),
        ("scheduler", Damage::Empty),
        ("model", Damage::FlipDtype),
    ] {
        let (_dir, run) = copy_of_run();
        let damaged = run.join(format!("checkpoint/{record}-2.bpk"));
        damage.apply(&damaged);
        let output = resume(&run, "3");
        succeeded(output.clone());
        let warnings: Vec<String> = stderr(&output)
            .lines()
            .filter(|l| l.starts_with("warning:"))
            .map(str::to_string)
            .collect();
        assert_eq!(warnings.len(), 1, "{record} {damage:?}: {warnings:?}");
        assert!(
            warnings[0].contains(&format!("{record}-2.bpk"))
                && warnings[0].contains("resuming from epoch 1"),
            "{warnings:?}"
        );
        let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
        assert_eq!(
            metrics.lines().count(),
            4,
            "header and epochs 1-3: {metrics}"
        );
    }
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    Empty,
    FlipDtype,
}

impl Damage {
    fn apply(self, path: &Path) {
        match self {
            Damage::Empty => std::fs::write(path, b"").unwrap(),
            Damage::FlipDtype => flip_first_dtype(path),
        }
    }
}

#[test]
fn a_resume_with_no_sound_checkpoint_is_refused_in_one_line() {
    let (_dir, run) = copy_of_run();
    for epoch in [1, 2] {
        std::fs::write(run.join(format!("checkpoint/optim-{epoch}.bpk")), b"").unwrap();
    }
    let output = resume(&run, "3");
    assert_one_line_error(
        &output,
        &["checkpoint", "no complete checkpoint", "optim-2.bpk"],
    );
}

#[test]
fn a_config_edited_under_its_checkpoints_is_refused_as_evaluate_refuses_it() {
    let (_dir, run) = copy_of_run();
    let config = run.join("config.toml");
    let edited = CONFIG.replace("hidden = 32", "hidden = 48");
    std::fs::write(&config, &edited).unwrap();
    let expected = ["holds a lstm model with hidden size 32", "hidden size 48"];
    assert_one_line_error(&resume(&run, "3"), &expected);
    assert_one_line_error(&run_args(&["evaluate", "--checkpoint"], &run), &expected);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited);
}

#[test]
fn a_resume_changes_only_the_epochs_of_the_user_s_config() {
    let (_dir, run) = copy_of_run();
    let config = run.join("config.toml");
    std::fs::write(&config, CONFIG).unwrap();
    succeeded(resume(&run, "3"));
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        CONFIG.replace("epochs = 2", "epochs = 3")
    );
}

/// A valid 8x8 PNG of 2-bit palette indices whose PLTE chunk was grown by the campaign's
/// mutation (a CRC fixed after it): the decoder panicked on it.
fn mutated_palette_png() -> Vec<u8> {
    fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        png.extend((data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        png.extend(kind);
        png.extend(data);
        png.extend(crc.sum().to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend(8u32.to_be_bytes());
    header.extend(8u32.to_be_bytes());
    header.extend([2, 3, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"PLTE", &[0, 0, 0, 255, 255, 255, 9]);
    chunk(&mut png, b"tRNS", &[255, 255, 255, 255]);
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    for row in 0..8u8 {
        encoder.write_all(&[0, row * 17, 0x1b]).unwrap();
    }
    chunk(&mut png, b"IDAT", &encoder.finish().unwrap());
    chunk(&mut png, b"IEND", &[]);
    png
}

/// A PNG whose header says 12,000 x 12,000 pixels: a few hundred bytes that would decode to
/// 144 megapixels. It is refused from its header.
fn huge_png() -> Vec<u8> {
    let image = image::GrayImage::from_pixel(16, 16, image::Luma([255]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    let mut png = bytes.into_inner();
    // IHDR's width and height, then its CRC over type and data.
    png[16..20].copy_from_slice(&12_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&12_000u32.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&png[12..29]);
    png[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    png
}

#[test]
fn a_picture_that_fails_is_its_own_error_line_and_the_others_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let crashing = dir.path().join("mutated.png");
    std::fs::write(&crashing, mutated_palette_png()).unwrap();
    let huge = dir.path().join("huge.png");
    std::fs::write(&huge, huge_png()).unwrap();
    let seven = dir.path().join("seven.png");
    let mut canvas = image::GrayImage::from_pixel(60, 60, image::Luma([255]));
    for i in 10..50 {
        canvas.put_pixel(i, 12, image::Luma([0]));
        canvas.put_pixel(i, 13, image::Luma([0]));
        canvas.put_pixel(49 - (i - 10) / 2, i, image::Luma([0]));
        canvas.put_pixel(50 - (i - 10) / 2, i, image::Luma([0]));
    }
    canvas.save(&seven).unwrap();
    let output = common::lstm_mnist()
        .args(["predict", "--checkpoint", "artifacts/lstm-adam"])
        .args([&crashing, &huge, &seven])
        .output()
        .unwrap();
    let errors = stderr(&output);
    assert!(!output.status.success(), "{errors}");
    let lines: Vec<&str> = errors.lines().collect();
    assert_eq!(lines.len(), 2, "{errors}");
    assert!(lines[0].contains("mutated.png") && lines[0].contains("not a readable image"));
    assert!(
        lines[1].contains("huge.png") && lines[1].contains("12000x12000"),
        "{errors}"
    );
    assert!(!errors.contains("internal failure"), "{errors}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("seven.png"), "{stdout}");
}

#[test]
fn serve_answers_a_crashing_or_huge_picture_with_a_4xx_and_no_panic_line() {
    let mut server = Server::start();
    let (status, body) = server.predict("", &mutated_palette_png());
    assert_eq!(status, 400, "{body}");
    let (status, body) = server.predict("", &huge_png());
    assert_eq!(status, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("12000x12000"));
    server.child.kill().unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(server.child.stderr.as_mut().unwrap(), &mut text).unwrap();
    assert!(
        !text.contains("panicked") && !text.contains("internal failure"),
        "{text}"
    );
}

#[test]
fn a_test_set_of_another_shape_or_empty_is_refused_and_nothing_is_written() {
    let (_dir, run) = copy_of_run();
    let evaluation = std::fs::read(run.join("evaluation.json")).ok();
    for (count, rows, cols, expected) in [
        (64, 14, 56, "14x56"),
        (64, 1, 784, "1x784"),
        (64, 7, 112, "7x112"),
        (0, 28, 28, "holds no images"),
    ] {
        let data = tempfile::tempdir().unwrap();
        let pixels = vec![0u8; count * rows * cols];
        let labels = vec![1u8; count];
        let (n, r, c) = (count as u32, rows as u32, cols as u32);
        std::fs::write(
            data.path().join("t10k-images-idx3-ubyte"),
            idx_images(n, r, c, &pixels),
        )
        .unwrap();
        std::fs::write(
            data.path().join("t10k-labels-idx1-ubyte"),
            idx_labels(n, &labels),
        )
        .unwrap();
        let output = common::bare_lstm_mnist()
            .args(["evaluate", "--data-dir"])
            .arg(data.path())
            .arg("--checkpoint")
            .arg(&run)
            .output()
            .unwrap();
        assert_one_line_error(&output, &["t10k-images-idx3-ubyte", expected]);
        assert_eq!(std::fs::read(run.join("evaluation.json")).ok(), evaluation);
    }
}
