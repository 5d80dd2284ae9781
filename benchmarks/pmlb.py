"""Default-parameter benchmark on PMLB datasets: SNN against its anchors.

Protocol (fixed):

- every dataset is run with the seeds given by ``--seeds`` (default 0 1 2);
- each run makes an 80/20 split (stratified for classification), fits every
  model with its default parameters on the 80% and scores it on the 20%;
- metrics: accuracy, log-loss and, for binary tasks, ROC-AUC for
  classification; R² for regression; plus fit and predict time in seconds;
- datasets with missing values: every model except HistGradientBoosting (which
  handles NaN itself) gets a median imputer in front.

Models: SNNClassifier/SNNRegressor; MLPClassifier/MLPRegressor behind a
StandardScaler; HistGradientBoosting; RandomForest; LogisticRegression/Ridge
behind a StandardScaler; and a plain skorch ReLU MLP behind a StandardScaler
(the generic anchor).

Data: ``../shared/datasets/pmlb`` by default (``--data-dir`` elsewhere), read
through its ``index.csv``; a dataset missing there is fetched with
``pmlb.fetch_data`` when the ``pmlb`` package is installed.

Outputs: ``benchmarks/results/pmlb-<tag>.csv`` (every run, rewritten after
each dataset so that an interrupted run keeps what it finished),
``pmlb-<tag>.md`` (summary per task and size) and ``pmlb-<tag>.png`` (SNN
against each anchor, one point per dataset). ``--combine`` summarizes CSV
files of earlier runs together instead of running anything, for example
anchors run on CPU cores while the SNN trains on the GPU.

Example::

    python benchmarks/pmlb.py --size large --tag cpu-large --jobs 2
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed
from machine import machine_name
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, log_loss, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from skorch import NeuralNetClassifier, NeuralNetRegressor
from torch import nn

from sklearn_snn import SNNClassifier, SNNRegressor

HERE = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = HERE.parent.parent / "shared" / "datasets" / "pmlb"
RESULTS_DIR = HERE / "results"
ANCHORS = ["mlp", "hgb", "rf", "linear", "skorch"]
#: Lowest score shown on the plot's axes.
AXIS_FLOOR = -0.5
MODELS = ["snn", *ANCHORS]


class ReLUMLP(nn.Module):
    """Two hidden ReLU layers of 100 units, the shape of scikit-learn's MLP."""

    def __init__(self, n_features, n_outputs):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features, 100),
            nn.ReLU(),
            nn.Linear(100, 100),
            nn.ReLU(),
            nn.Linear(100, n_outputs),
        )

    def forward(self, X):
        return self.layers(X)


def _skorch_anchor(task, n_features, n_outputs, device):
    to_float32 = FunctionTransformer(lambda X: X.astype(np.float32))
    if task == "classification":
        net = NeuralNetClassifier(
            ReLUMLP(n_features, n_outputs),
            criterion=nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            lr=1e-3,
            max_epochs=50,
            device=device,
            verbose=0,
        )
    else:
        net = NeuralNetRegressor(
            ReLUMLP(n_features, n_outputs),
            optimizer=torch.optim.Adam,
            lr=1e-3,
            max_epochs=50,
            device=device,
            verbose=0,
        )
    return make_pipeline(StandardScaler(), to_float32, net)


def make_model(name, task, n_features, n_classes, seed, device, snn_params=None):
    """Return model ``name`` with default parameters (and the seed).

    ``snn_params`` overrides SNN parameters, for studies of the defaults.
    """
    classification = task == "classification"
    if name == "snn":
        Estimator = SNNClassifier if classification else SNNRegressor
        return Estimator(random_state=seed, device=device, **(snn_params or {}))
    if name == "mlp":
        Estimator = MLPClassifier if classification else MLPRegressor
        return make_pipeline(StandardScaler(), Estimator(random_state=seed))
    if name == "hgb":
        Estimator = (
            HistGradientBoostingClassifier
            if classification
            else HistGradientBoostingRegressor
        )
        return Estimator(random_state=seed)
    if name == "rf":
        Estimator = RandomForestClassifier if classification else RandomForestRegressor
        return Estimator(random_state=seed, n_jobs=1)
    if name == "linear":
        if classification:
            return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        return make_pipeline(StandardScaler(), Ridge())
    if name == "skorch":
        torch.manual_seed(seed)
        n_outputs = n_classes if classification else 1
        return _skorch_anchor(task, n_features, n_outputs, device)
    raise ValueError(f"unknown model {name!r}; choose from {MODELS}")


