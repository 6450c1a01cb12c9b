//! The ink finder: a small convolutional network that looks at a picture (scaled to
//! [`FINDER_SIDE`] pixels on its longer side, in colour) and gives, for each of its pixels,
//! the probability that it is the digit's ink — not the paper, the light, the desk, a printed
//! line or another mark. It is learned from generated pages (the application's
//! `data::page_generator`), whose ground truth is exact, instead of set by hand.
//!
//! The network is a small U-Net: two 3×3 convolutions at full resolution, two stride-2 steps
//! down with dilated convolutions at a quarter of the resolution (whose receptive field spans
//! the whole view, so that a page's edge is told from a stroke by what lies around it), and
//! two steps back up, each joined with the features of its resolution.

use burn::config::Config;
use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::store::{ModuleRecord, RecordError};
use burn::tensor::activation::relu;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use image::{GenericImageView, GrayImage, Luma, Rgb, imageops};

/// The side, in pixels, of the square the finder sees a picture in (its longer side scaled to
/// it, the rest padded).
pub const FINDER_SIDE: usize = 64;
/// The finder's input channels: red, green, blue (each standardised over the picture) and
/// where the picture is (1) or padding (0).
pub const FINDER_CHANNELS: usize = 4;

/// The finder's size.
#[derive(Config, Debug)]
pub struct InkFinderConfig {
    /// Channels at full resolution; twice as many at half, three times at a quarter.
    #[config(default = 12)]
    pub width: usize,
}

/// The network (see the module's documentation).
#[derive(Module, Debug)]
pub struct InkFinder {
    full_in: Conv2d,
    full: Conv2d,
    down_half: Conv2d,
    half: Conv2d,
    down_quarter: Conv2d,
    context_near: Conv2d,
    context_far: Conv2d,
    up_half: Conv2d,
    up_full: Conv2d,
    ink: Conv2d,
}

fn conv(channels: [usize; 2], stride: usize, dilation: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new(channels, [3, 3])
        .with_stride([stride, stride])
        .with_dilation([dilation, dilation])
        .with_padding(PaddingConfig2d::Explicit(
            dilation, dilation, dilation, dilation,
        ))
        .init(device)
}

impl InkFinderConfig {
    /// A finder with freshly initialised weights on `device`.
    pub fn init(&self, device: &Device) -> InkFinder {
        let (w1, w2, w3) = (self.width, 2 * self.width, 3 * self.width);
        InkFinder {
            full_in: conv([FINDER_CHANNELS, w1], 1, 1, device),
            full: conv([w1, w1], 1, 1, device),
            down_half: conv([w1, w2], 2, 1, device),
            half: conv([w2, w2], 1, 1, device),
            down_quarter: conv([w2, w3], 2, 1, device),
            context_near: conv([w3, w3], 1, 2, device),
            context_far: conv([w3, w3], 1, 4, device),
            up_half: conv([w3 + w2, w2], 1, 1, device),
            up_full: conv([w2 + w1, w1], 1, 1, device),
            ink: Conv2dConfig::new([w1, 1], [1, 1]).init(device),
        }
    }
}

impl InkFinder {
    /// Ink logits `[batch, 1, S, S]` of finder inputs `[batch, 4, S, S]` (S = 64).
    pub fn forward(&self, views: Tensor<4>) -> Tensor<4> {
        let full = relu(self.full.forward(relu(self.full_in.forward(views))));
        let half = relu(
            self.half
                .forward(relu(self.down_half.forward(full.clone()))),
        );
        let quarter = relu(self.down_quarter.forward(half.clone()));
        let quarter = relu(self.context_near.forward(quarter));
        let quarter = relu(self.context_far.forward(quarter));
        let up = Tensor::cat(vec![doubled(quarter), half], 1);
        let half = relu(self.up_half.forward(up));
        let up = Tensor::cat(vec![doubled(half), full], 1);
        self.ink.forward(relu(self.up_full.forward(up)))
    }

    /// The finder whose weights are `weights` (a burnpack record of this config's finder).
    pub fn from_weights(
        config: &InkFinderConfig,
        weights: &[u8],
        device: &Device,
    ) -> Result<Self, RecordError> {
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights.to_vec()))?;
        config.init(device).try_load_record(record)
    }

    /// The probability that each pixel of `view` is the digit's ink, `S`×`S`, 0-255.
    pub fn ink_probability(&self, view: &FinderView, device: &Device) -> GrayImage {
        let input = Tensor::<4>::from_data(
            TensorData::new(
                view.values.clone(),
                [1, FINDER_CHANNELS, FINDER_SIDE, FINDER_SIDE],
            ),
            device,
        );
        let probability = burn::tensor::activation::sigmoid(self.forward(input));
        let values = probability
            .into_data()
            .try_into_vec::<f32>()
            .expect("the finder computes in f32");
        GrayImage::from_fn(FINDER_SIDE as u32, FINDER_SIDE as u32, |x, y| {
            let p = values[y as usize * FINDER_SIDE + x as usize];
            Luma([(p * 255.0).round() as u8])
        })
    }
}

