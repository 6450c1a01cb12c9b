//! The run directory: a new run never lands on an old one, `--overwrite` checks everything
//! before it deletes, one process writes a run at a time, a diverging run stops without being
//! called finished, and `--resume` refuses what cannot continue a run. All through the binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::needs::{Need, met};
use common::{assert_one_line_error, succeeded, write_tiny_dataset};

/// A tiny dataset (20 blank images) and an artifacts root, both temporary.
struct Sandbox {
    data: tempfile::TempDir,
    artifacts: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let data = tempfile::tempdir().unwrap();
        write_tiny_dataset(data.path(), 20);
        Self {
            data,
            artifacts: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, name: &str) -> PathBuf {
        self.artifacts.path().join(name)
    }

    /// `train` of a tiny LSTM (hidden 8, batch 10: two batches an epoch) on the tiny dataset,
    /// plus `args`.
    fn train(&self, args: &[&str]) -> Command {
        self.train_on(self.data.path(), args)
    }

    fn train_on(&self, data: &Path, args: &[&str]) -> Command {
        let config = self.artifacts.path().join("tiny.toml");
        std::fs::write(
            &config,
            "name = \"tiny\"\n[model]\ncell = \"lstm\"\nhidden = 8\n\
             [training]\nepochs = 1\nbatch_size = 10\n",
        )
        .unwrap();
        let mut command = common::bare_lstm_mnist();
        command
            .arg("train")
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(data)
            .arg("--artifacts")
            .arg(self.artifacts.path())
            .args(args);
        command
    }

    fn resume(&self, run: &Path, args: &[&str]) -> Output {
        common::bare_lstm_mnist()
            .arg("--resume")
            .arg(run)
            .arg("--data-dir")
            .arg(self.data.path())
            .args(args)
            .output()
            .unwrap()
    }

    fn results(&self) -> String {
        let output = common::bare_lstm_mnist()
            .args(["results", "--artifacts"])
            .arg(self.artifacts.path())
            .output()
            .unwrap();
        stdout(&succeeded(output))
    }

    fn output(&self, args: &[&str]) -> Output {
        self.train(args).output().unwrap()
    }
}

/// Every file under `dir` with its bytes, to show that nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(snapshot(&path));
        } else if entry.file_name() != ".lock" {
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    files.sort();
    files
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[test]
fn the_main_command_on_a_fresh_clone_trains_beside_the_shipped_run() {
    let sandbox = Sandbox::new();
    // The shipped lstm-sgd run, as a fresh clone has it.
    let shipped = sandbox.run("lstm-sgd");
    std::fs::create_dir_all(&shipped).unwrap();
    for file in [
        "config.toml",
        "model.bpk",
        "metrics.csv",
        "report.json",
        "curves.png",
    ] {
        std::fs::copy(
            Path::new("artifacts/lstm-sgd").join(file),
            shipped.join(file),
        )
        .unwrap();
    }
    let before = snapshot(&shipped);
    // `cargo run --release`, shortened to one epoch on the tiny dataset.
    let main_command = || {
        common::bare_lstm_mnist()
            .args(["--epochs", "1", "--data-dir"])
            .arg(sandbox.data.path())
            .arg("--artifacts")
            .arg(sandbox.artifacts.path())
            .output()
            .unwrap()
    };
    let said = stdout(&succeeded(main_command()));
    let second = sandbox.run("lstm-sgd-2");
    assert!(
        said.contains("is taken: this run goes to") && said.contains("lstm-sgd-2"),
        "{said}"
    );
    assert!(
        said.contains(&format!("Saved to {}", second.display())),
        "{said}"
    );
    assert_eq!(snapshot(&shipped), before, "the shipped run was touched");
    assert!(second.join("report.json").is_file());
    let config = std::fs::read_to_string(second.join("config.toml")).unwrap();
    assert!(config.contains("name = \"lstm-sgd-2\""), "{config}");
    // And the next one goes to -3.
    assert!(stdout(&succeeded(main_command())).contains("lstm-sgd-3"));
}

#[test]
fn an_explicit_name_that_is_taken_is_refused_without_overwrite() {
    let sandbox = Sandbox::new();
    succeeded(sandbox.output(&["--name", "mine"]));
    let before = snapshot(&sandbox.run("mine"));
    let output = sandbox.output(&["--name", "mine"]);
    assert_one_line_error(
        &output,
        &["mine", "already holds a finished run", "--overwrite"],
    );
    assert_eq!(snapshot(&sandbox.run("mine")), before);
}

#[test]
fn overwrite_checks_data_and_device_before_it_deletes_the_old_run() {
    let sandbox = Sandbox::new();
    succeeded(sandbox.output(&[]));
    let run = sandbox.run("tiny");
    let before = snapshot(&run);

    let typo = sandbox.artifacts.path().join("no-such-data");
    let bad_data = sandbox.train_on(&typo, &["--overwrite"]).output().unwrap();
    assert_one_line_error(&bad_data, &["no-such-data", "missing"]);
    assert_eq!(snapshot(&run), before, "a typo in --data-dir cost the run");

    let no_gpu = sandbox
        .train(&["--overwrite", "--backend", "wgpu"])
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .env("__EGL_VENDOR_LIBRARY_DIRS", "/nonexistent")
        .env("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/egl.json")
        .output()
        .unwrap();
    assert_one_line_error(&no_gpu, &["wgpu", "no usable GPU adapter"]);
    assert_eq!(snapshot(&run), before, "a missing GPU cost the run");

    // With everything in order it does replace the run.
    succeeded(sandbox.output(&["--overwrite", "--seed", "7"]));
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains("seed = 7"), "{config}");
}

