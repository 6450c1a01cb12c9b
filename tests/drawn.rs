//! A held-out check of real drawing, made without MNIST: digits drawn on the `serve` page in
//! headless Chromium as pen strokes, in the styles people use (MNIST's writers rarely used
//! some of them: a 1 with a flag and a base, a crossed 7, an open 4, a 6 with a straight
//! stroke, a 9 with a straight stem, a 2 with a flat base), each drawn large, small in a
//! corner and slanted, and scored through the page's own answer for every shipped MNIST run.

mod common;

use std::f64::consts::TAU;
use std::path::Path;

use common::needs::{Need, met};
use common::page::{Browser, Server, static_site};
use common::{lstm_mnist, succeeded};
use serde_json::Value;

/// A pen stroke: points in the digit's unit box (x right, y down; digits are about 0.6 wide).
type Stroke = Vec<(f64, f64)>;

/// Points along an ellipse from `from` to `to` degrees (0 is to the right, 90 below: the
/// way round the screen's y axis turns), every 10 degrees.
fn arc(centre: (f64, f64), radii: (f64, f64), from: f64, to: f64) -> Stroke {
    let steps = ((to - from).abs() / 10.0).ceil().max(1.0) as usize;
    (0..=steps)
        .map(|i| {
            let angle = (from + (to - from) * i as f64 / steps as f64).to_radians();
            (
                centre.0 + radii.0 * angle.cos(),
                centre.1 + radii.1 * angle.sin(),
            )
        })
        .collect()
}

fn then(mut stroke: Stroke, more: &[(f64, f64)]) -> Stroke {
    stroke.extend_from_slice(more);
    stroke
}

fn joined(mut first: Stroke, second: Stroke) -> Stroke {
    first.extend(second);
    first
}

/// A vertical figure eight in one stroke.
fn eight_in_one_stroke() -> Stroke {
    (0..=48)
        .map(|i| {
            let t = TAU * f64::from(i) / 48.0;
            (0.3 + 0.26 * (2.0 * t).sin(), 0.5 - 0.48 * t.cos())
        })
        .collect()
}

/// The styles: (digit, name, strokes).
fn styles() -> Vec<(u8, &'static str, Vec<Stroke>)> {
    let nine_loop = || arc((0.3, 0.28), (0.26, 0.26), 0.0, 360.0);
    let six_loop = || arc((0.3, 0.74), (0.26, 0.25), 180.0, 540.0);
    vec![
        (0, "oval", vec![arc((0.3, 0.5), (0.28, 0.48), -90.0, 270.0)]),
        (
            0,
            "narrow",
            vec![arc((0.3, 0.5), (0.15, 0.48), -90.0, 270.0)],
        ),
        (
            0,
            "open at the top",
            vec![arc((0.3, 0.5), (0.27, 0.48), -70.0, 250.0)],
        ),
        (1, "one stroke", vec![vec![(0.3, 0.0), (0.3, 1.0)]]),
        (
            1,
            "with a flag",
            vec![vec![(0.08, 0.22), (0.35, 0.0), (0.35, 1.0)]],
        ),
        (
            1,
            "with a flag and a base",
            vec![
                vec![(0.08, 0.22), (0.35, 0.0), (0.35, 1.0)],
                vec![(0.08, 1.0), (0.62, 1.0)],
            ],
        ),
        (1, "slanted", vec![vec![(0.45, 0.0), (0.18, 1.0)]]),
        (
            1,
            "with a long flag",
            vec![vec![(0.0, 0.38), (0.4, 0.0), (0.4, 1.0)]],
        ),
        (
            2,
            "with a flat base",
            vec![then(
                arc((0.3, 0.28), (0.27, 0.26), 190.0, 400.0),
                &[(0.02, 1.0), (0.62, 1.0)],
            )],
        ),
        (
            2,
            "with a short base",
            vec![then(
                arc((0.3, 0.3), (0.26, 0.28), 180.0, 380.0),
                &[(0.05, 0.97), (0.45, 0.97)],
            )],
        ),
        (
            3,
            "two arcs",
            vec![joined(
                arc((0.28, 0.25), (0.25, 0.24), 200.0, 450.0),
                arc((0.28, 0.74), (0.29, 0.26), 270.0, 520.0),
            )],
        ),
        (
            3,
            "with a flat top",
            vec![joined(
                vec![(0.04, 0.0), (0.56, 0.0), (0.24, 0.4)],
                arc((0.28, 0.7), (0.29, 0.3), 260.0, 520.0),
            )],
        ),
        (
            4,
            "closed",
            vec![vec![(0.45, 1.0), (0.45, 0.0), (0.0, 0.65), (0.62, 0.65)]],
        ),
        (
            4,
            "open",
            vec![
                vec![(0.1, 0.0), (0.06, 0.6), (0.62, 0.6)],
                vec![(0.5, 0.05), (0.5, 1.0)],
            ],
        ),
        (
            4,
            "open and slanted",
            vec![
                vec![(0.32, 0.0), (0.04, 0.62), (0.62, 0.62)],
                vec![(0.48, 0.3), (0.48, 1.0)],
            ],
        ),
        (
            5,
            "in one stroke",
            vec![joined(
                vec![(0.56, 0.0), (0.1, 0.0), (0.07, 0.44)],
                arc((0.28, 0.7), (0.28, 0.28), 220.0, 520.0),
            )],
        ),
        (
            5,
            "with the bar last",
            vec![
                joined(
                    vec![(0.1, 0.0), (0.07, 0.44)],
                    arc((0.28, 0.7), (0.28, 0.28), 220.0, 520.0),
                ),
                vec![(0.1, 0.0), (0.58, 0.0)],
            ],
        ),
        (
            6,
            "curved",
            vec![joined(
                arc((0.42, 0.55), (0.4, 0.55), 295.0, 180.0),
                six_loop(),
            )],
        ),
        (
            6,
            "with a straight stroke",
            vec![joined(vec![(0.5, 0.0), (0.04, 0.74)], six_loop())],
        ),
        (7, "plain", vec![vec![(0.0, 0.0), (0.6, 0.0), (0.2, 1.0)]]),
        (
            7,
            "crossed",
            vec![
                vec![(0.0, 0.0), (0.6, 0.0), (0.2, 1.0)],
                vec![(0.14, 0.5), (0.56, 0.5)],
            ],
        ),
        (
            7,
            "with a curved stem",
            vec![then(
                vec![(0.0, 0.02), (0.6, 0.0)],
                &[(0.45, 0.3), (0.34, 0.6), (0.3, 1.0)],
            )],
        ),
        (
            7,
            "with a hook",
            vec![vec![(0.0, 0.16), (0.0, 0.0), (0.6, 0.0), (0.26, 1.0)]],
        ),
        (
            8,
            "two loops",
            vec![
                arc((0.3, 0.25), (0.22, 0.24), 0.0, 360.0),
                arc((0.3, 0.74), (0.28, 0.26), 0.0, 360.0),
            ],
        ),
        (8, "in one stroke", vec![eight_in_one_stroke()]),
        (
            9,
            "with a curved stem",
            vec![then(nine_loop(), &[(0.56, 0.6), (0.5, 0.85), (0.38, 1.0)])],
        ),
        (
            9,
            "with a straight stem",
            vec![then(nine_loop(), &[(0.56, 1.0)])],
        ),
        (
            9,
            "with an open loop",
            vec![then(
                arc((0.3, 0.28), (0.26, 0.26), 20.0, 330.0),
                &[(0.56, 0.2), (0.56, 1.0)],
            )],
        ),
    ]
}

