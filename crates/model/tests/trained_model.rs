//! A shipped run through the crate's API: loaded from its directory or its bytes, reading a
//! picture of paper and a model input, refusing weights that are not its architecture's.

use std::path::{Path, PathBuf};

use image::{GrayImage, ImageFormat, Luma};
use lstm_mnist_model::inference::Detail;
use lstm_mnist_model::record::{ModelFileProblem, Precision, stored_as};
use lstm_mnist_model::run::{LoadError, TrainedModel};
use lstm_mnist_model::{Device, INPUT_LEN};

fn shipped(run: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../artifacts")
        .join(run)
}

/// A photo-like picture of a 1: a dark stroke on a grey-white page, as PNG bytes.
fn picture_of_a_one() -> Vec<u8> {
    let page = GrayImage::from_fn(120, 160, |x, y| {
        let on_stroke = (56..66).contains(&(x + y / 12)) && (30..130).contains(&y);
        Luma([if on_stroke { 40 } else { 205 }])
    });
    let mut png = Vec::new();
    page.write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    png
}

#[test]
fn a_shipped_run_reads_a_picture_of_a_one() {
    let model = TrainedModel::open(&shipped("lstm-adam"), &Device::flex()).unwrap();
    let reading = model
        .read_picture(&picture_of_a_one(), Detail::Rows)
        .unwrap();
    assert_eq!(reading.digit(), 1, "{:?}", reading.probabilities());
    assert_eq!(reading.rows().unwrap().len(), 28);
    let total: f32 = reading.probabilities().iter().sum();
    assert!((total - 1.0).abs() < 1e-5);
}

#[test]
fn a_run_from_bytes_reads_as_from_its_directory() {
    let dir = shipped("gru-adam");
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    let weights = std::fs::read(dir.join("model.bpk")).unwrap();
    let from_bytes = TrainedModel::from_bytes(&config, &weights, &Device::flex()).unwrap();
    let from_dir = TrainedModel::open(&dir, &Device::flex()).unwrap();
    let mut input = [0.0f32; INPUT_LEN];
    input[14 * 28 + 5..14 * 28 + 23].fill(1.0);
    assert_eq!(
        from_bytes.read(&input, Detail::Rows),
        from_dir.read(&input, Detail::Rows)
    );
}

#[test]
fn weights_of_another_architecture_or_damaged_are_refused_saying_why() {
    let weights = std::fs::read(shipped("lstm-adam").join("model.bpk")).unwrap();
    let gru = "[model]\ncell = \"gru\"\nhidden = 256\n";
    match TrainedModel::from_bytes(gru, &weights, &Device::flex()) {
        Err(LoadError::Weights(ModelFileProblem::OtherArchitecture(found))) => {
            assert_eq!(found.1, 256);
            assert_eq!(found.0.to_string(), "lstm");
        }
        other => panic!("{other:?}"),
    }
    let lstm = "[model]\ncell = \"lstm\"\nhidden = 256\n";
    let error =
        TrainedModel::from_bytes(lstm, &weights[..weights.len() / 2], &Device::flex()).unwrap_err();
    assert!(
        matches!(error, LoadError::Weights(ModelFileProblem::Damaged(_))),
        "{error}"
    );
    assert!(error.to_string().starts_with("model.bpk: "), "{error}");
    let error = TrainedModel::from_bytes("[model]\ncell = \"tree\"", &weights, &Device::flex())
        .unwrap_err();
    assert!(error.to_string().starts_with("config.toml: "), "{error}");
}

#[test]
fn f16_weights_are_half_the_file_and_load_back_as_f32() {
    let dir = shipped("lstm-adam");
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    let weights = std::fs::read(dir.join("model.bpk")).unwrap();
    let f16 = stored_as(&weights, Precision::F16).unwrap();
    assert!(
        f16.len() * 100 < weights.len() * 52,
        "{} of {}",
        f16.len(),
        weights.len()
    );
    let widened = stored_as(&f16, Precision::F32).unwrap();
    // Each weight rounded once to f16: within f16's relative step of its f32 value.
    let f32_values = |bytes: &[u8]| -> Vec<f32> { burn_pack_tensors(bytes).concat() };
    let (full, rounded) = (f32_values(&weights), f32_values(&widened));
    assert_eq!(full.len(), rounded.len());
    for (full, rounded) in full.iter().zip(rounded) {
        assert!(
            (full - rounded).abs() <= full.abs() / 1024.0 + 6e-8,
            "{full} {rounded}"
        );
    }
    let from_f16 = TrainedModel::from_bytes(&config, &f16, &Device::flex()).unwrap();
    let from_f32 = TrainedModel::from_bytes(&config, &weights, &Device::flex()).unwrap();
    let reading = |model: &TrainedModel| {
        *model
            .read_picture(&picture_of_a_one(), Detail::Answer)
            .unwrap()
            .probabilities()
    };
    let (a, b) = (reading(&from_f16), reading(&from_f32));
    assert!(
        a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-3),
        "{a:?} {b:?}"
    );
}

/// Each tensor's values in a burnpack file of f32 tensors, in the file's order.
fn burn_pack_tensors(bytes: &[u8]) -> Vec<Vec<f32>> {
    let reader =
        burn_pack::Reader::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes.to_vec())).unwrap();
    reader
        .into_tensors()
        .unwrap()
        .into_iter()
        .map(|tensor| {
            assert_eq!(tensor.dtype, burn::tensor::DType::F32, "{}", tensor.name);
            let bytes = tensor.into_bytes().unwrap();
            bytes
                .chunks_exact(4)
                .map(|v| f32::from_le_bytes([v[0], v[1], v[2], v[3]]))
                .collect()
        })
        .collect()
}
