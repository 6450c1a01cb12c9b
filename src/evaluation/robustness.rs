//! The robustness suite: the test images under fixed, seeded corruptions in the manner of
//! MNIST-C (Mu & Gilmer 2019), one accuracy per corruption and their mean, written to
//! `robustness.json` beside the model. The corruption of image i depends only on the suite's
//! seed, the corruption and i, so every run is scored on the very same images.

use std::path::Path;

use burn::tensor::Device;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::evaluate;
use crate::data::Examples;
use crate::data::distort::{Contrast, Distortion, Elastic, Stroke};
use crate::error::{AtFile, Error, Result};
use crate::fsutil::{read_text_bounded, write_atomic};
use crate::model::Classifier;
use crate::run_dir::robustness_path_in;

/// The suite's own seed: changing it changes every figure.
const SUITE_SEED: u64 = 2019;

/// One corruption of the suite and the severity it is applied at.
pub(crate) struct Corruption {
    pub name: &'static str,
    pub(crate) severity: &'static str,
    /// Draws one image's distortion.
    draw: fn(&mut StdRng) -> Distortion,
}

/// Either way: `magnitude` with a random sign.
fn signed(rng: &mut StdRng, low: f32, high: f32) -> f32 {
    let magnitude = rng.random_range(low..=high);
    if rng.random_bool(0.5) {
        magnitude
    } else {
        -magnitude
    }
}

/// The suite, in the order it is reported.
pub(crate) const SUITE: [Corruption; 13] = [
    Corruption {
        name: "rotate",
        severity: "rotated 20-30 degrees, either way",
        draw: |rng| Distortion {
            rotation: signed(rng, 20.0, 30.0),
            ..Distortion::identity()
        },
    },
    Corruption {
        name: "shear",
        severity: "slanted 25-35 degrees, either way",
        draw: |rng| Distortion {
            shear: signed(rng, 25.0, 35.0),
            ..Distortion::identity()
        },
    },
    Corruption {
        name: "scale",
        severity: "shrunk to 55-70% of its size",
        draw: |rng| Distortion {
            scale: rng.random_range(0.55..=0.7),
            ..Distortion::identity()
        },
    },
    Corruption {
        name: "translate",
        severity: "shifted 4-5 pixels in a random direction",
        draw: |rng| {
            let (distance, angle) = (
                rng.random_range(4.0f32..=5.0),
                rng.random_range(0.0..std::f32::consts::TAU),
            );
            Distortion {
                shift: (distance * angle.cos(), distance * angle.sin()),
                ..Distortion::identity()
            }
        },
    },
    Corruption {
        name: "thick",
        severity: "strokes about 2 pixels thicker (grey dilation)",
        draw: |_| Distortion {
            stroke: Stroke::Thicken,
            ..Distortion::identity()
        },
    },
    Corruption {
        name: "thin",
        severity: "strokes thinner (halfway to a grey erosion)",
        draw: |_| Distortion {
            stroke: Stroke::Thin,
            ..Distortion::identity()
        },
    },
    Corruption {
        name: "blur",
        severity: "Gaussian blur, sigma 1.2 pixels",
        draw: |_| Distortion {
            blur: Some(1.2),
            ..Distortion::identity()
        },
    },
    Corruption {
        name: "noise",
        severity: "Gaussian noise, sigma 0.3 of full intensity",
        draw: |_| Distortion {
            noise: Some(0.3),
            ..Distortion::identity()
        },
    },
    Corruption {
        name: "elastic",
        severity: "elastic warp, alpha 45 sigma 4 pixels",
        draw: |_| Distortion {
            elastic: Some(Elastic {
                alpha: 45.0,
                sigma: 4.0,
            }),
            ..Distortion::identity()
        },
    },
    // The rows below came with the picture faults of `[data.augment]`; the ones above are
    // unchanged by them (each row's images depend on its own name only).
    Corruption {
        name: "lowres",
        severity: "shrunk to 8-10 pixels square and enlarged back (bilinear)",
        draw: |rng| Distortion {
            low_resolution: Some(rng.random_range(8..=10)),
            ..Distortion::identity()
        },
    },
    Corruption {
        name: "contrast",
        severity: "grey background at 30-40%, ink at 60-70% of full intensity",
        draw: |rng| Distortion {
            contrast: Some(Contrast {
                background: rng.random_range(0.3..=0.4),
                ink: rng.random_range(0.6..=0.7),
            }),
            ..Distortion::identity()
        },
    },
    Corruption {
        name: "salt-pepper",
        severity: "10% of the pixels set black or white",
        draw: |_| Distortion {
            salt_pepper: Some(0.1),
            ..Distortion::identity()
        },
    },
    Corruption {
        name: "jpeg",
        severity: "saved as a JPEG of quality 10-15",
        draw: |rng| Distortion {
            jpeg: Some(rng.random_range(10..=15)),
            ..Distortion::identity()
        },
    },
];

