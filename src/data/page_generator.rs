//! Pages drawn from continuous random ranges: an MNIST digit written on paper and photographed,
//! with the digit's exact ink beside the picture (the generator drew it, so the ground truth
//! is exact). What varies is grouped in five families — the paper, the light, the camera, the
//! surroundings, the ink — so that a model can be trained with one family held at its plain
//! value and measured on pages where it varies: generalisation measured, not assumed.

use image::{GrayImage, Luma, Rgb, RgbImage, imageops};
use imageproc::geometric_transformations::{Border, Interpolation, Projection, warp};
use rand::Rng;
use rand::rngs::StdRng;

/// One family of the ways a photographed page varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// White to dark, coloured, textured, creased or glossy paper, and dark boards.
    Paper,
    /// Gradients and shadows, dim to bright, sensor noise, white balance.
    Light,
    /// Perspective up to steep angles, rotation, distance, blur, JPEG.
    Camera,
    /// The desk around the page, its edges, printed lines and other marks.
    Surroundings,
    /// Fine to bold strokes, pen, pencil, colours, light ink on a dark board.
    Ink,
}

impl Family {
    /// Every family, in the order reports list them.
    pub const ALL: [Family; 5] = [
        Self::Paper,
        Self::Light,
        Self::Camera,
        Self::Surroundings,
        Self::Ink,
    ];

