//! Pictures of a written number to the number reader's strip: the line's ink found on the page
//! as a digit's is (`page::line_ink`: every mark along the row of the largest one), cropped,
//! scaled so that the line is as high as MNIST's digit box (20 pixels), and set on a strip 28
//! pixels high with a margin either side, white on black.

use image::{GrayImage, imageops};

use super::page::line_ink;
use super::{DIGIT_BOX, NoDigit, PictureError, decode, ink_bounds, large_enough, over_white};
use crate::ROWS;

/// Black columns either side of the line on the strip.
const STRIP_MARGIN: u32 = 4;
/// The widest strip read: a line of some 30 digits. A wider line is scaled down to it.
pub const MAX_STRIP_WIDTH: u32 = 1024;

/// A line of writing as the number reader reads it: `ROWS` rows of `width` values in [0, 1],
/// row after row, white ink on black.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberStrip {
    /// The values, row after row.
    pub pixels: Vec<f32>,
    /// The columns of each row.
    pub width: usize,
}

/// The strip of the written number in an encoded picture (PNG, JPEG, ...): decoded, seen as a
/// person sees it (transparent parts are the white page underneath), its line of ink found.
pub fn number_strip(bytes: &[u8]) -> Result<NumberStrip, PictureError> {
    let gray = over_white(&decode(bytes)?);
    large_enough(gray.dimensions()).map_err(PictureError::NoDigit)?;
    let ink = line_ink(&gray).ok_or(PictureError::NoDigit(NoDigit::Blank))?;
    strip_from_ink(&ink).map_err(PictureError::NoDigit)
}

/// The strip of a line's ink (white on black, nothing else inked): cropped to the ink, scaled
/// to `DIGIT_BOX` rows high (at most `MAX_STRIP_WIDTH` wide) and centred in `ROWS`.
pub fn strip_from_ink(ink: &GrayImage) -> Result<NumberStrip, NoDigit> {
    let peak = ink.pixels().map(|p| p.0[0]).max().unwrap_or(0);
    if peak < 64 {
        return Err(NoDigit::Blank);
    }
    let (left, top, width, height) = ink_bounds(ink).ok_or(NoDigit::Blank)?;
    let cropped = imageops::crop_imm(ink, left, top, width, height).to_image();
    let widest = (MAX_STRIP_WIDTH - 2 * STRIP_MARGIN) as f32;
    let scale = (DIGIT_BOX as f32 / height as f32).min(widest / width as f32);
    let sized = |length: u32| ((length as f32 * scale).round() as u32).max(1);
    let line = imageops::resize(
        &cropped,
        sized(width),
        sized(height),
        imageops::FilterType::Triangle,
    );
    let strip_width = line.width() + 2 * STRIP_MARGIN;
    let mut strip = GrayImage::new(strip_width, ROWS as u32);
    let line_top = (ROWS as u32 - line.height()) / 2;
    imageops::overlay(
        &mut strip,
        &line,
        i64::from(STRIP_MARGIN),
        i64::from(line_top),
    );
    Ok(NumberStrip {
        pixels: strip
            .pixels()
            .map(|p| (f32::from(p.0[0]) / f32::from(peak)).min(1.0))
            .collect(),
        width: strip_width as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    /// A page of `width`×`height`, white, with dark blocks at the given boxes.
    fn page(width: u32, height: u32, blocks: &[(u32, u32, u32, u32)]) -> GrayImage {
        GrayImage::from_fn(width, height, |x, y| {
            let inked = blocks
                .iter()
                .any(|&(l, t, w, h)| (l..l + w).contains(&x) && (t..t + h).contains(&y));
            Luma([if inked { 20 } else { 235 }])
        })
    }

    /// Runs of inked columns on a strip.
    fn marks(strip: &NumberStrip) -> usize {
        let inked: Vec<bool> = (0..strip.width)
            .map(|x| (0..ROWS).any(|y| strip.pixels[y * strip.width + x] > 0.5))
            .collect();
        inked.windows(2).filter(|w| !w[0] && w[1]).count()
    }

    #[test]
    fn every_mark_along_the_line_is_kept_and_a_mark_off_it_is_not() {
        // Three strokes 60 high in a row, 40 apart; a blot well below them.
        let blocks = [
            (40, 50, 12, 60),
            (92, 50, 12, 60),
            (144, 50, 12, 60),
            (100, 200, 14, 14),
        ];
        let ink = line_ink(&page(240, 260, &blocks)).expect("ink");
        let strip = strip_from_ink(&ink).expect("a strip");
        assert_eq!(marks(&strip), 3);
        let rows_inked = (0..ROWS)
            .filter(|&y| (0..strip.width).any(|x| strip.pixels[y * strip.width + x] > 0.5))
            .count();
        assert!((18..=21).contains(&rows_inked), "{rows_inked} rows inked");
        // The digit path keeps one stroke: its neighbours lie beyond a digit's reach.
        let digit = super::super::page::digit_ink(&page(240, 260, &blocks)).expect("ink");
        assert_eq!(marks(&strip_from_ink(&digit).expect("a strip")), 1);
    }

    #[test]
    fn a_digit_beside_others_on_its_row_is_one_of_several_and_alone_it_is_not() {
        use super::super::page::digit_ink_in_line;
        let row = [(40, 50, 12, 60), (92, 50, 12, 60), (144, 50, 12, 60)];
        let (_, several) = digit_ink_in_line(&page(240, 260, &row)).expect("ink");
        assert!(several);
        // One stroke, and a blot below it: one digit.
        let alone = [(92, 50, 12, 60), (100, 200, 14, 14)];
        let (_, several) = digit_ink_in_line(&page(240, 260, &alone)).expect("ink");
        assert!(!several);
        // Two strokes joined by a bar, three times wider than high: digits written touching.
        let touching = [(40, 50, 12, 40), (150, 50, 12, 40), (40, 70, 122, 8)];
        let (_, several) = digit_ink_in_line(&page(240, 260, &touching)).expect("ink");
        assert!(several);
    }

    #[test]
    fn a_blank_picture_has_no_strip() {
        assert_eq!(strip_from_ink(&GrayImage::new(50, 30)), Err(NoDigit::Blank));
    }
}