def load_dataset(name, data_dir):
    """Return ``X`` (float64) and ``y`` of a PMLB dataset."""
    path = Path(data_dir) / f"{name}.tsv.gz"
    if path.exists():
        frame = pd.read_csv(path, sep="\t")
    else:
        try:
            from pmlb import fetch_data
        except ImportError as exc:
            raise FileNotFoundError(
                f"{path} does not exist and the pmlb package is not installed; "
                "pip install pmlb, or point --data-dir at the datasets."
            ) from exc
        frame = fetch_data(name)
    y = frame.pop("target").to_numpy()
    return frame.to_numpy(dtype=np.float64), y


def run_one(name, task, model_name, seed, X, y, device, snn_params=None):
    """Fit and score one model on one split; return a result row."""
    classification = task == "classification"
    X_train, X_test, y_train, y_test = train_test_split(
        X,
        y,
        test_size=0.2,
        random_state=seed,
        stratify=y if classification else None,
    )
    classes = np.unique(y) if classification else None
    if model_name == "skorch":
        if classification:
            y_train = np.searchsorted(classes, y_train)
            y_test = np.searchsorted(classes, y_test)
            classes = np.arange(len(classes))
        else:
            y_train = y_train.astype(np.float32).reshape(-1, 1)
    n_classes = 0 if classes is None else len(classes)
    model = make_model(
        model_name, task, X.shape[1], n_classes, seed, device, snn_params
    )
    if model_name != "hgb" and np.isnan(X).any():
        # Only HistGradientBoosting takes NaN natively; the others get the
        # same median imputation.
        model = make_pipeline(SimpleImputer(strategy="median"), model)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    row = {"dataset": name, "task": task, "model": model_name, "seed": seed}
    if classification:
        proba = model.predict_proba(X_test)
        predict_time = time.perf_counter() - start
        row["score"] = accuracy_score(y_test, classes[proba.argmax(axis=1)])
        row["log_loss"] = log_loss(y_test, proba, labels=classes)
        if proba.shape[1] == 2:
            row["roc_auc"] = roc_auc_score(y_test == classes[1], proba[:, 1])
    else:
        predicted = np.asarray(model.predict(X_test)).ravel()
        predict_time = time.perf_counter() - start
        row["score"] = r2_score(y_test, predicted)
    row["fit_time"] = fit_time
    row["predict_time"] = predict_time
    row["machine"] = machine_name(device if model_name in ("snn", "skorch") else "cpu")
    return row


def summarize(results, index):
    """Return the markdown summary of a results table."""
    sizes = index.set_index("name")["size"]
    results = results.assign(size=results["dataset"].map(sizes))
    per_dataset = (
        results.groupby(["task", "size", "dataset", "model"])[["score", "fit_time"]]
        .mean()
        .reset_index()
    )
    lines = [
        "Mean of the seeds per dataset; ranks are 1 = best, averaged over "
        "datasets; W/T/L counts datasets where SNN's mean score is above, within "
        "0.001 of, or below the anchor's.",
        "",
    ]
    for (task, size), group in per_dataset.groupby(["task", "size"]):
        scores = group.pivot(index="dataset", columns="model", values="score")
        times = group.pivot(index="dataset", columns="model", values="fit_time")
        ranks = scores.rank(axis=1, ascending=False)
        metric = "accuracy" if task == "classification" else "R²"
        lines += [
            f"### {task}, {size} datasets ({len(scores)})",
            "",
            f"| model | mean {metric} | mean rank | W/T/L of SNN | mean fit time (s) |",
            "| --- | --- | --- | --- | --- |",
        ]
        for model in [m for m in MODELS if m in scores]:
            record = "-"
            if model != "snn" and "snn" in scores:
                diff = scores["snn"] - scores[model]
                wins = int((diff > 0.001).sum())
                losses = int((diff < -0.001).sum())
                record = f"{wins}/{len(diff) - wins - losses}/{losses}"
            lines.append(
                f"| {model} | {scores[model].mean():.4f} | "
                f"{ranks[model].mean():.2f} | {record} | {times[model].mean():.2f} |"
            )
        lines.append("")
    return "\n".join(lines)


