//! Training-time augmentation: `[data.augment]` turned into one random [`Distortion`] per
//! training image and epoch, drawn from (seed, epoch, image) alone, so that a run is
//! reproducible and a resumed run sees exactly the images an uninterrupted one saw.

use image::GrayImage;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::distort::{Contrast, Distortion, Elastic, Stroke};
use super::styles::StyleKind;
use crate::config::AugmentConfig;

/// Draws and applies the distortions of one run.
#[derive(Debug, Clone)]
pub(crate) struct Augmenter {
    config: AugmentConfig,
    seed: u64,
}

impl Augmenter {
    pub fn new(config: AugmentConfig, seed: u64) -> Self {
        Self { config, seed }
    }

    /// Image `index` of the training set, a `label`, as epoch `epoch` (from 1) sees it.
    pub(crate) fn distort(
        &self,
        image: &GrayImage,
        label: u8,
        epoch: usize,
        index: usize,
    ) -> GrayImage {
        let mut rng = StdRng::seed_from_u64(image_seed(self.seed, epoch, index));
        let distortion = self.sample(&mut rng, label);
        distortion.apply(image, &mut rng)
    }

    /// A random distortion within the config's ranges, for a digit of class `label`.
    pub fn sample(&self, rng: &mut impl Rng, label: u8) -> Distortion {
        let c = &self.config;
        let kinds = StyleKind::for_label(label);
        let style = (!kinds.is_empty() && rng.random_bool(c.styles))
            .then(|| kinds[rng.random_range(0..kinds.len())].sample(rng));
        let either_way = |rng: &mut dyn rand::RngCore, limit: f64| {
            if limit > 0.0 {
                rng.random_range(-limit..=limit) as f32
            } else {
                0.0
            }
        };
        let rotation = either_way(rng, c.rotation);
        let shear = either_way(rng, c.shear);
        let [low, high] = c.scale;
        let scale = if high > low {
            rng.random_range(low..=high) as f32
        } else {
            low as f32
        };
        let shift = (either_way(rng, c.translate), either_way(rng, c.translate));
        let stroke_draw: f64 = rng.random();
        let stroke = if stroke_draw < c.thicken {
            Stroke::Thicken
        } else if stroke_draw < c.thicken + c.thin {
            Stroke::Thin
        } else {
            Stroke::Keep
        };
        let blur = (rng.random_bool(c.blur) && c.blur_sigma > 0.0)
            .then(|| rng.random_range(c.blur_sigma / 2.0..=c.blur_sigma) as f32);
        let elastic = rng.random_bool(c.elastic).then_some(Elastic {
            alpha: c.elastic_alpha as f32,
            sigma: c.elastic_sigma as f32,
        });
        let mut distortion = Distortion {
            style,
            rotation,
            shear,
            scale,
            shift,
            elastic,
            stroke,
            blur,
            ..Distortion::identity()
        };
        self.sample_picture_faults(rng, &mut distortion);
        distortion
    }

    /// The faults of a scanned or photographed picture: low resolution, contrast, noise,
    /// JPEG. Each is drawn only when its probability is above 0, so a config without them
    /// draws exactly the numbers it drew before they existed (and its runs resume as such).
    fn sample_picture_faults(&self, rng: &mut impl Rng, distortion: &mut Distortion) {
        let c = &self.config;
        let mut happens = |p: f64| p > 0.0 && rng.random_bool(p);
        let (low_resolution, contrast, noise, salt_pepper, jpeg) = (
            happens(c.low_resolution),
            happens(c.contrast),
            happens(c.noise),
            happens(c.salt_pepper),
            happens(c.jpeg),
        );
        let [smallest, largest] = c.low_resolution_size;
        distortion.low_resolution = low_resolution.then(|| rng.random_range(smallest..=largest));
        distortion.contrast = contrast.then(|| Contrast {
            background: rng.random_range(0.0..=c.contrast_background) as f32,
            ink: rng.random_range(c.contrast_ink..=1.0) as f32,
        });
        distortion.noise =
            noise.then(|| rng.random_range(c.noise_sigma / 2.0..=c.noise_sigma) as f32);
        distortion.salt_pepper = salt_pepper
            .then(|| rng.random_range(c.salt_pepper_amount / 2.0..=c.salt_pepper_amount) as f32);
        let [lowest, highest] = c.jpeg_quality;
        distortion.jpeg = jpeg.then(|| rng.random_range(lowest..=highest));
    }
}

