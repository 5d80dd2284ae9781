"""Default-parameter benchmark on PMLB datasets: SNN against its anchors.

Protocol (fixed):

- every dataset is run with the seeds given by ``--seeds`` (default 0 1 2);
- each run makes an 80/20 split (stratified for classification), fits every
  model with its default parameters on the 80% and scores it on the 20%;
- metrics: accuracy, log-loss and, for binary tasks, ROC-AUC for
  classification; R² for regression; plus fit and predict time in seconds;
- datasets with missing values: every model except HistGradientBoosting (which
  handles NaN itself) gets a median imputer in front.

Models (``--models``): SNNClassifier/SNNRegressor (``snn``);
MLPClassifier/MLPRegressor behind a StandardScaler (``mlp``);
HistGradientBoosting (``hgb``); RandomForest (``rf``);
LogisticRegression/Ridge behind a StandardScaler (``linear``); a plain skorch
ReLU MLP behind a StandardScaler (``skorch``, the generic anchor); and the
tabular deep-learning peers RealMLP-TD (``realmlp``) and TabM-D (``tabm``)
from pytabkit, with their default parameters, when pytabkit is installed;
LightGBM (``lgbm``) on request.

Raw data (``--raw``): the categorical features are decoded to the strings
that PMLB's metadata gives for their integer codes, as pandas ``category``
columns, with the original ``'?'`` as a missing value (see ``pmlb_raw.py``).
``snn``, ``hgb`` (``categorical_features='from_dtype'``, NaN natively),
``lgbm``, ``realmlp`` and ``tabm`` get that table; ``snn-onehot`` is the SNN
behind the ColumnTransformer a user would write (one-hot categories, median
imputation and scaling of the numbers); ``snn-codes`` is the SNN on the
integer codes as stored; the other anchors get the codes too. ``--missing
0.1`` also blanks 10% of the numeric cells, chosen from the dataset's name and
the seed, the same cells for every model. A model that fails is recorded with
its error, and the run goes on.

Data: ``../shared/datasets/pmlb`` by default (``--data-dir`` elsewhere), read
through its ``index.csv``; a dataset missing there is fetched with
``pmlb.fetch_data`` when the ``pmlb`` package is installed.

Outputs, in ``benchmarks/results/`` (``--results-dir`` elsewhere):
``pmlb-<tag>.csv`` (every run, rewritten after each dataset so that an
interrupted run keeps what it finished; a failed fit is a row with its
``error``), ``pmlb-<tag>.md`` (every model side by side per task and size,
then per task and size with ranks and SNN's wins; per dataset with
``--raw`` or ``--per-dataset``; the errors) and ``pmlb-<tag>.png`` (SNN
against each other model, one point per dataset). ``--combine`` summarizes CSV
files of earlier runs together instead of running anything, for example
anchors run on CPU cores while the SNN trains on the GPU; where two files
hold the same run (dataset, model, seed, inputs), the later file's row is
kept, so that a rerun replaces the rows it repeats.

Example::

    python benchmarks/pmlb.py --size large --tag cpu-large --jobs 2
    python benchmarks/pmlb.py --raw --datasets credit_g --models snn hgb --seeds 0
"""

import argparse
import importlib.util
import json
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed
from machine import machine_name
from pmlb_raw import blank_cells, is_categorical, load_raw, numeric_cells_mask
from pmlb_raw import read_metadata as read_feature_metadata
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
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
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from skorch import NeuralNetClassifier, NeuralNetRegressor
from torch import nn

from sklearn_snn import SNNClassifier, SNNRegressor

