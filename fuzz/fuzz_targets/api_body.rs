//! The body of `POST /api/predict`: JSON pixels or an encoded picture.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: lstm_mnist_fuzz::crash_on_uncontained_panics(),
    |bytes: &[u8]| {
        let _ = lstm_mnist::serve::api::model_input(bytes, None);
    }
);
