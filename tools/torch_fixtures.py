#!/usr/bin/env python3
"""PyTorch and ONNX Runtime fixtures and checks for `import-torch`, `export-torch` and
`export-onnx`. Run by hand, once, with torch, safetensors, onnxruntime and numpy installed;
the tests need none of them.

    python3 tools/torch_fixtures.py fixtures --mnist ../shared/mnist
        Trains a 16-unit model of each cell in PyTorch (nn.LSTM / nn.GRU / nn.RNN, 300 Adam
        steps on MNIST) and writes tests/fixtures/torch/<cell>.safetensors (its state_dict) and
        <cell>.json (its probabilities on the first 20 test images), which tests/export.rs
        imports and compares.

    python3 tools/torch_fixtures.py check --mnist ../shared/mnist --binary target/release/lstm-mnist RUN...
        Exports each run with export-torch and export-onnx, loads the state_dict into the
        module with strict=True, checks the graph with onnx.checker (full_check) and runs it
        in ONNX Runtime, and prints the largest
        difference of each from the run's own probabilities (predict --json) on 20 test images.
"""

import argparse
import gzip
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import torch
from torch import nn
from safetensors.torch import load_file, save_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "torch"
LAYERS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
PROBE = 20


class Classifier(nn.Module):
    """The module export-torch writes a state_dict of."""

    def __init__(self, cell, hidden):
        super().__init__()
        self.recurrent = LAYERS[cell](28, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, images):  # images: [N, 28, 28] in [0, 1]
        _, last = self.recurrent(images)
        hidden = last[0] if isinstance(last, tuple) else last
        return torch.softmax(self.head(hidden[-1]), dim=1)


def idx(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def mnist(directory, split):
    directory = pathlib.Path(directory)
    prefix = "train" if split == "train" else "t10k"
    images = next(directory.glob(f"{prefix}-images-idx3-ubyte*"))
    labels = next(directory.glob(f"{prefix}-labels-idx1-ubyte*"))
    return idx(images).astype(np.float32) / 255.0, idx(labels).astype(np.int64)


def fixtures(args):
    train_x, train_y = mnist(args.mnist, "train")
    test_x, _ = mnist(args.mnist, "test")
    FIXTURES.mkdir(parents=True, exist_ok=True)
    probe = torch.from_numpy(test_x[:PROBE].copy())
    for k, cell in enumerate(LAYERS):
        torch.manual_seed(k)
        model = Classifier(cell, 16)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        generator = np.random.default_rng(k)
        for _ in range(300):
            batch = generator.choice(10_000, 64, replace=False)
            probabilities = model(torch.from_numpy(train_x[batch].copy()))
            loss = nn.functional.nll_loss(torch.log(probabilities), torch.from_numpy(train_y[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            probabilities = model(probe)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, FIXTURES / f"{cell}.safetensors")
        (FIXTURES / f"{cell}.json").write_text(
            json.dumps({"cell": cell, "hidden": 16, "torch": torch.__version__,
                        "probabilities": probabilities.tolist()}) + "\n")
        print(f"{cell}: loss {loss.item():.3f}, wrote {FIXTURES / cell}.safetensors and .json")


def ours(binary, run, images):
    """The run's own probabilities on the IDX file `images`, through predict --json."""
    out = subprocess.run([binary, "predict", "--checkpoint", run, "--top", "10", "--json", images],
                         check=True, capture_output=True, text=True).stdout
    rows = []
    for picture in json.loads(out)[:PROBE]:
        row = [0.0] * 10
        for guess in picture["top"]:
            row[guess["digit"]] = guess["probability"]
        rows.append(row)
    return np.array(rows, dtype=np.float64)


def check(args):
    import onnx
    import onnxruntime

    test_x, _ = mnist(args.mnist, "test")
    images = next(pathlib.Path(args.mnist).glob("t10k-images-idx3-ubyte*"))
    probe = test_x[:PROBE].copy()
    print(f"torch {torch.__version__}, onnx {onnx.__version__} (checker: full_check), onnxruntime {onnxruntime.__version__}")
    print("| run | cell | PyTorch (strict=True) | ONNX Runtime | file sizes |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for run in args.runs:
            config = (pathlib.Path(run) / "config.toml").read_text()
            cell = next(line.split('"')[1] for line in config.splitlines() if line.startswith("cell"))
            hidden = int(next(line.split("=")[1] for line in config.splitlines() if line.startswith("hidden")))
            name = pathlib.Path(run).name
            weights, graph = f"{tmp}/{name}.safetensors", f"{tmp}/{name}.onnx"
            for command, path in (("export-torch", weights), ("export-onnx", graph)):
                subprocess.run([args.binary, command, run, path, "--overwrite"], check=True,
                               capture_output=True)
            expected = ours(args.binary, run, str(images))
            model = Classifier(cell, hidden)
            model.load_state_dict(load_file(weights), strict=True)
            model.eval()
            with torch.no_grad():
                from_torch = model(torch.from_numpy(probe)).numpy()
            onnx.checker.check_model(onnx.load(graph), full_check=True)  # raises if not valid ONNX
            session = onnxruntime.InferenceSession(graph, providers=["CPUExecutionProvider"])
            from_onnx = session.run(["probabilities"], {"images": probe})[0]
            sizes = f"{pathlib.Path(weights).stat().st_size:,} / {pathlib.Path(graph).stat().st_size:,} B"
            print(f"| `{name}` | {cell} {hidden} | {np.abs(from_torch - expected).max():.1e} "
                  f"| {np.abs(from_onnx - expected).max():.1e} | {sizes} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("fixtures")
    make.add_argument("--mnist", required=True)
    verify = commands.add_parser("check")
    verify.add_argument("--mnist", required=True)
    verify.add_argument("--binary", required=True)
    verify.add_argument("runs", nargs="+")
    args = parser.parse_args()
    {"fixtures": fixtures, "check": check}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
