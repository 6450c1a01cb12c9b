//! A sweep file, expanded into its points (each a checked config).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let path = lstm_mnist_fuzz::scratch_file("sweep.toml", bytes);
    let _ = lstm_mnist::sweep::spec::load(&path);
});
