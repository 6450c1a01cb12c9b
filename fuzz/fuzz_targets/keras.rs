//! A Keras model file (`.keras` zip or legacy `.h5`), read as `import-keras` reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let path = lstm_mnist_fuzz::scratch_file("model.keras", bytes);
    let _ = lstm_mnist::keras::read_model(&path);
});
