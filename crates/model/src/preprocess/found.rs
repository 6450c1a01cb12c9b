//! A picture to the digit's ink, white on black, with the learned ink finder
//! ([`crate::ink`]): the finder looks at the whole picture; where the digit is small in it,
//! it looks again at the part around the digit. Its probabilities say which pixels are the
//! digit; the picture's own colours say how much ink each holds (the paper's colour and the
//! ink's, measured where the finder is sure, and each pixel placed between them), so that a
//! clean digit keeps its exact values.

use image::{GenericImageView, GrayImage, Luma, Rgb, RgbImage, imageops};
use imageproc::distance_transform::Norm;
use imageproc::region_labelling::{Connectivity, connected_components};

use super::page::{bounds_where, within};
use crate::Device;
use crate::ink::{FINDER_SIDE, FinderView, InkFinder};

/// A digit whose found ink spans less than this fraction of the finder's view is looked at
/// again, cut out with a margin.
const LOOK_AGAIN_BELOW: f32 = 0.5;
/// The margin of the second look, as a fraction of the digit's longer side on each side.
const MARGIN: f32 = 0.35;
/// The ink is measured on at most this many pixels on a side.
const INK_SIDE: u32 = 256;
/// Probability (of 255) above which the finder is taken to mean "ink", and below which
/// "paper" when the colours are measured.
const INK_LEVEL: u8 = 128;
const PAPER_LEVEL: u8 = 26;
/// Probability (of 255) above which a pixel is likely enough ink to belong to a stroke the
/// finder is sure of elsewhere.
const LIKELY_LEVEL: u8 = 30;
/// A first look whose highest probability is below this (of 255) found no digit.
const FAINTEST: u8 = 40;
/// The second look's margin is at least this fraction of the first look's view.
const MIN_MARGIN: f32 = 0.06;

/// What the finder found in a picture: the digit's ink (0-255, white on black) and the
/// finder's own probabilities, both over the part of the picture it looked at last.
pub struct FoundInk {
    /// How much ink each pixel holds, where the finder places the digit; 0 elsewhere.
    pub ink: GrayImage,
    /// The finder's probability of ink, per pixel (0-255), the size of `ink`.
    pub probability: GrayImage,
    /// Where in the picture the finder looked last (left, top, width, height, in its pixels):
    /// `ink` is that part, scaled down to at most 256 pixels on a side.
    pub region: (u32, u32, u32, u32),
}

/// A part of a picture: left, top, width, height, in its pixels.
type Part = (u32, u32, u32, u32);

/// The digit's ink in `picture` as `finder` finds it; `None` when it finds no ink.
pub fn found_ink(finder: &InkFinder, picture: &RgbImage, device: &Device) -> Option<FoundInk> {
    let (pw, ph) = picture.dimensions();
    let sighting = sighted(finder, picture, (0, 0, pw, ph), device).or_else(|| {
        // A digit too small to be seen in the whole picture is looked for in its parts.
        tiles(pw, ph)
            .into_iter()
            .filter_map(|tile| sighted(finder, picture, tile, device))
            .max_by_key(|sighting| sighting.peak)
    })?;
    let (x, y, width, height) = sighting.place;
    let region = imageops::crop_imm(picture, x, y, width, height).to_image();
    let region = within(&region, INK_SIDE);
    let probability = match sighting.seen {
        Some(seen) => seen,
        None => look(finder, &region, device),
    };
    let probability = imageops::resize(
        &probability,
        region.width(),
        region.height(),
        imageops::FilterType::Triangle,
    );
    let ink = measured_ink(&region, &probability)?;
    Some(FoundInk {
        ink,
        probability,
        region: sighting.place,
    })
}

/// Where one look saw the digit.
struct Sighting {
    /// The part of the picture to measure the ink on: the part looked at when the digit
    /// fills it well, else the digit's surroundings.
    place: Part,
    /// The look's probabilities, when `place` is the part it looked at.
    seen: Option<GrayImage>,
    /// Its highest probability.
    peak: u8,
}

