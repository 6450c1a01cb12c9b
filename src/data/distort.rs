//! Distortions of a digit image, shared by training-time augmentation (`augment`) and the
//! robustness suite's corruptions (`evaluation::robustness`): an affine warp (rotation, slant,
//! zoom, shift), Simard et al.'s elastic distortion, thicker or thinner strokes, blur, low
//! resolution, a grey background and faint ink, Gaussian and salt-and-pepper noise and JPEG
//! compression, built on `imageproc` and `image`.

use image::codecs::jpeg::JpegEncoder;
use image::imageops::{FilterType, resize};
use image::{GrayImage, ImageFormat, Luma};
use imageproc::filter::gaussian_blur_f32;
use imageproc::morphology::{Mask, grayscale_dilate, grayscale_erode};
use rand::Rng;
use rand_distr::{Distribution, Normal};

use super::styles::Style;

/// What happens to the strokes' width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stroke {
    #[default]
    Keep,
    /// A grey dilation with a cross of radius 1: about two pixels wider.
    Thicken,
    /// Halfway to a grey erosion with the same cross: the strokes' edges fade, as a finer pen
    /// would draw them (a full erosion wipes out MNIST's thinner strokes altogether).
    Thin,
}

/// Simard et al.'s elastic distortion: a random displacement field, smoothed by a Gaussian of
/// `sigma` pixels and scaled by `alpha`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Elastic {
    pub(crate) alpha: f32,
    pub(crate) sigma: f32,
}

/// Ink and background levels: pixel value v (0 background, 255 ink) becomes
/// `background + (ink - background) · v / 255`, as a photo of grey paper or a faint pen gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Contrast {
    /// The background's level, a fraction of full intensity.
    pub background: f32,
    /// Full ink's level, a fraction of full intensity (above `background`).
    pub ink: f32,
}

/// One image's distortion, applied in this order: a writing style's strokes, elastic and
/// affine warp (one resampling), stroke width, blur, low resolution, contrast, Gaussian noise,
/// salt and pepper, JPEG: the order in which a picture of a digit is drawn, scanned or
/// photographed, and saved.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Distortion {
    /// Strokes of a writing style MNIST rarely has, added first (`styles`).
    pub style: Option<Style>,
    /// Degrees, counter-clockwise.
    pub rotation: f32,
    /// Horizontal shear (slant) in degrees; positive leans the top to the right.
    pub shear: f32,
    /// Zoom about the centre.
    pub scale: f32,
    /// Shift in pixels (right, down).
    pub shift: (f32, f32),
    pub elastic: Option<Elastic>,
    pub stroke: Stroke,
    /// Gaussian blur, sigma in pixels.
    pub blur: Option<f32>,
    /// Down to a square of this many pixels and back up, both bilinear: a digit cropped
    /// small from a scan and enlarged.
    pub low_resolution: Option<u32>,
    pub contrast: Option<Contrast>,
    /// Gaussian noise, standard deviation as a fraction of full intensity.
    pub noise: Option<f32>,
    /// The fraction of pixels set to black or white (half each).
    pub salt_pepper: Option<f32>,
    /// Saved as a JPEG of this quality (1 to 100) and read back.
    pub jpeg: Option<u8>,
}

impl Distortion {
    /// The distortion that changes nothing.
    pub(crate) fn identity() -> Self {
        Self {
            scale: 1.0,
            ..Self::default()
        }
    }

