//! MNIST digits as photographs of paper: the 28x28 digit enlarged onto a page of a few hundred
//! pixels in dark ink, under one condition of the page (grey paper, light from one side, a
//! shadow, ruled or squared lines, coloured ink, a slant, JPEG, a camera's blur). The picture
//! suite reads these through the very path `predict` uses, so it scores the whole pipeline.

use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage, codecs::jpeg::JpegEncoder, imageops};
use imageproc::geometric_transformations::{Border, Interpolation, Projection, warp};
use rand::Rng;
use rand::rngs::StdRng;

/// One way a page can look in a photograph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageCondition {
    White,
    GreyPageSoftInk,
    SideLight,
    SpotShadow,
    Ruled,
    Squared,
    ColouredInk,
    Perspective,
    Jpeg,
    CameraBlur,
}

/// A rendered page, encoded as a user would hand it over.
pub struct PagePicture {
    pub bytes: Vec<u8>,
}

/// How a page is drawn: its paper and ink, the lines on it, and what the camera did.
struct Look {
    paper: [f32; 3],
    ink: [f32; 3],
    /// How dark the ink is: 1 full, less for a soft marker.
    ink_strength: f32,
}

impl PageCondition {
    /// Every condition, in the order the suite reports them.
    pub const ALL: [PageCondition; 10] = [
        Self::White,
        Self::GreyPageSoftInk,
        Self::SideLight,
        Self::SpotShadow,
        Self::Ruled,
        Self::Squared,
        Self::ColouredInk,
        Self::Perspective,
        Self::Jpeg,
        Self::CameraBlur,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::White => "white page",
            Self::GreyPageSoftInk => "grey page",
            Self::SideLight => "side light",
            Self::SpotShadow => "spot shadow",
            Self::Ruled => "ruled lines",
            Self::Squared => "squared paper",
            Self::ColouredInk => "coloured ink",
            Self::Perspective => "perspective",
            Self::Jpeg => "jpeg",
            Self::CameraBlur => "camera blur",
        }
    }

    pub(crate) fn severity(self) -> &'static str {
        match self {
            Self::White => "white paper, dark ink, the digit anywhere on the page",
            Self::GreyPageSoftInk => {
                "grey paper (115-160) under room light, a soft bold marker, JPEG quality 70"
            }
            Self::SideLight => "light falling smoothly to 50-60% across the page",
            Self::SpotShadow => "a soft shadow darkening a spot to 45-60%",
            Self::Ruled => "blue ruled lines every 8-11% of the page, a red margin line",
            Self::Squared => "a grey-blue grid every 6-8% of the page",
            Self::ColouredInk => "blue or red ink",
            Self::Perspective => {
                "photographed at a slant: corners moved up to 8%, the table showing"
            }
            Self::Jpeg => "JPEG quality 15-30",
            Self::CameraBlur => "a phone camera's blur (sigma 1.5-2.5 pixels) and sensor noise",
        }
    }

    /// The digit (28x28, white on black, as MNIST stores it) photographed on a page under this
    /// condition; `rng` decides everything that varies.
    pub fn render(self, digit: &[u8], rng: &mut StdRng) -> PagePicture {
        let side = rng.random_range(240..=320u32);
        let look = self.look(rng);
        let mut page = RgbImage::from_pixel(side, side, to_rgb(look.paper));
        self.draw_lines(&mut page, rng);
        ink_digit(&mut page, digit, &look, rng);
        self.light(&mut page, rng);
        if self == Self::Perspective {
            page = slanted(&page, rng);
        }
        if self == Self::CameraBlur {
            page = imageops::blur(&page, rng.random_range(1.5..=2.5));
        }
        add_noise(&mut page, rng);
        let quality = match self {
            Self::GreyPageSoftInk => Some(70),
            Self::Jpeg => Some(rng.random_range(15..=30)),
            _ => None,
        };
        PagePicture {
            bytes: encoded(&page, quality),
        }
    }

    fn look(self, rng: &mut StdRng) -> Look {
        let white = rng.random_range(235.0..=250.0);
        let dark = rng.random_range(15.0..=45.0);
        let mut look = Look {
            paper: [white, white, white * 0.98],
            ink: [dark, dark, dark],
            ink_strength: 1.0,
        };
        match self {
            Self::GreyPageSoftInk => {
                let grey = rng.random_range(115.0..=160.0);
                look.paper = [grey, grey * 0.97, grey * 0.92];
                look.ink_strength = rng.random_range(0.5..=0.7);
            }
            Self::Ruled => look.ink = [30.0, 50.0, 150.0],
            Self::ColouredInk => {
                look.ink = if rng.random_bool(0.5) {
                    [25.0, 60.0, 200.0]
                } else {
                    [200.0, 30.0, 30.0]
                };
            }
            _ => {}
        }
        look
    }

    /// Ruled lines and a margin, or a grid, drawn on the paper before the ink.
    fn draw_lines(self, page: &mut RgbImage, rng: &mut StdRng) {
        let side = page.width();
        let (spacing, colour, vertical) = match self {
            Self::Ruled => (rng.random_range(0.08..=0.11), Rgb([120, 160, 225]), false),
            Self::Squared => (rng.random_range(0.06..=0.08), Rgb([150, 170, 200]), true),
            _ => return,
        };
        let step = (spacing * side as f32).max(4.0);
        let mut at = rng.random_range(0.0..step);
        while (at as u32) < side {
            for x in 0..side {
                page.put_pixel(x, at as u32, colour);
                if vertical {
                    page.put_pixel(at as u32, x, colour);
                }
            }
            at += step;
        }
        if self == Self::Ruled {
            let margin = (0.12 * side as f32) as u32;
            for y in 0..side {
                for x in margin..margin + 2 {
                    page.put_pixel(x, y, Rgb([220, 90, 90]));
                }
            }
        }
    }

    /// Uneven light: brightness multiplied across the page.
    fn light(self, page: &mut RgbImage, rng: &mut StdRng) {
        let side = page.width() as f32;
        let factor: Box<dyn Fn(f32, f32) -> f32> = match self {
            Self::SideLight => {
                let darkest = rng.random_range(0.5..=0.6);
                let angle = rng.random_range(0.0..std::f32::consts::TAU);
                let (dx, dy) = (angle.cos(), angle.sin());
                Box::new(move |x, y| {
                    let along = ((x / side - 0.5) * dx + (y / side - 0.5) * dy) / 0.71 + 0.5;
                    1.0 - (1.0 - darkest) * along.clamp(0.0, 1.0)
                })
            }
            Self::SpotShadow => {
                let depth = rng.random_range(0.4..=0.55);
                let (cx, cy) = (
                    rng.random_range(0.2..=0.8) * side,
                    rng.random_range(0.2..=0.8) * side,
                );
                let radius = rng.random_range(0.2..=0.35) * side;
                Box::new(move |x, y| {
                    let d2 = ((x - cx).powi(2) + (y - cy).powi(2)) / radius.powi(2);
                    1.0 - depth * (-d2).exp()
                })
            }
            _ => return,
        };
        for (x, y, pixel) in page.enumerate_pixels_mut() {
            let f = factor(x as f32, y as f32);
            pixel.0 = pixel.0.map(|c| (f32::from(c) * f).round() as u8);
        }
    }
}

