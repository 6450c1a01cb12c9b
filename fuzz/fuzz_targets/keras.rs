//! A Keras model file (`.keras` zip or legacy `.h5`), read as `import-keras` reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let dir = std::env::temp_dir().join(format!("lstm-mnist-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.keras");
    std::fs::write(&path, bytes).unwrap();
    let _ = lstm_mnist::keras::read_model(&path);
});
