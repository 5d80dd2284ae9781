"""Training and prediction throughput: SNNClassifier against skorch and plain torch.

For each network and batch size it measures training samples per second, and
the TFLOP/s that implies, for:

(a) skorch's ``NeuralNetClassifier`` around the same network, with its default
    DataLoader;
(b) a plain PyTorch loop with the data already on the device;
(c) SNNClassifier, eager, in float32;
(d) SNNClassifier with ``compile_step=True``, in float32;
(e) SNNClassifier with ``precision='bf16'`` (CUDA, or a CPU with bfloat16
    matrix instructions);
(f) SNNClassifier with both (the same devices).

Each variant trains a warm-up epoch (which pays any compile time) and then
``--repeats`` timed epochs of ``--steps`` batches. On the CPU the timed epochs
are interleaved: each round times one epoch of every variant in turn, so that
all variants meet the same conditions of a shared machine, whose speed drifts
over tens of seconds. On CUDA each variant trains its epochs in one go, so
that a compiled step captures its CUDA graph once. A variant's rate is that
of its fastest timed epoch, as ``timeit`` reports the best of its repeats: the
slower epochs measure the machine's other load. The median epoch's rate is
reported beside it. It also times ``predict_proba`` on
all rows after a warm-up call. One run prints every row side by side and writes
``benchmarks/results/throughput-<device>.md`` and ``.json``.

Defaults: 1,000,000 x 50 on the GPU; ``--quick`` runs 100,000 x 20 on the CPU
with the 4x256 network at batch sizes 256 and 1024 and variants (a) to (c).

Example::

    python benchmarks/throughput.py --quick
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from machine import machine_name
from skorch import NeuralNetClassifier
from torch import nn

from sklearn_snn import SNNClassifier
from sklearn_snn._device import cpu_has_bf16_matrix_units
from sklearn_snn._network import NetworkSpec, SELUNetwork

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PREDICT_WARMUP = 10_000
NETWORKS = {"4x256": (256,) * 4, "8x512": (512,) * 8, "8x1024": (1024,) * 8}
#: The SNNClassifier variants: key, label and parameters.
SNN_VARIANTS = [
    ("c", "(c) SNN eager", {"precision": "float32"}),
    ("d", "(d) SNN compile_step", {"compile_step": True, "precision": "float32"}),
    ("e", "(e) SNN bf16", {"precision": "bf16"}),
    ("f", "(f) SNN bf16 compile_step", {"precision": "bf16", "compile_step": True}),
]


def training_flops_per_sample(n_features, hidden, n_outputs):
    """Return forward plus backward FLOPs of one sample (6 per weight)."""
    widths = [n_features, *hidden, n_outputs]
    return 6 * sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))


def skorch_default(X, y, hidden, batch_size, device):
    """Return ``train(n_epochs)`` for skorch's default loop: each epoch's seconds."""
    net = NeuralNetClassifier(
        SELUNetwork(NetworkSpec(X.shape[1], hidden, 2, 0.05)),
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        batch_size=batch_size,
        train_split=None,
        iterator_train__shuffle=True,
        device=device,
        verbose=0,
    )

    def train(n_epochs):
        net.partial_fit(X, y, epochs=n_epochs)
        return net.history[-n_epochs:, "dur"]

    return train


def plain_torch(X, y, hidden, batch_size, device):
    """Return ``train(n_epochs)`` for a hand-written loop over data on the device."""
    module = SELUNetwork(NetworkSpec(X.shape[1], hidden, 2, 0.05)).to(device)
    optimizer = torch.optim.AdamW(module.parameters())
    X_t = torch.as_tensor(X, device=device)
    y_t = torch.as_tensor(y, device=device)
    n = len(X_t)

    def train(n_epochs):
        seconds = []
        for _epoch in range(n_epochs):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            start = time.perf_counter()
            order = torch.randperm(n, device=device)
            for first in range(0, n, batch_size):
                index = order[first : first + batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss = nn.functional.cross_entropy(module(X_t[index]), y_t[index])
                loss.backward()
                optimizer.step()
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            seconds.append(time.perf_counter() - start)
        return seconds

    return train


def snn(X, y, hidden, batch_size, device, **params):
    """Return ``train(n_epochs)`` for SNNClassifier, and the classifier.

    It trains one network (``n_estimators=1``), the same as (a) and (b). Each
    call is a warm-started fit of ``n_epochs`` epochs, which keeps the
    weights, the optimizer's state and the compiled step.
    """
    clf = SNNClassifier(
        hidden_layer_sizes=hidden,
        n_estimators=1,
        batch_size=batch_size,
        early_stopping=False,
        warm_start=True,
        device=device,
        random_state=0,
        **params,
    )

    def train(n_epochs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.set_params(max_iter=n_epochs).fit(X, y)
        return clf.net_.history[-n_epochs:, "dur"]

    return train, clf


def time_epochs(trainers, repeats, interleave):
    """Seconds of each variant's timed epochs, after a warm-up epoch of each.

    Interleaved, each of ``repeats`` rounds times one epoch of every variant
    in turn, so that the variants meet the same conditions of a shared
    machine. Otherwise each variant trains its warm-up and timed epochs in
    one go (one fit for the SNN variants, which on CUDA capture their step
    as a CUDA graph once per fit).
    """
    if not interleave:
        return {name: train(1 + repeats)[1:] for name, train in trainers.items()}
    for train in trainers.values():
        train(1)
    seconds = {name: [] for name in trainers}
    for _round in range(repeats):
        for name, train in trainers.items():
            seconds[name].extend(train(1))
    return seconds


def _ratios(row):
    """Format a row's ratios to (b) and (a), and its ratio of medians to (a)."""
    keys = ("vs_plain", "vs_skorch", "median_vs_skorch")
    return tuple(f"{row[k]:.2f}" if row[k] else "-" for k in keys)


