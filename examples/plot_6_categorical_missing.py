"""
===================================================
A table as it comes: penguins with strings and gaps
===================================================

The Palmer penguins table (shipped by the ``palmerpenguins`` package, so this
page downloads nothing) has string columns (``species``, ``island``) and
missing values in its measurements. :class:`~sklearn_snn.SNNClassifier`
takes it as it is: string columns are categorical, missing numbers are
imputed from the rest of their row (with an indicator column where the gaps
tell the label), and a validation split of our own decides when to stop. We predict each penguin's sex, and compare with the pipeline a user
would otherwise write and with HistGradientBoosting's native categorical
support. One split of 333 rows says little about other data; the benchmarks
page holds the broader comparison. See :ref:`categorical-missing`.
"""

# %%
# The table
# ---------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from palmerpenguins import load_penguins
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_snn import SNNClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)

penguins = load_penguins().dropna(subset=["sex"])
X, y = penguins.drop(columns="sex"), penguins["sex"]
# Knock out a tenth of the measurements, as real tables have gaps.
rng = np.random.default_rng(0)
numbers = X.select_dtypes("number").columns.drop("year")
X[numbers] = X[numbers].mask(rng.random((len(X), len(numbers))) < 0.1)
print(X.dtypes, X.isna().sum(), sep="\n\n")

X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

# %%
# Fit on the table itself
# -----------------------
# No preprocessing: ``categorical_features='auto'`` takes the string columns.
snn = SNNClassifier(random_state=0).fit(X_train, y_train)
print(snn.categorical_levels_)
print(f"test accuracy: {snn.score(X_test, y_test):.3f}")

# %%
# Against the hand-made pipeline and gradient boosting
# ----------------------------------------------------
# The pipeline one-hot encodes the strings and imputes and standardizes the
# numbers; HistGradientBoosting takes pandas ``category`` columns natively.
by_hand = make_pipeline(
    make_column_transformer(
        (
            OneHotEncoder(handle_unknown="ignore"),
            make_column_selector(dtype_include=object),
        ),
        (
            make_pipeline(SimpleImputer(), StandardScaler()),
            make_column_selector(dtype_include="number"),
        ),
    ),
    SNNClassifier(random_state=0),
)
as_category = {"species": "category", "island": "category"}
hgb = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
scores = {
    "SNN, native": snn.score(X_test, y_test),
    "SNN, hand-made pipeline": by_hand.fit(
        X_train.astype({c: object for c in as_category}), y_train
    ).score(X_test.astype({c: object for c in as_category}), y_test),
    "HistGradientBoosting": hgb.fit(X_train.astype(as_category), y_train).score(
        X_test.astype(as_category), y_test
    ),
}
for name, value in scores.items():
    print(f"{name}: {value:.3f}")
fig, ax = plt.subplots(figsize=(6, 2.5))
ax.barh(list(scores), list(scores.values()), color=["C0", "C1", "C2"])
ax.set_xlim(0.5, 1.0)
ax.set_xlabel("test accuracy")
for i, value in enumerate(scores.values()):
    ax.text(value + 0.005, i, f"{value:.3f}", va="center")
fig.tight_layout()

# %%
# A validation split of our own, and early stopping on ROC-AUC
# ------------------------------------------------------------
# ``X_val`` and ``y_val`` replace the internal split; ``scoring`` chooses the
# metric that early stopping watches and ``validation_scores_`` reports.
X_fit, X_val, y_fit, y_val = train_test_split(
    X_train, y_train, test_size=0.2, stratify=y_train, random_state=0
)
snn_auc = SNNClassifier(scoring="roc_auc", random_state=0)
snn_auc.fit(X_fit, y_fit, X_val=X_val, y_val=y_val)
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(np.arange(1, snn_auc.n_iter_ + 1), snn_auc.validation_scores_)
ax.axhline(snn_auc.best_validation_score_, color="gray", linestyle="--")
ax.set_xlabel("epoch")
ax.set_ylabel("validation ROC-AUC")
fig.tight_layout()
print(f"best validation ROC-AUC: {snn_auc.best_validation_score_:.3f}")
print(f"test accuracy: {snn_auc.score(X_test, y_test):.3f}")
