//! Pictures to model inputs, the way MNIST was made from NIST's digits: the digit's ink found
//! on the page (`page`: light and paper divided out, lines and specks dropped) as white on
//! black, its strokes brought to a width MNIST's writers' pens gave, fitted into 20x20 by its
//! bounding box with its aspect kept (anti-aliased), and centred by its centre of mass in
//! 28x28. Each step is a function of its own.

pub mod found;
pub mod line;
pub mod page;

use image::{GrayImage, Luma, imageops};
use imageproc::distance_transform::euclidean_squared_distance_transform;

use crate::ink::InkFinder;
use crate::panic::contain_panic;
use crate::{COLUMNS, Device, ModelInput, ROWS};
use found::{FoundInk, found_ink};

/// The model input's side, as image code counts pixels: the canvas MNIST centred its digits on.
const CANVAS: u32 = ROWS as u32;
const _: () = assert!(ROWS == COLUMNS, "the canvas is square");
/// The box MNIST scaled each digit into, in pixels, before centring it on the 28×28 canvas.
pub const DIGIT_BOX: u32 = 20;
/// Smaller inputs cannot hold a recognisable digit.
const MIN_SIDE: u32 = 8;

/// Stroke widths in pixels of the 20-pixel box, measured as [`stroke_width`] measures them:
/// MNIST's test digits lie between 1.2 and 2.9 (5th and 95th percentiles; median 1.84).
/// Outside these limits a stroke is brought to the target: a digit drawn small with a broad
/// pen (thick once fitted) or large with a fine one (a faint hairline once fitted).
const THICKEST: f32 = 3.2;
const THICK_TARGET: f32 = 2.4;
const THINNEST: f32 = 1.0;
const THIN_TARGET: f32 = 1.5;

/// The most pixels a picture may have: a 48-megapixel phone photo is read, a "picture bomb"
/// (a few hundred kilobytes that decode to gigabytes) is refused from its header, before it is
/// decoded.
pub const MAX_PICTURE_PIXELS: u64 = 50_000_000;
/// The most memory one picture's decoding may take (a 50-megapixel RGBA picture, with room).
const MAX_DECODE_BYTES: u64 = 256 << 20;
/// Pictures larger than this on a side are scaled down to it once decoded: a digit needs far
/// fewer pixels, and every later step costs by the pixel.
const WORKING_SIDE: u32 = 2048;

/// Why a picture gives no model input: it cannot be decoded, or it decodes to something
/// that holds no digit. The message is the one a user reads after the file's name.
#[derive(Debug)]
pub enum PictureError {
    /// Empty, an unknown format, or a corrupt file.
    Unreadable(String),
    /// More pixels than [`MAX_PICTURE_PIXELS`], as its header says.
    TooLarge {
        /// Its width in pixels.
        width: u32,
        /// Its height in pixels.
        height: u32,
    },
    /// A readable image that holds no digit.
    NoDigit(NoDigit),
}

impl std::fmt::Display for PictureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreadable(message) => f.write_str(message),
            Self::TooLarge { width, height } => write!(
                f,
                "too large: {width}x{height} pixels, above the limit of {} megapixels",
                MAX_PICTURE_PIXELS / 1_000_000
            ),
            Self::NoDigit(problem) => problem.fmt(f),
        }
    }
}

impl std::error::Error for PictureError {}

/// Why an image holds no digit to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoDigit {
    /// Smaller than `MIN_SIDE` on a side.
    TooSmall {
        /// Its width in pixels.
        width: u32,
        /// Its height in pixels.
        height: u32,
    },
    /// No pixel is clearly inked.
    Blank,
}

impl std::fmt::Display for NoDigit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoDigit::TooSmall { width, height } => write!(
                f,
                "too small to hold a digit: {width}x{height} pixels (at least \
                 {MIN_SIDE}x{MIN_SIDE})"
            ),
            NoDigit::Blank => f.write_str("no digit found: the image is blank"),
        }
    }
}

/// The model input of an encoded picture (PNG, JPEG, ...): decoded, seen as a person sees it
/// (transparent parts are the white page underneath), then made MNIST-style.
pub fn picture_input(bytes: &[u8]) -> std::result::Result<ModelInput, PictureError> {
    read_picture(bytes).map(|picture| picture.input)
}

