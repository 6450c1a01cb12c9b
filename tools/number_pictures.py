"""Pictures of written numbers on paper, made apart from the number reader's own composer (its
training never sees a page), to measure `predict` with a number reader on (docs/numbers.md).

    python tools/number_pictures.py write OUT_DIR [MNIST_DIR]
    lstm-mnist predict --checkpoint artifacts/number-bilstm --json OUT_DIR/ruled/*.png > ruled.json
    python tools/number_pictures.py score OUT_DIR/ruled ruled.json

`write` makes six sets of 200 numbers of 2-7 of MNIST's test digits (each set its own digits,
drawn with numpy's generator seeded 48 + the set's place), each a folder of PNG files with
`labels.txt` (the numbers, one a line, in file order):
- `white-page`: dark ink on white paper, the digits 2-10 pixels apart (in MNIST's 28-pixel
  scale), the number 3-5 times enlarged;
- `ruled`: the same on ruled paper (blue lines every 12-16% of the page's height, a red margin),
  the number written across a line;
- `grey-page`: grey paper (115-160) and soft ink (55-75% dark);
- `side-light`: light falling off across the page to 50-60%;
- `small-on-large`: the number 1.5-2 times enlarged on a page of 600-900 by 450-700 pixels;
- `touching`: white paper, neighbouring digits' ink 0-3 pixels overlapping (touching).

Needs numpy and Pillow.
"""

import json
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

from held_out_pictures import mnist_test

SETS = ["white-page", "ruled", "grey-page", "side-light", "small-on-large", "touching"]
NUMBERS = 200


def strip(images, picks, gaps):
    """The digits at `picks` cut to their ink columns, side by side with `gaps` between
    (negative overlaps, the brighter ink kept), 4 black columns either side: white on black."""
    parts = []
    for i in picks:
        columns = np.where(images[i].max(0) > 0)[0]
        parts.append(images[i][:, columns.min() : columns.max() + 1].astype(np.int32))
    width = 8 + sum(p.shape[1] for p in parts) + sum(gaps)
    out = np.zeros((28, width), np.int32)
    x = 4
    for k, part in enumerate(parts):
        out[:, x : x + part.shape[1]] = np.maximum(out[:, x : x + part.shape[1]], part)
        x += part.shape[1] + (gaps[k] if k < len(gaps) else 0)
    return out.astype(np.uint8)


def page(ink, rng, kind):
    """`ink` (white on black) written in dark ink on a page of the set `kind`."""
    small = kind == "small-on-large"
    scale = rng.uniform(1.5, 2.0) if small else rng.uniform(3.0, 5.0)
    h, w = int(28 * scale), int(ink.shape[1] * scale)
    big = np.asarray(Image.fromarray(ink).resize((w, h), Image.BILINEAR), np.float32) / 255
    if small:
        height, width = int(rng.integers(450, 700)), int(rng.integers(600, 900))
    else:
        height, width = h + int(rng.integers(60, 160)), w + int(rng.integers(60, 200))
    paper = rng.uniform(115, 160) if kind == "grey-page" else rng.uniform(235, 250)
    canvas = np.full((height, width, 3), paper, np.float32)
    if kind == "ruled":
        drawing = Image.fromarray(canvas.astype(np.uint8))
        draw = ImageDraw.Draw(drawing)
        step = height * rng.uniform(0.12, 0.16)
        y = rng.uniform(0, step)
        while y < height:
            draw.line([(0, y), (width, y)], fill=(120, 160, 225), width=2)
            y += step
        margin = int(0.08 * width)
        draw.line([(margin, 0), (margin, height)], fill=(220, 90, 90), width=2)
        canvas = np.asarray(drawing, np.float32)
    top, left = int(rng.integers(0, height - h)), int(rng.integers(0, width - w))
    strength = rng.uniform(0.55, 0.75) if kind == "grey-page" else 1.0
    ink_colour = np.array([25, 25, 60], np.float32)
    alpha = (big * strength)[..., None]
    region = canvas[top : top + h, left : left + w]
    canvas[top : top + h, left : left + w] = region + (np.minimum(ink_colour, region) - region) * alpha
    if kind == "side-light":
        darkest = rng.uniform(0.5, 0.6)
        ramp = np.linspace(1.0, darkest, width)[None, :, None]
        canvas = canvas * (ramp if rng.random() < 0.5 else ramp[:, ::-1])
    canvas += rng.normal(0, 3, canvas.shape)
    return Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))


def write(out, mnist_dir):
    images, labels = mnist_test(mnist_dir)
    for place, kind in enumerate(SETS):
        rng = np.random.default_rng(48 + place)
        folder = os.path.join(out, kind)
        os.makedirs(folder, exist_ok=True)
        numbers = []
        for n in range(NUMBERS):
            count = int(rng.integers(2, 8))
            picks = rng.integers(0, len(images), count)
            if kind == "touching":
                gaps = [int(g) for g in rng.integers(-3, 1, count - 1)]
            else:
                gaps = [int(g) for g in rng.integers(2, 11, count - 1)]
            page(strip(images, picks, gaps), rng, kind).save(os.path.join(folder, f"{n:05d}.png"))
            numbers.append("".join(str(labels[i]) for i in picks))
        with open(os.path.join(folder, "labels.txt"), "w") as f:
            f.write("\n".join(numbers) + "\n")


def score(folder, predictions):
    numbers = open(os.path.join(folder, "labels.txt")).read().split()
    read = {os.path.basename(p["path"]): p["number"] for p in json.load(open(predictions))}
    right = sum(read.get(f"{i:05d}.png") == number for i, number in enumerate(numbers))
    print(f"{folder}: {right} of {len(numbers)} numbers read whole ({100 * right / len(numbers):.1f}%)")


def main(args):
    if len(args) in (2, 3) and args[0] == "write":
        write(args[1], args[2] if len(args) > 2 else "../shared/mnist")
    elif len(args) == 3 and args[0] == "score":
        score(args[1], args[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
