"""The callbacks of a fit, one job each, in the order they run after an epoch.

1. :class:`MemberSelection` chooses the ensemble members to keep, on the
   validation loss, and records that loss as the epoch's ``valid_loss``.
2. :class:`ValidationScoring` records the epoch's ``valid_score``.
3. :class:`DivergenceGuard` stops a fit whose loss became NaN or infinite.
4. :class:`EarlyStopping` decides when to stop, and restores the weights of
   the best epoch.

They talk through the net's history, as skorch's callbacks do: each reads the
entries that the callbacks before it wrote. skorch runs a callback's
``on_train_end`` also after a ``KeyboardInterrupt``, so the weights are
restored whichever way training ends.
"""

import math

import torch
from skorch.callbacks import Callback


@torch.no_grad()
def select_members(net, outputs, data):
    """Keep the members whose ensemble predicts the validation data best.

    The candidates are all members, the even-numbered ones (0, 2, ...) and the
    odd-numbered ones (1, 3, ...): with ``sparse_members='alternate'``, the
    members trained without and with the feature-sparsity penalty. The one
    with the lowest validation loss (the net's :meth:`SNNNet.ensemble_loss`:
    log loss of the mean probabilities, or squared error of the mean outputs)
    becomes ``net.module_.kept_members``; on a tie, all members stay.

    Parameters
    ----------
    net : SNNNet
        A net with at least two members.
    outputs : torch.Tensor of shape (n_estimators, n_samples, n_outputs)
        Every member's outputs for ``data``, as the validation pass computed
        them (``net.valid_outputs_``).
    data : TensorData
        The validation samples.

    Returns
    -------
    loss : float
        The validation loss of the kept members.
    outputs : torch.Tensor of shape (n_samples, n_outputs)
        Their ensemble's outputs for ``data``.
    """
    module = net.module_
    n_members = module.spec.n_estimators
    y = data.y.to(outputs.device)
    weight = data.sample_weight.to(outputs.device)
    candidates = [
        None,
        tuple(range(0, n_members, 2)),
        tuple(range(1, n_members, 2)),
    ]
    losses = []
    for candidate in candidates:
        module.kept_members = candidate
        losses.append(float(net.ensemble_loss(outputs, y, weight, data.members)))
    best = min(range(len(candidates)), key=lambda i: (losses[i], i))
    module.kept_members = candidates[best]
    return losses[best], module.combine(outputs, data.members)


class MemberSelection(Callback):
    """Choose the ensemble members to keep after every epoch.

    Used with ``feature_sparsity='auto'``: :func:`select_members` keeps all
    members or one half of them, and the epoch's ``valid_loss`` becomes the
    loss of that choice, so that early stopping chooses the epoch on the same
    loss as the members. An epoch whose validation loss is not finite is left
    to :class:`DivergenceGuard`.
    """

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Choose the members on the validation data."""
        if dataset_valid is not None and math.isfinite(net.history[-1, "valid_loss"]):
            loss, _ = select_members(net, net.valid_outputs_, dataset_valid)
            net.history.record("valid_loss", loss)


class ValidationScoring(Callback):
    """Record each epoch's validation score as ``valid_score``.

    The score is computed from the outputs of the epoch's validation pass
    (``net.valid_outputs_``), combined by the members kept at the end of the
    epoch.

    Parameters
    ----------
    score : callable
        ``score(y_pred, data) -> float`` (see ``_scores``).
    """

    def __init__(self, score):
        self.score = score

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Score the epoch's validation outputs."""
        if dataset_valid is None:
            return
        outputs = net.module_.combine(net.valid_outputs_, dataset_valid.members)
        net.history.record("valid_score", self.score(outputs, dataset_valid))


class DivergenceGuard(Callback):
    """Stop training when the loss becomes NaN or infinite.

    The losses are read once per epoch (see :meth:`SNNNet.run_single_epoch`),
    so divergence is caught at the end of the epoch it happened in. That
    epoch is dropped from the history, and :class:`EarlyStopping`, which
    never saw it, restores weights from before it.

    Attributes
    ----------
    diverged_ : bool
        Whether this fit stopped because it diverged.
    """

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Reset the state of a fit."""
        self.diverged_ = False

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Stop the fit if the epoch's training or validation loss is not finite."""
        record = net.history[-1]
        losses = [record["train_loss"], record.get("valid_loss", 0.0)]
        if not all(math.isfinite(loss) for loss in losses):
            self.diverged_ = True
            net.history.pop()
            raise KeyboardInterrupt