/// A picture's model input, and whether the picture holds several digits in a row: a digit
/// model reads one of them, a number reader reads them all.
#[derive(Debug, Clone)]
pub struct PictureInput {
    /// The model input, as [`picture_input`] makes it.
    pub input: ModelInput,
    /// Whether the digit stands in a line of several (see [`page::digit_ink_in_line`]).
    pub several_digits: bool,
}

/// [`picture_input`], and whether the picture holds several digits in a row.
pub fn read_picture(bytes: &[u8]) -> std::result::Result<PictureInput, PictureError> {
    let picture = decode(bytes)?;
    if let Some(input) = mnist_form(&picture) {
        return Ok(PictureInput {
            input,
            several_digits: false,
        });
    }
    let (input, several_digits) =
        mnist_style_in_line(&over_white(&picture)).map_err(PictureError::NoDigit)?;
    Ok(PictureInput {
        input,
        several_digits,
    })
}

/// The least and most pixels the longer side of a digit's clearly inked pixels spans on an
/// image in MNIST's form: MNIST fitted every digit into 20 pixels, and its anti-aliased edges
/// make 16 to 20 of them clearly inked (all 10,000 test digits but one).
const MNIST_FORM_SIDES: std::ops::RangeInclusive<u32> = 16..=21;
/// How far, in pixels, the centre of mass of an image in MNIST's form lies from the canvas
/// centre at most: MNIST placed it within half a pixel; a quarter more for a picture enlarged
/// and scaled back.
const MNIST_FORM_CENTRING: f32 = 0.75;
/// An image in MNIST's form is a digit on black: at least half of it at or below
/// `MNIST_FORM_GROUND` (MNIST's ground is 0), and its brightest pixel at least
/// `MNIST_FORM_PEAK` (MNIST's are 254 or 255).
const MNIST_FORM_GROUND: u8 = 16;
const MNIST_FORM_PEAK: u8 = 128;

/// The picture as it is, when it is already in MNIST's form: a square of a light digit on
/// black, fitted into the 20-pixel box and centred by mass (an MNIST image written as a
/// picture, 28×28 or enlarged). Making such a picture MNIST-style again would crop, resample
/// and move a digit that MNIST's steps already made, and could change its reading; as it is,
/// it is the same input as the image read as a tensor.
pub fn mnist_form(picture: &image::DynamicImage) -> Option<ModelInput> {
    if picture.width() != picture.height() || picture.width() < CANVAS {
        return None;
    }
    let canvas = to_canvas(&over_white(picture));
    let values: Vec<u8> = canvas.pixels().map(|p| p.0[0]).collect();
    let mut sorted = values.clone();
    sorted.sort_unstable();
    let (median, peak) = (sorted[sorted.len() / 2], sorted[sorted.len() - 1]);
    if median > MNIST_FORM_GROUND || peak < MNIST_FORM_PEAK {
        return None;
    }
    let (_, _, box_w, box_h) = ink_bounds(&canvas)?;
    let (mass_x, mass_y) = centre_of_mass(&canvas);
    let centre = CANVAS as f32 / 2.0;
    let centred = (mass_x - centre).abs() <= MNIST_FORM_CENTRING
        && (mass_y - centre).abs() <= MNIST_FORM_CENTRING;
    (MNIST_FORM_SIDES.contains(&box_w.max(box_h)) && centred)
        .then(|| std::array::from_fn(|p| f32::from(values[p]) / 255.0))
}

/// A square picture brought to the 28×28 canvas: each canvas pixel the mean of the pixels it
/// covers when the side is a multiple of 28 (an image enlarged by repeating pixels gives its
/// original back), anti-aliased resampling otherwise.
fn to_canvas(square: &GrayImage) -> GrayImage {
    let side = square.width();
    if !side.is_multiple_of(CANVAS) {
        return imageops::resize(square, CANVAS, CANVAS, imageops::FilterType::Triangle);
    }
    let factor = side / CANVAS;
    GrayImage::from_fn(CANVAS, CANVAS, |x, y| {
        let covered = (0..factor * factor).map(|i| {
            u32::from(
                square
                    .get_pixel(x * factor + i % factor, y * factor + i / factor)
                    .0[0],
            )
        });
        Luma([((covered.sum::<u32>() + factor * factor / 2) / (factor * factor)) as u8])
    })
}