HERE = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = HERE.parent.parent / "shared" / "datasets" / "pmlb"
RESULTS_DIR = HERE / "results"
ANCHORS = ["mlp", "hgb", "rf", "linear", "skorch"]
#: Tabular deep-learning peers from pytabkit, imported only when used.
PEERS = ["realmlp", "tabm"]
#: The SNN behind a user's preprocessing, and on the stored codes (``--raw``).
RAW_VARIANTS = ["snn-onehot", "snn-codes"]
#: Lowest score shown on the plot's axes.
AXIS_FLOOR = -0.5
#: Every model, in the order of the tables.
MODELS = ["snn", *RAW_VARIANTS, *ANCHORS, *PEERS, "lgbm"]
#: Models that get the decoded table with ``--raw``; the others get the codes.
RAW_INPUT = {"snn", "snn-onehot", "hgb", "lgbm", *PEERS}
#: Models that take NaN in the numeric inputs themselves (in every mode).
NATIVE_NAN = {"hgb", "lgbm"}
#: Models that run on ``--device``; the others run on the CPU cores.
DEVICE_MODELS = {"snn", *RAW_VARIANTS, "skorch", *PEERS}
#: The columns that name a run: two result rows with the same ones repeat it.
RUN_KEY = ["dataset", "task", "model", "seed", "input", "missing"]
#: HistGradientBoosting's most levels of one categorical feature (its max_bins).
HGB_MAX_LEVELS = 255


def available(module):
    """Whether ``module`` can be imported, without importing it."""
    return importlib.util.find_spec(module) is not None


def default_models(raw):
    """The models run when ``--models`` is not given."""
    peers = PEERS if available("pytabkit") else []
    if raw:
        return ["snn", *RAW_VARIANTS, "hgb", *peers]
    return ["snn", *ANCHORS, *peers]


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


class NumericMedianImputer(TransformerMixin, BaseEstimator):
    """Fill the NaN of a DataFrame's numeric columns with their medians.

    The other columns (categories) pass unchanged, dtypes included: pytabkit
    refuses NaN in numeric columns but takes missing categories.
    """

    def fit(self, X, y=None):
        numeric = X.select_dtypes("number")
        self.medians_ = numeric.median().fillna(0.0)
        return self

    def transform(self, X):
        return X.fillna(self.medians_.to_dict())


def wide_categories_as_codes(X):
    """Give HistGradientBoosting a too-wide categorical column as numbers.

    HistGradientBoosting refuses a categorical feature of more than
    ``HGB_MAX_LEVELS`` levels; such a column (``dis``'s ``TSH``, ``churn``'s
    phone number) becomes its levels' codes in the category order, NaN where
    missing, and is then a numeric feature.
    """
    wide = [
        name
        for name, dtype in X.dtypes.items()
        if isinstance(dtype, pd.CategoricalDtype)
        and len(dtype.categories) > HGB_MAX_LEVELS
    ]
    if not wide:
        return X
    X = X.copy()
    for name in wide:
        X[name] = X[name].cat.codes.astype(np.float64).where(X[name].notna())
    return X


def _one_hot_preprocessing(categorical, numeric):
    """The ColumnTransformer a user would put in front of a network."""
    return ColumnTransformer(
        [
            (
                "categorical",
                # Dense: the SNN estimators refuse sparse inputs.
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                list(categorical),
            ),
            (
                "numeric",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                list(numeric),
            ),
        ]
    )


def _pytabkit_model(name, classification, seed, device):
    """RealMLP-TD or TabM-D with default parameters (pytabkit imported here)."""
    from pytabkit import (
        RealMLP_TD_Classifier,
        RealMLP_TD_Regressor,
        TabM_D_Classifier,
        TabM_D_Regressor,
    )

    Estimator = {
        ("realmlp", True): RealMLP_TD_Classifier,
        ("realmlp", False): RealMLP_TD_Regressor,
        ("tabm", True): TabM_D_Classifier,
        ("tabm", False): TabM_D_Regressor,
    }[name, classification]
    # pytabkit sets torch's threads to n_threads for the fit (physical cores by
    # default); give it the threads this process has, as the SNN gets.
    return Estimator(
        device=device,
        random_state=seed,
        n_threads=torch.get_num_threads(),
        verbosity=0,
    )


