#!/usr/bin/env python3
"""PyTorch's time for one training epoch of the number reader, to set beside ours
(docs/numbers.md): the same model (2 bidirectional LSTMs of 128 units each way over steps of 2
columns of 28 pixels, Linear(256, 11), log_softmax, CTC loss with blank 10 and reduction
"mean", Adam lr 0.001), the same batch (64, numbers of similar width together, padded with
black), 60,000 numbers of 1-8 MNIST training digits composed as data::numbers composes them
(each cut to its ink, scaled 0.7-1.05, moved up or down 2 rows, gaps of 1-12 columns or, one
in five, -4 to 0; margins 2-8), then the validation pass over 2,000 numbers; with
torch.set_num_threads(THREADS). Ours: `lstm-mnist train --config configs/number-bilstm.toml
--epochs 1` prints its epoch time.

    python3 tools/compare_pytorch_numbers.py --mnist ../shared/mnist --threads 2

Nothing here is needed by the tests.
"""

import argparse
import gzip
import os
import time

import numpy as np
import torch
from PIL import Image


def compose(images, labels, rng):
    count = int(rng.integers(1, 9))
    picks = rng.integers(0, len(images), count)
    glyphs = []
    for i in picks:
        image = images[i]
        rows, cols = np.where(image.max(1) > 0)[0], np.where(image.max(0) > 0)[0]
        ink = image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        scale = rng.uniform(0.7, 1.05)
        h = min(28, max(1, round(ink.shape[0] * scale)))
        w = max(1, round(ink.shape[1] * scale))
        ink = np.asarray(Image.fromarray(ink).resize((w, h), Image.BILINEAR))
        centre = 14 + int(rng.integers(-2, 3))
        glyphs.append((ink, min(max(centre - h // 2, 0), 28 - h)))
    gaps = [int(rng.integers(-4, 1)) if rng.random() < 0.2 else int(rng.integers(1, 13)) for _ in glyphs[1:]]
    left, right = int(rng.integers(2, 9)), int(rng.integers(2, 9))
    at = [left]
    for (ink, _), gap in zip(glyphs, gaps):
        at.append(at[-1] + ink.shape[1] + gap)
    width = at[len(glyphs) - 1] + glyphs[-1][0].shape[1] + right
    strip = np.zeros((28, width), np.float32)
    for (ink, top), x in zip(glyphs, at):
        region = strip[top : top + ink.shape[0], x : x + ink.shape[1]]
        np.maximum(region, ink[:, : region.shape[1]] / 255.0, out=region)
    return strip, labels[picks]


def batch(numbers):
    steps = max((s.shape[1] + 1) // 2 for s, _ in numbers)
    x = np.zeros((len(numbers), steps, 56), np.float32)
    for b, (strip, _) in enumerate(numbers):
        columns = strip.T.reshape(-1)
        x[b].reshape(-1)[: columns.size] = columns
    most = max(len(d) for _, d in numbers)
    targets = np.zeros((len(numbers), most), np.int64)
    for b, (_, digits) in enumerate(numbers):
        targets[b, : len(digits)] = digits
    lengths = [len(d) for _, d in numbers]
    return torch.from_numpy(x), torch.from_numpy(targets), torch.tensor([steps] * len(numbers)), torch.tensor(lengths)


class Reader(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(56, 128, num_layers=2, bidirectional=True, batch_first=True)
        self.head = torch.nn.Linear(256, 11)

    def forward(self, x):
        return self.head(self.lstm(x)[0]).log_softmax(2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mnist", default="../shared/mnist")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--numbers", type=int, default=60000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with gzip.open(os.path.join(args.mnist, "train-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read()[16:], np.uint8).reshape(-1, 28, 28)
    with gzip.open(os.path.join(args.mnist, "train-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read()[8:], np.uint8)
    rng = np.random.default_rng(7)
    numbers = [compose(images, labels, rng) for _ in range(args.numbers + 2000)]
    train, valid = numbers[: args.numbers], numbers[args.numbers :]
    batches = []
    for start in range(0, len(train), 64 * 16):
        group = sorted(train[start : start + 64 * 16], key=lambda n: n[0].shape[1])
        batches += [batch(group[i : i + 64]) for i in range(0, len(group), 64)]
    order = rng.permutation(len(batches))
    model = Reader()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    ctc = torch.nn.CTCLoss(blank=10, reduction="mean")
    started = time.perf_counter()
    for b in order:
        x, targets, input_lengths, target_lengths = batches[b]
        optimizer.zero_grad()
        loss = ctc(model(x).transpose(0, 1), targets, input_lengths, target_lengths)
        loss.backward()
        optimizer.step()
    trained = time.perf_counter() - started
    with torch.no_grad():
        for i in range(0, len(valid), 256):
            x, targets, input_lengths, target_lengths = batch(valid[i : i + 256])
            ctc(model(x).transpose(0, 1), targets, input_lengths, target_lengths)
    total = time.perf_counter() - started
    print(f"PyTorch {torch.__version__}, {args.threads} threads: epoch of {len(train)} numbers "
          f"{trained:.1f} s, with validation {total:.1f} s; last loss {loss.item():.3f}")


if __name__ == "__main__":
    main()
