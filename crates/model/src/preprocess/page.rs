//! A picture of a page to the digit's ink, white on black: the page flattened (uneven light,
//! a shadow and grey paper divided out, as flat-field correction does), ink found by Otsu's
//! threshold on what is left, ruled and squared lines taken out, and the digit kept as its
//! connected strokes (the page's edge, specks and stray marks dropped). MNIST itself was made
//! from binarised scans; what follows fits a digit into its box as MNIST did.

use image::{GrayImage, Luma, imageops};
use imageproc::contrast::otsu_level;
use imageproc::distance_transform::Norm;
use imageproc::morphology::{Mask, grayscale_dilate};
use imageproc::region_labelling::{Connectivity, connected_components};

/// Pages are read at most this many pixels on a side: a digit needs far fewer, and each step
/// costs by the pixel.
pub const PAGE_SIDE: u32 = 1024;
/// The page's brightness is estimated on a copy at most this many pixels on a side: light
/// varies slowly across a page, and the estimate's cost stays small whatever the picture.
const PAGE_ESTIMATE_SIDE: u32 = 64;
/// Radius (in the estimate's pixels) over which the brightest value stands for the page: wider
/// than a bold pen's stroke at that scale, narrower than a shadow's soft edge.
const PAGE_RADIUS: u8 = 3;
/// Ink below this (of 255, in the flattened picture) is paper whatever Otsu's level says:
/// a blank page's grain is not a digit.
const MIN_INK: u8 = 40;
/// A thin band of ink along a row (or column) this long, as a fraction of the picture's width
/// (or height), is a ruled line, not a stroke of the digit.
const LINE_FRACTION: f32 = 0.8;
/// Marks smaller than this fraction of the digit's largest stroke (or, choosing the main
/// strokes, of the largest mark) are specks.
const SPECK_FRACTION: f32 = 0.02;
/// Gaps up to the picture's larger side over this (at least 2 pixels) are closed across a
/// digit's strokes: what taking out a ruled line leaves.
const GAP_PER_SIDE: u32 = 100;
/// How far along the row (as a fraction of the line's height) the next digit of a number may
/// lie from the digits found so far.
const LINE_REACH: f32 = 1.5;
/// How far (as a fraction of the larger side of the digit found so far) other strokes may lie
/// from it and still be the same digit (a 5's flag, a 4 drawn in two strokes).
const NEARBY_FRACTION: f32 = 0.2;

/// The ink of the digit in `gray` (dark on light, or light on dark), white on black, its
/// strokes' cores at 255 and everything that is not the digit black; `None` when no ink is
/// there.
pub fn digit_ink(gray: &GrayImage) -> Option<GrayImage> {
    ink_of(gray, Mark::belongs_with)
}

/// The ink of the line of writing in `gray` (a number: all the marks beside the largest one
/// along its row, not only those within reach of it), as [`digit_ink`] gives a digit's.
pub fn line_ink(gray: &GrayImage) -> Option<GrayImage> {
    ink_of(gray, Mark::on_line_with)
}

/// The ink of the marks in `gray` that grow from its main strokes as `belongs` says.
fn ink_of(gray: &GrayImage, belongs: Belongs) -> Option<GrayImage> {
    let (ink, level, marks) = page_marks(gray)?;
    let (kept, _) = marks.grown(belongs);
    Some(stretched_ink(&ink, &marks.mask(&kept), level))
}

