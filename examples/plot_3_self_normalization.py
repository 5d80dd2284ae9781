"""
============================
Self-normalization in action
============================

A self-normalizing network keeps the activations of every hidden layer near
mean 0 and variance 1, however deep it is. This example measures that with
:func:`sklearn_snn.diagnostics.activation_stats` on four networks of 32
hidden layers, which differ in one ingredient each:

- **SNN**: SELU, LeCun-normal initialization and AlphaDropout, the network
  that :class:`~sklearn_snn.SNNClassifier` builds;
- **ReLU MLP**: ReLU units with PyTorch's default initialization;
- **SELU, default init**: SELU units with PyTorch's default initialization
  of ``nn.Linear`` (weights of variance ``1 / (3 * fan_in)``);
- **SELU, plain dropout**: the SNN with ``nn.Dropout`` in place of
  AlphaDropout.

The statistics are measured on standardized inputs at initialization and
after a few epochs of training, with dropout active, as it is during
training.
"""

# %%
# The four networks
# -----------------
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler
from torch import nn

from sklearn_snn._network import NetworkSpec, SELUNetwork
from sklearn_snn.diagnostics import activation_stats

DEPTH, WIDTH, DROPOUT = 32, 64, 0.1

X, y = make_classification(
    n_samples=2000, n_features=20, n_informative=10, n_classes=2, random_state=0
)
X = StandardScaler().fit_transform(X).astype(np.float32)
n_features = X.shape[1]


def mlp(activation, dropout=None):
    """A ``DEPTH``-layer MLP with torch's default initialization."""
    layers, fan_in = [], n_features
    for _ in range(DEPTH):
        layers += [nn.Linear(fan_in, WIDTH), activation()]
        if dropout is not None:
            layers.append(dropout(DROPOUT))
        fan_in = WIDTH
    return nn.Sequential(*layers, nn.Linear(fan_in, 2))


def snn_with_plain_dropout():
    """The SNN, with each AlphaDropout replaced by ordinary dropout."""
    net = SELUNetwork(
        NetworkSpec(n_features, (WIDTH,) * DEPTH, n_outputs=2, dropout=DROPOUT)
    )
    for i, layer in enumerate(net.hidden):
        if isinstance(layer, nn.AlphaDropout):
            net.hidden[i] = nn.Dropout(DROPOUT)
    return net


torch.manual_seed(0)
networks = {
    "SNN (SELU, LeCun init, AlphaDropout)": SELUNetwork(
        NetworkSpec(n_features, (WIDTH,) * DEPTH, n_outputs=2, dropout=DROPOUT)
    ),
    "ReLU MLP, default init": mlp(nn.ReLU),
    "SELU, default init": mlp(nn.SELU),
    "SELU, plain dropout": snn_with_plain_dropout(),
}

# %%
# Statistics at initialization
# ----------------------------
# ``training=True`` keeps dropout active, so that the statistics are those the
# network sees while it learns.
at_init = {
    name: activation_stats(net, X, training=True) for name, net in networks.items()
}

# %%
# A few epochs of training
# ------------------------
# Every network gets the same plain training loop: Adam, cross-entropy,
# mini-batches of 128 rows.


def train(net, epochs=8, lr=1e-3):
    generator = torch.Generator().manual_seed(0)
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(X_t), generator=generator).split(128):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(net(X_t[batch]), y_t[batch])
            loss.backward()
            optimizer.step()
    net.eval()
    with torch.no_grad():
        accuracy = (net(X_t).argmax(1) == y_t).float().mean().item()
    return accuracy


accuracy = {name: train(net) for name, net in networks.items()}
after = {
    name: activation_stats(net, X, training=True) for name, net in networks.items()
}
for name in networks:
    print(f"{name:<38} training accuracy {accuracy[name]:.3f}")

