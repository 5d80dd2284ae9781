"""Peak extra host memory of predicting 5,000,000 rows x 20 features.

Each measurement runs in a fresh subprocess: fit a small model on 2,000 rows,
build the 5,000,000-row input, reset the peak resident set size
(``VmHWM``, through ``/proc/self/clear_refs``) and read it after one predict
call. The extra peak is compared
with the size of the returned output and of one prediction batch (inputs and
activations of ``PREDICT_BATCH_SIZE`` rows).

Usage::

    python benchmarks/predict_memory.py [--rows 5000000] [--out FILE]
"""

import argparse
import json
import platform
import subprocess
import sys
import textwrap
import time

MEASURE = textwrap.dedent(
    """
    import json, sys, time, warnings
    import numpy as np
    from sklearn_snn import SNNClassifier, SNNRegressor
    from sklearn_snn._training import PREDICT_BATCH_SIZE

    kind, method, dtype, n_rows, n_features, hidden = json.loads(sys.argv[1])
    rng = np.random.default_rng(0)
    X_small = rng.normal(size=(2000, n_features))
    y_small = X_small[:, 0] > 0 if kind == "classifier" else X_small[:, 0]
    Estimator = SNNClassifier if kind == "classifier" else SNNRegressor
    params = dict(hidden_layer_sizes=tuple(hidden), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Estimator(**params).fit(X_small, y_small)
    X = rng.standard_normal(size=(n_rows, n_features), dtype=dtype)

    def status_mib(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 2**10

    # Reset the peak RSS (VmHWM) to the current RSS, so that the peak measured
    # after predict is the peak of predict alone (Linux >= 4.0).
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status_mib("VmRSS")
    assert abs(status_mib("VmHWM") - before) < 1, "peak RSS was not reset"
    start = time.perf_counter()
    output = getattr(model, method)(X)
    seconds = time.perf_counter() - start
    peak_after = status_mib("VmHWM")
    widths = [n_features, *hidden, model.net_.module_.spec.n_outputs]
    batch = PREDICT_BATCH_SIZE * (2 * n_features + 2 * sum(widths)) * 8 / 2**20
    print(json.dumps({
        "estimator": kind, "method": method, "X dtype": dtype,
        "X MiB": X.nbytes / 2**20, "output MiB": output.nbytes / 2**20,
        "batch MiB": batch,
        "peak extra MiB": peak_after - before,
        "seconds": seconds,
    }))
    """
)

CASES = [
    ("regressor", "predict", "float64"),
    ("regressor", "predict", "float32"),
    ("classifier", "predict", "float64"),
    ("classifier", "predict_proba", "float64"),
]


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return platform.processor()
    for line in out.splitlines():
        if line.startswith("Model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 64])
    parser.add_argument("--out", default=None, help="write a markdown report here")
    args = parser.parse_args()

    rows = []
    for kind, method, dtype in CASES:
        spec = json.dumps([kind, method, dtype, args.rows, args.features, args.hidden])
        result = subprocess.run(
            [sys.executable, "-c", MEASURE, spec],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(result.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(row, flush=True)

    header = list(rows[0])
    lines = [
        "# Peak extra host memory of predict",
        "",
        f"{args.rows:,} rows x {args.features} features, hidden layers "
        f"{tuple(args.hidden)}, CPU ({cpu_name()}, {_n_cores()} cores), "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}.",
        "Peak extra = peak RSS during predict minus RSS just before it "
        "(`VmHWM` reset through `/proc/self/clear_refs`, fresh process per "
        "row). Batch = inputs and float64 "
        "activations of one prediction batch.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in rows:
        cells = [f"{v:,.1f}" if isinstance(v, float) else str(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report)


def _n_cores():
    import os

    return os.cpu_count()


if __name__ == "__main__":
    main()