impl Corruption {
    /// Every example, corrupted.
    pub fn apply(&self, examples: &Examples) -> Examples {
        let salt = self
            .name
            .bytes()
            .fold(SUITE_SEED, |h, b| h.wrapping_mul(31) ^ u64::from(b));
        let mut pixels = Vec::with_capacity(examples.len() * examples.rows * examples.cols);
        let mut labels = Vec::with_capacity(examples.len());
        for index in 0..examples.len() {
            let mut rng =
                StdRng::seed_from_u64(salt ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let distortion = (self.draw)(&mut rng);
            pixels.extend(
                distortion
                    .apply(&examples.gray_image(index), &mut rng)
                    .into_raw(),
            );
            labels.push(examples.label(index));
        }
        Examples::new(pixels, labels, examples.rows, examples.cols)
    }
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorruptionScore {
    pub name: String,
    pub(crate) severity: String,
    /// Fraction of the corrupted images classified correctly.
    pub accuracy: f64,
}

/// `robustness.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustnessReport {
    /// The model file scored.
    pub model: String,
    pub images: usize,
    /// Accuracy on the same images uncorrupted.
    pub clean_accuracy: f64,
    pub corruptions: Vec<CorruptionScore>,
    /// The mean of the corruptions' accuracies.
    pub mean_accuracy: f64,
    /// The picture suite's rows (`robustness --pictures`): the test digits photographed on
    /// paper and read as `predict` reads a picture. Empty when it was not run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pictures: Vec<CorruptionScore>,
}

/// One Markdown table row per score: name, severity, accuracy.
fn table_rows(scores: &[CorruptionScore]) -> String {
    scores
        .iter()
        .map(|score| {
            format!(
                "| {} | {} | {:.2}% |\n",
                score.name,
                score.severity,
                score.accuracy * 100.0
            )
        })
        .collect()
}

/// Scores `model` on `test` clean and under every corruption of the suite.
pub fn robustness(
    model: &Classifier,
    test: &Examples,
    device: &Device,
    model_name: &str,
) -> RobustnessReport {
    let corruptions: Vec<CorruptionScore> = SUITE
        .iter()
        .map(|corruption| CorruptionScore {
            name: corruption.name.to_string(),
            severity: corruption.severity.to_string(),
            accuracy: evaluate(model, &corruption.apply(test), device).accuracy,
        })
        .collect();
    let mean_accuracy =
        corruptions.iter().map(|c| c.accuracy).sum::<f64>() / corruptions.len() as f64;
    RobustnessReport {
        model: model_name.to_string(),
        images: test.len(),
        clean_accuracy: evaluate(model, test, device).accuracy,
        corruptions,
        mean_accuracy,
        pictures: Vec::new(),
    }
}

impl RobustnessReport {
    /// The table `lstm-mnist robustness` prints.
    pub fn table(&self) -> String {
        let mut out = format!(
            "Robustness of {} on {} test images\n\n| corruption | severity | accuracy |\n| --- | --- | --- |\n| clean | none | {:.2}% |\n",
            self.model,
            self.images,
            self.clean_accuracy * 100.0
        );
        out += &table_rows(&self.corruptions);
        out += &format!(
            "| **mean** | the {} corruptions | **{:.2}%** |\n",
            self.corruptions.len(),
            self.mean_accuracy * 100.0
        );
        if !self.pictures.is_empty() {
            out += "\n| picture of a page | condition | accuracy |\n| --- | --- | --- |\n";
            out += &table_rows(&self.pictures);
        }
        out
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("a report always serialises");
        write_atomic(path, json.as_bytes())
    }

    /// The robustness mean of the run (or checkpoint directory) `dir`, from its
    /// `robustness.json`; `None` when it has none, an error naming a damaged one.
    pub(crate) fn mean_in(dir: &Path) -> Result<Option<f64>> {
        Ok(Self::in_dir(dir)?.map(|report| report.mean_accuracy))
    }

    /// The robustness report of the run (or checkpoint directory) `dir`; `None` when it has
    /// none, an error naming a damaged one.
    pub(crate) fn in_dir(dir: &Path) -> Result<Option<Self>> {
        let path = robustness_path_in(dir);
        if !path.exists() {
            return Ok(None);
        }
        Self::read(&path).map(Some)
    }

    /// Reads `robustness.json`; a damaged one is an error naming it.
    pub fn read(path: &Path) -> Result<Self> {
        let text = read_text_bounded(path, 1024 * 1024, "a robustness report")?;
        let report: Self = serde_json::from_str(&text).doing(path, "not a robustness report")?;
        if !report.mean_accuracy.is_finite() {
            return Err(Error::file(
                path,
                "not a robustness report: its mean is not a number",
            ));
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples() -> Examples {
        let mut pixels = Vec::new();
        for i in 0..4u32 {
            pixels.extend((0..28 * 28).map(|p| {
                if (p % 28) as u32 == 10 + i && p / 28 > 5 && p / 28 < 22 {
                    255u8
                } else {
                    0
                }
            }));
        }
        Examples::new(pixels, vec![1, 1, 1, 1], 28, 28)
    }

    #[test]
    fn every_corruption_changes_the_images_and_is_reproducible() {
        let clean = examples();
        for corruption in &SUITE {
            let (a, b) = (corruption.apply(&clean), corruption.apply(&clean));
            assert_eq!(a.image(2), b.image(2), "{}", corruption.name);
            assert_ne!(a.image(2), clean.image(2), "{}", corruption.name);
            assert_eq!(a.label(3), 1);
        }
    }

    #[test]
    fn images_get_distortions_of_their_own() {
        let corrupted = SUITE[0].apply(&examples());
        let first_turned = |i: usize| corrupted.image(i)[14 * 28..15 * 28].to_vec();
        assert!(
            (0..4)
                .map(first_turned)
                .collect::<std::collections::HashSet<_>>()
                .len()
                > 1
        );
    }
}