    /// The family's name in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Paper => "paper",
            Self::Light => "light",
            Self::Camera => "camera",
            Self::Surroundings => "surroundings",
            Self::Ink => "ink",
        }
    }

    /// What varies in this family, for reports.
    pub fn ranges(self) -> &'static str {
        match self {
            Self::Paper => {
                "paper brightness 45-100%, coloured notes, texture, creases, a glossy highlight"
            }
            Self::Light => {
                "a gradient and up to two shadows (to 35% of the light), level 30-130%, \
                 white balance ±20%, sensor noise"
            }
            Self::Camera => {
                "corners moved up to 25% of the side, rotation ±15°, the digit 20-80% of the \
                 page, blur to 2 px, JPEG quality 15-95"
            }
            Self::Surroundings => {
                "the desk around the page (up to 25% each side), ruled or squared lines, other \
                 marks on the page"
            }
            Self::Ink => {
                "stroke width ×0.5-×2.5, pen colours, pencil, ink strength 45-100%, light ink \
                 on a dark board"
            }
        }
    }

    /// The family named `name`.
    pub fn from_name(name: &str) -> Option<Family> {
        Self::ALL.into_iter().find(|family| family.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Which families vary; the others are drawn at their plain values (white paper, even light,
/// a straight photograph of the page alone, a black pen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageGenerator {
    varies: [bool; 5],
}

/// A generated picture and the digit's ink in it (0 paper, 255 full ink), pixel for pixel.
pub struct GeneratedPage {
    pub picture: RgbImage,
    pub ink: GrayImage,
}

impl GeneratedPage {
    /// The picture as a PNG file, as a user would hand it over.
    pub fn png(&self) -> Vec<u8> {
        let mut bytes = std::io::Cursor::new(Vec::new());
        self.picture
            .write_to(&mut bytes, image::ImageFormat::Png)
            .expect("an RGB picture encodes");
        bytes.into_inner()
    }
}

/// How pages are measured: each family varying alone (the rest plain), then all together.
pub fn measured_generators() -> Vec<(String, String, PageGenerator)> {
    Family::ALL
        .iter()
        .map(|&family| {
            let (name, ranges) = (family.name(), family.ranges());
            (
                name.to_string(),
                ranges.to_string(),
                PageGenerator::only(family),
            )
        })
        .chain(std::iter::once((
            "all".to_string(),
            "every family at once".to_string(),
            PageGenerator::all(),
        )))
        .collect()
}

impl PageGenerator {
    /// Every family varies.
    pub fn all() -> Self {
        Self { varies: [true; 5] }
    }

    /// Every family but `held_out` varies.
    pub fn without(held_out: Family) -> Self {
        let mut generator = Self::all();
        generator.varies[held_out.index()] = false;
        generator
    }

    /// Only `family` varies.
    pub fn only(family: Family) -> Self {
        let mut generator = Self { varies: [false; 5] };
        generator.varies[family.index()] = true;
        generator
    }

    fn varies(&self, family: Family) -> bool {
        self.varies[family.index()]
    }

    /// `digit` (28x28, white on black, as MNIST stores it) written on a page and photographed;
    /// `rng` decides everything that varies.
    pub fn render(&self, digit: &[u8], rng: &mut StdRng) -> GeneratedPage {
        let paper = self.paper(rng);
        let pen = self.pen(&paper, rng);
        let page_side = rng.random_range(160..=320u32);
        let aspect = rng.random_range(0.75..=1.33f32);
        let (page_w, page_h) = (page_side, ((page_side as f32 * aspect) as u32).max(32));
        let mut page = paper.draw(page_w, page_h, rng);
        let digit_box = self.place_digit(page_w, page_h, rng);
        if self.varies(Family::Surroundings) {
            draw_printed_lines(&mut page, rng);
            draw_other_marks(&mut page, digit_box, rng);
        }
        let ink = pen.ink_mask(digit, digit_box, page_w, page_h, rng);
        pen.write(&mut page, &ink, rng);
        let (mut picture, ink) = self.photograph(&page, &ink, rng);
        self.light(&mut picture, rng);
        self.camera_finish(picture, ink, digit_box.side, rng)
    }

    fn paper(&self, rng: &mut StdRng) -> Paper {
        if !self.varies(Family::Paper) {
            return Paper::plain();
        }
        let brightness = rng.random_range(0.45..=1.0f32);
        let tint = if rng.random_bool(0.3) {
            [
                rng.random_range(0.6..=1.0),
                rng.random_range(0.6..=1.0),
                rng.random_range(0.6..=1.0),
            ]
        } else {
            let warm = rng.random_range(0.95..=1.0);
            [1.0, 1.0, warm]
        };
        Paper {
            colour: tint.map(|t| 245.0 * brightness * t),
            texture: rng.random_range(0.0..=0.06),
            creases: rng.random_range(0..=3),
            gloss: rng.random_bool(0.25),
        }
    }

    fn pen(&self, paper: &Paper, rng: &mut StdRng) -> Pen {
        if !self.varies(Family::Ink) {
            return Pen::plain();
        }
        let width = if rng.random_bool(0.5) {
            rng.random_range(0.5..=1.0)
        } else {
            rng.random_range(1.0..=2.5)
        };
        let kind = rng.random_range(0..10);
        let (colour, strength, grain, board) = match kind {
            // A light pen or chalk on a dark board: the board replaces the paper.
            0 | 1 => {
                let light = rng.random_range(180.0..=255.0);
                (
                    [light, light, light * rng.random_range(0.85..=1.0)],
                    1.0,
                    0.15,
                    true,
                )
            }
            // Pencil: grey, grainy.
            2 | 3 => {
                let grey = rng.random_range(40.0..=110.0);
                (
                    [grey, grey, grey],
                    rng.random_range(0.45..=0.8),
                    0.35,
                    false,
                )
            }
            // A coloured pen.
            4..=6 => {
                let colours = [
                    [25.0, 60.0, 200.0],
                    [200.0, 30.0, 30.0],
                    [30.0, 130.0, 50.0],
                ];
                let c = colours[rng.random_range(0..colours.len())];
                (c, rng.random_range(0.6..=1.0), 0.0, false)
            }
            // A dark pen or marker.
            _ => {
                let dark = rng.random_range(5.0..=60.0);
                ([dark, dark, dark], rng.random_range(0.7..=1.0), 0.0, false)
            }
        };
        let _ = paper;
        Pen {
            colour,
            strength,
            width,
            grain,
            board: board.then(|| {
                let dark = rng.random_range(15.0..=70.0);
                [dark, dark * rng.random_range(1.0..=1.3), dark]
            }),
        }
    }

    /// Where the digit's box lies on the page: its side a fraction of the page's shorter side.
    fn place_digit(&self, page_w: u32, page_h: u32, rng: &mut StdRng) -> DigitBox {
        let fraction = if self.varies(Family::Camera) {
            rng.random_range(0.2..=0.8)
        } else {
            rng.random_range(0.3..=0.65)
        };
        let side = ((fraction * page_w.min(page_h) as f32) as u32).max(12);
        DigitBox {
            left: rng.random_range(0..=page_w - side),
            top: rng.random_range(0..=page_h - side),
            side,
        }
    }

    /// The page seen by the camera: where its corners land in the picture (the desk around
    /// it), and the ink moved with it.
    fn photograph(
        &self,
        page: &RgbImage,
        ink: &GrayImage,
        rng: &mut StdRng,
    ) -> (RgbImage, GrayImage) {
        let (w, h) = (page.width() as f32, page.height() as f32);
        let surroundings = self.varies(Family::Surroundings);
        let camera = self.varies(Family::Camera);
        if !surroundings && !camera {
            return (page.clone(), ink.clone());
        }
        let mut inset = |side: f32| {
            if surroundings {
                rng.random_range(0.0..=0.25) * side
            } else {
                0.0
            }
        };
        let mut corners = [
            (inset(w), inset(h)),
            (w - inset(w), inset(h)),
            (w - inset(w), h - inset(h)),
            (inset(w), h - inset(h)),
        ];
        if camera {
            let angle = rng.random_range(-15.0f32..=15.0).to_radians();
            let (cx, cy) = (w / 2.0, h / 2.0);
            let steep = rng.random_range(0.0..=0.25);
            for (x, y) in &mut corners {
                let (dx, dy) = (*x - cx, *y - cy);
                let shrink = 1.0 - rng.random_range(0.0..=steep);
                *x = cx + shrink * (dx * angle.cos() - dy * angle.sin());
                *y = cy + shrink * (dx * angle.sin() + dy * angle.cos());
            }
        }
        let from = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
        let projection = Projection::from_control_points(from, corners)
            .unwrap_or_else(|| Projection::scale(1.0, 1.0));
        let desk = if surroundings {
            desk(page.width(), page.height(), rng)
        } else {
            RgbImage::from_pixel(page.width(), page.height(), Rgb([70, 62, 55]))
        };
        let mut picture = desk.clone();
        let on_page = warp_mask(page.width(), page.height(), &projection);
        let moved = warp(
            page,
            projection,
            Interpolation::Bilinear,
            Border::Constant(Rgb([0; 3])),
        );
        for ((pixel, moved), coverage) in picture
            .pixels_mut()
            .zip(moved.pixels())
            .zip(on_page.pixels())
        {
            let a = f32::from(coverage.0[0]) / 255.0;
            for c in 0..3 {
                pixel.0[c] =
                    (f32::from(pixel.0[c]) * (1.0 - a) + f32::from(moved.0[c]) * a).round() as u8;
            }
        }
        let moved_ink = warp(
            ink,
            projection,
            Interpolation::Bilinear,
            Border::Constant(Luma([0])),
        );
        (picture, moved_ink)
    }

    /// Uneven light, its level and colour, and the sensor's noise (darker pictures are
    /// noisier, as a phone's are).
    fn light(&self, picture: &mut RgbImage, rng: &mut StdRng) {
        let (w, h) = (picture.width() as f32, picture.height() as f32);
        if !self.varies(Family::Light) {
            add_noise(picture, 1.5, rng);
            return;
        }
        let level = rng.random_range(0.3..=1.3f32);
        let balance: [f32; 3] = std::array::from_fn(|_| rng.random_range(0.8..=1.2));
        let depth = rng.random_range(0.0..=0.6f32);
        let angle = rng.random_range(0.0..std::f32::consts::TAU);
        let shadows: Vec<Shadow> = (0..rng.random_range(0..=2))
            .map(|_| Shadow::random(w, h, rng))
            .collect();
        for (x, y, pixel) in picture.enumerate_pixels_mut() {
            let (u, v) = (x as f32 / w - 0.5, y as f32 / h - 0.5);
            let along = ((u * angle.cos() + v * angle.sin()) / 0.71 + 0.5).clamp(0.0, 1.0);
            let mut factor = level * (1.0 - depth * along);
            for shadow in &shadows {
                factor *= shadow.factor(x as f32, y as f32);
            }
            for (value, balance) in pixel.0.iter_mut().zip(balance) {
                *value = (f32::from(*value) * factor * balance).clamp(0.0, 255.0) as u8;
            }
        }
        let sigma = rng.random_range(0.5..=4.0) / level.min(1.0);
        add_noise(picture, sigma, rng);
    }

    /// The camera's last steps: the picture's size, blur and JPEG.
    /// The digit stays at least `MIN_DIGIT_PIXELS` across, so that the picture is legible.
    fn camera_finish(
        &self,
        picture: RgbImage,
        ink: GrayImage,
        digit_side: u32,
        rng: &mut StdRng,
    ) -> GeneratedPage {
        if !self.varies(Family::Camera) {
            return GeneratedPage { picture, ink };
        }
        let longer = picture.width().max(picture.height()) as f32;
        let smallest = (MIN_DIGIT_PIXELS * longer / digit_side as f32).ceil() as u32;
        let side = rng.random_range(smallest.clamp(28, 400)..=400u32);
        let scale = (side as f32 / longer).min(1.0);
        let (w, h) = (
            ((picture.width() as f32 * scale) as u32).max(16),
            ((picture.height() as f32 * scale) as u32).max(16),
        );
        let mut picture = imageops::resize(&picture, w, h, imageops::FilterType::Triangle);
        let ink = imageops::resize(&ink, w, h, imageops::FilterType::Triangle);
        let blur = rng.random_range(0.0..=2.0f32);
        if blur > 0.3 {
            picture = imageops::blur(&picture, blur);
        }
        if rng.random_bool(0.6) {
            picture = jpeg_round_trip(&picture, rng.random_range(15..=95));
        }
        GeneratedPage { picture, ink }
    }
}

/// The fewest pixels a generated digit spans in the picture: fewer is not legible.
const MIN_DIGIT_PIXELS: f32 = 20.0;

/// Where the digit is written on the page.
#[derive(Debug, Clone, Copy)]
struct DigitBox {
    left: u32,
    top: u32,
    side: u32,
}

struct Paper {
    colour: [f32; 3],
    texture: f32,
    creases: u32,
    gloss: bool,
}

impl Paper {
    fn plain() -> Self {
        Self {
            colour: [242.0, 242.0, 238.0],
            texture: 0.0,
            creases: 0,
            gloss: false,
        }
    }

    fn draw(&self, w: u32, h: u32, rng: &mut StdRng) -> RgbImage {
        let texture = smooth_noise(w, h, 12.0, rng);
        let creases: Vec<(f32, f32, f32, f32)> = (0..self.creases)
            .map(|_| {
                let angle = rng.random_range(0.0..std::f32::consts::PI);
                (
                    angle.cos(),
                    angle.sin(),
                    rng.random_range(0.2..=0.8) * (w as f32 * angle.cos() + h as f32 * angle.sin()),
                    rng.random_range(-0.1..=0.1),
                )
            })
            .collect();
        let gloss = self.gloss.then(|| {
            (
                rng.random_range(0.0..=w as f32),
                rng.random_range(0.0..=h as f32),
                rng.random_range(0.1..=0.4) * w.max(h) as f32,
                rng.random_range(0.2..=0.6f32),
            )
        });
        RgbImage::from_fn(w, h, |x, y| {
            let (xf, yf) = (x as f32, y as f32);
            let mut factor = 1.0 + self.texture * texture[(y * w + x) as usize];
            for &(cos, sin, offset, shade) in &creases {
                let d = xf * cos + yf * sin - offset;
                factor *= 1.0 + shade * (-d.abs() / 3.0).exp() * d.signum();
            }
            let mut colour = self.colour.map(|c| c * factor);
            if let Some((gx, gy, radius, strength)) = gloss {
                let d2 = ((xf - gx).powi(2) + (yf - gy).powi(2)) / radius.powi(2);
                let shine = strength * (-d2).exp();
                colour = colour.map(|c| c + (255.0 - c) * shine);
            }
            Rgb(colour.map(|c| c.clamp(0.0, 255.0).round() as u8))
        })
    }
}

struct Pen {
    colour: [f32; 3],
    strength: f32,
    /// Stroke width against the digit's own.
    width: f32,
    /// How grainy the strokes are (pencil, chalk).
    grain: f32,
    /// A dark board the pen writes on instead of the paper.
    board: Option<[f32; 3]>,
}

impl Pen {
    fn plain() -> Self {
        Self {
            colour: [25.0, 25.0, 25.0],
            strength: 1.0,
            width: 1.0,
            grain: 0.0,
            board: None,
        }
    }

    /// The digit's ink on the page (0-255 coverage), its strokes as wide as this pen draws.
    fn ink_mask(&self, digit: &[u8], at: DigitBox, w: u32, h: u32, rng: &mut StdRng) -> GrayImage {
        let small = GrayImage::from_raw(28, 28, digit.to_vec()).expect("a 28x28 digit");
        let mut large =
            imageops::resize(&small, at.side, at.side, imageops::FilterType::CatmullRom);
        // MNIST's strokes are about a tenth of the box's side: the pen's width changes that.
        let radius = ((self.width - 1.0) * at.side as f32 / 28.0).round() as i32;
        if radius != 0 {
            let binary = GrayImage::from_fn(at.side, at.side, |x, y| {
                Luma([u8::from(large.get_pixel(x, y).0[0] >= 128)])
            });
            let distance = imageproc::distance_transform::euclidean_squared_distance_transform(
                &if radius > 0 {
                    binary.clone()
                } else {
                    invert01(&binary)
                },
            );
            let limit = f64::from(radius.unsigned_abs());
            large = GrayImage::from_fn(at.side, at.side, |x, y| {
                let d = distance.get_pixel(x, y).0[0].sqrt();
                let inside = if radius > 0 { d <= limit } else { d > limit };
                Luma([if inside { 255 } else { 0 }])
            });
            large = imageops::blur(&large, 0.6);
        }
        let grain = smooth_noise(at.side, at.side, 1.5, rng);
        let mut ink = GrayImage::new(w, h);
        for (x, y, value) in large.enumerate_pixels() {
            let g = 1.0 - self.grain * grain[(y * at.side + x) as usize].abs();
            ink.put_pixel(
                at.left + x,
                at.top + y,
                Luma([(f32::from(value.0[0]) * g).round() as u8]),
            );
        }
        ink
    }

    /// The ink laid on the page (or the board that replaces it).
    fn write(&self, page: &mut RgbImage, ink: &GrayImage, rng: &mut StdRng) {
        if let Some(board) = self.board {
            let smudge = smooth_noise(page.width(), page.height(), 16.0, rng);
            for (i, pixel) in page.pixels_mut().enumerate() {
                pixel.0 = board.map(|c| (c * (1.0 + 0.15 * smudge[i])).clamp(0.0, 255.0) as u8);
            }
        }
        for (pixel, value) in page.pixels_mut().zip(ink.pixels()) {
            let alpha = f32::from(value.0[0]) / 255.0 * self.strength;
            for c in 0..3 {
                let ground = f32::from(pixel.0[c]);
                let ink = if self.board.is_some() {
                    self.colour[c]
                } else {
                    self.colour[c].min(ground)
                };
                pixel.0[c] = (ground + (ink - ground) * alpha).round() as u8;
            }
        }
    }
}

fn invert01(mask: &GrayImage) -> GrayImage {
    GrayImage::from_fn(mask.width(), mask.height(), |x, y| {
        Luma([1 - mask.get_pixel(x, y).0[0]])
    })
}

/// A shadow across the picture: a soft disc (a hand, a phone) or a soft-edged half-plane.
struct Shadow {
    centre: (f32, f32),
    radius: f32,
    depth: f32,
    /// For a half-plane: its normal; its edge runs through `centre`.
    normal: Option<(f32, f32)>,
}

impl Shadow {
    fn random(w: f32, h: f32, rng: &mut StdRng) -> Self {
        let angle = rng.random_range(0.0..std::f32::consts::TAU);
        Self {
            centre: (rng.random_range(0.0..=w), rng.random_range(0.0..=h)),
            radius: rng.random_range(0.1..=0.5) * w.max(h),
            depth: rng.random_range(0.2..=0.65),
            normal: rng.random_bool(0.5).then(|| (angle.cos(), angle.sin())),
        }
    }

    fn factor(&self, x: f32, y: f32) -> f32 {
        let (dx, dy) = (x - self.centre.0, y - self.centre.1);
        let shade = match self.normal {
            Some((nx, ny)) => 1.0 / (1.0 + (-(dx * nx + dy * ny) / (0.05 * self.radius)).exp()),
            None => (-(dx * dx + dy * dy) / self.radius.powi(2)).exp(),
        };
        1.0 - self.depth * shade
    }
}

/// A desk or table: a colour from dark to light, with grain.
fn desk(w: u32, h: u32, rng: &mut StdRng) -> RgbImage {
    let base: [f32; 3] = std::array::from_fn(|_| rng.random_range(20.0..=230.0));
    let grain = smooth_noise(w, h, rng.random_range(2.0..=20.0), rng);
    let amount = rng.random_range(0.0..=0.25);
    RgbImage::from_fn(w, h, |x, y| {
        let f = 1.0 + amount * grain[(y * w + x) as usize];
        Rgb(base.map(|c| (c * f).clamp(0.0, 255.0) as u8))
    })
}

/// Ruled or squared lines across the page, printed before the digit was written.
fn draw_printed_lines(page: &mut RgbImage, rng: &mut StdRng) {
    let kind = rng.random_range(0..3);
    if kind == 0 {
        return;
    }
    let (w, h) = page.dimensions();
    let spacing = rng.random_range(0.04..=0.12) * w.min(h) as f32;
    let thickness = rng.random_range(1..=2);
    let colour: [f32; 3] = std::array::from_fn(|_| rng.random_range(90.0..=220.0));
    let darkness = rng.random_range(0.3..=0.9);
    let offset = rng.random_range(0.0..spacing);
    let on_line = |at: u32| ((at as f32 - offset).rem_euclid(spacing)) < thickness as f32;
    for (x, y, pixel) in page.enumerate_pixels_mut() {
        if on_line(y) || (kind == 2 && on_line(x)) {
            for (value, colour) in pixel.0.iter_mut().zip(colour) {
                let ground = f32::from(*value);
                *value = (ground + (colour.min(ground) - ground) * darkness) as u8;
            }
        }
    }
}

/// Stray marks on the page away from the digit: strokes and dots, kept clear of the digit by
/// half its size (a stroke beside a digit would make another character of it).
fn draw_other_marks(page: &mut RgbImage, digit: DigitBox, rng: &mut StdRng) {
    let (w, h) = page.dimensions();
    let keep_clear = (digit.side / 2) as i32;
    for _ in 0..rng.random_range(0..=4) {
        let (x0, y0) = (rng.random_range(0..w), rng.random_range(0..h));
        let length = rng.random_range(0.05..=0.3) * w as f32;
        let angle = rng.random_range(0.0..std::f32::consts::TAU);
        let thickness = rng.random_range(1.0..=4.0f32);
        let dark = rng.random_range(10.0..=120.0);
        let steps = (length * 2.0) as u32;
        for step in 0..steps {
            let t = step as f32 / 2.0;
            let (cx, cy) = (x0 as f32 + t * angle.cos(), y0 as f32 + t * angle.sin());
            for dy in -(thickness as i32)..=thickness as i32 {
                for dx in -(thickness as i32)..=thickness as i32 {
                    let (x, y) = (cx as i32 + dx, cy as i32 + dy);
                    let inside_digit = x >= digit.left as i32 - keep_clear
                        && y >= digit.top as i32 - keep_clear
                        && x <= (digit.left + digit.side) as i32 + keep_clear
                        && y <= (digit.top + digit.side) as i32 + keep_clear;
                    if x < 0 || y < 0 || x >= w as i32 || y >= h as i32 || inside_digit {
                        continue;
                    }
                    if (dx * dx + dy * dy) as f32 <= thickness * thickness / 2.0 {
                        page.put_pixel(x as u32, y as u32, Rgb([dark as u8; 3]));
                    }
                }
            }
        }
    }
}

/// How much of each picture pixel the page covers once moved by `projection`.
fn warp_mask(w: u32, h: u32, projection: &Projection) -> GrayImage {
    let full = GrayImage::from_pixel(w, h, Luma([255]));
    warp(
        &full,
        *projection,
        Interpolation::Bilinear,
        Border::Constant(Luma([0])),
    )
}

/// Smooth noise in [-1, 1]: random values on a grid `cell` pixels apart, interpolated.
fn smooth_noise(w: u32, h: u32, cell: f32, rng: &mut StdRng) -> Vec<f32> {
    let (gw, gh) = ((w as f32 / cell) as u32 + 2, (h as f32 / cell) as u32 + 2);
    let grid: Vec<f32> = (0..gw * gh).map(|_| rng.random_range(-1.0..=1.0)).collect();
    let mut values = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            let (gx, gy) = (x as f32 / cell, y as f32 / cell);
            let (ix, iy) = (gx as u32, gy as u32);
            let (fx, fy) = (gx - ix as f32, gy - iy as f32);
            let at = |i: u32, j: u32| grid[(j.min(gh - 1) * gw + i.min(gw - 1)) as usize];
            let top = at(ix, iy) * (1.0 - fx) + at(ix + 1, iy) * fx;
            let bottom = at(ix, iy + 1) * (1.0 - fx) + at(ix + 1, iy + 1) * fx;
            values.push(top * (1.0 - fy) + bottom * fy);
        }
    }
    values
}