/// A well-mixed seed for one (run seed, epoch, image) triple (SplitMix64's finaliser).
fn image_seed(seed: u64, epoch: usize, index: usize) -> u64 {
    let mut z = seed
        ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ (index as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn digit() -> GrayImage {
        GrayImage::from_fn(28, 28, |x, y| {
            Luma([
                if (8..20).contains(&x) && (10..13).contains(&y) || (12..15).contains(&x) {
                    200
                } else {
                    0
                },
            ])
        })
    }

    #[test]
    fn the_distortion_depends_on_seed_epoch_and_image_only() {
        let augmenter = Augmenter::new(AugmentConfig::default(), 7);
        let image = digit();
        let first = augmenter.distort(&image, 4, 3, 11);
        assert_eq!(first, augmenter.distort(&image, 4, 3, 11));
        assert_eq!(first, augmenter.clone().distort(&image, 4, 3, 11));
        assert_ne!(first, augmenter.distort(&image, 4, 4, 11));
        assert_ne!(first, augmenter.distort(&image, 4, 3, 12));
        assert_ne!(
            first,
            Augmenter::new(AugmentConfig::default(), 8).distort(&image, 4, 3, 11)
        );
    }

    #[test]
    fn every_range_is_kept() {
        let config = AugmentConfig::default();
        let augmenter = Augmenter::new(config.clone(), 1);
        let mut rng = StdRng::seed_from_u64(0);
        let draws: Vec<Distortion> = (0..2000).map(|_| augmenter.sample(&mut rng, 1)).collect();
        let share = |f: &dyn Fn(&Distortion) -> bool| {
            draws.iter().filter(|d| f(d)).count() as f64 / draws.len() as f64
        };
        assert!(
            draws
                .iter()
                .all(|d| d.rotation.abs() <= 12.0 && d.shear.abs() <= 15.0)
        );
        assert!(draws.iter().all(|d| (0.85..=1.1).contains(&d.scale)));
        assert!(
            draws
                .iter()
                .all(|d| d.shift.0.abs() <= 2.0 && d.shift.1.abs() <= 2.0)
        );
        assert!(
            draws
                .iter()
                .all(|d| d.blur.is_none_or(|s| (0.5..=1.0).contains(&s)))
        );
        assert!((share(&|d| d.stroke == Stroke::Thicken) - 0.2).abs() < 0.03);
        assert!((share(&|d| d.stroke == Stroke::Thin) - 0.2).abs() < 0.03);
        assert!((share(&|d| d.elastic.is_some()) - 0.5).abs() < 0.04);
        assert!((share(&|d| d.style.is_some()) - 0.3).abs() < 0.04);
        assert!((0..200).all(|_| augmenter.sample(&mut rng, 4).style.is_none()));
        assert!(
            draws.iter().any(|d| d.rotation > 10.0) && draws.iter().any(|d| d.rotation < -10.0)
        );
    }

    #[test]
    fn picture_faults_keep_their_ranges_and_are_off_by_default() {
        let mut rng = StdRng::seed_from_u64(3);
        let off = Augmenter::new(AugmentConfig::default(), 1);
        assert!((0..500).all(|_| {
            let d = off.sample(&mut rng, 2);
            d.low_resolution.is_none()
                && d.contrast.is_none()
                && d.noise.is_none()
                && d.salt_pepper.is_none()
                && d.jpeg.is_none()
        }));
        let config = AugmentConfig {
            low_resolution: 0.5,
            contrast: 0.5,
            noise: 0.5,
            salt_pepper: 0.5,
            jpeg: 0.5,
            ..AugmentConfig::default()
        };
        let on = Augmenter::new(config, 1);
        let draws: Vec<Distortion> = (0..2000).map(|_| on.sample(&mut rng, 2)).collect();
        let share = |f: &dyn Fn(&Distortion) -> bool| {
            draws.iter().filter(|d| f(d)).count() as f64 / draws.len() as f64
        };
        for present in [
            share(&|d| d.low_resolution.is_some()),
            share(&|d| d.contrast.is_some()),
            share(&|d| d.noise.is_some()),
            share(&|d| d.salt_pepper.is_some()),
            share(&|d| d.jpeg.is_some()),
        ] {
            assert!((present - 0.5).abs() < 0.04, "{present}");
        }
        for d in &draws {
            assert!(d.low_resolution.is_none_or(|s| (7..=16).contains(&s)));
            assert!(d.contrast.is_none_or(
                |c| (0.0..=0.4).contains(&c.background) && (0.5..=1.0).contains(&c.ink)
            ));
            assert!(d.noise.is_none_or(|s| (0.15..=0.3).contains(&s)));
            assert!(d.salt_pepper.is_none_or(|f| (0.05..=0.1).contains(&f)));
            assert!(d.jpeg.is_none_or(|q| (10..=50).contains(&q)));
        }
    }

    const EXPECTED_FIRST: (f32, f32, f32) = (-3.7889643, -14.801457, 0.9636324);
    const EXPECTED_AFTER: u64 = 14930318769753948461;

    #[test]
    fn a_config_without_picture_faults_draws_what_it_drew_before_them() {
        // The first draws of seed 5 for a 4 under the defaults, and the next number after
        // them: the picture faults, off, draw nothing, so runs made before they existed resume
        // onto the same images.
        let augmenter = Augmenter::new(AugmentConfig::default(), 1);
        let mut rng = StdRng::seed_from_u64(5);
        let first = augmenter.sample(&mut rng, 4);
        let after: u64 = rng.random();
        assert_eq!((first.rotation, first.shear, first.scale), EXPECTED_FIRST);
        assert_eq!(after, EXPECTED_AFTER);
    }

    #[test]
    fn zeros_switch_each_distortion_off() {
        let config = AugmentConfig {
            rotation: 0.0,
            scale: [1.0, 1.0],
            shear: 0.0,
            translate: 0.0,
            thicken: 0.0,
            thin: 0.0,
            blur: 0.0,
            elastic: 0.0,
            styles: 0.0,
            ..AugmentConfig::default()
        };
        let image = digit();
        assert_eq!(Augmenter::new(config, 1).distort(&image, 1, 1, 0), image);
    }
}