def make_model(
    name,
    task,
    n_features,
    n_classes,
    seed,
    device,
    snn_params=None,
    raw_columns=None,
):
    """Return model ``name`` with default parameters (and the seed).

    ``snn_params`` overrides SNN parameters, for studies of the defaults.
    ``raw_columns``, the ``(categorical, numeric)`` column names of the
    decoded table, makes the model for that table (``--raw``) where it takes
    it (``RAW_INPUT``).
    """
    classification = task == "classification"
    raw = raw_columns is not None and name in RAW_INPUT
    if name in ("snn", *RAW_VARIANTS):
        Estimator = SNNClassifier if classification else SNNRegressor
        snn = Estimator(random_state=seed, device=device, **(snn_params or {}))
        if name == "snn-onehot":
            if raw_columns is None:
                raise ValueError("snn-onehot needs the decoded table (--raw)")
            return make_pipeline(_one_hot_preprocessing(*raw_columns), snn)
        return snn
    if name == "mlp":
        Estimator = MLPClassifier if classification else MLPRegressor
        return make_pipeline(StandardScaler(), Estimator(random_state=seed))
    if name == "hgb":
        Estimator = (
            HistGradientBoostingClassifier
            if classification
            else HistGradientBoostingRegressor
        )
        if raw:
            model = Estimator(categorical_features="from_dtype", random_state=seed)
            return make_pipeline(FunctionTransformer(wide_categories_as_codes), model)
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
    if name in PEERS:
        return _pytabkit_model(name, classification, seed, device)
    if name == "lgbm":
        from lightgbm import LGBMClassifier, LGBMRegressor

        Estimator = LGBMClassifier if classification else LGBMRegressor
        # pandas category columns are LightGBM's categorical features. Its
        # default threads idle-spin on a shared machine; give it the threads
        # the networks get.
        return Estimator(random_state=seed, n_jobs=torch.get_num_threads(), verbose=-1)
    raise ValueError(f"unknown model {name!r}; choose from {MODELS}")


@dataclass
class Data:
    """One dataset: the stored codes, and the decoded table with ``--raw``."""

    codes: pd.DataFrame
    y: np.ndarray
    raw: pd.DataFrame | None = None
    categorical: list = field(default_factory=list)

    def inputs(self, name, seed, missing):
        """Return the codes (float64 array) and the decoded table of one seed.

        ``missing`` blanks that fraction of the numeric cells in both, the
        cells chosen from ``name`` and ``seed``.
        """
        codes, raw = self.codes, self.raw
        if missing:
            table = codes if raw is None else raw
            mask = numeric_cells_mask(table, self.categorical, missing, name, seed)
            codes = blank_cells(codes, mask)
            raw = None if raw is None else blank_cells(raw, mask)
        return codes.to_numpy(dtype=np.float64), raw


def load_dataset(name, data_dir):
    """Return ``X`` (float64) and ``y`` of a PMLB dataset."""
    frame = _read_frame(name, data_dir)
    y = frame.pop("target").to_numpy()
    return frame.to_numpy(dtype=np.float64), y


def _read_frame(name, data_dir):
    path = Path(data_dir) / f"{name}.tsv.gz"
    if path.exists():
        return pd.read_csv(path, sep="\t")
    try:
        from pmlb import fetch_data
    except ImportError as exc:
        raise FileNotFoundError(
            f"{path} does not exist and the pmlb package is not installed; "
            "pip install pmlb, or point --data-dir at the datasets."
        ) from exc
    return fetch_data(name)


def load_data(name, data_dir, raw=False, missing=0.0):
    """Return a dataset's :class:`Data`, decoded with ``raw``.

    ``missing`` needs to know which columns are categorical, so that their
    cells are left alone: the metadata says, where the data folder has it.
    """
    if raw:
        codes, table, categorical, y = load_raw(name, data_dir)
        return Data(codes, y, table, categorical)
    frame = _read_frame(name, data_dir)
    y = frame.pop("target").to_numpy()
    categorical = []
    metadata = Path(data_dir) / "metadata" / f"{name}.yaml"
    if missing and metadata.exists():
        features = read_feature_metadata(metadata)
        categorical = [
            column
            for column in frame.columns
            if column in features and is_categorical(*features[column])
        ]
    return Data(frame.astype(np.float64), y, None, categorical)


def majority_rate(y_train, y_test):
    """Accuracy on the test rows of always predicting the training majority.

    This is the score of a constant model on the same split, which is the bar
    a classifier must clear; the whole table's share of that class can sit
    above it when the test rows' minority count is rounded up (on ``dis``,
    0.9846 for the table and 0.9841 for its stratified test rows).
    """
    levels, counts = np.unique(y_train, return_counts=True)
    return np.mean(y_test == levels[np.argmax(counts)])


