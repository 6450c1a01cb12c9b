//! Written numbers composed from MNIST digits: each digit cropped to its ink, scaled, moved up
//! or down, and set beside the previous one with a gap from overlapping to wide, on a strip 28
//! pixels high. Numbers for training come from the training digits and test numbers from the
//! test digits (the composer only sees the examples it is given), and every number is a pure
//! function of its seed and index.

use std::ops::RangeInclusive;

use image::{GrayImage, imageops};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::Examples;
use super::augment::Augmenter;
use crate::config::AugmentConfig;
use lstm_mnist_model::ROWS;

/// The most digits a composed number has.
pub const MAX_DIGITS: usize = 8;
/// Columns between one digit's ink and the next one's, when they do not touch.
const GAPS: RangeInclusive<i32> = 1..=12;
/// Columns between touching digits' ink: negative overlaps them, 0 touches.
const TOUCHING: RangeInclusive<i32> = -4..=0;
/// The share of neighbouring digits that touch or overlap: where cutting the picture into
/// marks fails, so it is not rare here.
const TOUCHING_SHARE: f64 = 0.2;
/// A digit's height against MNIST's own (about 20 of 28 rows).
const SCALES: RangeInclusive<f32> = 0.7..=1.05;
/// How far a digit's centre moves up or down from the strip's middle, in rows.
const BASELINE_JITTER: i32 = 2;
/// Black columns before the first digit and after the last.
const MARGINS: RangeInclusive<usize> = 2..=8;
/// The seed of the fixed test set (`test_numbers`).
pub const TEST_SEED: u64 = 2006;
/// Numbers in the fixed test set.
pub const TEST_NUMBERS: usize = 10_000;

/// A composed number: its strip (`ROWS` rows of `width` values in [0, 1], row after row, white
/// ink on black), its digits, and the smallest gap between two of them.
#[derive(Debug, Clone)]
pub struct ComposedNumber {
    pub strip: Vec<f32>,
    pub width: usize,
    pub digits: Vec<u8>,
    /// The narrowest gap between neighbouring digits' ink (columns; negative overlaps); `None`
    /// for a single digit.
    pub closest_gap: Option<i32>,
}

impl ComposedNumber {
    /// The digits as text.
    pub fn text(&self) -> String {
        self.digits.iter().map(|d| char::from(b'0' + d)).collect()
    }
}

/// Composes numbers from the digits of `examples`.
#[derive(Debug, Clone)]
pub struct NumberComposer {
    examples: Examples,
    seed: u64,
    /// Distorts each digit before it is placed (training numbers only), as a robust digit
    /// run's training images are.
    augmenter: Option<std::sync::Arc<Augmenter>>,
}

impl NumberComposer {
    pub fn new(examples: Examples, seed: u64) -> Self {
        assert!(
            !examples.is_empty(),
            "numbers are composed from some digits"
        );
        Self {
            examples,
            seed,
            augmenter: None,
        }
    }

    /// These numbers, each digit distorted as `augment` says before it is placed.
    pub(crate) fn with_augment(self, augment: AugmentConfig) -> Self {
        Self {
            augmenter: Some(std::sync::Arc::new(Augmenter::new(augment, self.seed))),
            ..self
        }
    }

    /// Number `index` of this composer's sequence (1 to `MAX_DIGITS` digits, evenly).
    pub fn number(&self, index: u64) -> ComposedNumber {
        let mut rng = StdRng::seed_from_u64(self.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let count = rng.random_range(1..=MAX_DIGITS);
        let picks: Vec<usize> = (0..count)
            .map(|_| rng.random_range(0..self.examples.len()))
            .collect();
        self.compose(&picks, &mut rng)
    }

    /// The number written with the examples at `picks`, in order.
    fn compose(&self, picks: &[usize], rng: &mut StdRng) -> ComposedNumber {
        let glyphs: Vec<Glyph> = picks
            .iter()
            .map(|&index| {
                let image = self.examples.gray_image(index);
                let image = match &self.augmenter {
                    Some(augmenter) => augmenter
                        .sample(rng, self.examples.label(index))
                        .apply(&image, rng),
                    None => image,
                };
                Glyph::of(&image, rng)
            })
            .collect();
        let gaps: Vec<i32> = (1..glyphs.len())
            .map(|_| {
                if rng.random_bool(TOUCHING_SHARE) {
                    rng.random_range(TOUCHING)
                } else {
                    rng.random_range(GAPS)
                }
            })
            .collect();
        let (left, right) = (rng.random_range(MARGINS), rng.random_range(MARGINS));
        let mut at = vec![left as i32];
        for (glyph, gap) in glyphs.iter().zip(&gaps) {
            at.push(at.last().expect("one start") + glyph.ink.width() as i32 + gap);
        }
        let last = glyphs.last().expect("a number has a digit");
        let end = at.last().expect("one start") + last.ink.width() as i32;
        let width = (end.max(1) as usize) + right;
        let mut strip = vec![0.0f32; ROWS * width];
        for (glyph, &x) in glyphs.iter().zip(&at) {
            glyph.draw(&mut strip, width, x);
        }
        ComposedNumber {
            strip,
            width,
            digits: picks.iter().map(|&i| self.examples.label(i)).collect(),
            closest_gap: gaps.iter().copied().min(),
        }
    }
}

/// One digit ready to set: its ink cropped and scaled, and the row its top goes to.
struct Glyph {
    ink: GrayImage,
    top: i32,
}

impl Glyph {
    fn of(image: &GrayImage, rng: &mut StdRng) -> Self {
        let ink = cropped_to_ink(image);
        let scale = rng.random_range(SCALES);
        let sized = |length: u32| ((length as f32 * scale).round() as u32).max(1);
        let ink = imageops::resize(
            &ink,
            sized(ink.width()),
            sized(ink.height()).min(ROWS as u32),
            imageops::FilterType::Triangle,
        );
        let centre = ROWS as i32 / 2 + rng.random_range(-BASELINE_JITTER..=BASELINE_JITTER);
        let top = (centre - ink.height() as i32 / 2).clamp(0, ROWS as i32 - ink.height() as i32);
        Self { ink, top }
    }