fn add_noise(picture: &mut RgbImage, sigma: f32, rng: &mut StdRng) {
    let seed = rng.random();
    *picture = imageproc::noise::gaussian_noise(picture, 0.0, f64::from(sigma), seed);
}

fn jpeg_round_trip(picture: &RgbImage, quality: u8) -> RgbImage {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(picture)
        .expect("an RGB picture encodes");
    image::load_from_memory(&bytes)
        .expect("its own JPEG decodes")
        .to_rgb8()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A 28x28 ring, white on black, as MNIST stores a 0.
    fn zero() -> Vec<u8> {
        (0..784)
            .map(|i| {
                let (x, y) = ((i % 28) as f32 - 13.5, (i / 28) as f32 - 13.5);
                let r = (x * x + y * y).sqrt();
                if (r - 7.0).abs() < 1.8 { 255 } else { 0 }
            })
            .collect()
    }

    #[test]
    fn the_same_seed_draws_the_same_page() {
        let draw = |seed| PageGenerator::all().render(&zero(), &mut StdRng::seed_from_u64(seed));
        let (a, b, c) = (draw(7), draw(7), draw(8));
        assert_eq!(a.picture, b.picture);
        assert_eq!(a.ink, b.ink);
        assert_ne!(a.picture, c.picture);
    }

    #[test]
    fn the_ink_lies_where_the_digit_is_drawn_and_nowhere_else() {
        for seed in 0..40 {
            let page = PageGenerator::all().render(&zero(), &mut StdRng::seed_from_u64(seed));
            assert_eq!(page.picture.dimensions(), page.ink.dimensions());
            let inked = page.ink.pixels().filter(|p| p.0[0] > 128).count();
            let area = page.ink.len();
            assert!(inked > 0, "seed {seed}: no ink");
            assert!(
                inked < area / 3,
                "seed {seed}: ink over a third of the picture"
            );
        }
    }

    #[test]
    fn a_plain_page_is_white_paper_with_dark_ink() {
        let mut plain = PageGenerator::all();
        plain.varies = [false; 5];
        let page = plain.render(&zero(), &mut StdRng::seed_from_u64(3));
        let mean = |inked: bool| {
            let values: Vec<f32> = page
                .picture
                .pixels()
                .zip(page.ink.pixels())
                .filter(|(_, ink)| (ink.0[0] > 200) == inked && (ink.0[0] < 10 || inked))
                .map(|(p, _)| p.0.iter().map(|&c| f32::from(c)).sum::<f32>() / 3.0)
                .collect();
            values.iter().sum::<f32>() / values.len() as f32
        };
        assert!(mean(false) > 220.0, "paper {}", mean(false));
        assert!(mean(true) < 60.0, "ink {}", mean(true));
    }

    #[test]
    fn a_held_out_family_stays_plain() {
        // Without the ink family, ink is always darker than the paper around it.
        let generator = PageGenerator::without(Family::Ink);
        for seed in 0..20 {
            let page = generator.render(&zero(), &mut StdRng::seed_from_u64(seed));
            let luminance = |p: &Rgb<u8>| p.0.iter().map(|&c| f32::from(c)).sum::<f32>();
            let (mut ink, mut paper, mut n_ink, mut n_paper) = (0.0, 0.0, 0, 0);
            for (p, v) in page.picture.pixels().zip(page.ink.pixels()) {
                if v.0[0] > 200 {
                    (ink, n_ink) = (ink + luminance(p), n_ink + 1);
                } else if v.0[0] == 0 {
                    (paper, n_paper) = (paper + luminance(p), n_paper + 1);
                }
            }
            if n_ink > 0 {
                assert!(ink / n_ink as f32 <= paper / n_paper as f32, "seed {seed}");
            }
        }
        assert_eq!(
            Family::from_name("surroundings"),
            Some(Family::Surroundings)
        );
        assert_eq!(Family::from_name("weather"), None);
    }
}
