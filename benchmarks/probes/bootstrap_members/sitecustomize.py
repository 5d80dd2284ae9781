"""Probe of ensemble members trained on bootstrap samples (round 27).

Not a feature of the estimators: a study tool. With this folder on
``PYTHONPATH``, Python imports this module at start-up in every process,
loky's workers of ``benchmarks/pmlb.py --jobs 2`` included. With
``SNN_BOOTSTRAP=poisson``, each member weighs each training row by its own
draw of Poisson(1), fixed for the fit: the member trains on a bootstrap
sample of the rows (online bagging), at no extra cost a step. With
``SNN_BOOTSTRAP=exponential`` the draws are Exponential(1), the Bayesian
bootstrap: every row stays, reweighted. The draws multiply the members'
training rows of ``member_validation='pairs'``; the validation rows and
early stopping are unchanged::

    SNN_BOOTSTRAP=poisson PYTHONPATH=benchmarks/probes/bootstrap_members \\
        OMP_NUM_THREADS=1 python benchmarks/pmlb.py --models snn --jobs 2 ...
"""

import os

_MODE = os.environ.get("SNN_BOOTSTRAP")

if _MODE in ("poisson", "exponential"):
    import numpy as np
    import torch

    from sklearn_snn import _base
    from sklearn_snn._training import _data

    _split = _base.BaseSNN._split
    _from_arrays = _data.TensorData.from_arrays.__func__

    def _bootstrap_split(self, n_samples, targets, rng):
        train, valid, train_members, valid_members = _split(
            self, n_samples, targets, rng
        )
        # A generator of its own, so that the split's and the network's
        # draws stay those of the defaults.
        seed = 0 if self.random_state is None else self.random_state
        draws = np.random.RandomState([seed, n_samples])
        shape = (len(train), self.n_estimators)
        if _MODE == "poisson":
            weights = draws.poisson(1.0, size=shape).astype(np.float32)
        else:
            weights = draws.exponential(1.0, size=shape).astype(np.float32)
        if train_members is not None:
            weights *= train_members
        return train, valid, weights, valid_members

    def _float_members_from_arrays(cls, X, y, sample_weight, device, members=None):
        if members is None or members.dtype.kind != "f":
            return _from_arrays(cls, X, y, sample_weight, device, members)
        data = _from_arrays(cls, X, y, sample_weight, device)
        data.members = torch.as_tensor(members).to(data.X.device)
        return data

    _base.BaseSNN._split = _bootstrap_split
    _data.TensorData.from_arrays = classmethod(_float_members_from_arrays)