/// The digit's ink, as [`digit_ink`] gives it, and whether it stands in a line of writing of
/// more than one digit: another mark along its row nearly as tall as the digit
/// (`OTHER_DIGIT_HEIGHT`: a digit written apart, a 1 as well as an 8), or the digit far wider
/// than high (`WIDER_THAN_A_DIGIT`: digits written touching).
pub fn digit_ink_in_line(gray: &GrayImage) -> Option<(GrayImage, bool)> {
    let (ink, level, marks) = page_marks(gray)?;
    let (kept, digit) = marks.grown(Mark::belongs_with);
    let (on_line, _) = marks.grown(Mark::on_line_with);
    let height = |mark: &Mark| (mark.bottom - mark.top + 1) as f32;
    let width = (digit.right - digit.left + 1) as f32;
    let another_digit = (0..marks.marks.len()).any(|index| {
        on_line[index]
            && !kept[index]
            && height(&marks.marks[index]) >= OTHER_DIGIT_HEIGHT * height(&digit)
    });
    let several = another_digit || width > WIDER_THAN_A_DIGIT * height(&digit);
    Some((stretched_ink(&ink, &marks.mask(&kept), level), several))
}

/// A mark beside the digit on its row at least this tall, against the digit, is a digit too.
const OTHER_DIGIT_HEIGHT: f32 = 0.6;
/// A digit's box is seldom wider than high (a squat 0 or 2 of MNIST's reaches about 1.5
/// times); one this many times wider is digits written touching.
const WIDER_THAN_A_DIGIT: f32 = 1.8;

/// The page's flattened ink, the level above which it is ink, and its marks (ruled lines
/// taken out, the page's edge known).
fn page_marks(gray: &GrayImage) -> Option<(GrayImage, u8, Marks)> {
    let page = dark_on_light(&within(gray, PAGE_SIDE));
    let ink = flattened_ink(&page);
    let level = ink_level(&ink);
    let inked = inked_mask(&ink, level);
    let mut without_lines = inked.clone();
    remove_lines(&mut without_lines);
    let marks = Marks::of(&without_lines, &edge_ink(&inked, &without_lines))?;
    Some((ink, level, marks))
}

/// Whether a mark (first) is part of what is kept so far (second), grown from the main
/// strokes (third).
type Belongs = fn(&Mark, &Mark, &Mark) -> bool;

/// The level above which flattened ink is ink: Otsu's, and never below `MIN_INK` (40).
pub fn ink_level(ink: &GrayImage) -> u8 {
    otsu_level(ink).max(MIN_INK)
}

/// 1 where the flattened ink is above `level`, 0 elsewhere.
pub fn inked_mask(ink: &GrayImage, level: u8) -> GrayImage {
    GrayImage::from_fn(ink.width(), ink.height(), |x, y| {
        Luma([u8::from(ink.get_pixel(x, y).0[0] > level)])
    })
}

/// The picture scaled down (anti-aliased, aspect kept) to at most `side` pixels on a side.
pub fn within<P>(
    picture: &image::ImageBuffer<P, Vec<u8>>,
    side: u32,
) -> image::ImageBuffer<P, Vec<u8>>
where
    P: image::Pixel<Subpixel = u8> + 'static,
{
    let (width, height) = picture.dimensions();
    if width.max(height) <= side {
        return picture.clone();
    }
    let scale = side as f32 / width.max(height) as f32;
    let scaled = |length: u32| ((length as f32 * scale).round() as u32).max(1);
    imageops::resize(
        picture,
        scaled(width),
        scaled(height),
        imageops::FilterType::Triangle,
    )
}

/// The bounding box (left, top, width, height) of the pixels of `image` whose value is
/// `inked`; `None` when none is. (Here beside [`within`], both shared by the rules and the
/// learned ink finder's path.)
pub fn bounds_where(image: &GrayImage, inked: impl Fn(u8) -> bool) -> Option<(u32, u32, u32, u32)> {
    let (mut left, mut top, mut right, mut bottom) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in image.enumerate_pixels() {
        if inked(p.0[0]) {
            (left, top) = (left.min(x), top.min(y));
            (right, bottom) = (right.max(x), bottom.max(y));
        }
    }
    (left <= right).then(|| (left, top, right - left + 1, bottom - top + 1))
}