class EarlyStopping(Callback):
    """Stop when the monitored loss stalls, and keep the weights to restore.

    With a validation set, the monitored quantity is the validation loss, or
    minus the validation score, and the weights of its best epoch are
    restored at the end. Without one, the
    training loss is monitored and the last epoch's weights are kept. Either
    way, training stops when the monitored loss has not improved by ``tol``
    for ``n_iter_no_change`` epochs and for at least ``min_steps_no_change``
    optimizer steps, or, with ``overfit_rise``, for ``n_iter_no_change``
    epochs after which the validation loss is that fraction above a best
    that improved on the first epoch's: a sign of overfitting rather than of
    a plateau (a loss that rises from the first epoch on has fitted nothing
    yet, and often comes back down). A decision taken at the end of an
    epoch takes effect at the start of the next one, so that the epoch is
    logged first. The kept weights include the members that
    :class:`MemberSelection` kept.

    With ``n_lr_drops``, the first stalls do not stop training: the kept
    weights are restored, the learning rate is divided by ``lr_drop_factor``,
    and patience starts again. A lower rate takes smaller, less noisy steps
    from the best point found, which the validation loss often rewards
    after the higher rate has stalled. Each epoch's learning rate is in the
    history as ``lr``.

    Parameters
    ----------
    n_iter_no_change : int
        Epochs without improvement before stopping.
    tol : float
        Minimum decrease of the monitored loss that counts as improvement.
    min_steps_no_change : int, default=0
        Optimizer steps without improvement before stopping, whatever the
        number of epochs; it matters on small datasets, where an epoch is a
        few steps.
    monitor : {'valid_loss', 'valid_score'}, default='valid_loss'
        What is watched with a validation set: the loss, lower is better,
        or the score, greater is better.
    n_lr_drops : int, default=0
        Stalls that drop the learning rate instead of stopping.
    lr_drop_factor : float, default=10.0
        What each drop divides the learning rate by.
    overfit_rise : float or None, default=None
        With the validation loss monitored, a stall whose last epoch's loss
        is more than ``1 + overfit_rise`` times the best, where the best is
        below the first epoch's loss, needs no ``min_steps_no_change``.
        None: every stall does.

    Attributes
    ----------
    converged_ : bool
        Whether the monitored loss stalled.
    n_epochs_ : int
        Epochs completed in this fit.
    best_validation_score_ : float or None
        ``valid_score`` of the epoch whose weights are kept.
    n_lr_drops_left_ : int
        Drops of the learning rate still to come.
    """

    def __init__(
        self,
        n_iter_no_change,
        tol,
        min_steps_no_change=0,
        monitor="valid_loss",
        n_lr_drops=0,
        lr_drop_factor=10.0,
        overfit_rise=None,
    ):
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.min_steps_no_change = min_steps_no_change
        self.monitor = monitor
        self.n_lr_drops = n_lr_drops
        self.lr_drop_factor = lr_drop_factor
        self.overfit_rise = overfit_rise

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Reset the state of a fit."""
        self.converged_ = False
        self.n_epochs_ = 0
        self.best_loss_ = math.inf
        self.first_loss_ = None
        self.best_validation_score_ = None
        self.n_stalled_ = 0
        self.steps_stalled_ = 0
        self.n_lr_drops_left_ = self.n_lr_drops
        self.restore_state_ = _snapshot(net.module_)

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Stop before the next epoch once the last one decided to stop."""
        if self.converged_:
            net.history.pop()
            raise KeyboardInterrupt

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Keep the weights of an improved epoch, and decide whether to stop."""
        record = net.history[-1]
        net.history.record("lr", net.optimizer_.param_groups[0]["lr"])
        self.n_epochs_ += 1
        if dataset_valid is None:
            monitored = record["train_loss"]
        elif self.monitor == "valid_score":
            monitored = -record["valid_score"]
        else:
            monitored = record["valid_loss"]
        if self.first_loss_ is None:
            self.first_loss_ = monitored
        improved = monitored < self.best_loss_ - self.tol
        if improved:
            self.best_loss_ = monitored
            self.n_stalled_ = 0
            self.steps_stalled_ = 0
        else:
            self.n_stalled_ += 1
            self.steps_stalled_ += record["train_batch_count"]
        if dataset_valid is not None:
            net.history.record("valid_loss_best", improved)
        if dataset_valid is None or improved:
            self.restore_state_ = _snapshot(net.module_)
            self.best_validation_score_ = record.get("valid_score")
        if self.n_stalled_ >= self.n_iter_no_change and (
            self.steps_stalled_ >= self.min_steps_no_change
            or self._overfits(monitored, dataset_valid)
        ):
            if self.n_lr_drops_left_ > 0:
                self._drop_learning_rate(net)
            else:
                self.converged_ = True

    def _overfits(self, monitored, dataset_valid):
        """Whether the validation loss rose ``overfit_rise`` above a fallen best."""
        return (
            self.overfit_rise is not None
            and dataset_valid is not None
            and self.monitor == "valid_loss"
            and self.best_loss_ < self.first_loss_
            and monitored > (1 + self.overfit_rise) * self.best_loss_
        )

    def _drop_learning_rate(self, net):
        """Go back to the kept weights at a lower learning rate, with new patience."""
        self.n_lr_drops_left_ -= 1
        self.n_stalled_ = 0
        self.steps_stalled_ = 0
        state, kept_members = self.restore_state_
        net.module_.load_state_dict(state)
        net.module_.kept_members = kept_members
        for group in net.optimizer_.param_groups:
            group["lr"] /= self.lr_drop_factor
        average = getattr(net, "weight_average_", None)
        if average is not None:
            average.restart()
        # A captured CUDA graph holds the old rate: the next step captures anew.
        net.graph_step_ = None

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Restore the kept weights and members, and drop the copy."""
        state, kept_members = self.restore_state_
        net.module_.load_state_dict(state)
        net.module_.kept_members = kept_members
        self.restore_state_ = None


def _snapshot(module):
    state = {
        name: value.detach().clone() for name, value in module.state_dict().items()
    }
    return state, module.kept_members