    /// The distorted image; `rng` draws the elastic field and the noise.
    pub fn apply(&self, image: &GrayImage, rng: &mut impl Rng) -> GrayImage {
        let styled = self.style.map(|style| style.draw(image));
        let mut out = self.warp(styled.as_ref().unwrap_or(image), rng);
        out = self.stroke_width(out);
        if let Some(sigma) = self.blur.filter(|&s| s > 0.0) {
            out = gaussian_blur_f32(&out, sigma);
        }
        if let Some(size) = self.low_resolution {
            out = low_resolution(&out, size);
        }
        if let Some(contrast) = self.contrast {
            contrast.apply(&mut out);
        }
        if let Some(deviation) = self.noise.filter(|&d| d > 0.0) {
            let normal = Normal::new(0.0, deviation * 255.0).expect("a positive deviation");
            for pixel in out.pixels_mut() {
                let noisy = f32::from(pixel.0[0]) + normal.sample(rng);
                pixel.0[0] = noisy.round().clamp(0.0, 255.0) as u8;
            }
        }
        if let Some(fraction) = self.salt_pepper.filter(|&f| f > 0.0) {
            for pixel in out.pixels_mut() {
                let draw: f32 = rng.random();
                if draw < fraction {
                    pixel.0[0] = if draw < fraction / 2.0 { 0 } else { 255 };
                }
            }
        }
        if let Some(quality) = self.jpeg {
            out = jpeg(&out, quality);
        }
        out
    }

    fn stroke_width(&self, out: GrayImage) -> GrayImage {
        match self.stroke {
            Stroke::Keep => out,
            Stroke::Thicken => grayscale_dilate(&out, &Mask::diamond(1)),
            Stroke::Thin => {
                let eroded = grayscale_erode(&out, &Mask::diamond(1));
                GrayImage::from_fn(out.width(), out.height(), |x, y| {
                    let (a, b) = (out.get_pixel(x, y).0[0], eroded.get_pixel(x, y).0[0]);
                    Luma([((u16::from(a) + u16::from(b)) / 2) as u8])
                })
            }
        }
    }

    fn is_affine_identity(&self) -> bool {
        self.rotation == 0.0 && self.shear == 0.0 && self.scale == 1.0 && self.shift == (0.0, 0.0)
    }

    /// The elastic and affine parts as one bilinear resampling about the image centre. (A
    /// plain loop: `imageproc`'s generic `warp_with` took 12.7 µs for a 28x28 image, more than
    /// the training step can spare on the batch thread; this takes a few.)
    fn warp(&self, image: &GrayImage, rng: &mut impl Rng) -> GrayImage {
        let field = self
            .elastic
            .filter(|e| e.alpha > 0.0 && e.sigma > 0.0)
            .map(|elastic| DisplacementField::random(image.dimensions(), elastic, rng));
        if field.is_none() && self.is_affine_identity() {
            return image.clone();
        }
        let inverse = self.inverse_affine();
        let (width, height) = image.dimensions();
        let centre = ((width as f32 - 1.0) / 2.0, (height as f32 - 1.0) / 2.0);
        GrayImage::from_fn(width, height, |x, y| {
            let (x, y) = (x as f32, y as f32);
            let (dx, dy) = field.as_ref().map_or((0.0, 0.0), |f| f.at(x, y));
            let (u, v) = (
                x + dx - centre.0 - self.shift.0,
                y + dy - centre.1 - self.shift.1,
            );
            Luma([bilinear(
                image,
                centre.0 + inverse[0] * u + inverse[1] * v,
                centre.1 + inverse[2] * u + inverse[3] * v,
            )])
        })
    }

    /// The inverse of zoom · shear · rotation, row-major 2x2 (image y points down).
    fn inverse_affine(&self) -> [f32; 4] {
        let (sin, cos) = (-self.rotation.to_radians()).sin_cos();
        let slant = -self.shear.to_radians().tan();
        // forward = scale · [1 slant; 0 1] · [cos -sin; sin cos]
        let forward = [
            self.scale * (cos + slant * sin),
            self.scale * (-sin + slant * cos),
            self.scale * sin,
            self.scale * cos,
        ];
        let determinant = forward[0] * forward[3] - forward[1] * forward[2];
        [
            forward[3] / determinant,
            -forward[1] / determinant,
            -forward[2] / determinant,
            forward[0] / determinant,
        ]
    }
}

