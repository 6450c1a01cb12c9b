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
    /// Where the strip's columns lie on the picture it was cut from.
    pub on_picture: StripPlacement,
}

impl NumberStrip {
    /// Where the line of writing (the strip without its margins) lies across the picture:
    /// from, to, in its columns.
    pub fn line_on_picture(&self) -> [f32; 2] {
        let margin = STRIP_MARGIN as usize;
        self.on_picture
            .picture_span(margin..=self.width.saturating_sub(margin + 1).max(margin))
    }
}

/// Where a strip's columns lie across the picture: strip column `c` covers the picture's
/// columns from `first + c × per_column` to the next column's start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StripPlacement {
    /// The picture column (fractional) where strip column 0 starts.
    pub first: f32,
    /// Picture columns per strip column.
    pub per_column: f32,
}

impl StripPlacement {
    /// The picture columns (from, to; fractional) that strip columns `columns` cover.
    pub fn picture_span(&self, columns: std::ops::RangeInclusive<usize>) -> [f32; 2] {
        let at = |column: usize| self.first + column as f32 * self.per_column;
        [at(*columns.start()), at(*columns.end() + 1)]
    }

    /// The same placement on a picture `factor` times as wide.
    fn scaled(self, factor: f32) -> Self {
        Self {
            first: self.first * factor,
            per_column: self.per_column * factor,
        }
    }
}

/// The strip of the written number in an encoded picture (PNG, JPEG, ...): decoded, seen as a
/// person sees it (transparent parts are the white page underneath), its line of ink found.
pub fn number_strip(bytes: &[u8]) -> Result<NumberStrip, PictureError> {
    let gray = over_white(&decode(bytes)?);
    large_enough(gray.dimensions()).map_err(PictureError::NoDigit)?;
    let ink = line_ink(&gray).ok_or(PictureError::NoDigit(NoDigit::Blank))?;
    let mut strip = strip_from_ink(&ink).map_err(PictureError::NoDigit)?;
    // The ink was found on the picture scaled to a page's size.
    strip.on_picture = strip
        .on_picture
        .scaled(gray.width() as f32 / ink.width() as f32);
    Ok(strip)
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
        on_picture: StripPlacement {
            first: left as f32 - STRIP_MARGIN as f32 / scale,
            per_column: 1.0 / scale,
        },
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
        // The strip's inked columns lie where the strokes are on the page.
        let inked: Vec<usize> = (0..strip.width)
            .filter(|&x| (0..ROWS).any(|y| strip.pixels[y * strip.width + x] > 0.5))
            .collect();
        let [from, _] = strip.on_picture.picture_span(inked[0]..=inked[0]);
        let [_, to] = strip
            .on_picture
            .picture_span(inked[inked.len() - 1]..=inked[inked.len() - 1]);
        assert!(
            (from - 40.0).abs() < 3.0 && (to - 156.0).abs() < 3.0,
            "{from}-{to}"
        );
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
