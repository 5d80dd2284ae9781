"""
=======================
Multi-output regression
=======================

:class:`~sklearn_snn.SNNRegressor` accepts a 2-D target and fits all targets
with one network, which shares its hidden layers between them. Each target
is standardized on its own, so targets of very different scales can be
fitted together. This example fits three nonlinear targets of one set of
inputs and plots the predictions against the true values.
"""

# %%
# Three targets of different shapes and scales
# --------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

from sklearn_snn import SNNRegressor

rng = np.random.default_rng(0)
X = rng.uniform(-2, 2, size=(2000, 6))
noise = rng.normal(scale=0.1, size=(2000, 3))
Y = np.column_stack(
    [
        np.sin(2 * X[:, 0]) + X[:, 1] ** 2,
        100 * X[:, 2] * X[:, 3],
        np.exp(X[:, 4]) - 0.5 * X[:, 5],
    ]
) + noise * [1, 100, 1]
X_train, X_test, Y_train, Y_test = train_test_split(X, Y, random_state=0)

# %%
# One network for the three targets
# ---------------------------------
reg = SNNRegressor(hidden_layer_sizes=(128,) * 4, random_state=0)
reg.fit(X_train, Y_train)
Y_pred = reg.predict(X_test)
print("predictions:", Y_pred.shape, "epochs:", reg.n_iter_)

# %%
# Predicted against true values
# -----------------------------
names = ["sin(2 x0) + x1^2", "100 x2 x3", "exp(x4) - x5 / 2"]
fig, axes = plt.subplots(1, 3, figsize=(12, 4))
for j, ax in enumerate(axes):
    ax.scatter(Y_test[:, j], Y_pred[:, j], s=6, alpha=0.5)
    low, high = Y_test[:, j].min(), Y_test[:, j].max()
    ax.plot([low, high], [low, high], color="black", linewidth=0.8)
    ax.set_title(f"{names[j]}\nR² = {r2_score(Y_test[:, j], Y_pred[:, j]):.3f}")
    ax.set_xlabel("true value")
axes[0].set_ylabel("predicted value")
fig.tight_layout()
plt.show()