impl Contrast {
    fn apply(&self, image: &mut GrayImage) {
        let (offset, gain) = (self.background * 255.0, self.ink - self.background);
        for pixel in image.pixels_mut() {
            let level = offset + gain * f32::from(pixel.0[0]);
            pixel.0[0] = (level + 0.5).clamp(0.0, 255.0) as u8;
        }
    }
}

/// `image` shrunk to `size`×`size` pixels and enlarged back, both bilinear.
fn low_resolution(image: &GrayImage, size: u32) -> GrayImage {
    let (width, height) = image.dimensions();
    if size == 0 || size >= width.min(height) {
        return image.clone();
    }
    let small = resize(image, size, size, FilterType::Triangle);
    resize(&small, width, height, FilterType::Triangle)
}

/// `image` saved as a JPEG of `quality` and read back: 8×8 blocks, ringing at edges.
fn jpeg(image: &GrayImage, quality: u8) -> GrayImage {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality.clamp(1, 100))
        .encode_image(image)
        .expect("a grey image encodes into memory");
    image::load_from_memory_with_format(&bytes, ImageFormat::Jpeg)
        .expect("a JPEG just written decodes")
        .into_luma8()
}

/// The image's value at (x, y) (pixel centres at whole coordinates), interpolated between
/// the four nearest pixels; outside the image is black.
fn bilinear(image: &GrayImage, x: f32, y: f32) -> u8 {
    let (width, height) = (image.width() as i64, image.height() as i64);
    if !(x > -1.0 && y > -1.0 && x < width as f32 && y < height as f32) {
        return 0;
    }
    // Shifted by one so that truncation is the floor (`floor` is a library call here).
    let (xs, ys) = (x + 1.0, y + 1.0);
    let (x0, y0) = (xs as i64 - 1, ys as i64 - 1);
    let (fx, fy) = (xs - (xs as i64) as f32, ys - (ys as i64) as f32);
    let pixels = image.as_raw();
    let at = |px: i64, py: i64| {
        if px < 0 || py < 0 || px >= width || py >= height {
            0.0
        } else {
            f32::from(pixels[(py * width + px) as usize])
        }
    };
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
    let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
    // Rounded by adding a half: the value is never negative.
    (top * (1.0 - fy) + bottom * fy + 0.5).min(255.0) as u8
}

/// The displacements (dx, dy) of an elastic distortion. Drawn and smoothed on a grid of half
/// the image's resolution (a quarter of the work; the field is smooth at that scale anyway)
/// and interpolated between its points.
struct DisplacementField {
    grid_width: u32,
    grid_height: u32,
    dx: Vec<f32>,
    dy: Vec<f32>,
}

impl DisplacementField {
    fn random((width, height): (u32, u32), elastic: Elastic, rng: &mut impl Rng) -> Self {
        let (grid_width, grid_height) = (width.div_ceil(2), height.div_ceil(2));
        // Smoothing uniform noise by a Gaussian of sigma leaves it about 1/sigma as strong;
        // on the half grid sigma halves, so the strength is halved to match.
        let mut smoothed = || {
            let noise = image::ImageBuffer::<Luma<f32>, Vec<f32>>::from_fn(
                grid_width,
                grid_height,
                |_, _| Luma([rng.random_range(-1.0f32..=1.0)]),
            );
            gaussian_blur_f32(&noise, elastic.sigma / 2.0)
                .into_raw()
                .into_iter()
                .map(|d| d * elastic.alpha / 2.0)
                .collect::<Vec<f32>>()
        };
        let dx = smoothed();
        let dy = smoothed();
        Self {
            grid_width,
            grid_height,
            dx,
            dy,
        }
    }

