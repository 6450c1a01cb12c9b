//! Pictures of results: learning curves, and the confusion matrix as a heat map with counts.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{AtFile, Result};
use crate::fsutil::write_atomic;
use crate::run_dir::{EpochLosses, EpochMetrics};

/// What drawing on the canvas can fail with (plotters' own error: a font or a coordinate
/// the backend refuses).
type DrawError = DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>;
type Drawn = std::result::Result<(), DrawError>;

/// Bitmap backends draw text with a font we ship, so plots look the same on every machine.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("the shipped font is valid"));
    });
}

/// Renders `draw` onto a `width` x `height` RGB canvas and writes it as a PNG, atomically.
fn render_png(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend, plotters::coord::Shift>) -> Drawn,
) -> Result<()> {
    register_font();
    let mut buffer = vec![0u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        root.fill(&WHITE).at(path)?;
        draw(&root).doing(path, "cannot draw")?;
        root.present().at(path)?;
    }
    let image = image::RgbImage::from_raw(width, height, buffer).expect("buffer fits the canvas");
    let mut png = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut png, image::ImageFormat::Png)
        .doing(path, "cannot encode PNG")?;
    write_atomic(path, png.get_ref())
}

/// The digit a segment's centre stands for; segment edges get no label.
fn segment_label(value: &SegmentValue<usize>, digit: impl Fn(usize) -> usize) -> String {
    match value {
        SegmentValue::CenterOf(v) => digit(*v).to_string(),
        _ => String::new(),
    }
}

/// `confusion[true][predicted]` as a 10x10 heat map, each cell labelled with its count.
pub(crate) fn confusion_png(path: &Path, confusion: &[Vec<usize>], title: &str) -> Result<()> {
    let classes = confusion.len();
    let peak = confusion
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    render_png(path, (720, 720), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(56)
            // A segmented range 0..n has n + 1 segments: 0..classes - 1 gives one per digit.
            .build_cartesian_2d(
                (0..classes - 1).into_segmented(),
                (0..classes - 1).into_segmented(),
            )?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("predicted digit")
            .y_desc("true digit")
            .x_labels(classes)
            .y_labels(classes)
            .x_label_formatter(&|v| segment_label(v, |d| d))
            .y_label_formatter(&|v| segment_label(v, |d| classes - 1 - d))
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 18))
            .draw()?;
        for (truth, row) in confusion.iter().enumerate() {
            let y = classes - 1 - truth;
            for (predicted, &count) in row.iter().enumerate() {
                let (square, label) = confusion_cell(predicted, y, count, peak);
                chart.draw_series(std::iter::once(square))?;
                chart.draw_series(std::iter::once(label))?;
            }
        }
        Ok(())
    })
}

type Cell = (SegmentValue<usize>, SegmentValue<usize>);

/// The heat map's square at column `predicted`, row `y`, and its count, shaded against the
/// largest count `peak` on a log scale (so a handful of mistakes still shows against
/// thousands).
fn confusion_cell(
    predicted: usize,
    y: usize,
    count: usize,
    peak: f64,
) -> (Rectangle<Cell>, Text<'static, Cell, String>) {
    let shade = ((count as f64 + 1.0).ln() / (peak + 1.0).ln()).clamp(0.0, 1.0);
    let fill = RGBColor(
        (255.0 * (1.0 - 0.85 * shade)) as u8,
        (255.0 * (1.0 - 0.6 * shade)) as u8,
        255,
    );
    let square = Rectangle::new(
        [
            (SegmentValue::Exact(predicted), SegmentValue::Exact(y)),
            (
                SegmentValue::Exact(predicted + 1),
                SegmentValue::Exact(y + 1),
            ),
        ],
        fill.filled(),
    );
    let ink = if shade > 0.6 { WHITE } else { BLACK };
    let label = Text::new(
        count.to_string(),
        (SegmentValue::CenterOf(predicted), SegmentValue::CenterOf(y)),
        ("sans-serif", 15)
            .into_font()
            .color(&ink)
            .pos(Pos::new(HPos::Center, VPos::Center)),
    );
    (square, label)
}