def main(argv=None):
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--device", default=None)
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--features", type=int, default=None)
    parser.add_argument("--networks", nargs="+", choices=list(NETWORKS))
    parser.add_argument("--batch-sizes", nargs="+", type=int)
    parser.add_argument("--steps", type=int, default=None, help="batches per epoch")
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed epochs (the fastest is kept)"
    )
    parser.add_argument("--variants", nargs="+", choices=list("abcdef"))
    args = parser.parse_args(argv)

    quick = args.quick
    device = args.device or ("cpu" if quick else "cuda")
    cuda = device.startswith("cuda")
    n_rows = args.rows or (100_000 if quick else 1_000_000)
    n_features = args.features or (20 if quick else 50)
    networks = args.networks or (["4x256"] if quick else list(NETWORKS))
    batch_sizes = args.batch_sizes or ([256, 1024] if quick else [256, 1024, 4096])
    steps = args.steps or (40 if quick else 200)
    variants = args.variants or (list("abc") if quick else list("abcdef"))
    if not cuda and not cpu_has_bf16_matrix_units():
        variants = [v for v in variants if v not in "ef"]

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_rows, n_features)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.int64)

    rows = []
    header = (
        f"{'network':<8} {'batch':>6} {'variant':<26} {'samples/s':>11} "
        f"{'median':>11} {'TFLOP/s':>8} {'vs (b)':>7} {'vs (a)':>7} {'median':>7}"
    )
    print(f"{n_rows} x {n_features} on {device}: {machine_name(device)}")
    print(header)
    predict_rate = None
    for name in networks:
        hidden = NETWORKS[name]
        flops = training_flops_per_sample(n_features, hidden, 2)
        for batch_size in batch_sizes:
            n = min(n_rows, steps * batch_size)
            Xs, ys = X[:n], y[:n]
            trainers = {}
            if "a" in variants:
                trainers["(a) skorch default"] = skorch_default(
                    Xs, ys, hidden, batch_size, device
                )
            if "b" in variants:
                trainers["(b) plain torch"] = plain_torch(
                    Xs, ys, hidden, batch_size, device
                )
            clf = None
            for key, label, params in SNN_VARIANTS:
                if key in variants:
                    trainers[label], fitted = snn(
                        Xs, ys, hidden, batch_size, device, **params
                    )
                    clf = clf or fitted
            measured = time_epochs(trainers, args.repeats, interleave=not cuda)
            if predict_rate is None and clf is not None:
                clf.predict_proba(X[:PREDICT_WARMUP])
                start = time.perf_counter()
                clf.predict_proba(X)
                predict_rate = n_rows / (time.perf_counter() - start)
            best = {v: n / np.min(t) for v, t in measured.items()}
            median = {v: n / np.median(t) for v, t in measured.items()}
            plain = best.get("(b) plain torch")
            anchor = best.get("(a) skorch default")
            median_anchor = median.get("(a) skorch default")
            for variant, rate in best.items():
                row = {
                    "network": name,
                    "batch_size": batch_size,
                    "variant": variant,
                    "samples_per_s": rate,
                    "median_samples_per_s": median[variant],
                    "epoch_seconds": [float(t) for t in measured[variant]],
                    "tflops": rate * flops / 1e12,
                    "vs_plain": rate / plain if plain else None,
                    "vs_skorch": rate / anchor if anchor else None,
                    "median_vs_skorch": (
                        median[variant] / median_anchor if median_anchor else None
                    ),
                }
                rows.append(row)
                ratio_b, ratio_a, median_a = _ratios(row)
                print(
                    f"{name:<8} {batch_size:>6} {variant:<26} {rate:>11,.0f} "
                    f"{median[variant]:>11,.0f} {row['tflops']:>8.3f} "
                    f"{ratio_b:>7} {ratio_a:>7} {median_a:>7}",
                    flush=True,
                )
    if predict_rate is not None:
        print(f"predict_proba: {predict_rate:,.0f} rows/s on {n_rows} x {n_features}")

    tag = "cuda" if cuda else "cpu"
    command = "python benchmarks/throughput.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    report = {
        "machine": machine_name(device),
        "device": device,
        "rows": n_rows,
        "features": n_features,
        "steps_per_measurement": steps,
        "timed_epochs": args.repeats,
        "timed_epochs_interleaved": not cuda,
        "command": command,
        "training": rows,
        "predict_proba_rows_per_s": predict_rate,
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"throughput-{tag}.json").write_text(json.dumps(report, indent=2))
    order = "" if cuda else ", interleaved: each round times an epoch of every variant"
    lines = [
        f"# Training throughput on {device}",
        "",
        f"Machine: {report['machine']}. Data: {n_rows} x {n_features} float32; "
        f"each variant trains a warm-up epoch, then {args.repeats} timed epochs "
        f"of up to {steps} batches{order}. samples/s is the rate of its fastest timed "
        "epoch (and the ratios are of those rates); median is that of its "
        "median epoch, and the last column the ratio of medians to (a).",
        f"Command: `{command}`",
        "",
        "| network | batch | variant | samples/s | median | TFLOP/s | vs (b) "
        "| vs (a) | median vs (a) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        ratio_b, ratio_a, median_a = _ratios(row)
        lines.append(
            f"| {row['network']} | {row['batch_size']} | {row['variant']} | "
            f"{row['samples_per_s']:,.0f} | {row['median_samples_per_s']:,.0f} | "
            f"{row['tflops']:.3f} | {ratio_b} | {ratio_a} | {median_a} |"
        )
    if predict_rate is not None:
        lines += ["", f"predict_proba: {predict_rate:,.0f} rows/s on all rows."]
    (RESULTS_DIR / f"throughput-{tag}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
