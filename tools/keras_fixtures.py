#!/usr/bin/env python3
"""Keras fixtures for `lstm-mnist import-keras` / `export-keras` (tests/keras.rs).

Run once, with TensorFlow installed (`pip install tensorflow-cpu==2.21.0`); the tests read what
it writes and never need TensorFlow themselves.

  tools/keras_fixtures.py make [--mnist DIR] [--out tests/fixtures/keras]
      Small Keras models of each cell (16 units, a few training steps), saved as .keras and
      legacy .h5, with Keras's probabilities on the first 20 MNIST test images; and small models
      that import-keras must refuse.
  tools/keras_fixtures.py predict-weights FILE.weights.h5 CELL HIDDEN OUT.json [--mnist DIR]
      Loads weights that `export-keras` wrote into the seed's architecture with Keras's
      `load_weights` and writes its probabilities on the same 20 images.
  tools/keras_fixtures.py seed-model OUT.keras [--mnist DIR]
      The full-size seed model (LSTM 256, Adam), one epoch; prints Keras's test accuracy.
"""

import argparse
import gzip
import json
import os
import struct
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

IMAGES = 20
CELLS = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}


def read_idx(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return np.frombuffer(data[4 + 4 * dims :], dtype=np.uint8).reshape(shape)


def find(mnist, stem):
    for name in (stem, stem + ".gz"):
        if (Path(mnist) / name).exists():
            return Path(mnist) / name
    raise SystemExit(f"{mnist}: no {stem}[.gz]")


def load_mnist(mnist):
    x_train = read_idx(find(mnist, "train-images-idx3-ubyte")).astype("float32") / 255.0
    y_train = read_idx(find(mnist, "train-labels-idx1-ubyte"))
    x_test = read_idx(find(mnist, "t10k-images-idx3-ubyte")).astype("float32") / 255.0
    y_test = read_idx(find(mnist, "t10k-labels-idx1-ubyte"))
    return x_train, y_train, x_test, y_test


def write_idx_images(path, images):
    with open(path, "wb") as f:
        f.write(struct.pack(">IIII", 0x00000803, *images.shape))
        f.write(images.astype(np.uint8).tobytes())


def sequential(keras, recurrent, dense_units=10, input_shape=(28, 28), extra=()):
    return keras.Sequential(
        [keras.Input(input_shape), recurrent, *extra,
         keras.layers.Dense(dense_units, activation="softmax", name="classifier")]
    )


def recurrent_layer(keras, cell, units, **options):
    return getattr(keras.layers, CELLS[cell])(units, name="recurrent", **options)


def write_probabilities(path, probabilities):
    rows = [[float(p) for p in row] for row in probabilities]
    Path(path).write_text(json.dumps({"probabilities": rows}) + "\n")


def make(args):
    import keras

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    x_train, y_train, x_test, _ = load_mnist(args.mnist)
    write_idx_images(out / "mnist-test-20.idx3-ubyte", (x_test[:IMAGES] * 255).round())
    keras.utils.set_random_seed(7)
    for cell in CELLS:
        model = sequential(keras, recurrent_layer(keras, cell, 16))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        # Enough steps that every weight is away from its initial value and the answers are
        # confident (a near-uniform output would hide errors in the comparison).
        model.fit(x_train[:8192], y_train[:8192], batch_size=128, epochs=3, verbose=0)
        model.save(out / f"{cell}.keras")
        model.save(out / f"{cell}.h5")
        write_probabilities(out / f"{cell}.probabilities.json", model.predict(x_test[:IMAGES], verbose=0))
    refusals = {
        "return-sequences": sequential(
            keras, recurrent_layer(keras, "lstm", 4, return_sequences=True),
            extra=[keras.layers.Flatten()]),
        "go-backwards": sequential(keras, recurrent_layer(keras, "lstm", 4, go_backwards=True)),
        "reset-before": sequential(keras, recurrent_layer(keras, "gru", 4, reset_after=False)),
        "relu": sequential(keras, recurrent_layer(keras, "rnn", 4, activation="relu")),
        "input-shape": sequential(keras, recurrent_layer(keras, "lstm", 4), input_shape=(14, 56)),
        "five-classes": sequential(keras, recurrent_layer(keras, "lstm", 4), dense_units=5),
    }
    for name, model in refusals.items():
        model.save(out / f"refuse-{name}.keras")
    print(f"wrote fixtures to {out}")


def predict_weights(args):
    import keras

    _, _, x_test, _ = load_mnist(args.mnist)
    model = sequential(keras, recurrent_layer(keras, args.cell, args.hidden))
    model.load_weights(args.weights)
    write_probabilities(args.output, model.predict(x_test[:IMAGES], verbose=0))
    print(f"wrote Keras's probabilities to {args.output}")


def seed_model(args):
    import keras

    x_train, y_train, x_test, y_test = load_mnist(args.mnist)
    keras.utils.set_random_seed(42)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.LSTM(256),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=1, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    print(f"Keras evaluate: accuracy {accuracy:.6f} ({round(accuracy * len(y_test))} of {len(y_test)}), loss {loss:.6f}")
    model.save(args.output)
    model.save(str(args.output).removesuffix(".keras") + ".h5")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", default=os.environ.get("MNIST_DIR", "../shared/mnist"))
    commands = parser.add_subparsers(dest="command", required=True)
    make_parser = commands.add_parser("make")
    make_parser.add_argument("--out", default="tests/fixtures/keras")
    predict_parser = commands.add_parser("predict-weights")
    predict_parser.add_argument("weights")
    predict_parser.add_argument("cell", choices=list(CELLS))
    predict_parser.add_argument("hidden", type=int)
    predict_parser.add_argument("output")
    seed_parser = commands.add_parser("seed-model")
    seed_parser.add_argument("output")
    args = parser.parse_args()
    {"make": make, "predict-weights": predict_weights, "seed-model": seed_model}[args.command](args)


if __name__ == "__main__":
    main()