/// A picture's model input and the ink it was made from, as a learned ink finder found it.
pub struct FoundInput {
    /// What the model reads.
    pub input: ModelInput,
    /// What the ink finder saw: the digit's ink and its probabilities; `None` for a picture
    /// already in MNIST's form ([`mnist_form`]), which the finder does not look at.
    pub found: Option<FoundInk>,
}

/// The model input of an encoded picture whose ink `finder` finds (a finder trained by
/// `lstm-mnist train` on an ink finder's config, such as the run `artifacts/ink-finder`)
/// instead of [`page`]'s rules, with what it found.
pub fn found_input(
    bytes: &[u8],
    finder: &InkFinder,
) -> std::result::Result<FoundInput, PictureError> {
    let decoded = decode(bytes)?;
    if let Some(input) = mnist_form(&decoded) {
        return Ok(FoundInput { input, found: None });
    }
    let picture = over_white_rgb(&decoded);
    large_enough(picture.dimensions()).map_err(PictureError::NoDigit)?;
    let found = found_ink(finder, &picture, &Device::flex())
        .ok_or(PictureError::NoDigit(NoDigit::Blank))?;
    let input = from_ink(&found.ink).map_err(PictureError::NoDigit)?;
    Ok(FoundInput {
        input,
        found: Some(found),
    })
}

/// The decoded picture, scaled down to `WORKING_SIDE` (2,048 pixels) when larger. Its size is checked from
/// its header first, the decoder runs under memory limits, and a panic inside the decoder (a
/// bug of the decoder's on a malformed file) is this picture's error, not the program's end.
pub fn decode(bytes: &[u8]) -> std::result::Result<image::DynamicImage, PictureError> {
    if bytes.is_empty() {
        return Err(PictureError::Unreadable("is empty".into()));
    }
    let unreadable =
        |e: &dyn std::fmt::Display| PictureError::Unreadable(format!("not a readable image: {e}"));
    let reader = || {
        image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| unreadable(&e))
    };
    let decoded = contain_panic(|| {
        let (width, height) = reader()?.into_dimensions().map_err(|e| unreadable(&e))?;
        if u64::from(width) * u64::from(height) > MAX_PICTURE_PIXELS {
            return Err(PictureError::TooLarge { width, height });
        }
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(MAX_DECODE_BYTES);
        let mut reader = reader()?;
        reader.limits(limits);
        reader.decode().map_err(|e| unreadable(&e))
    })
    .unwrap_or_else(|message| Err(unreadable(&format!("the decoder failed: {message}"))))?;
    Ok(if decoded.width().max(decoded.height()) > WORKING_SIDE {
        decoded.thumbnail(WORKING_SIDE, WORKING_SIDE)
    } else {
        decoded
    })
}

/// The picture's darkness composited over a white background, so that dark strokes on a
/// transparent canvas (what drawing apps and `<canvas>` export) read as dark on white. Each
/// pixel's darkest channel counts, so that blue or red ink is as dark as it looks.
pub fn over_white(picture: &image::DynamicImage) -> GrayImage {
    let rgba = picture.to_rgba8();
    GrayImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, alpha] = rgba.get_pixel(x, y).0;
        Luma([on_white(r.min(g).min(b), alpha)])
    })
}

/// A channel's value `value` of opacity `alpha`, seen over white.
fn on_white(value: u8, alpha: u8) -> u8 {
    let (value, alpha) = (u32::from(value), u32::from(alpha));
    ((value * alpha + 255 * (255 - alpha) + 127) / 255) as u8
}

/// The picture composited over a white background (transparent parts are the white page
/// underneath), in colour.
pub fn over_white_rgb(picture: &image::DynamicImage) -> image::RgbImage {
    let rgba = picture.to_rgba8();
    image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, alpha] = rgba.get_pixel(x, y).0;
        image::Rgb([r, g, b].map(|c| on_white(c, alpha)))
    })
}

/// A grayscale picture as a model input (28x28 values in [0, 1]), made as MNIST was made.
pub fn mnist_style(gray: &GrayImage) -> std::result::Result<ModelInput, NoDigit> {
    mnist_style_in_line(gray).map(|(input, _)| input)
}

