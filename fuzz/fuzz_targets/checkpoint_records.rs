//! A run's checkpoint files, judged as `train --resume` judges them before Burn reads them:
//! the input is split into the model, optimizer and scheduler records of epoch 1.
#![no_main]

use libfuzzer_sys::fuzz_target;

const CONFIG: &str = "name = \"fuzz\"\n[model]\ncell = \"rnn\"\nhidden = 4\n\
    [optimizer]\nkind = \"adam\"\nlearning_rate = 0.001\n";
const METRICS: &str = "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,seconds\n\
    1,1.0,0.5,1.0,0.5,1.0\n";

fuzz_target!(|input: (Vec<u8>, Vec<u8>, Vec<u8>)| {
    let (model, optim, scheduler) = input;
    let run = std::env::temp_dir().join(format!("lstm-mnist-fuzz-{}/fuzz", std::process::id()));
    let checkpoints = run.join("checkpoint");
    std::fs::create_dir_all(&checkpoints).unwrap();
    std::fs::write(run.join("config.toml"), CONFIG).unwrap();
    std::fs::write(run.join("metrics.csv"), METRICS).unwrap();
    std::fs::write(checkpoints.join("model-1.bpk"), model).unwrap();
    std::fs::write(checkpoints.join("optim-1.bpk"), optim).unwrap();
    std::fs::write(checkpoints.join("scheduler-1.bpk"), scheduler).unwrap();
    let Ok(dir) = lstm_mnist::run_dir::RunDir::open(&run) else {
        return;
    };
    let _ = dir.resume_point();
});
