//! IDX parsing and loading: the real files, and every way a file can be wrong.

mod common;

use std::path::Path;

use common::{gzip, idx_images, idx_labels, mnist_dir, write_tiny_dataset};
use lstm_mnist::data::{MnistData, idx};

fn images_error(bytes: &[u8]) -> String {
    idx::parse_images(Path::new("images.idx"), bytes)
        .unwrap_err()
        .to_string()
}

#[test]
fn real_mnist_loads_with_expected_counts_and_labels() {
    let data = MnistData::load(&mnist_dir()).unwrap();
    assert_eq!(data.train.len(), 60_000);
    assert_eq!(data.test.len(), 10_000);
    assert_eq!((data.train.rows, data.train.cols), (28, 28));
    // The well-known first labels of each split.
    assert_eq!(data.train.label(0), 5);
    assert_eq!(data.test.label(0), 7);
    // Digits are white on black: the corner is background, the centre has ink somewhere.
    let first = data.train.image(0);
    assert_eq!(first[0], 0);
    assert_eq!(*first.iter().max().unwrap(), 255);
}

#[test]
fn parses_raw_and_gzipped_images() {
    let raw = idx_images(2, 2, 3, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    for bytes in [raw.clone(), gzip(&raw)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        std::fs::write(&path, &bytes).unwrap();
        let parsed = idx::parse_images(&path, &idx::read_maybe_gzip(&path).unwrap()).unwrap();
        assert_eq!((parsed.count, parsed.rows, parsed.cols), (2, 2, 3));
        assert_eq!(parsed.pixels, (0..12).collect::<Vec<u8>>());
    }
}

#[test]
fn rejects_wrong_magic() {
    let mut bytes = idx_images(1, 1, 1, &[0]);
    bytes[3] = 0x01;
    let error = images_error(&bytes);
    assert!(
        error.contains("images.idx") && error.contains("magic number"),
        "{error}"
    );
}

#[test]
fn rejects_header_shorter_than_declared() {
    let error = images_error(&[0, 0, 8, 3, 0]);
    assert!(error.contains("too short"), "{error}");
}

#[test]
fn rejects_data_shorter_than_the_header_declares() {
    let error = images_error(&idx_images(3, 2, 2, &[0; 8]));
    assert!(
        error.contains("truncated") && error.contains("12 bytes"),
        "{error}"
    );
}

#[test]
fn rejects_trailing_bytes() {
    let error = images_error(&idx_images(1, 2, 2, &[0; 5]));
    assert!(error.contains("1 unexpected bytes"), "{error}");
}

#[test]
fn a_header_declaring_four_billion_images_is_refused_without_allocating() {
    let error = images_error(&idx_images(u32::MAX, 28, 28, &[0; 784]));
    assert!(error.contains("truncated"), "{error}");
}

#[test]
fn rejects_labels_out_of_range() {
    let error = idx::parse_labels(Path::new("labels.idx"), &idx_labels(3, &[1, 12, 3]), 10)
        .unwrap_err()
        .to_string();
    assert!(error.contains("label 12 at index 1"), "{error}");
}

#[test]
fn rejects_a_gzip_cut_in_the_middle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.gz");
    let full = gzip(&idx_images(10, 28, 28, &[7; 7840]));
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();
    let error = idx::read_maybe_gzip(&path).unwrap_err().to_string();
    assert!(
        error.contains("cut.gz") && error.contains("corrupt gzip"),
        "{error}"
    );
}

#[test]
fn rejects_image_and_label_counts_that_differ() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_dataset(dir.path(), 4);
    std::fs::write(
        dir.path().join("t10k-labels-idx1-ubyte"),
        idx_labels(3, &[0, 1, 2]),
    )
    .unwrap();
    let error = MnistData::load(dir.path()).unwrap_err().to_string();
    assert!(
        error.contains("t10k-labels-idx1-ubyte")
            && error.contains("3 labels")
            && error.contains("4 images"),
        "{error}"
    );
}

#[test]
fn names_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_dataset(dir.path(), 2);
    std::fs::remove_file(dir.path().join("train-labels-idx1-ubyte")).unwrap();
    let error = MnistData::load(dir.path()).unwrap_err().to_string();
    assert!(
        error.contains("train-labels-idx1-ubyte") && error.contains("missing"),
        "{error}"
    );
}

#[test]
fn validation_split_takes_the_end_of_the_training_set() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_dataset(dir.path(), 10);
    let train = MnistData::load(dir.path()).unwrap().train;
    let (fit, valid) = train.split_validation(0.2);
    assert_eq!((fit.len(), valid.len()), (8, 2));
    assert_eq!((valid.label(0), valid.label(1)), (8, 9));
    let (all, none) = train.split_validation(0.0);
    assert_eq!((all.len(), none.len()), (10, 0));
}

#[test]
fn an_image_stream_reads_batch_by_batch_and_checks_the_length() {
    let dir = tempfile::tempdir().unwrap();
    let pixels: Vec<u8> = (0..5 * 4).map(|i| i as u8).collect();
    let path = dir.path().join("five.idx.gz");
    std::fs::write(&path, gzip(&idx_images(5, 2, 2, &pixels))).unwrap();
    let mut stream = idx::IdxImageStream::open(&path)
        .unwrap()
        .expect("an IDX file");
    assert_eq!((stream.count, stream.rows, stream.cols), (5, 2, 2));
    let sizes: Vec<usize> = std::iter::from_fn(|| {
        let batch = stream.next_batch(2).unwrap();
        (!batch.is_empty()).then_some(batch.len())
    })
    .collect();
    assert_eq!(sizes, [2, 2, 1]);

    // Not IDX: left for the caller to read as a picture.
    std::fs::write(&path, b"\x89PNG....").unwrap();
    assert!(idx::IdxImageStream::open(&path).unwrap().is_none());

    // Shorter than declared: the error comes at the image where the file ends.
    std::fs::write(&path, idx_images(5, 2, 2, &pixels[..10])).unwrap();
    let mut stream = idx::IdxImageStream::open(&path).unwrap().unwrap();
    assert_eq!(stream.next_batch(2).unwrap().len(), 2);
    let error = stream.next_batch(2).unwrap_err().to_string();
    assert!(
        error.contains("truncated") && error.contains("image 2"),
        "{error}"
    );

    // Longer than declared.
    std::fs::write(&path, idx_images(1, 2, 2, &pixels[..5])).unwrap();
    let mut stream = idx::IdxImageStream::open(&path).unwrap().unwrap();
    assert_eq!(stream.next_batch(10).unwrap().len(), 1);
    let error = stream.next_batch(10).unwrap_err().to_string();
    assert!(error.contains("unexpected bytes"), "{error}");
}
