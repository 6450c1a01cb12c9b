//! A PyTorch state_dict in safetensors, read as `import-torch` reads it, for every cell.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lstm_mnist::config::Cell;

fuzz_target!(|bytes: &[u8]| {
    let dir = std::env::temp_dir().join(format!("lstm-mnist-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    std::fs::write(&path, bytes).unwrap();
    for cell in [Cell::Lstm, Cell::Gru, Cell::Rnn] {
        let _ = lstm_mnist::torch::read_state_dict(&path, cell);
    }
});
