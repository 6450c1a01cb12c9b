//! A run's checkpoint files, judged as `train --resume` judges them before Burn reads them,
//! and, where they pass, read by Burn as the resume reads them. The run is `seeds/run`; the
//! input's first byte chooses which of its epoch-1 records (model, optimizer, scheduler) the
//! rest of the input replaces.
#![no_main]

use burn::optim::AdamConfig;
use burn::optim::OptimizerRecord;
use libfuzzer_sys::fuzz_target;

const CONFIG: &[u8] = include_bytes!("../seeds/run/config.toml");
const METRICS: &[u8] = include_bytes!("../seeds/run/metrics.csv");
const RECORDS: [(&str, &[u8]); 3] = [
    (
        "model-1.bpk",
        include_bytes!("../seeds/run/checkpoint/model-1.bpk"),
    ),
    (
        "optim-1.bpk",
        include_bytes!("../seeds/run/checkpoint/optim-1.bpk"),
    ),
    (
        "scheduler-1.bpk",
        include_bytes!("../seeds/run/checkpoint/scheduler-1.bpk"),
    ),
];

fuzz_target!(
    init: {
        // As the binary does first thing (main.rs): Burn makes an optimizer state read back
        // from a checkpoint on its default device, which is the GPU's where wgpu is compiled
        // in; the program pins it to flex.
        // SAFETY: before the fuzzing starts, on the only thread.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") };
    },
    |input: &[u8]| {
        let Some((&choice, bytes)) = input.split_first() else {
            return;
        };
        let run = lstm_mnist_fuzz::fresh_scratch_dir("fuzz");
        let checkpoints = run.join("checkpoint");
        std::fs::create_dir_all(&checkpoints).unwrap();
        std::fs::write(run.join("config.toml"), CONFIG).unwrap();
        std::fs::write(run.join("metrics.csv"), METRICS).unwrap();
        let replaced = usize::from(choice) % RECORDS.len();
        for (index, (name, seed)) in RECORDS.iter().enumerate() {
            let contents = if index == replaced { bytes } else { seed };
            std::fs::write(checkpoints.join(name), contents).unwrap();
        }
        let Ok(dir) = lstm_mnist::run_dir::RunDir::open(&run) else {
            return;
        };
        let resumable = dir
            .read_config()
            .is_ok_and(|config| dir.resume_point(&config).is_ok());
        if resumable {
            // What a resume then hands Burn: the model checkpoint, and the optimizer's state read
            // back into Adam.
            let device = burn::tensor::Device::flex();
            let model = lstm_mnist::run_dir::ModelRef::resolve(&checkpoints.join("model-1.bpk"))
                .expect("a checkpoint file names its run");
            model
                .load(&device)
                .expect("a checked model checkpoint loads");
            let record = OptimizerRecord::load(checkpoints.join("optim-1.bpk"))
                .expect("a checked optimizer checkpoint reads");
            let _ = AdamConfig::new().init().load_record(record);
        }
    }
);