/// One run's learning curve, as drawn in a curves plot.
pub(crate) struct Curve<'a> {
    pub name: &'a str,
    pub epochs: &'a [EpochMetrics],
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
];

/// Each run's points of one quantity by epoch: training, then validation.
type Series<'a> = (&'a str, [Vec<(f64, f64)>; 2]);

/// Each curve's `pick`ed training and validation values, by epoch.
fn series<'a>(
    curves: &[Curve<'a>],
    pick: fn(&EpochMetrics) -> [Option<f64>; 2],
) -> Vec<Series<'a>> {
    curves
        .iter()
        .map(|curve| {
            let points = |split: usize| {
                curve
                    .epochs
                    .iter()
                    .filter_map(|e| pick(e)[split].map(|v| (e.epoch as f64, v)))
                    .collect()
            };
            (curve.name, [points(0), points(1)])
        })
        .collect()
}

/// The last epoch any series reaches (at least 2, for an axis).
fn last_epoch(series: &[Series]) -> usize {
    series
        .iter()
        .flat_map(|(_, splits)| splits.iter().flatten().map(|&(epoch, _)| epoch as usize))
        .max()
        .unwrap_or(1)
        .max(2)
}

/// The finite values of every series.
fn values(series: &[Series]) -> Vec<f64> {
    series
        .iter()
        .flat_map(|(_, splits)| splits.iter().flatten().map(|&(_, v)| v))
        .filter(|v| v.is_finite())
        .collect()
}

/// The top of a loss axis: a little above the largest loss.
fn loss_top(series: &[Series]) -> f64 {
    values(series).into_iter().fold(0.0, f64::max).max(0.1) * 1.05
}

/// Loss (left) and accuracy (right) per epoch of each run: training solid, validation dashed.
pub(crate) fn curves_png(path: &Path, curves: &[Curve], title: &str) -> Result<()> {
    render_png(path, (1200, 520), |root| {
        let root = root.titled(title, ("sans-serif", 24))?;
        let (left, right) = root.split_horizontally(600);
        let losses = series(curves, |e| [Some(e.train_loss), e.valid_loss]);
        let accuracies = series(curves, |e| [Some(e.train_accuracy), e.valid_accuracy]);
        let last_epoch = last_epoch(&losses);
        let min_accuracy = values(&accuracies).into_iter().fold(1.0, f64::min).min(0.9);
        draw_panel(&left, &losses, "loss", (0.0, loss_top(&losses)), last_epoch)?;
        draw_panel(
            &right,
            &accuracies,
            "accuracy",
            (min_accuracy, 1.0),
            last_epoch,
        )
    })
}

/// Number readers' CTC loss (per digit) per epoch: training solid, validation dashed.
pub(crate) fn losses_png(path: &Path, runs: &[(&str, &[EpochLosses])], title: &str) -> Result<()> {
    let losses: Vec<Series> = runs
        .iter()
        .map(|(name, epochs)| {
            let train = epochs
                .iter()
                .map(|e| (e.epoch as f64, e.train_loss))
                .collect();
            let valid = epochs
                .iter()
                .filter_map(|e| e.valid_loss.map(|v| (e.epoch as f64, v)))
                .collect();
            (*name, [train, valid])
        })
        .collect();
    render_png(path, (600, 520), |root| {
        let root = root.titled(title, ("sans-serif", 24))?;
        let top = loss_top(&losses);
        draw_panel(&root, &losses, "loss", (0.0, top), last_epoch(&losses))
    })
}

