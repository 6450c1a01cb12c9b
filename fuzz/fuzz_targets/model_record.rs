//! A run's `model.bpk`, loaded as `evaluate`, `predict` and `serve` load it: checked, then
//! read by Burn. The run is `seeds/run` (a one-epoch SimpleRNN of 4 units) with its model
//! replaced by the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

const CONFIG: &[u8] = include_bytes!("../seeds/run/config.toml");

fuzz_target!(|bytes: &[u8]| {
    let run = lstm_mnist_fuzz::fresh_scratch_dir("fuzz");
    std::fs::write(run.join("config.toml"), CONFIG).unwrap();
    std::fs::write(run.join("model.bpk"), bytes).unwrap();
    let model = lstm_mnist::run_dir::ModelRef::resolve(&run).unwrap();
    let _ = model.load(&burn::tensor::Device::flex());
});
