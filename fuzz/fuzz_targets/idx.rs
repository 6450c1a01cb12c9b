//! IDX files: a dataset's images and labels (gzip'd or raw), and `predict`'s streamed reading.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lstm_mnist::data::idx;

fuzz_target!(|bytes: &[u8]| {
    let path = lstm_mnist_fuzz::scratch_file("images-idx3-ubyte", bytes);
    let _ = idx::parse_images(&path, bytes);
    let _ = idx::parse_labels(&path, bytes, 10);
    let _ = idx::read_maybe_gzip(&path);
    if let Ok(Some(mut stream)) = idx::IdxImageStream::open(&path) {
        while let Ok(batch) = stream.next_batch(64) {
            if batch.is_empty() {
                break;
            }
        }
    }
});