/// The picture with its page light and its ink dark: inverted when the picture's extremes
/// lie far brighter than its median (the page) than darker, as a light digit on a dark ground
/// (MNIST's own images, chalk on a board) has them. A grey page with dark ink is not inverted,
/// however dark the page.
pub fn dark_on_light(gray: &GrayImage) -> GrayImage {
    let mut histogram = [0usize; 256];
    for pixel in gray.pixels() {
        histogram[usize::from(pixel.0[0])] += 1;
    }
    let total = gray.pixels().len();
    // The value of the pixel of this rank, darkest first.
    let at_rank = |rank: usize| {
        let mut seen = 0;
        histogram
            .iter()
            .position(|&count| {
                seen += count;
                seen > rank
            })
            .unwrap_or(255) as i32
    };
    // The extremes are taken a few pixels in, so that one hot pixel is not the ink, yet no
    // further than a small digit's strokes reach: a digit 20 pixels high on a large picture
    // covers far less than a percent of it.
    let tail = ((total as f32 * EXTREME_SHARE) as usize)
        .max(EXTREME_PIXELS)
        .min(total / 2);
    let (darkest, median, brightest) = (
        at_rank(tail.saturating_sub(1)),
        at_rank(total / 2),
        at_rank(total - tail),
    );
    let mut page = gray.clone();
    if brightest - median > 2 * (median - darkest) {
        imageops::invert(&mut page);
    }
    page
}

/// The share of a picture's pixels (at least `EXTREME_PIXELS`) beyond its darkest and
/// brightest extremes, as [`dark_on_light`] measures them.
const EXTREME_SHARE: f32 = 0.0005;
const EXTREME_PIXELS: usize = 8;

/// How much darker than the page around it each pixel is (0 paper, 255 black on white): the
/// page's own brightness, estimated as the brightest value near each point of a small copy,
/// smoothed and scaled back up, divided out.
pub fn flattened_ink(page: &GrayImage) -> GrayImage {
    let (width, height) = page.dimensions();
    let brightest = grayscale_dilate(&within(page, PAGE_ESTIMATE_SIDE), &Mask::disk(PAGE_RADIUS));
    let smooth = imageops::blur(&brightest, 1.5);
    let light = imageops::resize(&smooth, width, height, imageops::FilterType::Triangle);
    GrayImage::from_fn(width, height, |x, y| {
        let paper = f32::from(light.get_pixel(x, y).0[0]).max(1.0);
        let value = f32::from(page.get_pixel(x, y).0[0]);
        Luma([((1.0 - value / paper).clamp(0.0, 1.0) * 255.0).round() as u8])
    })
}

/// Clears ruled and squared lines from the mask: thin bands of ink, straight or tilted by a
/// few degrees (a page photographed at a slant), that run across nearly the whole picture. A
/// digit's strokes are shorter than that, or as thick as the pen that drew them.
pub fn remove_lines(inked: &mut GrayImage) {
    let (width, height) = inked.dimensions();
    if width.min(height) < MIN_SIDE_WITH_LINES {
        return;
    }
    for horizontal in [true, false] {
        // The inked pixels alone: a page is mostly paper, and each tilt is a pass over them.
        let ink: Vec<(u32, u32)> = inked
            .enumerate_pixels()
            .filter(|(_, _, pixel)| pixel.0[0] > 0)
            .map(|(x, y, _)| (x, y))
            .collect();
        let mut on_line: Vec<(f32, i64)> = Vec::new();
        for degrees in -MAX_TILT_DEGREES..=MAX_TILT_DEGREES {
            let slope = (degrees as f32).to_radians().tan();
            let bands = line_bands(&ink, (width, height), horizontal, slope);
            on_line.extend(bands.into_iter().map(|band| (slope, band)));
        }
        for (x, y) in ink {
            if on_line.iter().any(|&(slope, band)| {
                (sheared_bin(x, y, width, height, horizontal, slope) - band).abs() <= 1
            }) {
                inked.put_pixel(x, y, Luma([0]));
            }
        }
    }
}

