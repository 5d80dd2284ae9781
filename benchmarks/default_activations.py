"""Whether the default estimators stay self-normalized once trained.

Fits ``SNNClassifier`` and ``SNNRegressor`` with their default parameters on
datasets that ship with scikit-learn, and reports, per dataset:

- the mean and variance of the first hidden layer's inputs, split into the
  standardized columns and the periodic features of the numeric ones, which
  the SELU fixed point needs near 0 and 1;
- the mean and variance of each hidden layer's SELU activations
  (``diagnostics.activation_stats``, in training mode, so with AlphaDropout
  where ``dropout`` is above 0), at
  initialization and after ``fit``.

Example::

    python benchmarks/default_activations.py
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import torch
from machine import machine_name, write_result
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_wine,
    make_friedman1,
)
from sklearn.exceptions import ConvergenceWarning

from sklearn_snn import SNNClassifier, SNNRegressor
from sklearn_snn.diagnostics import activation_stats

RESULTS = Path(__file__).resolve().parent / "results" / "default-activations-cpu.md"

DATASETS = {
    "breast_cancer": (SNNClassifier, lambda: load_breast_cancer(return_X_y=True)),
    "wine": (SNNClassifier, lambda: load_wine(return_X_y=True)),
    "digits": (SNNClassifier, lambda: load_digits(return_X_y=True)),
    "diabetes": (SNNRegressor, lambda: load_diabetes(return_X_y=True)),
    "friedman1": (
        SNNRegressor,
        lambda: make_friedman1(n_samples=2000, noise=1.0, random_state=0),
    ),
}


def first_layer_inputs(model, X):
    """The standardized columns and the periodic features the first layer sees."""
    module = model.net_.module_
    batches = []
    hook = module.hidden[0].register_forward_hook(
        # The layer takes features first.
        lambda layer, inputs, output: batches.append(inputs[0].detach().T)
    )
    try:
        model.predict(X)
    finally:
        hook.remove()
    inputs = torch.cat(batches)
    n_dense = module.spec.n_features - len(module.spec.embeddings)
    n_periodic = module.spec.periodic_features * module.spec.periodic_dim
    return inputs[:, :n_dense], inputs[:, n_dense : n_dense + n_periodic]


def stats_cells(stats):
    return [
        f"{np.abs(stats.mean).max():.2f}",
        f"{stats.variance.min():.2f} to {stats.variance.max():.2f}",
    ]


def row(name, Estimator, X, y, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        untrained = Estimator(max_iter=1, learning_rate_init=1e-12, random_state=seed)
        untrained.fit(X, y)
        model = Estimator(random_state=seed).fit(X, y)
    dense, periodic = first_layer_inputs(model, X)
    torch.manual_seed(seed)
    before = activation_stats(untrained, X, training=True)
    after = activation_stats(model, X, training=True)
    cells = [
        name,
        Estimator.__name__,
        str(model.n_iter_),
        f"{dense.mean():.2f} / {dense.var():.2f}",
        f"{periodic.mean():.2f} / {periodic.var():.2f}",
        *stats_cells(before),
        *stats_cells(after),
    ]
    return "| " + " | ".join(cells) + " |"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    lines = [
        "| dataset | estimator | epochs | columns: mean / variance "
        "| periodic features: mean / variance "
        "| at initialization: largest abs. layer mean | layer variances "
        "| after fit: largest abs. layer mean | layer variances |",
        "|" + " --- |" * 9,
    ]
    for name, (Estimator, load) in DATASETS.items():
        X, y = load()
        lines.append(row(name, Estimator, X, y, args.seed))
        print(lines[-1], flush=True)
    write_result(
        RESULTS,
        "The default estimators' activations after training",
        f"Machine: {machine_name()}. Seed {args.seed}; `python "
        "benchmarks/default_activations.py`. Default parameters; "
        "statistics over each whole dataset, in training mode for the "
        "layer statistics (AlphaDropout active where `dropout` is above 0; "
        "the defaults have none). The first-layer inputs are those of "
        "the fitted model (the periodic features after training).",
        lines,
    )


if __name__ == "__main__":
    main()
