"""
=============================================
SNN against MLP and gradient boosting: digits
=============================================

A small comparison on the digits dataset that ships with scikit-learn (1797
images of 8x8 pixels, 10 classes): :class:`~sklearn_snn.SNNClassifier`,
scikit-learn's :class:`~sklearn.neural_network.MLPClassifier` behind a
:class:`~sklearn.preprocessing.StandardScaler`, and
:class:`~sklearn.ensemble.HistGradientBoostingClassifier`, all with their
default parameters. The figure shows the test accuracy and the fit time of
each, measured when this page was built, on the CPU of the machine that
built the documentation; the documentation build runs PyTorch, numpy and
scikit-learn with one thread each, so the times compare single-threaded
fits. One split of one small dataset says little about
other data; the benchmarks page holds the broader comparison.
"""

# %%
# Fit the three models
# --------------------
import time
import warnings

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_snn import SNNClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
models = {
    "SNNClassifier": SNNClassifier(random_state=0),
    "MLPClassifier": make_pipeline(StandardScaler(), MLPClassifier(random_state=0)),
    "HistGradientBoosting": HistGradientBoostingClassifier(random_state=0),
}
accuracy, fit_time = {}, {}
for name, model in models.items():
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    fit_time[name] = time.perf_counter() - start
    accuracy[name] = model.score(X_test, y_test)

print(f"PyTorch threads: {torch.get_num_threads()}")
print(f"{'model':<22} {'accuracy':>9} {'fit time (s)':>13}")
for name in models:
    print(f"{name:<22} {accuracy[name]:>9.4f} {fit_time[name]:>13.2f}")

# %%
# Accuracy and fit time
# ---------------------
fig, (ax_acc, ax_time) = plt.subplots(1, 2, figsize=(11, 3.5))
names = list(models)
colors = ["tab:blue", "tab:orange", "tab:green"]
ax_acc.barh(names, [accuracy[n] for n in names], color=colors)
ax_acc.set_xlim(0.9, 1.0)
ax_acc.set_xlabel("test accuracy")
ax_time.barh(names, [fit_time[n] for n in names], color=colors)
ax_time.set_xlabel("fit time (s)")
for ax, values, fmt in [(ax_acc, accuracy, "{:.3f}"), (ax_time, fit_time, "{:.1f}")]:
    for i, n in enumerate(names):
        ax.text(values[n], i, " " + fmt.format(values[n]), va="center")
ax_acc.invert_yaxis()
ax_time.invert_yaxis()
fig.tight_layout()
plt.show()