/// Ruled lines are looked for in pictures at least this many pixels on a side (a small
/// picture is a digit alone: its 1 may run most of its height).
const MIN_SIDE_WITH_LINES: u32 = 64;
/// The tilts a line is looked for at, either way.
const MAX_TILT_DEGREES: i32 = 4;

/// The bin (row, or column when not `horizontal`) a pixel falls in once the picture is sheared
/// by `slope` about its centre, so that a line of that slope lies in one bin.
fn sheared_bin(x: u32, y: u32, width: u32, height: u32, horizontal: bool, slope: f32) -> i64 {
    let (along, across, along_len) = if horizontal {
        (x, y, width)
    } else {
        (y, x, height)
    };
    (across as f32 - slope * (along as f32 - along_len as f32 / 2.0)).round() as i64
}

/// The bins (at `slope`) of the inked pixels `ink` of a `width` × `height` picture that hold a
/// line: as full as [`LINE_FRACTION`] of the picture's length, in a band of such bins no
/// thicker than a ruled line.
fn line_bands(
    ink: &[(u32, u32)],
    (width, height): (u32, u32),
    horizontal: bool,
    slope: f32,
) -> Vec<i64> {
    let (along, across) = if horizontal {
        (width, height)
    } else {
        (height, width)
    };
    let margin = (slope.abs() * along as f32 / 2.0).ceil() as i64 + 1;
    let mut counts = vec![0u32; (i64::from(across) + 2 * margin) as usize];
    for &(x, y) in ink {
        let bin = sheared_bin(x, y, width, height, horizontal, slope) + margin;
        counts[bin as usize] += 1;
    }
    let full = (LINE_FRACTION * along as f32) as u32;
    let thickest = (MAX_LINE_FRACTION * across as f32).max(3.0) as usize;
    let mut bands = Vec::new();
    let mut start = None;
    for (bin, &count) in counts.iter().chain(std::iter::once(&0)).enumerate() {
        match (count >= full, start) {
            (true, None) => start = Some(bin),
            (false, Some(first)) => {
                if bin - first <= thickest {
                    bands.extend((first..bin).map(|b| b as i64 - margin));
                }
                start = None;
            }
            _ => {}
        }
    }
    bands
}

/// A ruled line is at most this thick, as a fraction of the picture's side across it.
const MAX_LINE_FRACTION: f32 = 0.015;

/// 1 where the ink belonged, before the lines were taken out, to a mark that reached the
/// picture's edge and was not mostly lines across the page: the page's edge and the table
/// around it, a shadow's border. Taking lines out (the page's straight edges among them) can
/// cut such a frame into pieces that no longer reach the edge; they are still the frame.
pub fn edge_ink(inked: &GrayImage, without_lines: &GrayImage) -> GrayImage {
    let (width, height) = inked.dimensions();
    let labels = connected_components(inked, Connectivity::Eight, Luma([0u8]));
    // Per mark: whether it reaches the edge, its pixels, and those that were lines.
    let mut marks: Vec<(bool, u32, u32)> = Vec::new();
    for (x, y, label) in labels.enumerate_pixels() {
        let label = label.0[0] as usize;
        if label == 0 {
            continue;
        }
        if marks.len() < label {
            marks.resize(label, (false, 0, 0));
        }
        let mark = &mut marks[label - 1];
        mark.0 |= x == 0 || y == 0 || x + 1 == width || y + 1 == height;
        mark.1 += 1;
        let inside = |at: u32, side: u32| {
            (FRAME_MARGIN * side as f32..(1.0 - FRAME_MARGIN) * side as f32).contains(&(at as f32))
        };
        let line_across_page =
            without_lines.get_pixel(x, y).0[0] == 0 && inside(x, width) && inside(y, height);
        mark.2 += u32::from(line_across_page);
    }
    GrayImage::from_fn(width, height, |x, y| {
        let label = labels.get_pixel(x, y).0[0] as usize;
        let frame = label > 0 && {
            let (reaches_edge, pixels, lines) = marks[label - 1];
            reaches_edge && (lines as f32) < LINES_INSIDE * pixels as f32
        };
        Luma([u8::from(frame)])
    })
}