/// One look at `part` of `picture`; `None` when it sees no ink there.
fn sighted(
    finder: &InkFinder,
    picture: &RgbImage,
    part: Part,
    device: &Device,
) -> Option<Sighting> {
    let (px, py, pw, ph) = part;
    let seen = look(
        finder,
        &*imageops::crop_imm(picture, px, py, pw, ph),
        device,
    );
    let peak = seen.pixels().map(|p| p.0[0]).max()?;
    let (left, top, w, h) = confident_bounds(&seen)?;
    let side = w.max(h) as f32;
    if side >= LOOK_AGAIN_BELOW * FINDER_SIDE as f32 {
        return Some(Sighting {
            place: part,
            seen: Some(seen),
            peak,
        });
    }
    let scale = pw.max(ph) as f32 / FINDER_SIDE as f32;
    let margin = MARGIN * side + MIN_MARGIN * FINDER_SIDE as f32;
    let x0 = ((left as f32 - margin) * scale).max(0.0) as u32;
    let y0 = ((top as f32 - margin) * scale).max(0.0) as u32;
    let x1 = (((left + w) as f32 + margin) * scale).min(pw as f32) as u32;
    let y1 = (((top + h) as f32 + margin) * scale).min(ph as f32) as u32;
    Some(Sighting {
        place: (px + x0, py + y0, x1.max(x0 + 1) - x0, y1.max(y0 + 1) - y0),
        seen: None,
        peak,
    })
}

/// Nine overlapping parts of a picture, each half its width and height.
fn tiles(width: u32, height: u32) -> Vec<Part> {
    let (w, h) = ((width / 2).max(1), (height / 2).max(1));
    (0..3)
        .flat_map(|row| (0..3).map(move |column| (column * width / 4, row * height / 4, w, h)))
        .collect()
}

/// The finder's probabilities over `picture`'s part of its view.
fn look<I>(finder: &InkFinder, picture: &I, device: &Device) -> GrayImage
where
    I: GenericImageView<Pixel = Rgb<u8>>,
{
    let view = FinderView::of(picture);
    let (w, h) = view.size;
    imageops::crop_imm(&finder.ink_probability(&view, device), 0, 0, w, h).to_image()
}

/// The bounding box of the pixels the finder is surest are ink: at least half its highest
/// probability (a small digit is seen only faintly in the first look); `None` when nothing
/// reaches `FAINTEST`.
fn confident_bounds(probability: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let peak = probability.pixels().map(|p| p.0[0]).max()?;
    if peak < FAINTEST {
        return None;
    }
    let level = (peak / 2).min(INK_LEVEL);
    bounds_where(probability, |p| p >= level)
}

/// The pixels the digit may cover: those the finder thinks at all likely ink (widened to
/// keep the strokes' soft edges), in the connected marks that hold a pixel it is sure of. A
/// faint part of a stroke stays with the stroke; a faint mark apart from it goes.
fn digit_neighbourhood(probability: &GrayImage, side: u32) -> GrayImage {
    let likely = GrayImage::from_fn(probability.width(), probability.height(), |x, y| {
        Luma([u8::from(probability.get_pixel(x, y).0[0] >= LIKELY_LEVEL)])
    });
    let reach = (side / 40).max(1) as u8;
    let likely = imageproc::morphology::dilate(&likely, Norm::LInf, reach);
    let marks = connected_components(&likely, Connectivity::Eight, Luma([0u8]));
    let mut holds_sure = vec![false; 1];
    for (mark, p) in marks.pixels().zip(probability.pixels()) {
        let mark = mark.0[0] as usize;
        if mark >= holds_sure.len() {
            holds_sure.resize(mark + 1, false);
        }
        holds_sure[mark] |= mark > 0 && p.0[0] >= INK_LEVEL;
    }
    GrayImage::from_fn(likely.width(), likely.height(), |x, y| {
        Luma([u8::from(holds_sure[marks.get_pixel(x, y).0[0] as usize])])
    })
}

