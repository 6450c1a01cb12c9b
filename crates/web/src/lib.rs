//! The classifier for the page's JavaScript: load a run from its two files' bytes, then read
//! drawings and pictures in the browser, row by row; a picture's ink is found by the picture
//! path's rules, or by a learned ink finder loaded from its weights; a number reader reads a
//! picture of a written number. `tools/build-web.sh`
//! builds it into the `.wasm` and glue that `lstm-mnist export-web` puts on a static site.

use lstm_mnist_model::inference::Detail;
use lstm_mnist_model::number;
use lstm_mnist_model::run::TrainedModel;
use lstm_mnist_model::{Device, INPUT_LEN, ModelInput};
use wasm_bindgen::prelude::*;

/// A trained run, loaded in the browser.
#[wasm_bindgen]
pub struct Model {
    model: TrainedModel,
}

#[wasm_bindgen]
impl Model {
    /// Loads a run from its `config.toml`'s text and its `model.bpk`'s bytes.
    #[wasm_bindgen(constructor)]
    pub fn new(config_toml: &str, weights: &[u8]) -> Result<Model, JsError> {
        let model = TrainedModel::from_bytes(config_toml, weights, &Device::flex())?;
        Ok(Model { model })
    }

    /// The ten class probabilities after each of the 28 rows (280 values, row after row) of a
    /// model input: 784 values in [0, 1], white ink on black.
    pub fn read(&self, pixels: &[f32]) -> Result<Vec<f32>, JsError> {
        let input: &ModelInput = pixels.try_into().map_err(|_| {
            JsError::new(&format!(
                "an input is {INPUT_LEN} values, not {}",
                pixels.len()
            ))
        })?;
        let reading = self.model.read(input, Detail::Rows);
        Ok(reading.rows().expect("rows were asked for").concat())
    }

    /// The model input (784 values) the picture path makes of a PNG or JPEG.
    pub fn picture_input(bytes: &[u8]) -> Result<Vec<f32>, JsError> {
        Ok(lstm_mnist_model::preprocess::picture_input(bytes)?.to_vec())
    }

    /// [`Model::picture_input`], and whether the picture holds several digits in a row.
    pub fn read_picture(bytes: &[u8]) -> Result<Picture, JsError> {
        let picture = lstm_mnist_model::preprocess::read_picture(bytes)?;
        Ok(Picture {
            input: picture.input.to_vec(),
            several_digits: picture.several_digits,
        })
    }
}

/// A picture as the picture path reads it for a digit model.
#[wasm_bindgen]
pub struct Picture {
    input: Vec<f32>,
    several_digits: bool,
}

#[wasm_bindgen]
impl Picture {
    /// The model input: 784 values in [0, 1], white ink on black.
    #[wasm_bindgen(getter)]
    pub fn input(&self) -> Vec<f32> {
        self.input.clone()
    }

    /// Whether the picture holds several digits in a row, of which a digit model reads one.
    #[wasm_bindgen(getter)]
    pub fn several_digits(&self) -> bool {
        self.several_digits
    }
}

/// A learned ink finder (a run of `lstm-mnist train` on an ink finder's config), loaded in the
/// browser: pictures read with it find their ink as `predict --ink-finder` does.
#[wasm_bindgen]
pub struct InkFinder {
    finder: lstm_mnist_model::ink::InkFinder,
}

#[wasm_bindgen]
impl InkFinder {
    /// Loads a finder of `width` (its config's `ink_finder.width`) from its `ink-finder.bpk`'s
    /// bytes.
    #[wasm_bindgen(constructor)]
    pub fn new(width: usize, weights: &[u8]) -> Result<InkFinder, JsError> {
        let config = lstm_mnist_model::ink::InkFinderConfig::new().with_width(width);
        let finder =
            lstm_mnist_model::ink::InkFinder::from_weights(&config, weights, &Device::flex())?;
        Ok(InkFinder { finder })
    }

    /// The model input (784 values) the picture path makes of a PNG or JPEG, the ink found by
    /// this finder.
    pub fn picture_input(&self, bytes: &[u8]) -> Result<Vec<f32>, JsError> {
        let found = lstm_mnist_model::preprocess::found_input(bytes, &self.finder)?;
        Ok(found.input.to_vec())
    }
}

/// A number reader (a run of `lstm-mnist train` on a number reader's config), loaded in the
/// browser: it reads a picture of a written number as `serve`'s API does.
#[wasm_bindgen]
pub struct NumberReader {
    reader: lstm_mnist_model::number::NumberReader,
}

#[wasm_bindgen]
impl NumberReader {
    /// Loads a reader from its run's `number-model.toml` text and `number-model.bpk` bytes.
    #[wasm_bindgen(constructor)]
    pub fn new(config_toml: &str, weights: &[u8]) -> Result<NumberReader, JsError> {
        let config = number::model_config_in(config_toml).map_err(|e| JsError::new(&e))?;
        let reader = config.from_weights(weights, &Device::flex())?;
        Ok(NumberReader { reader })
    }

    /// What the reader reads in a PNG or JPEG of a written number, as the JSON `POST
    /// /api/predict?run=NAME` answers with (without `run`).
    pub fn read_picture(&self, bytes: &[u8]) -> Result<String, JsError> {
        let reading = number::read_number_picture(&self.reader, bytes, &Device::flex())?;
        Ok(serde_json::to_string(&reading)?)
    }
}