/// A mark this much lines inside the page (by its pixels) is a page of ruled or squared lines,
/// with whatever was written across them; not a frame (whose lines, its straight edges, lie
/// near the picture's edge).
const LINES_INSIDE: f32 = 0.3;
/// A page photographed at a slant has its edges within this fraction of the picture's side
/// from the picture's edge.
const FRAME_MARGIN: f32 = 0.15;

/// The mask of the digit's strokes: the largest connected mark that does not touch the
/// picture's edge or the ink of `edge` (the largest of all when every such mark is a speck
/// beside it), with the marks near it that are more than specks.
pub fn digit_strokes(inked: &GrayImage, edge: &GrayImage) -> Option<GrayImage> {
    let marks = Marks::of(inked, edge)?;
    let (kept, _) = marks.grown(Mark::belongs_with);
    Some(marks.mask(&kept))
}

/// The connected marks of a mask of ink, and which of them are the main strokes.
struct Marks {
    labels: image::ImageBuffer<Luma<u32>, Vec<u32>>,
    marks: Vec<Mark>,
    main: usize,
}

impl Marks {
    /// The marks of `inked` (the gaps ruled lines left across strokes closed first), those
    /// touching the picture's edge or the ink of `edge` marked; the main strokes the largest
    /// that touches neither (the largest of all when every such mark is a speck beside it).
    fn of(inked: &GrayImage, edge: &GrayImage) -> Option<Self> {
        let (width, height) = inked.dimensions();
        // The gaps the lines left across the strokes are closed first, so that a digit written
        // across ruled or squared lines is one mark again.
        let gap = (width.max(height) / GAP_PER_SIDE).clamp(2, 10) as u8;
        let joined = imageproc::morphology::close(inked, Norm::LInf, gap);
        let labels = connected_components(&joined, Connectivity::Eight, Luma([0u8]));
        let mut marks: Vec<Mark> = Vec::new();
        for (x, y, label) in labels.enumerate_pixels() {
            let label = label.0[0] as usize;
            if label == 0 {
                continue;
            }
            if marks.len() < label {
                marks.resize(label, Mark::default());
            }
            marks[label - 1].add(x, y, width, height);
            marks[label - 1].touches_edge |= edge.get_pixel(x, y).0[0] > 0;
        }
        let largest = marks.iter().map(|mark| mark.area).max()?;
        let main = marks
            .iter()
            .enumerate()
            .filter(|(_, mark)| {
                !mark.touches_edge && mark.area as f32 > SPECK_FRACTION * largest as f32
            })
            .max_by_key(|(_, mark)| mark.area)
            .or_else(|| marks.iter().enumerate().max_by_key(|(_, mark)| mark.area))
            .map(|(index, _)| index)?;
        Some(Self {
            labels,
            marks,
            main,
        })
    }

    /// The marks kept by growing from the main strokes: a mark that `belongs` with what is
    /// kept so far is kept too (so that a digit cut into pieces by the lines taken out across
    /// it stays whole); which are kept, and all of them as one mark.
    fn grown(&self, belongs: Belongs) -> (Vec<bool>, Mark) {
        let marks = &self.marks;
        let mut kept = vec![false; marks.len()];
        kept[self.main] = true;
        let mut all = marks[self.main];
        while let Some(next) = (0..marks.len())
            .find(|&index| !kept[index] && belongs(&marks[index], &all, &marks[self.main]))
        {
            kept[next] = true;
            all = all.joined(&marks[next]);
        }
        (kept, all)
    }

    /// 1 on the marks that are `kept`, 0 elsewhere.
    fn mask(&self, kept: &[bool]) -> GrayImage {
        let (width, height) = self.labels.dimensions();
        GrayImage::from_fn(width, height, |x, y| {
            let label = self.labels.get_pixel(x, y).0[0] as usize;
            Luma([u8::from(label > 0 && kept[label - 1])])
        })
    }
}

