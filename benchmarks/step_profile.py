"""Where the time of a default fit's training step goes, on the CPU.

On the study's small tables a fit is mostly optimizer steps of one or two
batches an epoch, so the median fit time is set by the cost of one step of
the default ensemble (4 members of 4x256), whatever the rows. This script
fits the default estimator on synthetic data for a fixed number of epochs
under ``torch.profiler`` and sorts the self time of torch's operators into
the parts of a step: the matrix products, SELU forward and backward, the
fused AdamW update, the moving average of the weights, the bf16 casts of
autocast, and the rest (the periodic embedding, the loss, small kernels).
It prints milliseconds per optimizer step for each part, at each number of
training rows, and the whole fit's wall time per step beside them, which
adds Python's and skorch's overhead and the validation pass.

A second table times single elementwise kernels on one hidden layer's
activations at batch 256 (4 x 256 x 256): SELU forward and backward
against the passes that a SELU built from ``exp`` would need, which is how
one can tell whether such a rewrite could be faster.

Protocol (fixed): ``SNNRegressor`` with its defaults and ``max_iter=50``,
with ``n_iter_no_change=50`` so that every fit trains the 50 epochs (with
its validation pass, and a copy of the weights at each best epoch, as a
default fit has), after one warm-up fit; synthetic data of 10 features, one
torch thread.

Example::

    OMP_NUM_THREADS=1 python benchmarks/step_profile.py --rows 100 250 500 1000
"""

import argparse
import time
import timeit
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from machine import machine_name, write_result
from torch.profiler import ProfilerActivity, profile

from sklearn_snn import SNNRegressor

RESULTS = Path(__file__).resolve().parent / "results" / "step-profile-cpu.md"
EPOCHS = 50

#: The part of a step that each of torch's operators belongs to.
PARTS = {
    "matrix products": ("aten::bmm", "aten::baddbmm", "aten::addmm", "aten::mm"),
    "SELU": ("aten::elu_", "aten::elu", "aten::elu_backward"),
    "AdamW": ("aten::_fused_adamw_",),
    "weight average": ("aten::lerp_", "aten::_foreach_lerp_"),
    "casts and copies": ("aten::copy_", "aten::_to_copy", "aten::clone"),
}


def profile_fit(n_rows, seed=0):
    """Return ``({part: self ms}, wall seconds, optimizer steps)`` of one fit."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 10)).astype(np.float32)
    y = X[:, 0] - 2 * X[:, 1] ** 2 + 0.1 * rng.normal(size=n_rows)
    params = dict(random_state=seed, max_iter=EPOCHS, n_iter_no_change=EPOCHS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SNNRegressor(**{**params, "max_iter": 2}).fit(X, y)
        start = time.perf_counter()
        model = SNNRegressor(**params).fit(X, y)
        wall = time.perf_counter() - start
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            SNNRegressor(**params).fit(X, y)
    steps = sum(epoch["train_batch_count"] for epoch in model.net_.history)
    parts = dict.fromkeys([*PARTS, "other"], 0.0)
    for event in prof.key_averages():
        part = next((p for p, ops in PARTS.items() if event.key in ops), None)
        if part is None and not event.key.startswith("aten::"):
            continue
        parts[part or "other"] += event.self_cpu_time_total / 1000
    return parts, wall, steps


def elementwise_costs(dtype, repeats=200):
    """Return ``{kernel: microseconds}`` on a 4 x 256 x 256 tensor of ``dtype``."""
    x = torch.randn(4, 256, 256).to(dtype)
    grad = torch.randn_like(x)
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    kernels = {
        "SELU": lambda: F.selu(x),
        "SELU backward": lambda: torch.ops.aten.elu_backward(
            grad, alpha, scale, 1.0, False, x
        ),
        "exp": lambda: torch.exp(x),
        "clamp_max": lambda: x.clamp_max(0.0),
        "relu": lambda: torch.relu(x),
        "x > 0": lambda: x > 0,
        "where": lambda: torch.where(x > 0, x, grad),
        "multiply": lambda: x * grad,
    }
    return {
        name: min(timeit.repeat(kernel, number=repeats, repeat=3)) / repeats * 1e6
        for name, kernel in kernels.items()
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100, 250, 500, 1000])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    header = ["rows given to fit", *PARTS, "other", "operators, total", "whole fit"]
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    for n_rows in args.rows:
        parts, wall, steps = profile_fit(n_rows)
        per_step = [ms / steps for ms in parts.values()]
        cells = [f"{ms:.2f}" for ms in per_step]
        cells += [f"{sum(per_step):.2f}", f"{wall * 1000 / steps:.2f}"]
        lines.append(f"| {n_rows} | " + " | ".join(cells) + " |")
    dtypes = (torch.bfloat16, torch.float32)
    costs = {dtype: elementwise_costs(dtype) for dtype in dtypes}
    kernels = list(costs[torch.bfloat16])
    lines += [
        "",
        "Microseconds per elementwise kernel on a 4 x 256 x 256 tensor, fastest of "
        "three repeats:",
        "",
        "| dtype | " + " | ".join(kernels) + " |",
        "| --- | " + " | ".join("---" for _ in kernels) + " |",
    ]
    for dtype, times in costs.items():
        cells = " | ".join(f"{times[name]:.0f}" for name in kernels)
        lines.append(f"| {str(dtype).removeprefix('torch.')} | {cells} |")
    write_result(
        RESULTS,
        "Milliseconds per optimizer step of the default regressor, by part",
        f"Machine: {machine_name()}. `SNNRegressor()` defaults, {EPOCHS} epochs "
        "(patience of as many), 10 synthetic features; self time of torch's "
        "operators under torch.profiler, and the unprofiled fit's wall time, "
        "per step. Command: `OMP_NUM_THREADS=1 python benchmarks/step_profile.py "
        f"--rows {' '.join(map(str, args.rows))}`",
        lines,
    )


if __name__ == "__main__":
    main()
