//! A run's `metrics.csv` and `report.json`, read as `results`, `plot` and a resume read them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let metrics = lstm_mnist_fuzz::scratch_file("metrics.csv", bytes);
    let _ = lstm_mnist::run_dir::read_metrics(&metrics);
    let report = lstm_mnist_fuzz::scratch_file("report.json", bytes);
    let _ = lstm_mnist::run_dir::read_report(&report);
});
