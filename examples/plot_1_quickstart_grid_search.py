"""
====================================
Quick start: a pipeline and a search
====================================

:class:`~sklearn_snn.SNNClassifier` is a scikit-learn estimator, so it fits
into a :class:`~sklearn.pipeline.Pipeline` and its hyperparameters can be
tuned with :class:`~sklearn.model_selection.GridSearchCV` like those of any
other model. This example selects the number of input features and the depth
of the network on the breast cancer dataset, and plots the cross-validated
scores of the search.
"""

# %%
# The data and the pipeline
# -------------------------
# The SNN standardizes its inputs itself, so the pipeline needs no scaler. A
# univariate feature selection step in front of it is tuned together with the
# network.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from sklearn_snn import SNNClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
pipeline = Pipeline(
    [
        ("select", SelectKBest(f_classif)),
        ("snn", SNNClassifier(max_iter=60, random_state=0)),
    ]
)

# %%
# The search
# ----------
# Parameters of a pipeline step are addressed as ``<step>__<parameter>``.
param_grid = {
    "select__k": [5, 10, 30],
    "snn__hidden_layer_sizes": [(64,) * 2, (64,) * 6],
}
search = GridSearchCV(
    pipeline, param_grid, cv=StratifiedKFold(3, shuffle=True, random_state=0)
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_train, y_train)
print("best parameters:", search.best_params_)
print(f"cross-validated accuracy: {search.best_score_:.3f}")
print(f"test accuracy: {search.score(X_test, y_test):.3f}")

# %%
# The scores of the search
# ------------------------
# One line per network depth, with the spread over the folds.
results = search.cv_results_
ks = param_grid["select__k"]
fig, ax = plt.subplots(figsize=(6, 4))
for sizes in param_grid["snn__hidden_layer_sizes"]:
    rows = [
        i
        for i, params in enumerate(results["params"])
        if params["snn__hidden_layer_sizes"] == sizes
    ]
    rows.sort(key=lambda i: results["params"][i]["select__k"])
    ax.errorbar(
        ks,
        np.asarray(results["mean_test_score"])[rows],
        yerr=np.asarray(results["std_test_score"])[rows],
        marker="o",
        capsize=3,
        label=f"{len(sizes)} hidden layers of {sizes[0]}",
    )
ax.set_xlabel("number of selected features (select__k)")
ax.set_ylabel("cross-validated accuracy")
ax.set_title("GridSearchCV over a pipeline with SNNClassifier")
ax.legend()
fig.tight_layout()
plt.show()