    /// Draws the glyph into `strip` with its left edge at column `x`, keeping the brighter ink
    /// where it overlaps a neighbour.
    fn draw(&self, strip: &mut [f32], width: usize, x: i32) {
        for (gx, gy, pixel) in self.ink.enumerate_pixels() {
            let (column, row) = (x + gx as i32, self.top + gy as i32);
            if (0..width as i32).contains(&column) {
                let at = row as usize * width + column as usize;
                strip[at] = strip[at].max(f32::from(pixel.0[0]) / 255.0);
            }
        }
    }
}

/// `image` cut to the box of its ink (the whole image when it has none).
fn cropped_to_ink(image: &GrayImage) -> GrayImage {
    let inked: Vec<(u32, u32)> = image
        .enumerate_pixels()
        .filter(|(_, _, p)| p.0[0] > 0)
        .map(|(x, y, _)| (x, y))
        .collect();
    let Some(left) = inked.iter().map(|p| p.0).min() else {
        return image.clone();
    };
    let right = inked.iter().map(|p| p.0).max().expect("some ink");
    let top = inked.iter().map(|p| p.1).min().expect("some ink");
    let bottom = inked.iter().map(|p| p.1).max().expect("some ink");
    imageops::crop_imm(image, left, top, right - left + 1, bottom - top + 1).to_image()
}

/// The fixed test set: `TEST_NUMBERS` numbers from MNIST's test digits, seed `TEST_SEED`.
pub fn test_numbers(test: &Examples, count: usize) -> Vec<ComposedNumber> {
    let composer = NumberComposer::new(test.clone(), TEST_SEED);
    (0..count as u64).map(|i| composer.number(i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten examples, digit d a filled box d+2 columns wide and 10 rows high.
    fn boxes() -> Examples {
        let mut pixels = vec![0u8; 10 * 28 * 28];
        for digit in 0..10 {
            for y in 9..19 {
                for x in 4..6 + digit {
                    pixels[digit * 784 + y * 28 + x] = 255;
                }
            }
        }
        Examples::new(pixels, (0..10).collect(), 28, 28)
    }

    #[test]
    fn a_number_is_its_seed_and_index_and_its_labels_are_the_digits_drawn() {
        let composer = NumberComposer::new(boxes(), 3);
        let a = composer.number(17);
        assert_eq!(a.strip, composer.number(17).strip);
        assert_ne!(a.strip, composer.number(18).strip);
        assert!((1..=MAX_DIGITS).contains(&a.digits.len()));
        assert_eq!(a.strip.len(), ROWS * a.width);
        assert_eq!(a.closest_gap.is_none(), a.digits.len() == 1);
        let lengths: std::collections::HashSet<usize> =
            (0..200).map(|i| composer.number(i).digits.len()).collect();
        assert_eq!(lengths.len(), MAX_DIGITS, "every length 1 to 8 occurs");
    }

    #[test]
    fn augmented_numbers_are_the_same_digits_drawn_otherwise_and_still_reproducible() {
        let plain = NumberComposer::new(boxes(), 3);
        let augmented = NumberComposer::new(boxes(), 3).with_augment(AugmentConfig::default());
        let differs = (0..20).filter(|&i| {
            let (a, b) = (plain.number(i), augmented.number(i));
            assert_eq!(a.digits, b.digits);
            a.strip != b.strip
        });
        assert!(differs.count() >= 15);
        assert_eq!(augmented.number(5).strip, augmented.number(5).strip);
    }

    #[test]
    fn digits_are_set_left_to_right_with_their_gaps() {
        let composer = NumberComposer::new(boxes(), 5);
        let number = (0..100)
            .map(|i| composer.number(i))
            .find(|n| n.digits.len() >= 3 && n.closest_gap.unwrap() > 1)
            .expect("a number with clear gaps");
        // Columns with ink form one run per digit, as many as the digits.
        let inked: Vec<bool> = (0..number.width)
            .map(|x| (0..ROWS).any(|y| number.strip[y * number.width + x] > 0.0))
            .collect();
        let runs = inked.windows(2).filter(|w| !w[0] && w[1]).count() + usize::from(inked[0]);
        assert_eq!(runs, number.digits.len());
        assert!(!inked[0] && !inked[number.width - 1], "margins stay black");
    }
}