/// One connected mark: its area and bounding box.
#[derive(Debug, Clone, Copy)]
struct Mark {
    area: u32,
    left: u32,
    top: u32,
    right: u32,
    bottom: u32,
    touches_edge: bool,
}

impl Default for Mark {
    fn default() -> Self {
        Self {
            area: 0,
            left: u32::MAX,
            top: u32::MAX,
            right: 0,
            bottom: 0,
            touches_edge: false,
        }
    }
}

impl Mark {
    fn add(&mut self, x: u32, y: u32, width: u32, height: u32) {
        self.area += 1;
        (self.left, self.top) = (self.left.min(x), self.top.min(y));
        (self.right, self.bottom) = (self.right.max(x), self.bottom.max(y));
        self.touches_edge |= x == 0 || y == 0 || x + 1 == width || y + 1 == height;
    }

    /// Whether this mark is part of the digit kept so far (`digit`, grown from the main
    /// strokes `main`): not a speck beside the main strokes, not at the picture's edge (the
    /// page's edge, the table) unless the main strokes are, and within reach of the digit.
    fn belongs_with(&self, digit: &Mark, main: &Mark) -> bool {
        if self.area as f32 <= SPECK_FRACTION * main.area as f32
            || (self.touches_edge && !main.touches_edge)
        {
            return false;
        }
        let side = (digit.right - digit.left).max(digit.bottom - digit.top) as f32;
        let reach = (NEARBY_FRACTION * side) as i64;
        let gap = |low: u32, high: u32, digit_low: u32, digit_high: u32| {
            (i64::from(digit_low) - i64::from(high))
                .max(i64::from(low) - i64::from(digit_high))
                .max(0)
        };
        gap(self.left, self.right, digit.left, digit.right) <= reach
            && gap(self.top, self.bottom, digit.top, digit.bottom) <= reach
    }

    /// Whether this mark is part of the line of writing kept so far (`line`, grown from the
    /// main strokes `main`): not a speck beside the main strokes, not at the picture's edge
    /// unless the main strokes are, its middle within the line's rows and its gap to the line
    /// along the row at most `LINE_REACH` of the line's height (the space between two words).
    fn on_line_with(&self, line: &Mark, main: &Mark) -> bool {
        if self.area as f32 <= SPECK_FRACTION * main.area as f32
            || (self.touches_edge && !main.touches_edge)
        {
            return false;
        }
        let middle = (self.top + self.bottom) / 2;
        let height = (line.bottom - line.top + 1) as f32;
        let gap = (i64::from(line.left) - i64::from(self.right))
            .max(i64::from(self.left) - i64::from(line.right))
            .max(0);
        (line.top..=line.bottom).contains(&middle) && (gap as f32) <= LINE_REACH * height
    }

    /// The mark made of this one and `other`.
    fn joined(&self, other: &Mark) -> Mark {
        Mark {
            area: self.area + other.area,
            left: self.left.min(other.left),
            top: self.top.min(other.top),
            right: self.right.max(other.right),
            bottom: self.bottom.max(other.bottom),
            touches_edge: self.touches_edge || other.touches_edge,
        }
    }
}

