//! Writing styles that many people use but MNIST's writers rarely did, drawn onto training
//! digits of their class: a 1 with a flag (and a base), a crossed 7. Augmentation warps the
//! added strokes with the rest of the digit.

use image::{GrayImage, Luma};

/// A stroke style added to a digit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Style {
    /// A 1 with a flag: a stroke down to the left from the top of its stem, reaching `flag`
    /// (left, down) in fractions of the digit's height.
    OneWithFlag { flag: (f32, f32) },
    /// A 1 with a flag and a base.
    OneWithFlagAndBase { flag: (f32, f32) },
    /// A 7 crossed through the middle of its stem.
    CrossedSeven,
}

/// The kinds of style, before their shape is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StyleKind {
    OneWithFlag,
    OneWithFlagAndBase,
    CrossedSeven,
}

impl StyleKind {
    /// The styles a digit of class `label` can be given.
    pub(crate) fn for_label(label: u8) -> &'static [StyleKind] {
        match label {
            1 => &[StyleKind::OneWithFlag, StyleKind::OneWithFlagAndBase],
            7 => &[StyleKind::CrossedSeven],
            _ => &[],
        }
    }

    /// The style with a flag of random length and steepness (short and flat to long and
    /// steep, as people draw them).
    pub fn sample(self, rng: &mut impl rand::Rng) -> Style {
        let flag = (rng.random_range(0.16..=0.42), rng.random_range(0.1..=0.34));
        match self {
            StyleKind::OneWithFlag => Style::OneWithFlag { flag },
            StyleKind::OneWithFlagAndBase => Style::OneWithFlagAndBase { flag },
            StyleKind::CrossedSeven => Style::CrossedSeven,
        }
    }
}

impl Style {
    /// The digit (white on black) with this style's strokes added at its stroke width.
    pub fn draw(self, digit: &GrayImage) -> GrayImage {
        let Some(shape) = Shape::of(digit) else {
            return digit.clone();
        };
        let h = shape.height;
        let mut out = digit.clone();
        match self {
            Style::OneWithFlag { flag } | Style::OneWithFlagAndBase { flag } => {
                let top = shape.ink_centre_of_row(digit, shape.top);
                let end = (top.0 - flag.0 * h, top.1 + flag.1 * h);
                stroke(&mut out, top, end, shape.pen, shape.peak);
                if matches!(self, Style::OneWithFlagAndBase { .. }) {
                    let bottom = shape.ink_centre_of_row(digit, shape.bottom);
                    let (left, right) = (
                        (bottom.0 - 0.24 * h, bottom.1),
                        (bottom.0 + 0.24 * h, bottom.1),
                    );
                    stroke(&mut out, left, right, shape.pen, shape.peak);
                }
            }
            Style::CrossedSeven => {
                let row = shape.top + ((shape.bottom - shape.top) as f32 * 0.55) as u32;
                let middle = shape.ink_centre_of_row(digit, row);
                let (left, right) = (
                    (middle.0 - 0.2 * h, middle.1),
                    (middle.0 + 0.2 * h, middle.1),
                );
                stroke(&mut out, left, right, shape.pen, shape.peak);
            }
        }
        out
    }
}

/// Where a digit's ink lies, and how it was written.
struct Shape {
    top: u32,
    bottom: u32,
    height: f32,
    /// Pen width in pixels.
    pen: f32,
    peak: u8,
}

impl Shape {
    fn of(digit: &GrayImage) -> Option<Self> {
        let peak = digit.pixels().map(|p| p.0[0]).max()?;
        if peak < 64 {
            return None;
        }
        let inked_rows: Vec<u32> = (0..digit.height())
            .filter(|&y| (0..digit.width()).any(|x| digit.get_pixel(x, y).0[0] >= peak / 2))
            .collect();
        let (top, bottom) = (*inked_rows.first()?, *inked_rows.last()?);
        let pen = crate::preprocess::stroke_width(digit, peak).clamp(1.5, 3.5);
        Some(Self {
            top,
            bottom,
            height: (bottom - top + 1) as f32,
            pen,
            peak,
        })
    }