/// Nearest-neighbour upsampling by two.
fn doubled(x: Tensor<4>) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    interpolate(
        x,
        InterpolateOptions::new(InterpolateMode::Nearest).with_output_size([2 * h, 2 * w]),
    )
}

/// A picture as the finder sees it: scaled so that its longer side is `S` pixels, placed in
/// the top-left corner of the `S`×`S` square, each colour standardised over the picture.
pub struct FinderView {
    /// `[4, S, S]`, channel after channel.
    pub values: Vec<f32>,
    /// The scaled picture's width and height within the square.
    pub size: (u32, u32),
}

impl FinderView {
    /// The finder's view of `picture` (a whole picture, or a part of one).
    pub fn of<I>(picture: &I) -> Self
    where
        I: GenericImageView<Pixel = Rgb<u8>>,
    {
        let scaled = scaled_to_finder(picture, imageops::FilterType::Triangle);
        let (w, h) = scaled.dimensions();
        let count = (w * h) as f32;
        let mut mean = [0.0f32; 3];
        for pixel in scaled.pixels() {
            for (mean, &value) in mean.iter_mut().zip(&pixel.0) {
                *mean += f32::from(value) / count;
            }
        }
        let variance = scaled
            .pixels()
            .flat_map(|p| (0..3).map(move |c| (f32::from(p.0[c]) - mean[c]).powi(2)))
            .sum::<f32>()
            / (3.0 * count);
        let spread = variance.sqrt().max(4.0);
        let side = FINDER_SIDE;
        let mut values = vec![0.0f32; FINDER_CHANNELS * side * side];
        for (x, y, pixel) in scaled.enumerate_pixels() {
            let at = y as usize * side + x as usize;
            for c in 0..3 {
                values[c * side * side + at] = (f32::from(pixel.0[c]) - mean[c]) / spread;
            }
            values[3 * side * side + at] = 1.0;
        }
        Self {
            values,
            size: (w, h),
        }
    }
}

/// What the finder should say of a picture whose ink (0-255 coverage, the picture's size) is
/// `ink`: that ink, scaled as [`FinderView::of`] scales the picture, in [0, 1], `S`×`S`
/// (0 in the padding).
pub fn finder_target(ink: &GrayImage) -> Vec<f32> {
    let scaled = scaled_to_finder(ink, imageops::FilterType::Triangle);
    let mut target = vec![0.0f32; FINDER_SIDE * FINDER_SIDE];
    for (x, y, value) in scaled.enumerate_pixels() {
        target[y as usize * FINDER_SIDE + x as usize] = f32::from(value.0[0]) / 255.0;
    }
    target
}

/// `image` scaled (up or down, aspect kept) so that its longer side is `S` pixels.
fn scaled_to_finder<I, P>(image: &I, filter: imageops::FilterType) -> image::ImageBuffer<P, Vec<u8>>
where
    I: GenericImageView<Pixel = P>,
    P: image::Pixel<Subpixel = u8> + 'static,
{
    let (w, h) = image.dimensions();
    let scale = FINDER_SIDE as f32 / w.max(h) as f32;
    let size = |length: u32| ((length as f32 * scale).round() as u32).clamp(1, FINDER_SIDE as u32);
    imageops::resize(image, size(w), size(h), filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_finder_gives_one_probability_per_pixel_of_its_view() {
        let device = Device::flex();
        let finder = InkFinderConfig::new().init(&device);
        let picture = image::RgbImage::from_pixel(200, 100, image::Rgb([240, 240, 240]));
        let view = FinderView::of(&picture);
        assert_eq!(view.size, (64, 32));
        let probability = finder.ink_probability(&view, &device);
        assert_eq!(probability.dimensions(), (64, 64));
    }

    #[test]
    fn the_target_lies_where_the_view_puts_the_picture() {
        let mut ink = GrayImage::new(128, 256);
        for (x, y) in (120..128).flat_map(|x| (248..256).map(move |y| (x, y))) {
            ink.put_pixel(x, y, Luma([255]));
        }
        let target = finder_target(&ink);
        // 128x256 scales to 32x64: the corner pixel lands at (31, 63).
        assert!(target[63 * FINDER_SIDE + 31] > 0.3);
        assert_eq!(target[63 * FINDER_SIDE + 40], 0.0);
    }
}