    /// The displacement at image pixel (x, y).
    fn at(&self, x: f32, y: f32) -> (f32, f32) {
        let (gx, gy) = (x / 2.0, y / 2.0);
        // Pixel coordinates are never negative: truncation is the floor.
        let (x0, y0) = (gx as u32, gy as u32);
        let (x1, y1) = (
            (x0 + 1).min(self.grid_width - 1),
            (y0 + 1).min(self.grid_height - 1),
        );
        let (fx, fy) = (gx - x0 as f32, gy - y0 as f32);
        let sample = |values: &[f32]| {
            let v = |x: u32, y: u32| values[(y * self.grid_width + x) as usize];
            let top = v(x0, y0) * (1.0 - fx) + v(x1, y0) * fx;
            let bottom = v(x0, y1) * (1.0 - fx) + v(x1, y1) * fx;
            top * (1.0 - fy) + bottom * fy
        };
        (sample(&self.dx), sample(&self.dy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// A vertical bar two pixels wide in the middle of a 28x28 image.
    fn bar() -> GrayImage {
        GrayImage::from_fn(28, 28, |x, y| {
            Luma([if (13..15).contains(&x) && (6..22).contains(&y) {
                255
            } else {
                0
            }])
        })
    }

    fn ink(image: &GrayImage) -> u32 {
        image.pixels().map(|p| u32::from(p.0[0])).sum()
    }

    /// The centre of mass, (x, y).
    fn centre(image: &GrayImage) -> (f32, f32) {
        let (mut mass, mut mx, mut my) = (0.0, 0.0, 0.0);
        for (x, y, p) in image.enumerate_pixels() {
            let v = f32::from(p.0[0]);
            (mass, mx, my) = (mass + v, mx + v * x as f32, my + v * y as f32);
        }
        (mx / mass, my / mass)
    }

    fn apply(distortion: Distortion) -> GrayImage {
        distortion.apply(&bar(), &mut StdRng::seed_from_u64(1))
    }

    #[test]
    fn the_identity_changes_nothing() {
        assert_eq!(apply(Distortion::identity()), bar());
    }

    #[test]
    fn a_quarter_turn_makes_the_bar_horizontal() {
        let turned = apply(Distortion {
            rotation: 90.0,
            ..Distortion::identity()
        });
        let row_ink = |y: u32| {
            (0..28)
                .map(|x| turned.get_pixel(x, y).0[0] as u32)
                .sum::<u32>()
        };
        assert!(row_ink(13) + row_ink(14) > 255 * 20, "{turned:?}");
        assert_eq!(row_ink(5), 0);
    }

    #[test]
    fn a_shift_moves_the_centre_of_mass_by_that_much() {
        let shifted = apply(Distortion {
            shift: (3.0, -2.0),
            ..Distortion::identity()
        });
        let ((x0, y0), (x1, y1)) = (centre(&bar()), centre(&shifted));
        assert!((x1 - x0 - 3.0).abs() < 0.01 && (y1 - y0 + 2.0).abs() < 0.01);
    }

    #[test]
    fn a_positive_shear_leans_the_top_to_the_right() {
        let slanted = apply(Distortion {
            shear: 20.0,
            ..Distortion::identity()
        });
        let row_centre = |y: u32| {
            let row: Vec<f32> = (0..28)
                .map(|x| f32::from(slanted.get_pixel(x, y).0[0]))
                .collect();
            row.iter()
                .enumerate()
                .map(|(x, v)| x as f32 * v)
                .sum::<f32>()
                / row.iter().sum::<f32>()
        };
        assert!(row_centre(7) > row_centre(20) + 3.0);
    }

    #[test]
    fn zooming_in_and_out_scales_the_ink() {
        let (small, large) = (
            apply(Distortion {
                scale: 0.5,
                ..Distortion::identity()
            }),
            apply(Distortion {
                scale: 1.5,
                ..Distortion::identity()
            }),
        );
        assert!(ink(&small) < ink(&bar()) * 6 / 10, "{}", ink(&small));
        assert!(ink(&large) > ink(&bar()) * 13 / 10, "{}", ink(&large));
    }

    #[test]
    fn strokes_thicken_and_thin() {
        let thick = apply(Distortion {
            stroke: Stroke::Thicken,
            ..Distortion::identity()
        });
        let thin = apply(Distortion {
            stroke: Stroke::Thin,
            ..Distortion::identity()
        });
        assert!(ink(&thick) > ink(&bar()) * 3 / 2);
        assert!(ink(&thin) < ink(&bar()) * 3 / 4 && ink(&thin) > ink(&bar()) / 4);
    }

    #[test]
    fn the_elastic_field_moves_pixels_and_is_reproducible() {
        let elastic = Distortion {
            elastic: Some(Elastic {
                alpha: 34.0,
                sigma: 4.0,
            }),
            ..Distortion::identity()
        };
        assert_ne!(apply(elastic), bar());
        assert_eq!(apply(elastic), apply(elastic));
    }

    #[test]
    fn blur_spreads_and_noise_reaches_the_background() {
        let blurred = apply(Distortion {
            blur: Some(1.0),
            ..Distortion::identity()
        });
        assert!(blurred.get_pixel(11, 14).0[0] > 0);
        let noisy = apply(Distortion {
            noise: Some(0.3),
            ..Distortion::identity()
        });
        assert!(noisy.pixels().filter(|p| p.0[0] > 0).count() > 28 * 28 / 3);
    }

    #[test]
    fn low_resolution_loses_the_detail_and_keeps_the_place() {
        let coarse = apply(Distortion {
            low_resolution: Some(8),
            ..Distortion::identity()
        });
        assert_ne!(coarse, bar());
        // The two-pixel bar spreads over its neighbours, its centre stays where it was.
        assert!(coarse.get_pixel(11, 14).0[0] > 0, "{coarse:?}");
        let ((x0, y0), (x1, y1)) = (centre(&bar()), centre(&coarse));
        assert!((x1 - x0).abs() < 0.5 && (y1 - y0).abs() < 0.5);
        // Full size is no change.
        let same = apply(Distortion {
            low_resolution: Some(28),
            ..Distortion::identity()
        });
        assert_eq!(same, bar());
    }

    #[test]
    fn contrast_greys_the_background_and_dims_the_ink() {
        let dim = apply(Distortion {
            contrast: Some(Contrast {
                background: 0.4,
                ink: 0.7,
            }),
            ..Distortion::identity()
        });
        assert_eq!(dim.get_pixel(0, 0).0[0], 102);
        assert_eq!(dim.get_pixel(13, 14).0[0], 179);
    }

    #[test]
    fn salt_and_pepper_sets_that_share_of_pixels() {
        let speckled = apply(Distortion {
            salt_pepper: Some(0.2),
            ..Distortion::identity()
        });
        let changed = speckled
            .pixels()
            .zip(bar().pixels())
            .filter(|(a, b)| a != b)
            .count() as f32
            / (28.0 * 28.0);
        // Of the pixels drawn, those set to the value they had do not change: about half of
        // the black ones.
        assert!((0.08..0.14).contains(&changed), "{changed}");
        assert!(speckled.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255));
    }

    #[test]
    fn jpeg_leaves_block_artefacts_near_the_strokes_only() {
        let saved = apply(Distortion {
            jpeg: Some(10),
            ..Distortion::identity()
        });
        assert_ne!(saved, bar());
        // Ringing beside the bar inside its 8x8 blocks (columns 8 to 15); the blocks without
        // ink stay black.
        let ringing: u32 = (8..12)
            .map(|x| u32::from(saved.get_pixel(x, 12).0[0]))
            .sum();
        assert!(ringing > 0);
        assert!(
            [(1, 1), (20, 14), (26, 26)]
                .iter()
                .all(|&(x, y)| saved.get_pixel(x, y).0[0] == 0)
        );
    }
}
