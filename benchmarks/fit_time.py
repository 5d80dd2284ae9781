"""Whole-fit wall time: SNNClassifier against the skorch net a user would write.

``throughput.py`` compares the epochs of a training loop (skorch's history
``dur``), after a warm-up epoch. A user times ``fit``: that also holds what a
fit does once (standardizing, copying the data, building the network and, with
``compile_step=True``, compiling the step), which short fits do not amortize.
This script times whole fits of a few epochs, as a user would, against a lean
skorch net: ``NeuralNetClassifier`` around the same 4x256 SELU network, with
Adam, ``train_split=None``, shuffled batches of 256 and nothing else.

Protocol (fixed): 100,000 x 20 float32 rows, 2 epochs, batch 256, on the CPU;
each variant is fitted once per round, the rounds interleave the variants,
and a variant's time is its fastest round. The ensemble's time is also given
per member, and once more with torch's per-tensor AdamW instead of the
fused one, which the CPU used before.

Example::

    python benchmarks/fit_time.py --rounds 2
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from machine import machine_name
from skorch import NeuralNetClassifier
from torch import nn

from sklearn_snn import SNNClassifier
from sklearn_snn._network import NetworkSpec, SELUNetwork
from sklearn_snn._training import _fit

RESULTS = Path(__file__).resolve().parent / "results" / "fit-time-cpu.md"
HIDDEN = (256, 256, 256, 256)


def lean_skorch(X, y, epochs, batch_size):
    """Fit the skorch net a user would write around the same network."""
    net = NeuralNetClassifier(
        SELUNetwork(NetworkSpec(X.shape[1], HIDDEN, 2, 0.05)),
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        batch_size=batch_size,
        max_epochs=epochs,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
    )
    net.fit(X, y)


def snn(X, y, epochs, batch_size, **params):
    """Fit SNNClassifier for ``epochs`` epochs, without early stopping."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SNNClassifier(
            hidden_layer_sizes=HIDDEN,
            batch_size=batch_size,
            max_iter=epochs,
            early_stopping=False,
            device="cpu",
            random_state=0,
            **params,
        ).fit(X, y)


def snn_per_tensor_adamw(X, y, epochs, batch_size, **params):
    """:func:`snn` with torch's per-tensor AdamW, the CPU's before the fused one."""
    fused = _fit._uses_fused_optimizer
    _fit._uses_fused_optimizer = lambda compile_step, device: compile_step
    try:
        snn(X, y, epochs, batch_size, **params)
    finally:
        _fit._uses_fused_optimizer = fused


VARIANTS = {
    "lean skorch net": (lean_skorch, {}, 1),
    "SNNClassifier, n_estimators=1": (snn, {"n_estimators": 1}, 1),
    "SNNClassifier, n_estimators=1, compile_step=True": (
        snn,
        {"n_estimators": 1, "compile_step": True},
        1,
    ),
    "SNNClassifier, default ensemble of 4 (per member)": (snn, {}, 4),
    "the same, per-tensor AdamW (per member)": (snn_per_tensor_adamw, {}, 4),
}


def main(argv=None):
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, args.features)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.int64)
    seconds = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, (fit, params, _members) in VARIANTS.items():
            start = time.perf_counter()
            fit(X, y, args.epochs, args.batch_size, **params)
            seconds[name].append(time.perf_counter() - start)

    baseline = min(seconds["lean skorch net"])
    lines = [
        "# Whole-fit wall time against a lean skorch net",
        "",
        f"Machine: {machine_name('cpu')}.",
        f"{args.rows} x {args.features} float32, {args.epochs} epochs, batch "
        f"{args.batch_size}, fastest of {args.rounds} interleaved rounds.",
        f"Command: `python benchmarks/fit_time.py --rounds {args.rounds}`",
        "",
        "| variant | fit (s), fastest | rounds (s) | speed against the skorch net |",
        "| --- | --- | --- | --- |",
    ]
    for name, (_function, _params, members) in VARIANTS.items():
        best = min(seconds[name]) / members
        rounds = ", ".join(f"{s:.2f}" for s in seconds[name])
        lines.append(f"| {name} | {best:.2f} | {rounds} | {baseline / best:.2f}x |")
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