/// Starts a tiny run of endless epochs named `name`, once its first epoch is done.
fn start_endless_run(sandbox: &Sandbox, name: &str) -> Child {
    let mut child = sandbox
        .train(&["--name", name, "--epochs", "100000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let metrics = sandbox.run(name).join("metrics.csv");
    let started = Instant::now();
    while !metrics.is_file() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "no epoch ended"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// The newest epoch with a model checkpoint.
fn newest_checkpoint(run: &Path) -> usize {
    std::fs::read_dir(run.join("checkpoint"))
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("model-")?
                .strip_suffix(".bpk")?
                .parse()
                .ok()
        })
        .max()
        .expect("a checkpoint")
}

#[test]
fn a_run_in_progress_has_one_writer_and_any_number_of_readers() {
    let sandbox = Sandbox::new();
    let mut child = start_endless_run(&sandbox, "busy");
    let run = sandbox.run("busy");
    let pid = format!("pid {}", child.id());

    let second = sandbox.output(&["--name", "busy", "--overwrite"]);
    assert_one_line_error(
        &second,
        &["busy", "in use by another lstm-mnist process", &pid],
    );
    assert_one_line_error(&sandbox.resume(&run, &[]), &["in use", &pid]);
    assert!(
        run.join("config.toml").is_file(),
        "the refused writer deleted files"
    );

    // Readers are never blocked.
    assert!(
        sandbox
            .results()
            .contains("Not finished (no report yet): busy")
    );
    let picture = sandbox.artifacts.path().join("busy.png");
    let plot = common::bare_lstm_mnist()
        .arg("plot")
        .arg(&run)
        .arg("--output")
        .arg(&picture)
        .output()
        .unwrap();
    succeeded(plot);

    // A killed writer leaves no stale lock: the run resumes at once.
    child.kill().unwrap();
    child.wait().unwrap();
    let epochs = (newest_checkpoint(&run) + 1).to_string();
    succeeded(sandbox.resume(&run, &["--epochs", &epochs]));
    assert!(run.join("report.json").is_file());
}

#[test]
fn a_diverging_run_stops_at_once_without_being_called_finished() {
    let sandbox = Sandbox::new();
    // The first step makes every weight infinite; the second batch's loss is not a number.
    let output = sandbox.output(&["--name", "wild", "--lr", "1e300"]);
    assert_one_line_error(
        &output,
        &[
            "wild",
            "epoch 1, batch 2",
            "training loss became NaN",
            "(1e300)",
            "lower --lr",
        ],
    );
    let run = sandbox.run("wild");
    for file in [
        "report.json",
        "model.bpk",
        "metrics.csv",
        "checkpoint/model-1.bpk",
    ] {
        assert!(!run.join(file).exists(), "a diverged run wrote {file}");
    }
    assert!(
        sandbox
            .results()
            .contains("Not finished (no report yet): wild")
    );
}

#[test]
fn a_run_that_diverges_later_keeps_its_last_good_epoch_and_resumes_from_it() {
    let sandbox = Sandbox::new();
    succeeded(sandbox.output(&["--name", "steady", "--epochs", "3"]));
    let run = sandbox.run("steady");
    // Continue it to 5 epochs at a rate that breaks it in its first new step.
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    let edit = |rate: &str| {
        let text = config.replace("learning_rate = 0.01", &format!("learning_rate = {rate}"));
        std::fs::write(run.join("config.toml"), text).unwrap();
    };
    edit("1e300");
    let report_before = std::fs::read(run.join("report.json")).unwrap();
    let output = sandbox.resume(&run, &["--epochs", "5"]);
    assert_one_line_error(
        &output,
        &[
            "epoch 4, batch 2",
            "last good checkpoint (epoch 3)",
            "--resume",
            "config.toml",
        ],
    );
    assert!(
        !run.join("checkpoint/model-4.bpk").exists(),
        "the diverged epoch was saved"
    );
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert_eq!(
        metrics.lines().count(),
        1 + 3,
        "rows for epochs 1-3 only: {metrics}"
    );
    assert_eq!(
        std::fs::read(run.join("report.json")).unwrap(),
        report_before
    );

    // With the rate lowered again, as the message says, it continues from epoch 3.
    edit("0.01");
    let output = succeeded(sandbox.resume(&run, &["--epochs", "5"]));
    assert!(stdout(&output).contains("Epoch 4/5"), "{}", stdout(&output));
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 1 + 5, "{metrics}");
}

