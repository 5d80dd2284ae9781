"""What holds a deep SNN at its fixed point during training.

The gallery example ``plot_3_self_normalization`` trains a 32-layer SNN for 8
epochs and finds the activations of layers 10 to 20 at a mean of about 0.3 and
a variance of about 3.5. This script trains the same network (32 SELU layers
of 64 units, AlphaDropout 0.1, the example's data, Adam at 1e-3, batches of
128) with one change at a time, and reports, over seeds 0 to 2:

- training accuracy after 8 epochs;
- mean absolute activation mean and mean activation variance of hidden
  layers 10 to 20 (``diagnostics.activation_stats``, dropout active);
- the mean of each unit's incoming weights sum (the SNN paper's omega) and
  squared sum (tau) in the same layers, which the fixed point assumes to be
  0 and 1;
- the mean absolute correlation between the units of layer 15.

The changes: Adam's beta_2 at 0.95; weight centering after every step
(``weight_constraint='center'``); centering plus rescaling every unit's
incoming weights to unit norm, which holds omega = 0 and tau = 1 exactly;
weight decay; and a lower learning rate.

Example::

    python benchmarks/fixed_point.py
"""

import argparse
from pathlib import Path

import numpy as np
import torch
from machine import machine_name, write_result
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler
from torch import nn

from sklearn_snn._network import NetworkSpec, SELUNetwork
from sklearn_snn.diagnostics import activation_stats

RESULTS = Path(__file__).resolve().parent / "results" / "fixed-point-cpu.md"
DEPTH, WIDTH, DROPOUT, EPOCHS = 32, 64, 0.1, 8
MIDDLE = slice(9, 20)
CORRELATION_LAYER = 14

VARIANTS = {
    "Adam, beta_2=0.999 (the example's)": {},
    "Adam, beta_2=0.95": {"betas": (0.9, 0.95)},
    "weight centering": {"constraint": "center"},
    "centering and unit norm (omega=0, tau=1)": {"constraint": "standardize"},
    "weight decay 1e-2 (AdamW)": {"weight_decay": 1e-2},
    "learning rate 3e-4": {"lr": 3e-4},
}


def data():
    X, y = make_classification(
        n_samples=2000, n_features=20, n_informative=10, n_classes=2, random_state=0
    )
    return StandardScaler().fit_transform(X).astype(np.float32), y


def hidden_linears(net):
    return [m for m in net.hidden if hasattr(m, "weight")]


def standardize_weights_(net):
    """Center each unit's incoming weights and scale them to unit norm."""
    with torch.no_grad():
        for layer in hidden_linears(net)[1:]:
            layer.weight -= layer.weight.mean(dim=-1, keepdim=True)
            layer.weight /= layer.weight.norm(dim=-1, keepdim=True)


def train(X, y, seed, betas=(0.9, 0.999), lr=1e-3, weight_decay=0.0, constraint=None):
    torch.manual_seed(seed)
    spec = NetworkSpec(X.shape[1], (WIDTH,) * DEPTH, n_outputs=2, dropout=DROPOUT)
    net = SELUNetwork(spec)
    generator = torch.Generator().manual_seed(seed)
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y)
    optimizer = torch.optim.AdamW(
        net.parameters(), lr=lr, betas=betas, weight_decay=weight_decay
    )
    net.train()
    for _ in range(EPOCHS):
        for batch in torch.randperm(len(X_t), generator=generator).split(128):
            optimizer.zero_grad()
            nn.functional.cross_entropy(net(X_t[batch]), y_t[batch]).backward()
            optimizer.step()
            if constraint == "center":
                net.center_weights_()
            elif constraint == "standardize":
                standardize_weights_(net)
    return net


def measure(net, X, y):
    net.eval()
    with torch.no_grad():
        accuracy = (net(torch.as_tensor(X)).argmax(1) == torch.as_tensor(y)).float()
    stats = activation_stats(net, X, training=True)
    weights = [layer.weight.detach()[0] for layer in hidden_linears(net)[MIDDLE]]
    omega = np.mean([w.sum(dim=1).mean().item() for w in weights])
    tau = np.mean([(w**2).sum(dim=1).mean().item() for w in weights])
    selus = [m for m in net.hidden if isinstance(m, nn.SELU)]
    captured = {}
    hook = selus[CORRELATION_LAYER].register_forward_hook(
        lambda module, inputs, output: captured.setdefault("x", output.detach())
    )
    net.train()
    with torch.no_grad():
        net(torch.as_tensor(X))
    hook.remove()
    # The layers give features first: (1, WIDTH, rows).
    activations = captured["x"].transpose(1, 2).reshape(-1, WIDTH).numpy()
    correlation = np.corrcoef(activations, rowvar=False)
    off_diagonal = np.abs(correlation[~np.eye(WIDTH, dtype=bool)])
    return [
        accuracy.mean().item(),
        float(np.mean(np.abs(stats.mean[MIDDLE]))),
        float(np.mean(stats.variance[MIDDLE])),
        omega,
        tau,
        float(np.nanmean(off_diagonal)),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    X, y = data()
    header = (
        "| training | training accuracy | mean abs. mean, layers 10-20 "
        "| mean variance, layers 10-20 | omega | tau | mean abs. correlation, "
        "layer 15 |"
    )
    lines = [header, "| --- |" + " --- |" * 6]
    torch.manual_seed(0)
    at_init = np.mean(
        [
            measure(SELUNetwork(NetworkSpec(20, (WIDTH,) * DEPTH, 2, DROPOUT)), X, y)
            for _ in args.seeds
        ],
        axis=0,
    )
    rows = {"at initialization": at_init}
    for name, params in VARIANTS.items():
        rows[name] = np.mean(
            [measure(train(X, y, seed, **params), X, y) for seed in args.seeds],
            axis=0,
        )
        print(name, np.round(rows[name], 3), flush=True)
    for name, values in rows.items():
        cells = " | ".join(f"{v:.3f}" for v in values)
        lines.append(f"| {name} | {cells} |")
    write_result(
        RESULTS,
        "Holding the fixed point during training",
        f"Machine: {machine_name()}. Seeds {args.seeds}; `python "
        "benchmarks/fixed_point.py`. Means over the seeds; the SNN of "
        f"`plot_3_self_normalization` ({DEPTH} layers of {WIDTH}, "
        f"AlphaDropout {DROPOUT}) after {EPOCHS} epochs.",
        lines,
    )


if __name__ == "__main__":
    main()
