"""The number reader's exports read as the reader does: `export-onnx`'s graph in ONNX Runtime
and `export-torch`'s state_dict in `nn.LSTM(bidirectional=True)` read pictures of written
numbers to the numbers `lstm-mnist serve` reads (decoded as it decodes: prefix beam search,
then each digit's steps by the most likely alignment), each digit's probability within the
printed difference of the server's (docs/export.md).

    lstm-mnist export-onnx artifacts/number-bilstm reader.onnx
    lstm-mnist export-torch artifacts/number-bilstm reader.safetensors
    python tools/check_number_exports.py BINARY reader.onnx reader.safetensors PICTURE.png...

It starts `BINARY serve` on a free port, asks it for each picture's strip (the `input` of
`POST /api/predict?run=number-bilstm`) and reading, and runs both exports on that strip. Needs
numpy, torch, safetensors and onnxruntime.
"""

import json
import subprocess
import sys
import urllib.request

import numpy as np
import onnxruntime
import torch
from safetensors.torch import load_file

STEP_COLUMNS, ROWS, BLANK = 2, 28, 10


class Reader(torch.nn.Module):
    def __init__(self, hidden, layers):
        super().__init__()
        self.recurrent = torch.nn.LSTM(ROWS * STEP_COLUMNS, hidden, num_layers=layers,
                                       bidirectional=True, batch_first=True)
        self.head = torch.nn.Linear(2 * hidden, BLANK + 1)

    def forward(self, steps):
        return torch.log_softmax(self.head(self.recurrent(steps)[0]), -1)


def torch_reader(path):
    state = load_file(path)
    hidden = state["recurrent.weight_hh_l0"].shape[1]
    layers = sum(1 for key in state if key.startswith("recurrent.weight_ih_l") and "reverse" not in key)
    reader = Reader(hidden, layers)
    reader.load_state_dict(state, strict=True)
    return reader.eval()


def steps_of(strip, width):
    """The strip (28 rows of `width`) as the reader's steps: two columns a step, each top down."""
    columns = np.array(strip, np.float32).reshape(ROWS, width).T
    if width % STEP_COLUMNS:
        columns = np.vstack([columns, np.zeros((1, ROWS), np.float32)])
    return columns.reshape(-1, ROWS * STEP_COLUMNS)[None]


def log_add(a, b):
    high = max(a, b)
    return high if high == -np.inf else high + np.log(np.exp(a - high) + np.exp(b - high))


def beam_search(log_probs, width=10):
    """The number prefix beam search reads (lstm_mnist_model::number::decode's digits)."""
    beams = [((), (0.0, -np.inf))]
    for row in log_probs.astype(np.float64):
        nxt = {}

        def add(prefix, blank, digit):
            old = nxt.get(prefix, (-np.inf, -np.inf))
            nxt[prefix] = (log_add(old[0], blank), log_add(old[1], digit))

        for prefix, (blank, digit) in beams:
            so_far = log_add(blank, digit)
            add(prefix, so_far + row[BLANK], -np.inf)
            if prefix:
                add(prefix, -np.inf, digit + row[prefix[-1]])
            for c in range(BLANK):
                before = blank if prefix and prefix[-1] == c else so_far
                add(prefix + (c,), -np.inf, before + row[c])
        beams = sorted(sorted(nxt.items()), key=lambda kv: -log_add(*kv[1]))[:width]
    return list(beams[0][0])


def digit_probabilities(log_probs, digits):
    """Each digit's highest probability on its steps of the most likely alignment (Viterbi)."""
    states = [BLANK]
    for d in digits:
        states += [d, BLANK]
    steps, n = len(log_probs), len(states)
    best = np.full(n, -np.inf)
    best[0] = log_probs[0][states[0]]
    if n > 1:
        best[1] = log_probs[0][states[1]]
    back = np.zeros((steps, n), int)
    for t in range(1, steps):
        now = np.full(n, -np.inf)
        for s in range(n):
            options = [s] + ([s - 1] if s >= 1 else []) + (
                [s - 2] if s >= 2 and states[s] != BLANK and states[s] != states[s - 2] else [])
            prev = max(options, key=lambda o: best[o])
            now[s], back[t][s] = best[prev] + log_probs[t][states[s]], prev
        best = now
    s = n - 2 if n > 1 and best[n - 2] > best[n - 1] else n - 1
    path = [s]
    for t in range(steps - 1, 0, -1):
        s = back[t][s]
        path.append(s)
    path.reverse()
    probability = [0.0] * len(digits)
    for t, s in enumerate(path):
        if s % 2:
            probability[s // 2] = max(probability[s // 2], float(np.exp(log_probs[t][states[s]])))
    return probability


def main(binary, onnx_file, torch_file, pictures):
    server = subprocess.Popen([binary, "serve", "--addr", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().split(" runs at ")[1].split(" ")[0]
        session = onnxruntime.InferenceSession(onnx_file)
        reader = torch_reader(torch_file)
        worst = {"onnxruntime": 0.0, "torch": 0.0}
        for picture in pictures:
            with open(picture, "rb") as f:
                request = urllib.request.Request(f"{url}api/predict?run=number-bilstm", data=f.read(), method="POST")
            served = json.load(urllib.request.urlopen(request))
            steps = steps_of(served["input"], served["input_width"])
            with torch.no_grad():
                by_torch = reader(torch.from_numpy(steps)).numpy()[0]
            by_onnx = session.run(["log_probabilities"], {"strip_steps": steps})[0][0]
            for name, log_probs in (("torch", by_torch), ("onnxruntime", by_onnx)):
                digits = beam_search(log_probs)
                number = "".join(str(d) for d in digits)
                if number != served["number"]:
                    sys.exit(f"{picture}: {name} reads {number}, the server {served['number']}")
                for p, theirs in zip(digit_probabilities(log_probs, digits), served["digits"]):
                    worst[name] = max(worst[name], abs(p - theirs["probability"]))
        print(f"{len(pictures)} pictures: ONNX Runtime and PyTorch read the server's numbers; digit "
              f"probabilities within {worst['onnxruntime']:.1e} (ONNX Runtime) and {worst['torch']:.1e} (PyTorch)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
