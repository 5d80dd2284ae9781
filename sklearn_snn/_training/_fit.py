"""Build the skorch net and its callbacks from the estimator's settings, and fit."""

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import ProgressBar

from .. import _defaults
from ._callbacks import (
    DivergenceGuard,
    EarlyStopping,
    MemberSelection,
    ValidationScoring,
)
from ._net import SNNNet


@dataclass
class TrainingConfig:
    """How to train, as the estimator validated it, in the estimator's names.

    Parameters
    ----------
    criterion : type
        The ``torch.nn`` loss class.
    validation_score : callable
        ``score(y_pred, data) -> float``, reported as ``valid_score``.
    batch_size : int
        Rows per training batch.
    learning_rate_init : float
        AdamW's learning rate.
    alpha : float
        AdamW's weight decay.
    betas : tuple of float
        AdamW's ``betas``.
    criterion_params : dict
        Keyword arguments of ``criterion`` besides its reduction.
    max_iter : int
        Epochs at most.
    warn_at_max_iter : bool
        Whether a run that uses up ``max_iter`` without converging warns;
        ``partial_fit``'s single passes do not.
    n_iter_no_change, min_steps_no_change, tol
        Early stopping's patience (see :class:`EarlyStopping`).
    n_lr_drops : int, default=0
        Stalls that divide the learning rate by 10 instead of stopping (see
        :class:`EarlyStopping`).
    overfit_rise : float or None, default=None
        Rise of the validation loss above its best that ends patience
        without ``min_steps_no_change`` (see :class:`EarlyStopping`).
    weight_averaging : float, default=0.0
        Decay of the moving average of the weights that is validated and
        kept (see :class:`WeightAverage`); 0: the weights themselves.
    verbose : int
        0 silent, 1 a line per epoch, 2 a progress bar too.
    stop_on_score : bool, default=False
        Whether early stopping watches ``valid_score`` (greater is better)
        rather than the validation loss.
    precision, compile_step, weight_constraint, feature_sparsity, sparse_members
        Passed to :class:`SNNNet`.
    select_members : bool
        Whether every epoch chooses the members to keep (:class:`MemberSelection`).
    """

    criterion: type
    validation_score: Callable
    batch_size: int
    learning_rate_init: float
    alpha: float
    max_iter: int
    warn_at_max_iter: bool
    n_iter_no_change: int
    min_steps_no_change: int
    tol: float
    verbose: int
    betas: tuple = (_defaults.BETA_1, _defaults.BETA_2)
    criterion_params: dict = field(default_factory=dict)
    n_lr_drops: int = 0
    overfit_rise: float | None = None
    weight_averaging: float = 0.0
    stop_on_score: bool = False
    precision: str = "float32"
    compile_step: bool = False
    weight_constraint: str | None = None
    feature_sparsity: float = 0.0
    sparse_members: str = "all"
    select_members: bool = False


def _uses_fused_optimizer(compile_step, device):
    """Whether AdamW runs fused: one kernel per step instead of one per tensor.

    Always on CUDA, where launches are what small steps cost, and on a CPU
    where torch has the fused kernel (2.4 and later): there torch's default,
    one loop per tensor, took a sixth of the demo's fit. Elsewhere only with
    a compiled step.
    """
    device_type = torch.device(device).type
    return (
        compile_step
        or device_type == "cuda"
        or (device_type == "cpu" and _FUSED_ADAMW_ON_CPU)
    )


#: torch added the CPU kernel of the fused AdamW in 2.4.
_FUSED_ADAMW_ON_CPU = torch.__version__ >= "2.4"


def _callbacks(config):
    callbacks = []
    if config.select_members:
        callbacks.append(("member_selection", MemberSelection()))
    callbacks += [
        ("validation_scoring", ValidationScoring(config.validation_score)),
        ("divergence_guard", DivergenceGuard()),
        (
            "early_stopping",
            EarlyStopping(
                config.n_iter_no_change,
                config.tol,
                config.min_steps_no_change,
                monitor="valid_score" if config.stop_on_score else "valid_loss",
                n_lr_drops=config.n_lr_drops,
                overfit_rise=config.overfit_rise,
            ),
        ),
    ]
    if config.verbose >= 2:
        callbacks.append(("progress_bar", ProgressBar()))
    return callbacks