/// [`mnist_style`], and whether the digit stands in a line of several.
fn mnist_style_in_line(gray: &GrayImage) -> std::result::Result<(ModelInput, bool), NoDigit> {
    large_enough(gray.dimensions())?;
    let (ink, several_digits) = page::digit_ink_in_line(gray).ok_or(NoDigit::Blank)?;
    Ok((from_ink(&ink)?, several_digits))
}

/// The centre of mass (x, y) of an image's values, in pixels from its top left corner.
fn centre_of_mass(image: &GrayImage) -> (f32, f32) {
    let (mut mass, mut mx, mut my) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y, p) in image.enumerate_pixels() {
        let v = f32::from(p.0[0]);
        mass += v;
        mx += v * x as f32;
        my += v * y as f32;
    }
    let mass = mass.max(f32::MIN_POSITIVE);
    (mx / mass, my / mass)
}

/// Refuses a picture smaller than `MIN_SIDE` on a side: it cannot hold a digit.
fn large_enough((width, height): (u32, u32)) -> std::result::Result<(), NoDigit> {
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(NoDigit::TooSmall { width, height });
    }
    Ok(())
}

/// The model input of a digit's ink (white on black, nothing else inked): its strokes brought
/// to MNIST's width, cropped, fitted into 20x20 and centred by mass.
pub fn from_ink(ink: &GrayImage) -> std::result::Result<ModelInput, NoDigit> {
    let peak = ink.pixels().map(|p| p.0[0]).max().unwrap_or(0);
    if peak < 64 {
        return Err(NoDigit::Blank);
    }
    let ink = normalise_stroke(ink, peak);
    let (left, top, box_w, box_h) = ink_bounds(&ink).expect("normalising keeps some ink");
    let cropped = imageops::crop_imm(&ink, left, top, box_w, box_h).to_image();
    Ok(centre_by_mass(&fit_into_box(&cropped)))
}

/// The bounding box (left, top, width, height) of the clearly inked pixels: those above a
/// quarter of the peak. `None` for an image without ink.
pub fn ink_bounds(ink: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let peak = ink.pixels().map(|p| p.0[0]).max().unwrap_or(0);
    if peak == 0 {
        return None;
    }
    page::bounds_where(ink, |value| value > peak / 4)
}

/// The strokes' mean width in pixels: twice the inked area over the outline's length (a
/// stroke of length L and width w has area L·w and outline about 2L), where inked means at
/// least half the peak. The outline is counted in pixel edges, which makes curved and slanted
/// strokes read up to a fifth thinner than they are; the limits above are in this measure.
pub fn stroke_width(ink: &GrayImage, peak: u8) -> f32 {
    let inked = |x: i64, y: i64| {
        x >= 0
            && y >= 0
            && (x as u32) < ink.width()
            && (y as u32) < ink.height()
            && ink.get_pixel(x as u32, y as u32).0[0] >= peak / 2
    };
    let (mut area, mut outline) = (0u64, 0u64);
    for (x, y, _) in ink.enumerate_pixels() {
        let (x, y) = (i64::from(x), i64::from(y));
        if inked(x, y) {
            area += 1;
            outline += [(1, 0), (-1, 0), (0, 1), (0, -1)]
                .iter()
                .filter(|(dx, dy)| !inked(x + dx, y + dy))
                .count() as u64;
        }
    }
    if outline == 0 {
        return 0.0;
    }
    2.0 * area as f32 / outline as f32
}

