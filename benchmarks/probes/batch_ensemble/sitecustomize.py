"""Probe of BatchEnsemble hidden layers (round 29).

Not a feature of the estimators: a study tool. With this folder on
``PYTHONPATH``, Python imports this module at start-up in every process,
loky's workers of ``benchmarks/pmlb.py --jobs 2`` included. With
``SNN_BATCH_ENSEMBLE=inner``, the hidden layers after the first share one
weight matrix ``W`` among the members, as in BatchEnsemble (Wen et al. 2020)
and TabM (Gorishniy et al. 2024): member ``m`` computes
``((x * r_m) @ W.T) * s_m + b_m``, with its own adapters ``r_m`` and ``s_m``.
``W`` is LeCun-normal and the adapters start at random signs, so that each
member's effective weights ``diag(s_m) W diag(r_m)`` are again
``N(0, 1/fan_in)``: every member starts as a proper SNN, and the members
differ from the first step. The first layer (whose per-member weights
``feature_sparsity`` shrinks) and the output layer stay one per member. A
step costs what the defaults' step costs: the product is the same size::

    SNN_BATCH_ENSEMBLE=inner PYTHONPATH=benchmarks/probes/batch_ensemble \\
        OMP_NUM_THREADS=1 python benchmarks/pmlb.py --models snn --jobs 2 ...
"""

import os

if os.environ.get("SNN_BATCH_ENSEMBLE") == "inner":
    import torch
    from torch import nn

    from sklearn_snn import _network

    class BatchEnsembleLinear(_network.EnsembleLinear):
        """A linear layer whose weights the members share, with sign adapters."""

        def __init__(self, in_features, out_features, n_estimators, generator=None):
            nn.Module.__init__(self)
            self.shared_weight = nn.Parameter(torch.empty(out_features, in_features))
            _network.lecun_normal_(self.shared_weight.data, generator)
            self.bias = nn.Parameter(torch.zeros(n_estimators, out_features))
            self.r = nn.Parameter(self._signs(n_estimators, in_features, generator))
            self.s = nn.Parameter(self._signs(n_estimators, out_features, generator))

        @staticmethod
        def _signs(n_estimators, n_features, generator):
            draws = torch.randint(0, 2, (n_estimators, n_features), generator=generator)
            return (2 * draws - 1).float()

        def forward(self, X):
            # Features first, as EnsembleLinear: (n_estimators, in_features, n_samples).
            X = X * self.r.unsqueeze(2).to(X.dtype)
            outputs = torch.matmul(self.shared_weight.to(X.dtype), X)
            scale = self.s.unsqueeze(2).to(outputs.dtype)
            return outputs * scale + self.bias.unsqueeze(2).to(outputs.dtype)

    _init = _network.SELUNetwork.__init__

    def _batch_ensemble_init(self, spec, generator=None):
        _init(self, spec, generator)
        linears = [
            index
            for index, layer in enumerate(self.hidden)
            if isinstance(layer, _network.EnsembleLinear)
        ]
        for index in linears[1:]:
            layer = self.hidden[index]
            n_estimators, out_features, in_features = layer.weight.shape
            self.hidden[index] = BatchEnsembleLinear(
                in_features, out_features, n_estimators, generator
            )

    _network.SELUNetwork.__init__ = _batch_ensemble_init