/// Where and how a style is drawn on the 280-pixel pad: its centre, its height in pad pixels,
/// its slant (x shift per unit of height above the centre), its width against the style's,
/// and a turn in degrees (clockwise).
struct Placement {
    name: &'static str,
    centre: (f64, f64),
    height: f64,
    slant: f64,
    width: f64,
    turn: f64,
}

/// Six placements per style: large and upright; small in a corner (a different corner for
/// each style), leaning right; middling, leaning left; filling the pad from its top edge to
/// its bottom edge; tiny and turned; wide and turned the other way.
fn placements(style: usize) -> [Placement; 6] {
    let corners = [(70.0, 70.0), (210.0, 70.0), (70.0, 210.0), (210.0, 210.0)];
    let upright = Placement {
        name: "large",
        centre: (140.0, 140.0),
        height: 210.0,
        slant: 0.0,
        width: 1.0,
        turn: 0.0,
    };
    [
        Placement { ..upright },
        Placement {
            name: "small in a corner",
            centre: corners[style % 4],
            height: 85.0,
            slant: 0.18,
            ..upright
        },
        Placement {
            name: "middling, leaning left",
            centre: (130.0 + 10.0 * (style % 3) as f64, 150.0),
            height: 150.0,
            slant: -0.15,
            ..upright
        },
        Placement {
            name: "touching the edges",
            height: 262.0,
            slant: 0.05,
            ..upright
        },
        Placement {
            name: "tiny and turned",
            centre: corners[(style + 2) % 4],
            height: 55.0,
            turn: 15.0,
            ..upright
        },
        Placement {
            name: "wide and turned",
            centre: (145.0, 135.0),
            height: 160.0,
            width: 1.5,
            turn: -12.0,
            ..upright
        },
    ]
}

