//! A sweep file, expanded into its points (each a checked config).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let path = lstm_mnist_fuzz_file("sweep.toml", bytes);
    let _ = lstm_mnist::sweep::spec::load(&path);
});

fn lstm_mnist_fuzz_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir()
        .join(format!("lstm-mnist-fuzz-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}
