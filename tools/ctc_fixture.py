#!/usr/bin/env python3
"""The CTC fixture tests/ctc.rs checks Burn's CTC loss against: PyTorch's `ctc_loss` on a few
seeded logits (blank = 10, as the number reader has it; repeated digits; one input shorter than
the others). Run by hand, once, with torch installed; the tests need no PyTorch.

    python3 tools/ctc_fixture.py
        writes tests/fixtures/ctc/ctc.json: the logits [T, N, C], targets, lengths, the loss of
        each sequence, their mean as PyTorch's reduction="mean" takes it, and that mean's
        gradient with respect to the logits (through log_softmax).
"""

import json
import pathlib

import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
STEPS, CLASSES, BLANK = 12, 11, 10
TARGETS = [[7, 7, 0, 0], [1, 2, 3, 4], [5, 0, 0, 0]]
TARGET_LENGTHS = [3, 4, 1]
INPUT_LENGTHS = [12, 12, 9]


def main():
    torch.manual_seed(2006)
    logits = torch.randn(STEPS, len(TARGETS), CLASSES, dtype=torch.float64, requires_grad=True)
    log_probs = logits.log_softmax(2)
    args = (
        log_probs,
        torch.tensor(TARGETS),
        torch.tensor(INPUT_LENGTHS),
        torch.tensor(TARGET_LENGTHS),
    )
    each = torch.nn.functional.ctc_loss(*args, blank=BLANK, reduction="none")
    mean = torch.nn.functional.ctc_loss(*args, blank=BLANK, reduction="mean")
    mean.backward()
    fixture = {
        "blank": BLANK,
        "logits": logits.detach().tolist(),
        "targets": TARGETS,
        "input_lengths": INPUT_LENGTHS,
        "target_lengths": TARGET_LENGTHS,
        "losses": each.detach().tolist(),
        "mean": mean.item(),
        "mean_gradient": logits.grad.tolist(),
        "torch": torch.__version__,
    }
    out = ROOT / "tests" / "fixtures" / "ctc" / "ctc.json"
    out.write_text(json.dumps(fixture) + "\n")
    print(f"wrote {out}: losses {fixture['losses']}, mean {fixture['mean']:.6f}")


if __name__ == "__main__":
    main()
