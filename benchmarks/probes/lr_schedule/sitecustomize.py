"""Probe of learning-rate schedules over ``max_iter`` epochs (round 26).

Not a feature of the estimators: a study tool. With this folder on
``PYTHONPATH``, Python imports this module at start-up in every process,
loky's workers of ``benchmarks/pmlb.py --jobs 2`` included, and
``SNN_SCHEDULE=<kind>:<peak>`` gives every fit a callback that sets the
rate before each training step to ``peak * learning_rate_init`` times the
schedule's factor at the fraction of ``max_iter`` epochs done::

    SNN_SCHEDULE=coslog4:2 PYTHONPATH=benchmarks/probes/lr_schedule \\
        OMP_NUM_THREADS=1 python benchmarks/pmlb.py --models snn --jobs 2 ...

``kind`` is ``cosine`` (one half cosine down to 0) or ``coslog4``
(RealMLP's: ``(1 - cos(2 pi log2(1 + 15 t))) / 2``, four cycles, each
twice as long as the one before). Early stopping's drop of the rate at
the first stall still divides it by 10.
"""

import math
import os

_SPEC = os.environ.get("SNN_SCHEDULE")


def _factor(kind, t):
    if kind == "cosine":
        return 0.5 * (1 + math.cos(math.pi * t))
    if kind == "coslog4":
        return 0.5 * (1 - math.cos(2 * math.pi * math.log2(1 + 15 * t)))
    raise ValueError(f"SNN_SCHEDULE: unknown schedule {kind!r}")


if _SPEC:
    from skorch.callbacks import Callback

    from sklearn_snn._training import _fit

    _KIND, _PEAK = _SPEC.split(":")
    # An unknown kind fails at start-up, not in the first fit's first step.
    _factor(_KIND, 0.0)

    class Schedule(Callback):
        """Set the learning rate of each training step from the schedule."""

        def on_train_begin(self, net, X=None, y=None, **kwargs):
            self.peak = net.lr * float(_PEAK)
            n_batches = math.ceil(X.train.X.shape[0] / net.batch_size)
            self.total_steps = net.max_epochs * n_batches
            self.step = 0

        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            if not training:
                return
            stopping = dict(net.callbacks_)["early_stopping"]
            n_drops = stopping.n_lr_drops - stopping.n_lr_drops_left_
            t = min(self.step / self.total_steps, 1.0)
            lr = self.peak * _factor(_KIND, t) / stopping.lr_drop_factor**n_drops
            for group in net.optimizer_.param_groups:
                group["lr"] = lr
            self.step += 1

    _default_callbacks = _fit._callbacks

    def _callbacks(config):
        return [("schedule", Schedule()), *_default_callbacks(config)]

    _fit._callbacks = _callbacks