def _net_params(config, device):
    """Return the net's parameters: the one place where names become skorch's."""
    return {
        "lr": config.learning_rate_init,
        "optimizer__weight_decay": config.alpha,
        "optimizer__betas": config.betas,
        "optimizer__fused": _uses_fused_optimizer(config.compile_step, device),
        "max_epochs": config.max_iter,
        "batch_size": config.batch_size,
        "verbose": int(config.verbose > 0),
        "precision": config.precision,
        "use_compiled_step": config.compile_step,
        "weight_constraint": config.weight_constraint,
        "feature_sparsity": config.feature_sparsity,
        "sparse_members": config.sparse_members,
        "weight_averaging": config.weight_averaging,
        "callbacks": _callbacks(config),
    }


def _criterion_params(config):
    return {
        f"criterion__{key}": value for key, value in config.criterion_params.items()
    }


def fit_network(module, data, config, device, generators, net=None):
    """Train ``module`` on ``data`` through a skorch net.

    Parameters
    ----------
    module : SELUNetwork
        A freshly initialized network; ignored when ``net`` is given.
    data : TrainValidData
        Training data, and validation data for early stopping (or None).
    config : TrainingConfig
        How to train.
    device : str
        Where to train.
    generators : FitGenerators
        The fit's random state: shuffling and dropout draw from it.
    net : SNNNet, default=None
        A fitted net to continue training (warm start).

    Returns
    -------
    SNNNet
        The trained net, holding the weights to keep: those of the best
        validation epoch with early stopping, otherwise those of the last
        epoch, and the last finite ones if training diverged.
    """
    params = _net_params(config, device)
    if net is None:
        net = SNNNet(
            module,
            criterion=config.criterion,
            optimizer=torch.optim.AdamW,
            train_split=None,
            device=device,
            **params,
            **_criterion_params(config),
        )
    else:
        net.set_params(**params)
        # Set on the criterion itself: skorch's set_params would build a new
        # criterion, and with it a new optimizer, losing AdamW's state.
        for name, value in config.criterion_params.items():
            setattr(net.criterion_, name, value)
        # skorch's set_params initializes the callbacks before it takes the
        # new list, so the new ones are initialized here.
        net.initialize_callbacks()
        net.module_.kept_members = None
    net.generators_ = generators
    try:
        net.partial_fit(data)
    finally:
        net.generators_ = None
    _warn_about_stop(net, config.warn_at_max_iter)
    return net


def _warn_about_stop(net, warn_at_max_iter):
    callbacks = dict(net.callbacks_)
    early_stopping = callbacks["early_stopping"]
    n_epochs = early_stopping.n_epochs_
    if callbacks["divergence_guard"].diverged_:
        warnings.warn(
            "Training diverged: the loss became NaN or infinite. Training stopped "
            f"after {n_epochs} completed epochs and the last finite "
            "weights were restored. Lower learning_rate_init to train stably.",
            ConvergenceWarning,
            stacklevel=6,
        )
    elif early_stopping.converged_:
        return
    elif n_epochs < net.max_epochs:
        warnings.warn(
            f"Training was interrupted after {n_epochs} epochs; the model "
            "keeps the best weights found so far.",
            UserWarning,
            stacklevel=6,
        )
    elif warn_at_max_iter:
        warnings.warn(
            f"Maximum iterations ({net.max_epochs}) reached and the optimization "
            "hasn't converged yet. Increase max_iter to train longer.",
            ConvergenceWarning,
            stacklevel=6,
        )


def training_history(net):
    """Per-epoch curves of a fitted net, over all its fits.

    Parameters
    ----------
    net : SNNNet
        A fitted net.

    Returns
    -------
    loss_curve : list of float
        Training loss of each completed epoch.
    validation_scores : list of float or None
        Validation score of each completed epoch, or None without validation.
    best_validation_score : float or None
        Validation score of the epoch whose weights were kept.
    """
    epochs = [row for row in net.history if "train_loss" in row]
    loss_curve = [float(row["train_loss"]) for row in epochs]
    scores = [float(row["valid_score"]) for row in epochs if "valid_score" in row]
    early_stopping = dict(net.callbacks_)["early_stopping"]
    return loss_curve, (scores or None), early_stopping.best_validation_score_


def net_for_prediction(module, criterion, device):
    """Wrap a network with loaded weights in an initialized net.

    The net is built like the one :func:`fit_network` trains, so that a
    loaded estimator can be warm-started (with a fresh optimizer state).

    Parameters
    ----------
    module : SELUNetwork
        The network, holding its weights.
    criterion : type
        The ``torch.nn`` loss class that the estimator trains with.
    device : str
        Where the net lives.

    Returns
    -------
    SNNNet
        An initialized net whose ``module_`` is ``module`` on ``device``.
    """
    net = SNNNet(
        module,
        criterion=criterion,
        optimizer=torch.optim.AdamW,
        optimizer__fused=_uses_fused_optimizer(False, device),
        train_split=None,
        device=device,
    )
    return net.initialize()