def plot(results, path):
    """Scatter SNN's mean score against each anchor's, one point per dataset."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    means = results.groupby(["task", "dataset", "model"])["score"].mean().unstack()
    anchors = [a for a in ANCHORS if a in means]
    if "snn" not in means or not anchors:
        return
    fig, axes = plt.subplots(
        1, len(anchors), figsize=(3.2 * len(anchors), 3.4), squeeze=False
    )
    for ax, anchor in zip(axes[0], anchors, strict=True):
        # Scores below AXIS_FLOOR (R² can be very negative) are drawn on it.
        low = np.nanmin(means[[anchor, "snn"]].to_numpy().clip(AXIS_FLOOR))
        for task, marker in [("classification", "o"), ("regression", "s")]:
            if task in means.index.get_level_values("task"):
                part = means.loc[task].clip(lower=low)
                ax.scatter(part[anchor], part["snn"], marker=marker, s=14, label=task)
        ax.plot([low, 1], [low, 1], color="grey", linewidth=0.8)
        ax.set_xlim(low - 0.02, 1.02)
        ax.set_ylim(low - 0.02, 1.02)
        ax.set_xlabel(anchor)
        ax.set_ylabel("snn")
        ax.set_title(f"SNN vs {anchor}")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--datasets", nargs="+", help="names (default: all)")
    parser.add_argument("--size", choices=["large", "small", "all"], default="all")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--device", default="auto", help="for SNN and skorch")
    parser.add_argument("--jobs", type=int, default=1, help="CPU models in parallel")
    parser.add_argument("--tag", default=None, help="results file suffix")
    parser.add_argument(
        "--combine",
        nargs="+",
        metavar="CSV",
        help="summarize these results files together instead of running",
    )
    parser.add_argument(
        "--snn-params",
        type=json.loads,
        default=None,
        help="JSON overrides of SNN parameters, e.g. '{\"dropout\": 0.1}'",
    )
    args = parser.parse_args(argv)

    data_dir = Path(args.data_dir)
    index_path = data_dir / "index.csv"
    if not index_path.exists():
        parser.error(f"{index_path} not found; point --data-dir at the datasets")
    index = pd.read_csv(index_path)
    if args.datasets:
        index = index[index["name"].isin(args.datasets)]
    if args.size != "all":
        index = index[index["size"] == args.size]
    # Smallest first: an interrupted run has finished the most datasets.
    index = index.sort_values("n_samples", kind="stable")
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    tag = args.tag or f"{device}-{args.size}"
    RESULTS_DIR.mkdir(exist_ok=True)
    csv_path = RESULTS_DIR / f"pmlb-{tag}.csv"
    if args.combine:
        results = pd.concat([pd.read_csv(path) for path in args.combine])
        results.to_csv(csv_path, index=False)
        _report(results, args, argv, device, tag, pd.read_csv(index_path))
        return

    gpu_models = [m for m in args.models if m in ("snn", "skorch") and device != "cpu"]
    cpu_models = [m for m in args.models if m not in gpu_models]
    rows = []
    for entry in index.itertuples():
        X, y = load_dataset(entry.name, data_dir)
        jobs = [(m, s) for m in cpu_models for s in args.seeds]
        rows += Parallel(n_jobs=args.jobs)(
            delayed(run_one)(
                entry.name, entry.task, m, s, X, y, device, args.snn_params
            )
            for m, s in jobs
        )
        rows += [
            run_one(entry.name, entry.task, m, s, X, y, device, args.snn_params)
            for m in gpu_models
            for s in args.seeds
        ]
        done = pd.DataFrame(rows)
        done.to_csv(csv_path, index=False)
        latest = done[done["dataset"] == entry.name].groupby("model")["score"].mean()
        print(entry.name, latest.round(4).to_dict(), flush=True)
    _report(pd.DataFrame(rows), args, argv, device, tag, pd.read_csv(index_path))


def _report(results, args, argv, device, tag, index):
    """Write the markdown summary and the plot of ``results``, and print it."""
    header = [
        f"# PMLB benchmark: {tag}",
        "",
        "Machines: "
        + "; ".join(
            f"{machine} ({', '.join(sorted(group['model'].unique()))})"
            for machine, group in results.groupby("machine")
        )
        if "machine" in results
        else f"Machine: {machine_name(device)}",
        "",
        f"Seeds {sorted(int(s) for s in results['seed'].unique())}; "
        f"SNN overrides: {args.snn_params or 'none'}.",
        "Command: `python benchmarks/pmlb.py "
        + " ".join(sys.argv[1:] if argv is None else argv)
        + "`",
        "",
    ]
    summary = "\n".join(header) + summarize(results, index)
    (RESULTS_DIR / f"pmlb-{tag}.md").write_text(summary + "\n")
    plot(results, RESULTS_DIR / f"pmlb-{tag}.png")
    print(summary)


if __name__ == "__main__":
    main()
