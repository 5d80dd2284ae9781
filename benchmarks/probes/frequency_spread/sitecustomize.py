"""Probe of a spread of initial frequencies in the periodic embedding (round 30).

Not a feature of the estimators: a study tool. With this folder on
``PYTHONPATH``, Python imports this module at start-up in every process,
loky's workers of ``benchmarks/pmlb.py --jobs 2`` included. With
``SNN_FREQUENCY_SPREAD=S`` (a number above 1), each input's waves start at
frequencies of standard deviations spaced evenly on a log scale from the
estimator's ``sigma`` to ``S * sigma``, in place of ``sigma`` for every
wave: most of each input's features still start as gentle functions of it,
and a few can start sharp, as a step of an integer-coded column needs. The
draws are the defaults' (the same generator and order), rescaled::

    SNN_FREQUENCY_SPREAD=4 PYTHONPATH=benchmarks/probes/frequency_spread \\
        OMP_NUM_THREADS=1 python benchmarks/pmlb.py --models snn --jobs 2 ...
"""

import os

_SPREAD = float(os.environ.get("SNN_FREQUENCY_SPREAD", "1"))

if _SPREAD > 1:
    import torch

    from sklearn_snn import _periodic

    _init = _periodic.PeriodicEmbedding.__init__

    def _spread_init(self, n_features, n_frequencies, dim, sigma, generator=None):
        _init(self, n_features, n_frequencies, dim, sigma, generator=generator)
        scales = torch.logspace(0, 1, n_frequencies, base=_SPREAD)
        with torch.no_grad():
            self.frequency.mul_(scales)

    _periodic.PeriodicEmbedding.__init__ = _spread_init