/// Each pixel's ink: how far its colour lies from the paper's under it towards the ink's
/// colour (0 paper, 255 ink), where the finder places the digit (the marks that hold a pixel
/// it is sure of, widened to keep the strokes' soft edges); `None` when nothing is sure. The
/// paper is measured around each pixel, so a shadow or a gradient is paper, not ink.
fn measured_ink(region: &RgbImage, probability: &GrayImage) -> Option<GrayImage> {
    let luminance = |p: &image::Rgb<u8>| p.0.iter().map(|&c| u32::from(c)).sum::<u32>();
    let median_luminance = |keep: &dyn Fn(u8) -> bool| {
        let mut values: Vec<u32> = region
            .pixels()
            .zip(probability.pixels())
            .filter(|(_, p)| keep(p.0[0]))
            .map(|(pixel, _)| luminance(pixel))
            .collect();
        values.sort_unstable();
        values.get(values.len() / 2).copied()
    };
    let ink = median_luminance(&|p| p >= INK_LEVEL)?;
    let around = median_luminance(&|p| p <= PAPER_LEVEL)
        .or_else(|| median_luminance(&|_| true))
        .unwrap_or(0);
    let paper = local_paper(region, probability, ink < around);
    let (width, height) = region.dimensions();
    let difference = |x: u32, y: u32| -> [f32; 3] {
        let pixel = region.get_pixel(x, y).0;
        let under = paper.get_pixel(x, y).0;
        std::array::from_fn(|c| f32::from(pixel[c]) - 255.0 * under[c])
    };
    let mut sure: [Vec<f32>; 3] = Default::default();
    for (x, y, p) in probability.enumerate_pixels() {
        if p.0[0] >= INK_LEVEL {
            for (channel, value) in sure.iter_mut().zip(difference(x, y)) {
                channel.push(value);
            }
        }
    }
    let contrast = sure.map(|mut values| {
        values.sort_unstable_by(f32::total_cmp);
        values[values.len() / 2]
    });
    let length2 = contrast.iter().map(|d| d * d).sum::<f32>().max(1.0);
    let near = digit_neighbourhood(probability, width.max(height));
    Some(GrayImage::from_fn(width, height, |x, y| {
        if near.get_pixel(x, y).0[0] == 0 {
            return Luma([0]);
        }
        let along: f32 = difference(x, y)
            .iter()
            .zip(&contrast)
            .map(|(d, c)| d * c)
            .sum::<f32>()
            / length2;
        Luma([(along.clamp(0.0, 1.0) * 255.0).round() as u8])
    }))
}

/// Cells across the region in which the paper's colour is measured: each wider than a
/// stroke, narrower than a shadow.
const PAPER_CELLS: u32 = 6;
/// A cell in which the finder takes less than this share of pixels for paper has its paper
/// measured as the colour `PAPER_EXTREME` of its pixels lie beyond, on the far side from the
/// ink: the paper between strokes, or in a shadow the finder doubts.
const PAPER_SHARE: f32 = 0.1;
const PAPER_EXTREME: f32 = 0.02;
/// The quantile of a cell's paper pixels, counted from the far side from the ink, taken as its
/// paper.
const PAPER_QUANTILE: f32 = 0.25;

