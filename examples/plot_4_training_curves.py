"""
===============
Training curves
===============

A fitted estimator records its training history: ``loss_curve_`` holds the
training loss of each epoch and ``validation_scores_`` the accuracy (or
:math:`R^2` for a regressor) on the held-out validation data. With early
stopping, training stops once the validation loss has not improved for
``n_iter_no_change`` epochs, and the weights of the best epoch are restored.
This example plots both curves on the digits dataset and marks that epoch.
"""

# %%
# Fit with early stopping
# -----------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from sklearn_snn import SNNClassifier

X, y = load_digits(return_X_y=True)
clf = SNNClassifier(
    hidden_layer_sizes=(128,) * 4, validation_fraction=0.2, random_state=0
).fit(X, y)

# %%
# The kept epoch is the one with the lowest validation loss. The validation
# loss of each epoch is in the history of the skorch net, ``net_``; its score
# at the kept epoch is ``best_validation_score_``.
valid_loss = np.asarray(clf.net_.history[:, "valid_loss"])
best = int(np.argmin(valid_loss))
epochs = np.arange(1, clf.n_iter_ + 1)
print(f"{clf.n_iter_} epochs; weights of epoch {best + 1} kept")
print(f"validation accuracy of that epoch: {clf.best_validation_score_:.4f}")

# %%
# The curves
# ----------
fig, (ax_loss, ax_score) = plt.subplots(1, 2, figsize=(11, 4))
ax_loss.plot(epochs, clf.loss_curve_, label="training loss")
ax_loss.plot(epochs, valid_loss, label="validation loss")
ax_loss.set_yscale("log")
ax_loss.set_ylabel("cross-entropy")
ax_score.plot(epochs, clf.validation_scores_, color="tab:green")
ax_score.set_ylabel("validation accuracy")
for ax in (ax_loss, ax_score):
    ax.axvline(best + 1, color="black", linestyle="--", label="kept epoch")
    ax.set_xlabel("epoch")
ax_score.plot(best + 1, clf.best_validation_score_, "o", color="black")
ax_loss.legend()
ax_score.legend()
fig.tight_layout()
plt.show()
