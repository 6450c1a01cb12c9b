//! A run's `metrics.csv` and `report.json`, read as `results`, `plot` and a resume read them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let dir = std::env::temp_dir().join(format!("lstm-mnist-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let metrics = dir.join("metrics.csv");
    std::fs::write(&metrics, bytes).unwrap();
    let _ = lstm_mnist::run_dir::read_metrics(&metrics);
    let report = dir.join("report.json");
    std::fs::write(&report, bytes).unwrap();
    let _ = lstm_mnist::run_dir::read_report(&report);
});