/// The flattened ink where the digit is (its strokes, widened by two pixels to keep their
/// soft edges), the paper's grain below half the threshold taken away and the strokes' cores
/// brought to full ink, as MNIST's digits have them; black elsewhere.
pub fn stretched_ink(ink: &GrayImage, digit: &GrayImage, level: u8) -> GrayImage {
    let near = imageproc::morphology::dilate(digit, Norm::LInf, 2);
    let mut cores: Vec<u8> = ink
        .pixels()
        .zip(digit.pixels())
        .filter(|(_, inside)| inside.0[0] > 0)
        .map(|(value, _)| value.0[0])
        .collect();
    cores.sort_unstable();
    let floor = f32::from(level) / 2.0;
    let full = cores
        .get(cores.len() * 9 / 10)
        .map_or(255.0, |&v| f32::from(v))
        .max(floor + 1.0);
    GrayImage::from_fn(ink.width(), ink.height(), |x, y| {
        if near.get_pixel(x, y).0[0] == 0 {
            return Luma([0]);
        }
        let value = (f32::from(ink.get_pixel(x, y).0[0]) - floor) / (full - floor);
        Luma([(value.clamp(0.0, 1.0) * 255.0).round() as u8])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page of `side` pixels lit from the left (250 falling to 125), with `ink` drawn dark.
    fn side_lit_page(side: u32, ink: impl Fn(u32, u32) -> bool) -> GrayImage {
        GrayImage::from_fn(side, side, |x, y| {
            let light = 250.0 - 125.0 * x as f32 / side as f32;
            Luma([if ink(x, y) {
                (light * 0.2) as u8
            } else {
                light as u8
            }])
        })
    }

    fn ring(x: u32, y: u32, (cx, cy): (f32, f32), radius: f32, width: f32) -> bool {
        let r = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
        (r - radius).abs() <= width / 2.0
    }

    #[test]
    fn a_small_light_digit_on_a_large_dark_picture_is_light_ink() {
        // 400x300 of dark ground, a 6x20 light stroke: far under a percent of the pixels.
        let stroke = |x: u32, y: u32| (200..206).contains(&x) && (140..160).contains(&y);
        let picture = GrayImage::from_fn(400, 300, |x, y| {
            Luma([if stroke(x, y) {
                230
            } else {
                20 + ((x * 7 + y * 3) % 9) as u8
            }])
        });
        let page = dark_on_light(&picture);
        assert!(
            page.get_pixel(203, 150).0[0] < 40,
            "the stroke is the dark ink"
        );
        assert!(
            page.get_pixel(20, 20).0[0] > 200,
            "the ground is the light page"
        );
        // Dark ink on a light page stays as it is, even with a bright highlight beside it.
        let page = GrayImage::from_fn(400, 300, |x, y| {
            Luma([if stroke(x, y) {
                30
            } else if x > 380 {
                255
            } else {
                200
            }])
        });
        assert_eq!(dark_on_light(&page), page);
    }

    #[test]
    fn a_page_lit_from_one_side_flattens_to_no_ink() {
        let ink = flattened_ink(&side_lit_page(200, |_, _| false));
        let darkest = ink.pixels().map(|p| p.0[0]).max().unwrap();
        assert!(darkest < MIN_INK, "{darkest}");
        assert_eq!(digit_ink(&side_lit_page(200, |_, _| false)), None);
    }

    #[test]
    fn ruled_lines_and_specks_go_and_the_digit_stays_whole() {
        let page = side_lit_page(300, |x, y| {
            ring(x, y, (150.0, 150.0), 60.0, 14.0)
                || y % 30 == 7
                || (x > 20 && x < 24 && y > 20 && y < 24)
        });
        let ink = digit_ink(&page).unwrap();
        let inked = |x: u32, y: u32| ink.get_pixel(x, y).0[0] > 128;
        // The ring, where no line crosses it, is at full ink.
        assert!(inked(150, 90) || inked(150, 91) || inked(150, 89));
        assert!(inked(90, 150) && inked(210, 150));
        // The lines away from the ring, and the speck, are gone.
        assert!(!inked(10, 37) && !inked(290, 67) && !inked(21, 21));
    }

    #[test]
    fn a_tall_thick_stroke_is_a_digit_not_a_line() {
        let page = side_lit_page(200, |x, y| (95..111).contains(&x) && (5..195).contains(&y));
        let ink = digit_ink(&page).unwrap();
        assert!(ink.get_pixel(102, 100).0[0] > 200);
    }
}