def _error_text(exc):
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0] if lines else ''}"
    return text if len(text) <= 300 else text[:297] + "..."


def run_one(
    name, task, model_name, seed, data, device, snn_params=None, raw=False, missing=0
):
    """Fit and score one model on one split; return a result row.

    A model that fails to fit or predict gives a row with its ``error`` and no
    score.
    """
    classification = task == "classification"
    X_codes, X_raw = data.inputs(name, seed, missing)
    y = data.y
    use_raw = raw and model_name in RAW_INPUT
    train, test = train_test_split(
        np.arange(len(y)),
        test_size=0.2,
        random_state=seed,
        stratify=y if classification else None,
    )
    if use_raw:
        X_train, X_test = X_raw.iloc[train], X_raw.iloc[test]
    else:
        X_train, X_test = X_codes[train], X_codes[test]
    y_train, y_test = y[train], y[test]
    classes = np.unique(y) if classification else None
    if model_name == "skorch":
        if classification:
            y_train = np.searchsorted(classes, y_train)
            y_test = np.searchsorted(classes, y_test)
            classes = np.arange(len(classes))
        else:
            y_train = y_train.astype(np.float32).reshape(-1, 1)
    n_classes = 0 if classes is None else len(classes)
    row = {
        "dataset": name,
        "task": task,
        "model": model_name,
        "seed": seed,
        "input": "raw" if use_raw else "codes",
        "missing": missing,
    }
    if classification:
        row["majority"] = majority_rate(y_train, y_test)
    try:
        raw_columns = None
        if raw:
            numeric = [c for c in X_raw.columns if c not in data.categorical]
            raw_columns = (data.categorical, numeric)
        model = make_model(
            model_name,
            task,
            X_codes.shape[1],
            n_classes,
            seed,
            device,
            snn_params,
            raw_columns,
        )
        if use_raw:
            if model_name in PEERS and X_raw[raw_columns[1]].isna().any().any():
                # pytabkit takes missing categories but no NaN in numbers.
                model = make_pipeline(NumericMedianImputer(), model)
        elif model_name not in NATIVE_NAN and np.isnan(X_codes).any():
            # On the codes only HistGradientBoosting and LightGBM take NaN
            # natively; the others get the same median imputation.
            model = make_pipeline(SimpleImputer(strategy="median"), model)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X_train, y_train)
            fit_time = time.perf_counter() - start
            start = time.perf_counter()
            if classification:
                proba = np.asarray(model.predict_proba(X_test))
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
        # Epochs (the networks) or boosting rounds: a cost that, unlike the
        # fit time, does not depend on the machine.
        final = model[-1] if hasattr(model, "steps") else model
        if hasattr(final, "n_iter_"):
            row["n_iter"] = int(np.max(final.n_iter_))
    except Exception as exc:  # recorded, and the run goes on
        row["score"] = np.nan
        row["error"] = _error_text(exc)
        print(f"{name} {model_name} seed {seed}: {row['error']}", file=sys.stderr)
    on_device = model_name in DEVICE_MODELS
    row["machine"] = machine_name(device if on_device else "cpu")
    return row


def _model_order(models):
    """Known models in the order of ``MODELS``, then any others."""
    models = list(models)
    return [m for m in MODELS if m in models] + sorted(
        m for m in models if m not in MODELS
    )


def _complete(results):
    """Give results of older runs the columns that newer ones have."""
    results = results.copy()
    for column, default in [
        ("error", np.nan),
        ("input", "codes"),
        ("missing", 0.0),
        ("majority", np.nan),
        ("fit_time", np.nan),
    ]:
        if column not in results:
            results[column] = default
    return results


def _cell(value, best=False, digits=4):
    if pd.isna(value):
        return "error"
    text = f"{value:.{digits}f}"
    return f"**{text}**" if best else text