/// The digit enlarged (smoothly) to 45-65% of the page and laid on it in ink, somewhere on the
/// page.
fn ink_digit(page: &mut RgbImage, digit: &[u8], look: &Look, rng: &mut StdRng) {
    let side = page.width();
    let size = (rng.random_range(0.45..=0.65) * side as f32) as u32;
    let small = image::GrayImage::from_raw(28, 28, digit.to_vec()).expect("a 28x28 digit");
    let large = imageops::resize(&small, size, size, imageops::FilterType::CatmullRom);
    let room = side - size;
    let (left, top) = (rng.random_range(0..=room), rng.random_range(0..=room));
    for (x, y, value) in large.enumerate_pixels() {
        let alpha = f32::from(value.0[0]) / 255.0 * look.ink_strength;
        let pixel = page.get_pixel_mut(left + x, top + y);
        for c in 0..3 {
            let paper = f32::from(pixel.0[c]);
            pixel.0[c] = (paper + (look.ink[c].min(paper) - paper) * alpha).round() as u8;
        }
    }
}

/// The page photographed at a slant: its corners moved inwards by up to 8% of its side, the
/// table (dark) showing around it.
fn slanted(page: &RgbImage, rng: &mut StdRng) -> RgbImage {
    let side = page.width() as f32;
    let mut jitter = || rng.random_range(0.0..=0.08) * side;
    let from = [(0.0, 0.0), (side, 0.0), (side, side), (0.0, side)];
    let to = [
        (jitter(), jitter()),
        (side - jitter(), jitter()),
        (side - jitter(), side - jitter()),
        (jitter(), side - jitter()),
    ];
    let projection =
        Projection::from_control_points(from, to).expect("corners in general position");
    warp(
        page,
        projection,
        Interpolation::Bilinear,
        Border::Constant(Rgb([70, 60, 55])),
    )
}

/// A camera sensor's noise.
fn add_noise(page: &mut RgbImage, rng: &mut StdRng) {
    let seed = rng.random();
    *page = imageproc::noise::gaussian_noise(page, 0.0, 3.0, seed);
}

/// The page as a PNG, or as a JPEG of `quality`.
fn encoded(page: &RgbImage, quality: Option<u8>) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    match quality {
        Some(quality) => JpegEncoder::new_with_quality(&mut bytes, quality)
            .encode_image(page)
            .expect("an RGB picture encodes"),
        None => page
            .write_to(&mut bytes, ImageFormat::Png)
            .expect("an RGB picture encodes"),
    }
    bytes.into_inner()
}

fn to_rgb(colour: [f32; 3]) -> Rgb<u8> {
    Rgb(colour.map(|c| c.round() as u8))
}
