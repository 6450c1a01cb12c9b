#!/usr/bin/env python3
"""Our training step against PyTorch's on the same shapes, alternated in one sitting.

For each cell (LSTM, GRU, SimpleRNN): `lstm-mnist bench --cell C --batches N --json` (our
fused layer on flex), then PyTorch's own nn.LSTM / nn.GRU / nn.RNN of 256 units reading 28
rows of 28 pixels, a Linear(256, 10) head, cross-entropy and Adam, batch 128, on random
MNIST-shaped input, with torch.set_num_threads(THREADS); the median of N steps after 5 warm-up
steps. Prints one Markdown row per cell and round: ours, PyTorch's, their ratio.

    python3 -m venv /tmp/torch && /tmp/torch/bin/pip install torch
    /tmp/torch/bin/python tools/compare_pytorch.py --binary target/release/lstm-mnist

Nothing here is needed by the tests; the figures go into docs/performance.md.
"""

import argparse
import json
import statistics
import subprocess
import time

import torch

CELLS = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


def torch_step_ms(cell: str, batches: int, threads: int) -> float:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    recurrent = CELLS[cell](28, 256, batch_first=True)
    head = torch.nn.Linear(256, 10)
    params = list(recurrent.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    images = torch.rand(128, 28, 28)
    labels = torch.randint(0, 10, (128,))
    times = []
    for step in range(batches + 5):
        started = time.perf_counter()
        optimizer.zero_grad()
        out, _ = recurrent(images)
        loss = loss_fn(head(out[:, -1, :]), labels)
        loss.backward()
        optimizer.step()
        if step >= 5:
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def our_step_ms(binary: str, cell: str, batches: int) -> dict:
    out = subprocess.run(
        [binary, "bench", "--cell", cell, "--batches", str(batches), "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="target/release/lstm-mnist")
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cells", default="lstm,gru,rnn")
    args = parser.parse_args()
    print(f"PyTorch {torch.__version__}, {args.threads} threads")
    print("| cell | round | ours, step median | PyTorch | ours / PyTorch | machine |")
    print("| --- | --- | --- | --- | --- | --- |")
    for round_ in range(1, args.rounds + 1):
        for cell in args.cells.split(","):
            ours = our_step_ms(args.binary, cell, args.batches)
            theirs = torch_step_ms(cell, args.batches, args.threads)
            mine = ours["train_step_ms_median"]
            print(
                f"| {cell} | {round_} | {mine:.1f} ms | {theirs:.1f} ms | "
                f"{mine / theirs:.2f} | {ours['machine']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