/// The paper's colour under each pixel: in each cell of the region, the colour of the pixels
/// the finder takes for paper, a quarter of them lying beyond it away from the ink (or, where
/// it takes too few, the colour that 2% of the cell's pixels lie beyond, away from the ink),
/// interpolated smoothly between cells.
fn local_paper(region: &RgbImage, probability: &GrayImage, dark_ink: bool) -> image::Rgb32FImage {
    let (width, height) = region.dimensions();
    let scale = PAPER_CELLS as f32 / width.max(height) as f32;
    let cells = |length: u32| ((length as f32 * scale).round() as u32).max(1);
    let (cw, ch) = (cells(width), cells(height));
    // Per cell and channel: every pixel's value, and those of the pixels taken for paper.
    let mut all: Vec<[Vec<u8>; 3]> = vec![Default::default(); (cw * ch) as usize];
    let mut paper: Vec<[Vec<u8>; 3]> = vec![Default::default(); (cw * ch) as usize];
    for (x, y, pixel) in region.enumerate_pixels() {
        let cell = ((y * ch / height) * cw + x * cw / width) as usize;
        let is_paper = probability.get_pixel(x, y).0[0] <= PAPER_LEVEL;
        for c in 0..3 {
            all[cell][c].push(pixel.0[c]);
            if is_paper {
                paper[cell][c].push(pixel.0[c]);
            }
        }
    }
    let quantile = |values: &mut Vec<u8>, q: f32| {
        values.sort_unstable();
        let at = ((values.len().max(1) - 1) as f32 * q).round() as usize;
        f32::from(values.get(at).copied().unwrap_or(0))
    };
    // Away from the ink: the paper's pixels beside a stroke, blurred into it, are not paper.
    let away = |q: f32| if dark_ink { 1.0 - q } else { q };
    // In [0, 1]: the image crate's resizing clamps float pixels to that range.
    let cell_paper = image::Rgb32FImage::from_fn(cw, ch, |x, y| {
        let cell = (y * cw + x) as usize;
        let enough = paper[cell][0].len() as f32 >= PAPER_SHARE * all[cell][0].len() as f32;
        image::Rgb(std::array::from_fn(|c| {
            let value = if enough {
                quantile(&mut paper[cell][c], away(PAPER_QUANTILE))
            } else {
                quantile(&mut all[cell][c], away(PAPER_EXTREME))
            };
            value / 255.0
        }))
    });
    imageops::resize(&cell_paper, width, height, imageops::FilterType::Triangle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The finder's probabilities as a perfect finder would give them for `ink`.
    fn sure_where(ink: impl Fn(u32, u32) -> bool, side: u32) -> GrayImage {
        GrayImage::from_fn(side, side, |x, y| Luma([if ink(x, y) { 255 } else { 0 }]))
    }

    #[test]
    fn a_clean_light_digit_on_black_keeps_its_values() {
        let value = |x: u32, y: u32| -> u8 {
            let r = ((x as f32 - 14.0).powi(2) + (y as f32 - 14.0).powi(2)).sqrt();
            // Full ink along the stroke's core, fading over its edges, as MNIST's strokes are.
            (255.0 * (2.5 - (r - 7.0).abs()).clamp(0.0, 1.0)) as u8
        };
        let region = RgbImage::from_fn(28, 28, |x, y| image::Rgb([value(x, y); 3]));
        let ink = measured_ink(&region, &sure_where(|x, y| value(x, y) > 128, 28)).unwrap();
        for (x, y, found) in ink.enumerate_pixels() {
            if value(x, y) > 40 {
                assert!(
                    (i32::from(found.0[0]) - i32::from(value(x, y))).abs() <= 3,
                    "{x},{y}"
                );
            }
        }
    }

    #[test]
    fn a_shadow_beside_a_stroke_is_paper_not_ink() {
        // The page is in shadow left of x = 58, right beside the stroke.
        let stroke = |x: u32, _: u32| (60..66).contains(&x);
        let region = RgbImage::from_fn(96, 96, |x, y| {
            let paper = if x < 58 { 120 } else { 240 };
            image::Rgb([if stroke(x, y) { 30 } else { paper }; 3])
        });
        let ink = measured_ink(&region, &sure_where(stroke, 96)).unwrap();
        assert!(ink.get_pixel(62, 48).0[0] > 240);
        // Within the stroke's reach, the shadowed paper is no ink.
        assert!(
            ink.get_pixel(57, 48).0[0] < 40,
            "{}",
            ink.get_pixel(57, 48).0[0]
        );
    }
}