fn draw_panel(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    series: &[Series],
    quantity: &str,
    (low, high): (f64, f64),
    last_epoch: usize,
) -> Drawn {
    let mut chart = ChartBuilder::on(area)
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(1f64..last_epoch as f64, low..high)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(quantity)
        .x_labels(last_epoch.min(20))
        .x_label_formatter(&|epoch| format!("{epoch:.0}"))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .draw()?;
    for (index, (name, splits)) in series.iter().enumerate() {
        let color = PALETTE[index % PALETTE.len()];
        for (split, label) in ["train", "valid"].iter().enumerate() {
            let points = splits[split].clone();
            if points.is_empty() {
                continue;
            }
            let style = color.stroke_width(2);
            let name = format!("{name} {label}");
            let series = if split == 0 {
                chart.draw_series(LineSeries::new(points, style))
            } else {
                chart.draw_series(DashedLineSeries::new(points, 8, 5, style))
            };
            series?.label(name).legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
            });
        }
    }
    draw_legend(&mut chart, quantity)
}

type CurvesChart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The series' names, where the curves of `quantity` leave room (losses fall, accuracies rise).
fn draw_legend<'a, 'b: 'a>(chart: &mut CurvesChart<'a, 'b>, quantity: &str) -> Drawn {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .position(if quantity == "loss" {
            SeriesLabelPosition::UpperRight
        } else {
            SeriesLabelPosition::LowerRight
        })
        .draw()
}

/// Test accuracy after each row (from 1): how early each model knows the digit.
pub(crate) fn accuracy_by_row_png(path: &Path, runs: &[(&str, &[f64])], title: &str) -> Result<()> {
    render_png(path, (720, 480), |root| {
        let root = root.titled(title, ("sans-serif", 22))?;
        let rows = runs.iter().map(|(_, a)| a.len()).max().unwrap_or(2).max(2);
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(1f64..rows as f64, 0f64..1f64)?;
        chart
            .configure_mesh()
            .x_desc("rows read")
            .y_desc("test accuracy")
            .x_labels(rows / 2)
            .x_label_formatter(&|row| format!("{row:.0}"))
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .draw()?;
        for (index, (name, accuracies)) in runs.iter().enumerate() {
            let color = PALETTE[index % PALETTE.len()];
            let points = accuracies
                .iter()
                .enumerate()
                .map(|(r, &a)| ((r + 1) as f64, a));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        draw_legend(&mut chart, "accuracy")
    })
}

/// Pixels per image pixel in [`digit_grid_png`].
const GRID_ZOOM: u32 = 4;
const GRID_GAP: u32 = 8;

/// Rows of 28x28 digit images (white on black, as the model sees them) side by side under
/// column headings: one row per training image, its original first.
pub(crate) fn digit_grid_png(
    path: &Path,
    title: &str,
    headings: &[String],
    rows: &[Vec<image::GrayImage>],
) -> Result<()> {
    let cell = 28 * GRID_ZOOM;
    let (top, columns) = (60, headings.len() as u32);
    let width = GRID_GAP + columns * (cell + GRID_GAP);
    let height = top + rows.len() as u32 * (cell + GRID_GAP);
    render_png(path, (width, height), |root| {
        let text = |size| ("sans-serif", size).into_font().color(&BLACK);
        root.draw_text(title, &text(20), (GRID_GAP as i32, 8))?;
        for (column, heading) in headings.iter().enumerate() {
            let x = (GRID_GAP + column as u32 * (cell + GRID_GAP)) as i32;
            root.draw_text(heading, &text(14), (x, top as i32 - 22))?;
        }
        for (row, images) in rows.iter().enumerate() {
            for (column, image) in images.iter().enumerate() {
                let x0 = (GRID_GAP + column as u32 * (cell + GRID_GAP)) as i32;
                let y0 = (top + row as u32 * (cell + GRID_GAP)) as i32;
                for (x, y, pixel) in image.enumerate_pixels() {
                    let level = pixel.0[0];
                    let (x, y) = (x0 + (x * GRID_ZOOM) as i32, y0 + (y * GRID_ZOOM) as i32);
                    let corner = (x + GRID_ZOOM as i32, y + GRID_ZOOM as i32);
                    root.draw(&Rectangle::new(
                        [(x, y), corner],
                        RGBColor(level, level, level).filled(),
                    ))?;
                }
            }
        }
        Ok(())
    })
}