def summarize(results, index, per_dataset=False):
    """Return the markdown summary of a results table.

    ``per_dataset`` adds tables of each dataset's scores and fit times (always
    there for runs on the decoded tables, ``--raw``).
    """
    results = _complete(results)
    sizes = index.set_index("name")["size"]
    results = results.assign(size=results["dataset"].map(sizes).fillna("other"))
    means = (
        results.groupby(["task", "size", "dataset", "model"])[["score", "fit_time"]]
        .mean()
        .reset_index()
    )
    models = _model_order(results["model"].unique())
    lines = [
        "Mean of the seeds per dataset; ranks are 1 = best, averaged over "
        "datasets; W/T/L counts datasets where SNN's mean score is above, within "
        "0.001 of, or below the model's. A model without a score on some "
        "datasets (not run there, or failed: see Errors) is averaged over the "
        "others, marked [scored/all].",
        "",
    ]
    groups = list(means.groupby(["task", "size"]))
    lines += _side_by_side(groups, models)
    for (task, size), group in groups:
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
        for model in [m for m in models if m in scores]:
            record = "-"
            if model != "snn" and "snn" in scores:
                diff = (scores["snn"] - scores[model]).dropna()
                wins = int((diff > 0.001).sum())
                losses = int((diff < -0.001).sum())
                if len(diff):
                    record = f"{wins}/{len(diff) - wins - losses}/{losses}"
            lines.append(
                f"| {model} | {_mean_cell(scores[model])} | "
                f"{_cell(ranks[model].mean(), digits=2)} | {record} | "
                f"{_cell(times[model].mean(), digits=2)} |"
            )
        lines.append("")
    if per_dataset or (results["input"] == "raw").any():
        lines += _per_dataset(results, models)
    lines += _errors(results, models)
    return "\n".join(lines)


def _mean_cell(column, best=False):
    """Mean of a model's dataset scores, marked when some are missing."""
    finished = int(column.notna().sum())
    if finished == 0:
        return "error"
    text = _cell(column.mean(), best)
    return text if finished == len(column) else f"{text} [{finished}/{len(column)}]"