/// Draws the strokes on the pad as a mouse would: press, a move every dozen pixels, release.
fn draw(browser: &mut Browser, strokes: &[Stroke], at: &Placement) {
    let (left, top, width) = browser.pad();
    // A hand's wobble: a slow wave of up to 2% of the height across the digit.
    let wobble = |x: f64, y: f64| {
        (
            0.02 * (7.0 * y + 3.0 * x).sin(),
            0.02 * (5.0 * x - 4.0 * y).cos(),
        )
    };
    let (sin, cos) = at.turn.to_radians().sin_cos();
    let on_screen = |(x, y): (f64, f64)| {
        let (wx, wy) = wobble(x, y);
        let u = ((x + wx - 0.3) * at.width + at.slant * (0.5 - y)) * at.height;
        let v = (y + wy - 0.5) * at.height;
        let pad_x = at.centre.0 + u * cos - v * sin;
        let pad_y = at.centre.1 + u * sin + v * cos;
        (left + pad_x * width / 280.0, top + pad_y * width / 280.0)
    };
    for stroke in strokes {
        let points: Vec<(f64, f64)> = stroke.iter().copied().map(on_screen).collect();
        browser.mouse("mousePressed", points[0].0, points[0].1);
        for pair in points.windows(2) {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            let steps = ((x1 - x0).hypot(y1 - y0) / 12.0).ceil().max(1.0) as usize;
            for step in 1..=steps {
                let t = step as f64 / steps as f64;
                browser.mouse("mouseMoved", x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
            }
        }
        let last = points[points.len() - 1];
        browser.mouse("mouseReleased", last.0, last.1);
    }
}

/// The page's answer with run `run` for what the pad shows.
fn answer_with(browser: &mut Browser, run: &str) -> u64 {
    let select = format!(
        "(() => {{ const s = document.getElementById('run'); if (s.value === {run:?}) return false; \
         s.value = {run:?}; s.dispatchEvent(new Event('change')); return true; }})()"
    );
    browser.eval(&select);
    browser.settled_answer()
}

/// The runs scored: the plain and the robust LSTM, or those `LSTM_MNIST_DRAWN_RUNS` names
/// (comma-separated, or `all` for every MNIST run served; docs/handwriting.md's table is made so).
fn runs_to_score(browser: &mut Browser) -> Vec<String> {
    let wanted = std::env::var("LSTM_MNIST_DRAWN_RUNS")
        .unwrap_or_else(|_| "lstm-adam,lstm-adam-robust".into());
    if wanted != "all" {
        return wanted.split(',').map(str::to_string).collect();
    }
    let runs: Vec<Value> =
        serde_json::from_value(browser.eval("runs.filter(r => !r.classes)")).unwrap();
    runs.iter()
        .map(|run| run["name"].as_str().unwrap().to_string())
        .collect()
}

/// The drawn set's score per run on the page at `url`: (run, right, drawings, what was
/// misread).
fn drawn_scores(url: &str) -> Vec<(String, usize, usize, Vec<String>)> {
    let mut browser = Browser::open(url);
    browser.wait_for("document.body.dataset.ready === 'true'");
    let names = runs_to_score(&mut browser);
    let mut right = vec![0; names.len()];
    let mut misread: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    let mut drawings = 0;
    for (index, (digit, style, strokes)) in styles().into_iter().enumerate() {
        for placement in placements(index) {
            browser.eval("document.getElementById('clear').click()");
            draw(&mut browser, &strokes, &placement);
            drawings += 1;
            for (run, name) in names.iter().enumerate() {
                let answer = answer_with(&mut browser, name);
                if answer == u64::from(digit) {
                    right[run] += 1;
                } else {
                    misread[run].push(format!("{digit} {style}, {} -> {answer}", placement.name));
                }
            }
        }
    }
    names
        .into_iter()
        .zip(right)
        .zip(misread)
        .map(|((name, right), misread)| (name, right, drawings, misread))
        .collect()
}

#[test]
fn digits_drawn_in_people_s_styles_are_read_on_the_page() {
    if !met(
        Need::Chromium,
        "digits_drawn_in_people_s_styles_are_read_on_the_page",
    ) {
        return;
    }
    let server = Server::start();
    let scores = drawn_scores(&server.url);
    for (run, right, drawings, misread) in &scores {
        eprintln!(
            "drawn set: {run}: {right} of {drawings} ({:.1}%); misread: {}",
            100.0 * *right as f64 / *drawings as f64,
            misread.join("; ")
        );
    }
    let score = |name: &str| {
        let (_, right, drawings, _) = scores
            .iter()
            .find(|(run, ..)| run == name)
            .unwrap_or_else(|| panic!("{name} is not served"));
        *right as f64 / *drawings as f64
    };
    assert!(scores.iter().all(|(_, _, drawings, _)| *drawings >= 60));
    // Thresholds a little under what was measured (docs/handwriting.md): the
    // robust run read 164 of the 168 drawings, the plain one 160.
    assert!(score("lstm-adam-robust") >= DRAWN_ROBUST, "{scores:?}");
    assert!(score("lstm-adam") >= DRAWN_PLAIN, "{scores:?}");
    assert!(score("lstm-adam-robust") > score("lstm-adam"), "{scores:?}");

    // The static site, with the models in the browser, reads every drawing as the server does.
    if met(Need::WebBuild, "the drawn set through the static site") {
        let scratch = tempfile::tempdir().unwrap();
        let site = scratch.path().join("site");
        let runs = scores
            .iter()
            .map(|(run, ..)| Path::new("artifacts").join(run));
        let export = lstm_mnist()
            .arg("export-web")
            .args(runs)
            .arg(&site)
            .output();
        succeeded(export.unwrap());
        assert_eq!(drawn_scores(&static_site(site)), scores);
    }
}

/// The drawn set's lowest accepted scores.
const DRAWN_ROBUST: f64 = 0.97;
const DRAWN_PLAIN: f64 = 0.93;
