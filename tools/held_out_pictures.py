"""Pictures none of the project's suites or generators make, to measure the picture path on
(docs/handwriting.md, "Pictures beside the suites"), and their scores.

    python tools/held_out_pictures.py write OUT_DIR [MNIST_DIR]
    lstm-mnist predict --checkpoint artifacts/lstm-adam-robust --json OUT_DIR/scans/*.png > scans.json
    python tools/held_out_pictures.py score OUT_DIR/scans scans.json

For MNIST's own pictures the measure is agreement with the same images read as tensors:

    lstm-mnist predict --checkpoint artifacts/lstm-adam-robust --json \
        ../shared/mnist/t10k-images-idx3-ubyte.gz > idx.json
    python tools/held_out_pictures.py score OUT_DIR/mnist-png png.json idx.json

`write` makes four sets, each a folder of PNG files with `labels.txt` (the digits, in file
order):
- `scans`: scikit-learn's handwritten digits (UCI, 1,797 scans of 8x8 pixels, 16 grey
  levels, white ink on black), enlarged to 32 (bilinear), 64 (repeated pixels) or 128 pixels
  (bicubic) in turn;
- `small-light`: MNIST's first 500 test digits, 20-60 pixels, light on a dark picture of
  120-400 by 100-300 pixels;
- `mnist-png`: MNIST's 10,000 test images as 28x28 PNG files (its own form);
- `mnist-enlarged`: the first 2,000 enlarged to 280 (repeated pixels, bilinear), 100 (bicubic)
  or 224 pixels (Lanczos, RGB) in turn.

Needs numpy, Pillow and scikit-learn (its digits ship inside the package: no download).
"""

import gzip
import json
import os
import sys

import numpy as np
from PIL import Image


def mnist_test(mnist_dir):
    with gzip.open(os.path.join(mnist_dir, "t10k-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read()[16:], np.uint8).reshape(-1, 28, 28)
    with gzip.open(os.path.join(mnist_dir, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read()[8:], np.uint8)
    return images, labels


def write_set(out, name, pictures):
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    labels = []
    for i, (picture, label) in enumerate(pictures):
        picture.save(os.path.join(folder, f"{i:05d}.png"))
        labels.append(str(int(label)))
    with open(os.path.join(folder, "labels.txt"), "w") as f:
        f.write(" ".join(labels))


def scans():
    from sklearn.datasets import load_digits

    digits = load_digits()
    enlarge = [(32, Image.BILINEAR), (64, Image.NEAREST), (128, Image.BICUBIC)]
    for i, (image, label) in enumerate(zip(digits.images, digits.target)):
        side, resample = enlarge[i % 3]
        picture = Image.fromarray((image * 255 / 16).round().astype(np.uint8))
        yield picture.resize((side, side), resample), label


def small_light(images, labels):
    rng = np.random.default_rng(7)
    for i in range(500):
        width, height = int(rng.integers(120, 400)), int(rng.integers(100, 300))
        picture = np.full((height, width), int(rng.integers(0, 40)), np.uint8)
        side = int(rng.integers(20, 60))
        digit = np.array(Image.fromarray(images[i]).resize((side, side), Image.BILINEAR))
        x, y = int(rng.integers(0, width - side)), int(rng.integers(0, height - side))
        picture[y : y + side, x : x + side] = np.maximum(picture[y : y + side, x : x + side], digit)
        yield Image.fromarray(picture), labels[i]


def enlarged(images, labels):
    ways = [
        lambda p: p.resize((280, 280), Image.NEAREST),
        lambda p: p.resize((280, 280), Image.BILINEAR),
        lambda p: p.resize((100, 100), Image.BICUBIC),
        lambda p: p.convert("RGB").resize((224, 224), Image.LANCZOS),
    ]
    for i in range(2000):
        yield ways[i % 4](Image.fromarray(images[i])), labels[i]


def score(folder, predictions, tensors=None):
    labels = open(os.path.join(folder, "labels.txt")).read().split()
    read = {os.path.basename(p["path"]): p["digit"] for p in json.load(open(predictions))}
    right = sum(read.get(f"{i:05d}.png") == int(label) for i, label in enumerate(labels))
    print(f"{folder}: {right} of {len(labels)} read right ({100 * right / len(labels):.2f}%)")
    if tensors:
        idx = [p["digit"] for p in json.load(open(tensors))]
        same = sum(read.get(f"{i:05d}.png") == idx[i] for i in range(len(labels)))
        print(f"{folder}: {same} of {len(labels)} the digit read from the tensor")


def main(args):
    if len(args) >= 2 and args[0] == "write":
        out = args[1]
        images, labels = mnist_test(args[2] if len(args) > 2 else "../shared/mnist")
        write_set(out, "scans", scans())
        write_set(out, "small-light", small_light(images, labels))
        write_set(out, "mnist-png", ((Image.fromarray(im), l) for im, l in zip(images, labels)))
        write_set(out, "mnist-enlarged", enlarged(images, labels))
    elif len(args) in (3, 4) and args[0] == "score":
        score(*args[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
