//! A PyTorch state_dict in safetensors, read as `import-torch` reads it, for every cell.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lstm_mnist::config::Cell;

fuzz_target!(|bytes: &[u8]| {
    let path = lstm_mnist_fuzz::scratch_file("model.safetensors", bytes);
    for cell in [Cell::Lstm, Cell::Gru, Cell::Rnn] {
        let _ = lstm_mnist::torch::read_state_dict(&path, cell);
    }
});
