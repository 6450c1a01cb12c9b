//! Picture bytes (PNG, JPEG, ...) to the model's 28x28 input, as `predict` and `serve` do it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: lstm_mnist_fuzz::crash_on_uncontained_panics(),
    |bytes: &[u8]| {
        if let Ok(input) = lstm_mnist::preprocess::picture_input(bytes) {
            assert_eq!(input.len(), 28 * 28);
            assert!(input.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }
);