/// Brings strokes that would be far thicker or thinner than MNIST's, once the digit is fitted
/// into the 20-pixel box, to a width MNIST's digits have: a binary erosion or dilation by the
/// difference (Euclidean distance transform), anti-aliased again by the fitting. Strokes
/// within MNIST's range are left exactly as they are.
pub fn normalise_stroke(ink: &GrayImage, peak: u8) -> GrayImage {
    let Some((_, _, box_w, box_h)) = ink_bounds(ink) else {
        return ink.clone();
    };
    let source_per_box_pixel = box_w.max(box_h) as f32 / DIGIT_BOX as f32;
    let width = stroke_width(ink, peak);
    let fitted_width = width / source_per_box_pixel;
    let target = if fitted_width > THICKEST {
        THICK_TARGET
    } else if fitted_width < THINNEST {
        THIN_TARGET
    } else {
        return ink.clone();
    };
    let radius = (target * source_per_box_pixel - width) / 2.0;
    // Eroding keeps the pixels farther than the radius from the background; dilating, those
    // within the radius of the ink. Either way one distance transform (to the nonzero pixels
    // of `from`) and a threshold.
    let eroding = radius < 0.0;
    let from = GrayImage::from_fn(ink.width(), ink.height(), |x, y| {
        Luma([u8::from((ink.get_pixel(x, y).0[0] >= peak / 2) != eroding)])
    });
    let distance = euclidean_squared_distance_transform(&from);
    let limit = f64::from(radius.abs());
    let reshaped = GrayImage::from_fn(ink.width(), ink.height(), |x, y| {
        let beyond = distance.get_pixel(x, y).0[0].sqrt() > limit;
        Luma([if beyond == eroding { peak } else { 0 }])
    });
    // A digit whose strokes the erosion would remove entirely stays as it was.
    if ink_bounds(&reshaped).is_none() {
        return ink.clone();
    }
    reshaped
}

/// The cropped digit scaled (anti-aliased) so that its longer side is 20 pixels, aspect kept.
pub fn fit_into_box(cropped: &GrayImage) -> GrayImage {
    let (box_w, box_h) = cropped.dimensions();
    let scale = DIGIT_BOX as f32 / box_w.max(box_h) as f32;
    let (fit_w, fit_h) = (
        ((box_w as f32 * scale).round() as u32).max(1),
        ((box_h as f32 * scale).round() as u32).max(1),
    );
    imageops::resize(cropped, fit_w, fit_h, imageops::FilterType::Triangle)
}