    /// The ink-weighted centre of row `y` (or of the middle of the image if it has none).
    fn ink_centre_of_row(&self, digit: &GrayImage, y: u32) -> (f32, f32) {
        let (mut mass, mut sum) = (0.0f32, 0.0f32);
        for x in 0..digit.width() {
            let v = f32::from(digit.get_pixel(x, y).0[0]);
            mass += v;
            sum += v * x as f32;
        }
        let x = if mass > 0.0 {
            sum / mass
        } else {
            digit.width() as f32 / 2.0
        };
        (x, y as f32)
    }
}

/// Draws an anti-aliased segment from `a` to `b`, `width` pixels wide, at intensity `peak`
/// (keeping whatever ink is brighter).
fn stroke(image: &mut GrayImage, a: (f32, f32), b: (f32, f32), width: f32, peak: u8) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length_squared = (dx * dx + dy * dy).max(f32::EPSILON);
    for y in 0..image.height() {
        for x in 0..image.width() {
            let (px, py) = (x as f32, y as f32);
            let t = (((px - a.0) * dx + (py - a.1) * dy) / length_squared).clamp(0.0, 1.0);
            let distance = (px - a.0 - t * dx).hypot(py - a.1 - t * dy);
            let coverage = (width / 2.0 + 0.5 - distance).clamp(0.0, 1.0);
            let value = (coverage * f32::from(peak)).round() as u8;
            let pixel = image.get_pixel_mut(x, y);
            *pixel = Luma([pixel.0[0].max(value)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain 1: a vertical stroke two pixels wide.
    fn one() -> GrayImage {
        GrayImage::from_fn(28, 28, |x, y| {
            Luma([if (13..15).contains(&x) && (4..24).contains(&y) {
                255
            } else {
                0
            }])
        })
    }

    fn ink_left_of(image: &GrayImage, column: u32, rows: std::ops::Range<u32>) -> u32 {
        rows.flat_map(|y| (0..column).map(move |x| (x, y)))
            .map(|(x, y)| u32::from(image.get_pixel(x, y).0[0]))
            .sum()
    }

    #[test]
    fn a_flag_goes_down_to_the_left_from_the_top() {
        let flagged = Style::OneWithFlag { flag: (0.26, 0.2) }.draw(&one());
        assert!(ink_left_of(&flagged, 12, 4..10) > 255 * 4);
        assert_eq!(
            ink_left_of(&flagged, 12, 12..28),
            0,
            "nothing below the flag"
        );
    }

    #[test]
    fn a_base_spans_the_foot_of_the_stem() {
        let based = Style::OneWithFlagAndBase { flag: (0.26, 0.2) }.draw(&one());
        let foot: u32 = (6..22)
            .map(|x| u32::from(based.get_pixel(x, 23).0[0]))
            .sum();
        assert!(foot > 255 * 8, "{foot}");
    }

    #[test]
    fn a_crossed_seven_gets_a_bar_through_its_stem() {
        let crossed = Style::CrossedSeven.draw(&one());
        let bar_row = 4 + (19.0 * 0.55) as u32;
        let bar: u32 = (8..20)
            .map(|x| u32::from(crossed.get_pixel(x, bar_row).0[0]))
            .sum();
        assert!(bar > 255 * 7, "{bar}");
    }

    #[test]
    fn only_ones_and_sevens_have_styles() {
        assert!(
            (0..10)
                .filter(|&d| !StyleKind::for_label(d).is_empty())
                .eq([1, 7])
        );
        assert_eq!(
            Style::OneWithFlag { flag: (0.3, 0.2) }.draw(&GrayImage::new(28, 28)),
            GrayImage::new(28, 28)
        );
    }
}
