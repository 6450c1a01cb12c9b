//! Reads many pictures with a trained run in one forward pass, and says after which row the
//! model settled on each answer:
//! `cargo run --release -p lstm-mnist-model --example batch -- artifacts/lstm-adam-robust a.png b.jpg`

use lstm_mnist_model::inference::Detail;
use lstm_mnist_model::preprocess::picture_input;
use lstm_mnist_model::run::TrainedModel;
use lstm_mnist_model::{Device, ModelInput};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let run = args.next().ok_or("usage: batch RUN_DIR PICTURE...")?;
    let pictures: Vec<String> = args.collect();
    let model = TrainedModel::open(run.as_ref(), &Device::flex())?;
    let inputs = pictures
        .iter()
        .map(|path| Ok(picture_input(&std::fs::read(path)?)?))
        .collect::<Result<Vec<ModelInput>, Box<dyn std::error::Error>>>()?;
    for (path, reading) in pictures.iter().zip(model.read_batch(&inputs, Detail::Rows)) {
        // The last turn is the last row; the one before it is where the answer took the lead.
        let turns = reading.turns();
        let settled = turns
            .iter()
            .rev()
            .take_while(|turn| turn.1 == reading.digit())
            .last();
        println!(
            "{path}: {} ({:.1}%), leading from row {}",
            reading.digit(),
            reading.probability() * 100.0,
            settled.map_or(0, |turn| turn.0)
        );
    }
    Ok(())
}