/// The fitted digit placed on the 28x28 canvas so that its centre of mass lands on the
/// canvas centre (staying inside), as values in [0, 1].
pub fn centre_by_mass(fitted: &GrayImage) -> ModelInput {
    let (fit_w, fit_h) = fitted.dimensions();
    let (mass_x, mass_y) = centre_of_mass(fitted);
    let centre = CANVAS as f32 / 2.0;
    let offset = |com: f32, size: u32| {
        ((centre - com).round() as i64).clamp(0, i64::from(CANVAS.saturating_sub(size))) as u32
    };
    let (dx, dy) = (offset(mass_x, fit_w), offset(mass_y, fit_h));
    let mut canvas = [0.0f32; ROWS * COLUMNS];
    for (x, y, p) in fitted.enumerate_pixels() {
        canvas[((y + dy) * CANVAS + x + dx) as usize] = f32::from(p.0[0]) / 255.0;
    }
    canvas
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `thickness`-wide ring of radius `radius` (white on black) in a `side`-pixel square.
    fn ring(side: u32, radius: f32, thickness: f32) -> GrayImage {
        let c = side as f32 / 2.0;
        GrayImage::from_fn(side, side, |x, y| {
            let r = ((x as f32 - c).powi(2) + (y as f32 - c).powi(2)).sqrt();
            Luma([if (r - radius).abs() <= thickness / 2.0 {
                255
            } else {
                0
            }])
        })
    }

    fn centre_of(canvas: &[f32]) -> (f32, f32) {
        let (mut mass, mut mx, mut my) = (0.0, 0.0, 0.0);
        for (i, v) in canvas.iter().enumerate() {
            let (x, y) = ((i % 28) as f32, (i / 28) as f32);
            (mass, mx, my) = (mass + v, mx + v * x, my + v * y);
        }
        (mx / mass, my / mass)
    }

    #[test]
    fn the_bounds_hold_the_clearly_inked_pixels() {
        let mut image = GrayImage::new(30, 30);
        image.put_pixel(4, 7, Luma([200]));
        image.put_pixel(20, 9, Luma([200]));
        image.put_pixel(25, 25, Luma([40])); // faint: below a quarter of the peak
        assert_eq!(ink_bounds(&image), Some((4, 7, 17, 3)));
        assert_eq!(ink_bounds(&GrayImage::new(5, 5)), None);
    }

    #[test]
    fn stroke_width_measures_a_bar_exactly_and_a_ring_a_fifth_thinner() {
        let bar = GrayImage::from_fn(200, 40, |_, y| {
            Luma([if (10..22).contains(&y) { 255 } else { 0 }])
        });
        let measured = stroke_width(&bar, 255);
        assert!((measured - 12.0).abs() < 1.0, "{measured}");
        for thickness in [4.0, 10.0, 24.0] {
            let ratio = stroke_width(&ring(300, 100.0, thickness), 255) / thickness;
            assert!((0.7..=0.9).contains(&ratio), "{thickness}: {ratio}");
        }
    }

    #[test]
    fn strokes_within_mnist_s_range_are_left_alone() {
        // 200 pixels across, 20 wide: 2 pixels once fitted into 20.
        let ink = ring(240, 90.0, 20.0);
        assert_eq!(normalise_stroke(&ink, 255), ink);
    }

    #[test]
    fn a_small_digit_drawn_with_a_broad_pen_gets_thinner_strokes() {
        // 80 pixels across with a 20-pixel pen: 5 pixels once fitted.
        let ink = ring(120, 30.0, 20.0);
        let thinner = normalise_stroke(&ink, 255);
        let (_, _, w, _) = ink_bounds(&thinner).unwrap();
        let fitted = stroke_width(&thinner, 255) * DIGIT_BOX as f32 / w as f32;
        assert!((fitted - THICK_TARGET).abs() < 0.8, "{fitted}");
    }

    #[test]
    fn a_hairline_gets_thicker_strokes() {
        let ink = ring(600, 250.0, 3.0);
        let thicker = normalise_stroke(&ink, 255);
        let (_, _, w, _) = ink_bounds(&thicker).unwrap();
        let fitted = stroke_width(&thicker, 255) * DIGIT_BOX as f32 / w as f32;
        assert!((fitted - THIN_TARGET).abs() < 0.8, "{fitted}");
    }

    #[test]
    fn the_digit_fits_twenty_pixels_with_its_aspect_and_is_centred_by_mass() {
        let tall = GrayImage::from_fn(30, 90, |_, _| Luma([255]));
        let fitted = fit_into_box(&tall);
        assert_eq!(fitted.dimensions(), (7, 20));
        let canvas = centre_by_mass(&fitted);
        let (x, y) = centre_of(&canvas);
        assert!(
            (x - 14.0).abs() <= 1.0 && (y - 14.0).abs() <= 1.0,
            "{x} {y}"
        );
    }

    /// A ring of MNIST's form: fitted into 20 pixels and centred on the 28x28 canvas, moved
    /// by `shift` pixels to the right.
    fn mnist_ring(shift: u32) -> GrayImage {
        let ring = ring(20, 9.0, 2.5);
        let mut canvas = GrayImage::new(28, 28);
        imageops::overlay(&mut canvas, &ring, 4 + i64::from(shift), 4);
        canvas
    }

    #[test]
    fn a_picture_in_mnist_s_form_is_its_own_input() {
        let canvas = mnist_ring(0);
        let values: Vec<f32> = canvas.pixels().map(|p| f32::from(p.0[0]) / 255.0).collect();
        let as_is = |gray: &GrayImage| mnist_form(&image::DynamicImage::ImageLuma8(gray.clone()));
        assert_eq!(
            as_is(&canvas).map(|input| input.to_vec()),
            Some(values.clone())
        );
        // Enlarged by repeating pixels, it is the same input.
        let enlarged = imageops::resize(&canvas, 84, 84, imageops::FilterType::Nearest);
        assert_eq!(as_is(&enlarged).map(|input| input.to_vec()), Some(values));
        // Off centre, dark on light, or not square, it is made MNIST-style instead.
        assert!(as_is(&mnist_ring(3)).is_none());
        let mut inverted = canvas.clone();
        imageops::invert(&mut inverted);
        assert!(as_is(&inverted).is_none());
        assert!(
            as_is(&imageops::resize(
                &canvas,
                28,
                36,
                imageops::FilterType::Nearest
            ))
            .is_none()
        );
    }

    #[test]
    fn a_blank_or_tiny_picture_has_no_digit() {
        assert_eq!(
            mnist_style(&GrayImage::from_pixel(40, 40, Luma([255]))),
            Err(NoDigit::Blank)
        );
        assert_eq!(
            mnist_style(&GrayImage::new(4, 4)),
            Err(NoDigit::TooSmall {
                width: 4,
                height: 4
            })
        );
    }
}