#[test]
fn resume_refuses_what_cannot_continue_the_run() {
    let sandbox = Sandbox::new();
    succeeded(sandbox.output(&["--name", "done", "--epochs", "2"]));
    let run = sandbox.run("done");
    let before = snapshot(&run);
    let resume = |args: &[&str]| sandbox.resume(&run, args);
    assert_one_line_error(
        &resume(&["--epochs", "1"]),
        &["trained 2 epochs", "--epochs 1"],
    );
    assert_one_line_error(&resume(&[]), &["is finished", "2 of 2"]);
    assert_one_line_error(&resume(&["--lr", "0.5"]), &["--resume", "only --epochs"]);
    assert_eq!(snapshot(&run), before, "a refused resume changed the run");

    // From inside the run directory, `.` is the run itself.
    let output = common::bare_lstm_mnist()
        .current_dir(&run)
        .args(["--resume", ".", "--epochs", "3", "--data-dir"])
        .arg(sandbox.data.path())
        .output()
        .unwrap();
    succeeded(output);
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains("name = \"done\""), "{config}");
    assert!(config.contains("epochs = 3"), "{config}");
}

#[test]
fn resume_refuses_a_run_without_complete_checkpoints() {
    let artifacts = tempfile::tempdir().unwrap();
    let run = artifacts.path().join("pruned");
    std::fs::create_dir_all(run.join("checkpoint")).unwrap();
    std::fs::write(run.join("config.toml"), "name = \"pruned\"\n").unwrap();
    // Only a model record: the optimizer and scheduler records were pruned.
    std::fs::write(run.join("checkpoint/model-1.bpk"), b"partial").unwrap();
    let output = common::bare_lstm_mnist()
        .arg("--resume")
        .arg(&run)
        .output()
        .unwrap();
    assert_one_line_error(&output, &["no complete checkpoint", "pruned"]);
}

#[test]
fn on_a_terminal_the_result_stays_on_screen_after_the_dashboard_closes() {
    if !met(Need::Terminal, "on_a_terminal_the_result_stays_on_screen") {
        return;
    }
    let sandbox = Sandbox::new();
    let train = sandbox.train(&["--name", "tty"]);
    // A pseudo-terminal starts at 0x0; the dashboard needs room to draw.
    let mut line = format!("stty cols 120 rows 40; {:?}", train.get_program());
    for arg in train.get_args() {
        line += &format!(" '{}'", arg.to_string_lossy());
    }
    // `script` runs the command on a pseudo-terminal, so the dashboard opens.
    let output = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .expect("`script` (util-linux) runs a command on a terminal");
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{screen}");
    // What is printed after the last switch back from the dashboard's alternate screen.
    let after = screen.rsplit("\u{1b}[?1049l").next().unwrap();
    assert!(screen.contains("\u{1b}[?1049h"), "no dashboard was shown");
    assert!(after.contains("Test accuracy: "), "{after:?}");
    assert!(after.contains("Saved to "), "{after:?}");
}
