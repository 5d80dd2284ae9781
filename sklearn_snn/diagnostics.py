"""Diagnostics: check whether a network stays self-normalized.

A self-normalizing network keeps the activations of every hidden layer near
mean 0 and variance 1. :func:`activation_stats` measures both, layer by layer,
for a fitted estimator or for any torch module, so that the property can be
checked on real data, at initialization and after training.
"""

import copy
from typing import NamedTuple

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_array
from torch import nn

__all__ = ["ActivationStats", "activation_stats"]

#: The activation modules whose outputs are measured by default.
ACTIVATION_TYPES = (
    nn.SELU,
    nn.ELU,
    nn.CELU,
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Softplus,
    nn.Tanh,
    nn.Sigmoid,
    nn.Hardtanh,
)


class ActivationStats(NamedTuple):
    """Mean and variance of the activations of each hidden layer.

    The value returned by :func:`activation_stats`: a named tuple of three
    arrays with one entry per hidden layer, ordered from the input side.

    Parameters
    ----------
    layer : ndarray of shape (n_layers,)
        Position of each hidden layer, counted from 1 at the input side.
    mean : ndarray of shape (n_layers,)
        Mean of the layer's activations over all samples and units.
    variance : ndarray of shape (n_layers,)
        Variance of the layer's activations over all samples and units.

    See Also
    --------
    activation_stats : Measure the statistics of a network.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_snn.diagnostics import ActivationStats
    >>> stats = ActivationStats(
    ...     layer=np.array([1, 2]), mean=np.zeros(2), variance=np.ones(2)
    ... )
    >>> stats.variance
    array([1., 1.])
    """

    layer: np.ndarray
    mean: np.ndarray
    variance: np.ndarray


def activation_stats(
    estimator, X, *, activation_types=ACTIVATION_TYPES, training=False
):
    """Mean and variance of each hidden layer's activations over ``X``.

    The network runs on the CPU in float32, without gradients, and by default
    in evaluation mode (dropout off). The output of every activation module is recorded
    in the order the forward pass calls it; for the network of
    :class:`~sklearn_snn.SNNClassifier` and :class:`~sklearn_snn.SNNRegressor`
    that is the SELU of each hidden layer. In a self-normalized network the
    means stay near 0 and the variances near 1 at every depth.

    Parameters
    ----------
    estimator : SNNClassifier, SNNRegressor or torch.nn.Module
        A fitted estimator, whose input encoding and standardization
        (``scaler_``) are applied to ``X`` before its network ``net_.module_``
        runs, or a torch module
        that takes ``X`` as it is. The module is copied, so it is never
        changed.
    X : array-like of shape (n_samples, n_features)
        Inputs. Raw for an estimator; already scaled as the module expects for
        a torch module.
    activation_types : tuple of type, default=ACTIVATION_TYPES
        The module classes whose outputs count as a layer's activations. The
        default covers torch's common activation functions (SELU, ELU, ReLU,
        LeakyReLU, GELU, SiLU, Tanh, Sigmoid and others).
    training : bool, default=False
        Run the network in training mode, so that its dropout layers are
        active, as they are while it trains. Dropout masks are then drawn from
        torch's global random generator, and the statistics vary from call to
        call.

    Returns
    -------
    ActivationStats
        A named tuple of three arrays of shape (n_layers,): ``layer`` (the
        layer number, from 1), ``mean`` and ``variance`` (over all samples and
        units of the layer).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is an estimator that is not fitted.
    ValueError
        If ``X`` is not a non-empty 2-D array of the expected width, or if the
        module has no activation module of ``activation_types``.
    TypeError
        If ``estimator`` is neither a fitted estimator nor a torch module.

    See Also
    --------
    ActivationStats : The returned named tuple.
    SNNClassifier : Self-normalizing neural network classifier.
    SNNRegressor : Self-normalizing neural network regressor.

    References
    ----------
    .. [1] G. Klambauer, T. Unterthiner, A. Mayr and S. Hochreiter,
       "Self-Normalizing Neural Networks", Advances in Neural Information
       Processing Systems 30, 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_snn import SNNClassifier
    >>> from sklearn_snn.diagnostics import activation_stats
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 8))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = SNNClassifier(hidden_layer_sizes=(64,) * 8, max_iter=5,
    ...                     random_state=0).fit(X, y)
    >>> stats = activation_stats(clf, X)
    >>> stats.layer
    array([1, 2, 3, 4, 5, 6, 7, 8])
    >>> stats.mean.shape, stats.variance.shape
    ((8,), (8,))
    >>> bool(np.all(np.abs(stats.mean) < 0.5) and np.all(stats.variance < 3))
    True
    """
    if isinstance(estimator, BaseEstimator):
        # The estimator's own predict-time checks: fitted, and X like fit's.
        inputs = estimator._standardize(estimator._validate_X_predict(X))
        module = estimator.net_.module_
    elif isinstance(estimator, nn.Module):
        inputs = check_array(X, dtype=np.float32)
        module = estimator
    else:
        raise TypeError(
            "activation_stats needs a fitted SNNClassifier or SNNRegressor or a "
            f"torch.nn.Module, got {type(estimator).__name__}."
        )
    module = copy.deepcopy(module).to(device="cpu", dtype=torch.float32)
    module.train(training)
    recorded = []

    def record(layer, args, output):
        values = output.detach().to(torch.float64)
        recorded.append((values.mean().item(), values.var(unbiased=False).item()))

    hooks = [
        layer.register_forward_hook(record)
        for layer in module.modules()
        if isinstance(layer, tuple(activation_types))
    ]
    if not hooks:
        raise ValueError(
            "The module has no activation layer to measure: none of its "
            f"submodules is one of {[t.__name__ for t in activation_types]}."
        )
    try:
        with torch.no_grad():
            module(torch.as_tensor(inputs, dtype=torch.float32))
    except RuntimeError as exc:
        raise ValueError(
            f"The module cannot run on X of shape {inputs.shape}: {exc}"
        ) from exc
    finally:
        for hook in hooks:
            hook.remove()
    means, variances = np.array(recorded, dtype=np.float64).reshape(-1, 2).T
    return ActivationStats(
        layer=np.arange(1, len(recorded) + 1), mean=means, variance=variances
    )
