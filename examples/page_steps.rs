//! Each step of the picture path for a picture of a page, written as pictures, to see where a
//! digit is lost: `cargo run --release --example page_steps -- PICTURE OUT_DIR`. With
//! `--render CONDITION INDEX` first, the picture is the picture suite's page of MNIST test image
//! INDEX (CONDITION as `robustness --pictures` names it, spaces as dashes: `grey-page`,
//! `ruled-lines`, …), written to OUT_DIR too.

use std::path::{Path, PathBuf};

use lstm_mnist::data::MnistData;
use lstm_mnist::data::pages::PageCondition;
use lstm_mnist::evaluation::pictures::suite_picture;
use lstm_mnist::preprocess::{over_white, page};

type Outcome<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Outcome<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (picture, out) = match args.as_slice() {
        [flag, condition, index, out] if flag == "--render" => {
            let out = PathBuf::from(out);
            (render(condition, index.parse()?, &out)?, out)
        }
        [picture, out] => (PathBuf::from(picture), PathBuf::from(out)),
        _ => return Err("usage: page_steps [--render CONDITION INDEX | PICTURE] OUT_DIR".into()),
    };
    steps(&picture, &out)
}

/// Writes MNIST test image `index` photographed under `condition` into `out`.
fn render(condition: &str, index: usize, out: &Path) -> Outcome<PathBuf> {
    let (row, condition) = PageCondition::ALL
        .into_iter()
        .enumerate()
        .find(|(_, c)| c.name().replace(' ', "-") == condition)
        .ok_or("unknown condition")?;
    let dir = std::env::var_os("MNIST_DIR").ok_or("set MNIST_DIR")?;
    let test = MnistData::load_test(Path::new(&dir))?;
    let picture = suite_picture(condition, row, test.image(index), index);
    std::fs::create_dir_all(out)?;
    let path = out.join(format!("0-picture-label-{}", test.label(index)));
    std::fs::write(&path, picture)?;
    Ok(path)
}

fn steps(picture: &Path, out: &Path) -> Outcome<()> {
    std::fs::create_dir_all(out)?;
    let gray = over_white(&image::load_from_memory(&std::fs::read(picture)?)?);
    let light = page::dark_on_light(&page::within(&gray, page::PAGE_SIDE));
    light.save(out.join("1-page.png"))?;
    let ink = page::flattened_ink(&light);
    ink.save(out.join("2-flattened-ink.png"))?;
    let level = page::ink_level(&ink);
    let inked = page::inked_mask(&ink, level);
    let shown = |mask: &image::GrayImage| {
        image::GrayImage::from_fn(mask.width(), mask.height(), |x, y| {
            image::Luma([mask.get_pixel(x, y).0[0].saturating_mul(255)])
        })
    };
    shown(&inked).save(out.join("3-inked.png"))?;
    let mut without_lines = inked.clone();
    page::remove_lines(&mut without_lines);
    shown(&without_lines).save(out.join("4-without-lines.png"))?;
    let edge = page::edge_ink(&inked, &without_lines);
    let digit = page::digit_strokes(&without_lines, &edge).ok_or("no digit")?;
    shown(&digit).save(out.join("5-digit.png"))?;
    page::stretched_ink(&ink, &digit, level).save(out.join("6-digit-ink.png"))?;
    println!("ink level {level}");
    Ok(())
}
