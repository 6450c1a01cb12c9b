//! Reads the digit in a picture with a trained run:
//! `cargo run --release -p lstm-mnist-model --example classify -- artifacts/lstm-adam-robust digit.jpg`

use lstm_mnist_model::Device;
use lstm_mnist_model::inference::Detail;
use lstm_mnist_model::run::TrainedModel;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let [run, picture] = std::env::args()
        .skip(1)
        .collect::<Vec<_>>()
        .try_into()
        .map_err(|_| "usage: classify RUN_DIR PICTURE")?;
    let model = TrainedModel::open(run.as_ref(), &Device::flex())?;
    let reading = model.read_picture(&std::fs::read(&picture)?, Detail::Answer)?;
    println!(
        "{picture}: {} ({:.1}%)",
        reading.digit(),
        reading.probability() * 100.0
    );
    Ok(())
}