def _side_by_side(groups, models):
    """One row per task and size, one column per model: mean score (rank)."""
    present = [m for m in models if any(m in g["model"].values for _, g in groups)]
    lines = [
        "### All models, mean score (mean rank)",
        "",
        "| task, datasets | " + " | ".join(present) + " |",
        "| --- |" + " --- |" * len(present),
    ]
    for (task, size), group in groups:
        scores = group.pivot(index="dataset", columns="model", values="score")
        ranks = scores.rank(axis=1, ascending=False)
        # One set of means for the best and the cells: a frame's column means
        # and each column's own mean can differ in the last bit.
        means = scores.mean()
        best = means.max()
        cells = []
        for model in present:
            if model not in scores:
                cells.append("-")
                continue
            mean = means[model]
            cell = _mean_cell(scores[model], best=mean == best)
            if not pd.isna(mean):
                cell = f"{cell} ({ranks[model].mean():.2f})"
            cells.append(cell)
        lines.append(f"| {task}, {len(scores)} {size} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _per_dataset(results, models):
    """Tables of each dataset's mean score and mean fit time, models as columns."""
    lines = []
    for task, part in results.groupby("task"):
        scores = part.pivot_table(
            index="dataset", columns="model", values="score", aggfunc="mean"
        ).reindex(columns=[m for m in models if m in set(part["model"])])
        times = part.pivot_table(
            index="dataset", columns="model", values="fit_time", aggfunc="mean"
        ).reindex(index=scores.index, columns=scores.columns)
        classification = task == "classification"
        metric = "accuracy" if classification else "R²"
        extra = ["majority"] if classification else []
        majority = part.groupby("dataset")["majority"].mean()
        header = ["dataset", *extra, *scores.columns]
        lines += [
            f"### {task} per dataset: {metric}",
            "",
            "| " + " | ".join(header) + " |",
            "| --- |" + " --- |" * (len(header) - 1),
        ]
        for dataset, row in scores.iterrows():
            best = row.max()
            cells = [_cell(v, best=v == best) for v in row]
            if classification:
                cells.insert(0, _cell(majority.get(dataset)))
            lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
        lines += [
            "",
            f"### {task} per dataset: fit time (s)",
            "",
            "| " + " | ".join(["dataset", *scores.columns]) + " |",
            "| --- |" + " --- |" * len(scores.columns),
        ]
        for dataset, row in times.iterrows():
            cells = [_cell(v, digits=2) for v in row]
            lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _errors(results, models):
    """A table of the failed runs: model, dataset, seeds and the error."""
    failed = results[results["error"].notna()]
    if failed.empty:
        return []
    lines = ["### Errors", "", "| model | dataset | seeds | error |"]
    lines.append("| --- | --- | --- | --- |")
    for model in [m for m in models if m in set(failed["model"])]:
        part = failed[failed["model"] == model]
        for (dataset, error), runs in part.groupby(["dataset", "error"]):
            seeds = ", ".join(str(int(s)) for s in sorted(runs["seed"]))
            text = str(error).replace("|", "\\|")
            lines.append(f"| {model} | {dataset} | {seeds} | {text} |")
    return [*lines, ""]


def plot(results, path):
    """Scatter SNN's mean score against each other model's, one point per dataset."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    means = results.groupby(["task", "dataset", "model"])["score"].mean().unstack()
    if "snn" not in means or means["snn"].isna().all():
        return
    others = [
        m for m in _model_order(means.columns) if m != "snn" and means[m].notna().any()
    ]
    if not others:
        return
    fig, axes = plt.subplots(
        1, len(others), figsize=(3.2 * len(others), 3.4), squeeze=False
    )
    for ax, other in zip(axes[0], others, strict=True):
        # Scores below AXIS_FLOOR (R² can be very negative) are drawn on it.
        low = np.nanmin(means[[other, "snn"]].to_numpy().clip(AXIS_FLOOR))
        for task, marker in [("classification", "o"), ("regression", "s")]:
            if task in means.index.get_level_values("task"):
                part = means.loc[task].clip(lower=low)
                ax.scatter(part[other], part["snn"], marker=marker, s=14, label=task)
        ax.plot([low, 1], [low, 1], color="grey", linewidth=0.8)
        ax.set_xlim(low - 0.02, 1.02)
        ax.set_ylim(low - 0.02, 1.02)
        ax.set_xlabel(other)
        ax.set_ylabel("snn")
        ax.set_title(f"SNN vs {other}")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument(
        "--results-dir",
        default=str(RESULTS_DIR),
        help="where the CSV, summary and plot go (default: benchmarks/results)",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=MODELS,
        help="default: snn and the anchors, plus realmlp and tabm when pytabkit "
        "is installed; with --raw: snn, snn-onehot, snn-codes, hgb, realmlp, tabm",
    )
    parser.add_argument("--datasets", nargs="+", help="names (default: all)")
    parser.add_argument("--size", choices=["large", "small", "all"], default="all")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--device", default="auto", help="for the neural networks")
    parser.add_argument("--jobs", type=int, default=1, help="CPU models in parallel")
    parser.add_argument("--tag", default=None, help="results file suffix")
    parser.add_argument(
        "--raw",
        action="store_true",
        help="decode the categorical features to their original strings, as "
        "pandas categories, with '?' as missing (see pmlb_raw.py)",
    )
    parser.add_argument(
        "--missing",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="blank this fraction of the numeric cells, the same for every model",
    )
    parser.add_argument(
        "--per-dataset",
        action="store_true",
        help="add per-dataset tables to the summary (always there with --raw)",
    )
    parser.add_argument(
        "--combine",
        nargs="+",
        metavar="CSV",
        help="summarize these results files together instead of running (their "
        "rows of --seeds, and of --datasets, --size and --models when given; "
        "of two rows of the same run, the later file's)",
    )
    parser.add_argument(
        "--snn-params",
        type=json.loads,
        default=None,
        help="JSON overrides of SNN parameters, e.g. '{\"dropout\": 0.1}'",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.missing < 1:
        parser.error("--missing must be a fraction in [0, 1)")
    models = args.models or default_models(args.raw)
    if not args.raw and not args.combine:
        raw_only = [m for m in models if m in RAW_VARIANTS]
        if raw_only:
            parser.error(f"{', '.join(raw_only)} compare encodings: add --raw")

    data_dir = Path(args.data_dir)
    index_path = data_dir / "index.csv"
    if not index_path.exists():
        parser.error(f"{index_path} not found; point --data-dir at the datasets")
    index = pd.read_csv(index_path)
    if args.datasets:
        unknown = sorted(set(args.datasets) - set(index["name"]))
        if unknown:
            parser.error(f"datasets not in {index_path}: {', '.join(unknown)}")
        index = index[index["name"].isin(args.datasets)]
    if args.size != "all":
        index = index[index["size"] == args.size]
    # Smallest first: an interrupted run has finished the most datasets.
    index = index.sort_values("n_samples", kind="stable")
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    tag = args.tag or f"{device}-{args.size}" + ("-raw" if args.raw else "") + (
        f"-missing{args.missing:g}" if args.missing else ""
    )
    results_dir = Path(args.results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    csv_path = results_dir / f"pmlb-{tag}.csv"
    if args.combine:
        results = pd.concat([pd.read_csv(path) for path in args.combine])
        results = results.drop_duplicates(RUN_KEY, keep="last")
        results = results[
            results["seed"].isin(args.seeds) & results["dataset"].isin(index["name"])
        ]
        if args.models:
            results = results[results["model"].isin(args.models)]
        results.to_csv(csv_path, index=False)
        _report(results, args, argv, device, tag, pd.read_csv(index_path), results_dir)
        return

    gpu_models = [m for m in models if m in DEVICE_MODELS and device != "cpu"]
    cpu_models = [m for m in models if m not in gpu_models]
    rows = []
    for entry in index.itertuples():
        data = load_data(entry.name, data_dir, args.raw, args.missing)
        settings = (device, args.snn_params, args.raw, args.missing)
        jobs = [(m, s) for m in cpu_models for s in args.seeds]
        rows += Parallel(n_jobs=args.jobs)(
            delayed(run_one)(entry.name, entry.task, m, s, data, *settings)
            for m, s in jobs
        )
        rows += [
            run_one(entry.name, entry.task, m, s, data, *settings)
            for m in gpu_models
            for s in args.seeds
        ]
        done = pd.DataFrame(rows)
        done.to_csv(csv_path, index=False)
        latest = done[done["dataset"] == entry.name].groupby("model")["score"].mean()
        print(entry.name, latest.round(4).to_dict(), flush=True)
    _report(
        pd.DataFrame(rows),
        args,
        argv,
        device,
        tag,
        pd.read_csv(index_path),
        results_dir,
    )


def _report(results, args, argv, device, tag, index, results_dir):
    """Write the markdown summary and the plot of ``results``, and print it."""
    results = _complete(results)
    inputs = []
    if (results["input"] == "raw").any():
        on_raw = results.loc[results["input"] == "raw", "model"].unique()
        inputs.append(
            "categorical features decoded to their strings, '?' as missing "
            f"({', '.join(_model_order(on_raw))}; the others on the integer codes)"
        )
    else:
        inputs.append("the datasets as stored (integer codes)")
    fractions = sorted(float(f) for f in results["missing"].dropna().unique() if f)
    if fractions:
        inputs.append(
            "numeric cells blanked at random: " + ", ".join(f"{f:g}" for f in fractions)
        )
    header = [
        f"# PMLB benchmark: {tag}",
        "",
        "Machines: "
        + "; ".join(
            f"{machine} ({', '.join(_model_order(group['model'].unique()))})"
            for machine, group in results.groupby("machine")
        )
        if "machine" in results
        else f"Machine: {machine_name(device)}",
        "",
        f"Seeds {sorted(int(s) for s in results['seed'].unique())}; "
        f"SNN overrides: {args.snn_params or 'none'}.",
        "Inputs: " + "; ".join(inputs) + ".",
        "Command: `python benchmarks/pmlb.py "
        + " ".join(sys.argv[1:] if argv is None else argv)
        + "`",
        "",
    ]
    summary = "\n".join(header) + summarize(results, index, args.per_dataset)
    (results_dir / f"pmlb-{tag}.md").write_text(summary + "\n")
    plot(results, results_dir / f"pmlb-{tag}.png")
    print(summary)


if __name__ == "__main__":
    main()
