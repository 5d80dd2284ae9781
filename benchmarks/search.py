"""Wall time of one fixed GridSearchCV, sequential, on joblib's processes and on Dask.

The search: 24 candidates of small SNNClassifier configurations (2 network
shapes x 3 learning rates x 2 dropout rates x 1 or 2 members), 3 folds, on
scikit-learn's digits (1797 x 64, 10 classes), 20 epochs per fit without
early stopping: 72 fits of under a second each on one core, and the refit.
It runs the same search:

- ``n_jobs=1``: one fit at a time in this process, on one torch thread
  (``--threads``);
- ``n_jobs=2`` on joblib's default backend (loky worker processes, which
  joblib starts with one thread each here);
- on a Dask ``LocalCluster`` of 2 worker processes with 1 thread each, through
  ``joblib.parallel_config(backend="dask")``. The cluster is started (and its
  workers import sklearn_snn) before the clock starts; its start-up time is
  reported beside it;
- with ``--gpu-workers N ...`` on a CUDA machine, on a LocalCluster of N worker
  processes that all train on the one GPU (``device='cuda'``), for each N.

This process runs torch on ``--threads`` threads (default 1), so that the
sequential search and every search's refit, which runs here, use one core
like each worker does: the speed-ups are those of 2 processes over one. On
the shared 2-core machine of the committed results, a fit on torch's default
2 threads ran 50 times slower than on one while other jobs kept the cores
busy.

Every fit has ``random_state=0``, so on the CPU every way must find the same
best score and parameters; the table says whether it did. One run prints the
table and writes ``benchmarks/results/search-cpu.md`` (``search-cuda.md``
when GPU workers ran).

Example::

    python benchmarks/search.py
    python benchmarks/search.py --quick
    python benchmarks/search.py --gpu-workers 1 2 4 8
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import joblib
import torch
from distributed import Client, LocalCluster
from machine import machine_name
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, ParameterGrid, StratifiedKFold

from sklearn_snn import SNNClassifier

RESULTS_DIR = Path(__file__).resolve().parent / "results"

#: The fixed part of every candidate.
BASE = {
    "device": "cpu",
    "batch_size": 32,
    "max_iter": 20,
    "early_stopping": False,
    "random_state": 0,
}
#: 2 x 3 x 2 x 2 = 24 candidates.
GRID = {
    "hidden_layer_sizes": [(32,), (64, 64)],
    "learning_rate_init": [1e-3, 3e-3, 1e-2],
    "dropout": [0.0, 0.05],
    "n_estimators": [1, 2],
}
#: ``--quick``: 4 candidates of 10 epochs.
QUICK_BASE = {**BASE, "max_iter": 10}
QUICK_GRID = {
    "hidden_layer_sizes": [(32,)],
    "learning_rate_init": [1e-3, 1e-2],
    "dropout": [0.0, 0.05],
    "n_estimators": [1],
}
N_FOLDS = 3


def _import_sklearn_snn():
    import sklearn_snn  # noqa: F401

    return torch.get_num_threads()


def start_cluster(n_workers):
    """Start a LocalCluster of 1-thread worker processes and a Client on it.

    Returns the cluster, the client and the seconds it took, including each
    worker's import of sklearn_snn (and torch).
    """
    start = time.perf_counter()
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )
    client = Client(cluster)
    threads = client.run(_import_sklearn_snn)
    seconds = time.perf_counter() - start
    print(
        f"  LocalCluster of {n_workers} workers up in {seconds:.1f} s; "
        f"torch threads per worker: {sorted(set(threads.values()))}",
        flush=True,
    )
    return cluster, client, seconds


def run_search(estimator, grid, X, y, n_jobs, backend=None):
    """Fit the search and return it with its wall seconds."""
    search = GridSearchCV(
        estimator,
        grid,
        cv=StratifiedKFold(N_FOLDS, shuffle=True, random_state=0),
        n_jobs=n_jobs,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if backend is None:
            search.fit(X, y)
        else:
            with joblib.parallel_config(backend=backend):
                search.fit(X, y)
    return search, time.perf_counter() - start


def main(argv=None):
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 candidates")
    parser.add_argument(
        "--gpu-workers",
        nargs="+",
        type=int,
        default=[],
        metavar="N",
        help="also search on LocalClusters of N workers sharing one GPU",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads of this process (n_jobs=1 and the refits)",
    )
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    base, grid = (QUICK_BASE, QUICK_GRID) if args.quick else (BASE, GRID)
    X, y = load_digits(return_X_y=True)
    n_candidates = len(ParameterGrid(grid))
    gpu_workers = args.gpu_workers
    if gpu_workers and not torch.cuda.is_available():
        print("--gpu-workers: no CUDA device on this machine; skipped.")
        gpu_workers = []
    device = "cuda" if gpu_workers else "cpu"
    load = os.getloadavg()[0]
    print(
        f"GridSearchCV: {n_candidates} candidates x {N_FOLDS} folds on digits "
        f"{X.shape}, {base['max_iter']} epochs per fit"
    )
    print(f"Machine: {machine_name(device)}; load average {load:.2f} at the start")

    rows = []
    estimator = SNNClassifier(**base)

    def record(way, search, seconds, setup=None):
        rows.append(
            {
                "way": way,
                "seconds": seconds,
                "setup": setup,
                "best_score": search.best_score_,
                "best_params": search.best_params_,
            }
        )
        print(
            f"  {way}: {seconds:.1f} s, best score {search.best_score_:.4f}",
            flush=True,
        )

    print("n_jobs=1 ...", flush=True)
    record("n_jobs=1", *run_search(estimator, grid, X, y, n_jobs=1))
    print("n_jobs=2, joblib's default backend (loky) ...", flush=True)
    record("n_jobs=2, loky", *run_search(estimator, grid, X, y, n_jobs=2))
    print("Dask LocalCluster, 2 workers x 1 thread ...", flush=True)
    cluster, client, setup = start_cluster(2)
    with cluster, client:
        search, seconds = run_search(estimator, grid, X, y, n_jobs=-1, backend="dask")
    record("Dask, 2 workers x 1 thread", search, seconds, setup)

    gpu_memory = {}
    cuda_estimator = SNNClassifier(**{**base, "device": "cuda"})
    for n_workers in gpu_workers:
        print(f"Dask LocalCluster, {n_workers} workers on one GPU ...", flush=True)
        cluster, client, setup = start_cluster(n_workers)
        with cluster, client:
            search, seconds = run_search(
                cuda_estimator, grid, X, y, n_jobs=-1, backend="dask"
            )
            peaks = client.run(lambda: torch.cuda.max_memory_allocated())
        gpu_memory[n_workers] = max(peaks.values()) / 2**20
        record(f"Dask, {n_workers} workers x 1 thread, 1 GPU", search, seconds, setup)

    baseline = rows[0]
    lines = [
        "| way | wall s | speed-up vs n_jobs=1 | cluster start s | best score "
        "| best score equal |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        equal = (
            row["best_score"] == baseline["best_score"]
            and row["best_params"] == baseline["best_params"]
        )
        setup = "-" if row["setup"] is None else f"{row['setup']:.1f}"
        lines.append(
            f"| {row['way']} | {row['seconds']:.1f} | "
            f"{baseline['seconds'] / row['seconds']:.2f} | {setup} | "
            f"{row['best_score']:.4f} | {'yes' if equal else 'no'} |"
        )
    table = "\n".join(lines)
    print()
    print(table)
    print(f"best parameters (n_jobs=1): {baseline['best_params']}")

    command = " ".join(
        ["python benchmarks/search.py", *(sys.argv[1:] if argv is None else argv)]
    )
    fixed = ", ".join(f"{k}={v!r}" for k, v in base.items() if k != "device")
    report = [
        "# GridSearchCV wall time: sequential, joblib processes, Dask",
        "",
        f"Machine: {machine_name(device)}; load average {load:.2f} at the start. "
        "The machine is shared with other jobs, so times vary between runs by "
        "tens of percent.",
        f"Search: {n_candidates} candidates x {N_FOLDS} folds (StratifiedKFold, "
        f"shuffled, random_state=0) plus the refit, on digits {X.shape}; "
        f"SNNClassifier({fixed}) over {grid}.",
        f"Command: `{command}`",
        "",
        table,
        "",
        "Wall s is the search's `fit` alone, refit included (it runs in the "
        "calling process). n_jobs=1 trains one fit at a time, and every refit "
        f"runs, on {torch.get_num_threads()} torch thread(s) of the calling "
        "process (`--threads`); loky's 2 workers are "
        "started inside the timed `fit`, with one torch thread each. The Dask "
        "LocalCluster is started, and its workers have imported sklearn_snn, "
        "before the clock starts (cluster start s); the nanny gives each worker "
        "OMP_NUM_THREADS=1, so torch runs one thread per worker. Best score "
        "equal: the best mean cross-validated accuracy and parameters are those "
        "of n_jobs=1, bit for bit. Two processes on two cores can at best halve "
        "the time; the rest goes to starting the workers, moving data and "
        "models, and the refit, which runs alone.",
    ]
    if gpu_memory:
        report += [
            "",
            "GPU rows: every worker trains on the same GPU (`device='cuda'`). "
            "Peak GPU memory allocated by torch in one worker: "
            + ", ".join(f"{n} workers {mib:.0f} MiB" for n, mib in gpu_memory.items())
            + ". GPU fits differ from CPU fits in the last bits, so their best "
            "score need not equal that of n_jobs=1.",
        ]
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"search-{device}.md"
    path.write_text("\n".join(report) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