# %%
# The figure
# ----------
# Top: the mean of each layer's activations; bottom: their variance (log
# scale). The dashed lines mark the fixed point, mean 0 and variance 1.
fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True, sharey="row")
for column, (title, stats) in enumerate(
    [("At initialization", at_init), ("After 8 epochs of training", after)]
):
    for name, s in stats.items():
        axes[0, column].plot(s.layer, s.mean, marker=".", label=name)
        axes[1, column].plot(s.layer, s.variance, marker=".", label=name)
    axes[0, column].set_title(title)
    axes[0, column].axhline(0, color="black", linestyle="--", linewidth=0.8)
    axes[1, column].axhline(1, color="black", linestyle="--", linewidth=0.8)
    axes[1, column].set_yscale("log")
    axes[1, column].set_xlabel("hidden layer")
axes[0, 0].set_ylabel("mean of activations")
axes[1, 0].set_ylabel("variance of activations")
axes[0, 0].legend(fontsize="small")
fig.tight_layout()
plt.show()

# %%
# At initialization, only the SNN sits on the fixed point, mean 0 and variance
# 1, through all 32 layers. With ReLU and PyTorch's default initialization the
# variance collapses by orders of magnitude within a few layers: the signal,
# and with it the gradient, vanishes, and this network learns nothing (its
# training accuracy stays at chance). SELU alone is not enough either: with
# the default initialization the weights are too small and the activations
# settle far below variance 1. Plain dropout sets SELU activations to 0 instead
# of the SELU's saturation value and rescales the rest, which lifts the
# variance above 1 at every layer.
#
# Training moves every network away from its starting point. The activations
# of the SNN stay bounded (variances of a few units, means within a few tenths
# of 0) and come back towards the fixed point in the deepest layers. What moved
# them is not the weights' moments: ``benchmarks/fixed_point.py`` measures the
# sum and the squared sum of each unit's incoming weights, which the fixed
# point assumes to be 0 and 1, and finds them at 0 and 1 after these 8 epochs
# as at the start. The fixed point also assumes that a unit's inputs are
# independent, and a network that learns makes its units correlated (mean
# absolute correlation 0.13 at the start, 0.47 after training, in layer 15):
# correlated inputs add up to a larger variance. Weight centering, or holding
# every unit's weights at sum 0 and norm 1, changes neither the correlation
# nor the variance; only a learning rate too low to learn does.

# %%
# The estimators' networks, after training
# ----------------------------------------
# :class:`~sklearn_snn.SNNClassifier` with its default parameters (an ensemble
# of four networks of 4 hidden layers), fitted on the same data with early
# stopping, and measured the same way.
from sklearn_snn import SNNClassifier

clf = SNNClassifier(random_state=0).fit(X, y)
fitted = activation_stats(clf, X, training=True)
for layer, mean, variance in zip(
    fitted.layer, fitted.mean, fitted.variance, strict=True
):
    print(f"hidden layer {layer}: mean {mean:+.3f}, variance {variance:.3f}")

fig, axes = plt.subplots(1, 2, figsize=(8, 3), sharex=True)
axes[0].plot(fitted.layer, fitted.mean, marker="o")
axes[0].axhline(0, color="black", linestyle="--", linewidth=0.8)
axes[0].set_ylabel("mean of activations")
axes[1].plot(fitted.layer, fitted.variance, marker="o")
axes[1].axhline(1, color="black", linestyle="--", linewidth=0.8)
axes[1].set_ylabel("variance of activations")
for ax in axes:
    ax.set_xlabel("hidden layer")
    ax.set_xticks(fitted.layer)
fig.suptitle(f"SNNClassifier, defaults, after {clf.n_iter_} epochs")
fig.tight_layout()
plt.show()

# %%
# The hidden layers move less than the 32-layer network's did: means within
# a few hundredths to a tenth or so of 0, and variances that grow from below 1
# in the first layer to about 2 in the fourth (the printout above). The first
# one is fed by the standardized columns, at variance 1, and by their
# periodic features (``numerical_embedding='periodic'``, the default), which
# start at a variance well below 1 (``benchmarks/default_activations.py``), so
# it starts below the fixed point too. Here too
# the units have learned correlated features. Self-normalization is what lets
# gradients reach every layer from the first step, however deep the network;
# after training, the statistics tell how far the learned features moved, and
# activations far outside this range (a variance in the tens or more, or near
# zero) are the sign of a network that training has broken. The
# troubleshooting guide lists the usual causes; this diagnostic is how to
# check a network of your own.
