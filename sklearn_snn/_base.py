"""Machinery shared by SNNClassifier and SNNRegressor.

``fit`` validates the parameters and data, standardizes the inputs, builds the
SELU network and trains it through the skorch seam in ``_training``. The
subclasses declare what differs (the loss, how the members combine, the output
layer's initialization, the validation score, the stratified split), encode
targets and decode outputs.
"""

from abc import abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _defaults
from ._device import FitGenerators, resolve_device
from ._network import NetworkSpec, SELUNetwork
from ._predict import predict_outputs
from ._preprocessing import fit_scaler, standardize, standardize_tensor
from ._sklearn_compat import Interval, StrOptions, _fit_context
from ._training import (
    TensorData,
    TrainingConfig,
    TrainValidData,
    fit_network,
    training_history,
)
from ._validation import check_missing_targets, prepare_X, warn_if_index_differs


class BaseSNN(BaseEstimator):
    """Base class for self-normalizing network estimators.

    Warning: This class should not be used directly. Use the derived classes
    instead.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "weight_constraint": [StrOptions({"center"}), None],
        "feature_sparsity": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="left"),
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "device": [str],
        "precision": [StrOptions({"float32", "bf16"})],
        "compile_step": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    # What the subclasses declare:
    #: the ``torch.nn`` loss class of training;
    _criterion: type
    #: how the ensemble combines its members (see ``NetworkSpec.combine``);
    _combine: str
    #: the output layer's initialization (see ``NetworkSpec.output_init``);
    _output_init: str
    #: ``score(y_pred, data) -> float``, the validation score per epoch;
    _validation_score: staticmethod
    #: whether ``y`` must be numeric;
    _numeric_targets: bool
    #: the fitted attributes of the targets, each with its kind for
    #: ``persistence``: ``'labels'``, ``'int'`` or ``'scaler'``.
    _fitted_target_attributes: dict

    @abstractmethod
    def _encode_targets(self, y, sample_weight, reset):
        """Return (targets for the network, sample weights, number of outputs)."""

    @abstractmethod
    def _stratify_on(self, targets):
        """Return the labels that the validation split is stratified on, or None."""

    @abstractmethod
    def _fitted_n_outputs(self):
        """Return the number of network outputs that the fitted targets need."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs. A pandas DataFrame records its column names
            (non-string names as ``str`` of each), and ``predict`` then
            checks them. Datetime and timedelta columns are refused: convert
            them to numbers first.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets: class labels for the classifier, real values for the
            regressor. Missing values are refused. Rows pair with those of
            ``X`` by position, not by pandas index.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples in the loss. None weighs all
            samples equally.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight, *, incremental=False, classes=None):
        """Fit, or with ``incremental`` train one more pass (``partial_fit``).

        An incremental pass continues a fitted model (or starts one, with the
        scaling of its first chunk, which stays), trains one epoch over all
        its rows without a validation split, and draws its shuffling and
        dropout from a random state that persists across the passes.
        """
        hidden_layer_sizes = self._check_hidden_layer_sizes()
        warm = hasattr(self, "net_") and (incremental or self.warm_start)
        warn_if_index_differs(X, y, "y")
        warn_if_index_differs(X, sample_weight, "sample_weight")
        check_missing_targets(y, "target" if self._numeric_targets else "label")
        X = prepare_X(X)
        X, y = validate_data(
            self,
            X,
            y,
            reset=not warm,
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=self._numeric_targets,
        )
        sample_weight = _check_sample_weight(sample_weight, X.shape[0])
        targets, sample_weight, n_outputs = self._encode_targets(
            y, sample_weight, reset=not warm, classes=classes
        )
        if not warm:
            self.scaler_ = fit_scaler(X, sample_weight)
            self.device_ = resolve_device(self.device)
        X_std = standardize(self.scaler_, X)

        if incremental:
            rng = self._incremental_random_state(reset=not warm)
            train, valid = np.arange(X.shape[0]), None
        else:
            self.__dict__.pop("_incremental_random_state_", None)
            rng = check_random_state(self.random_state)
            train, valid = self._split(X.shape[0], targets, rng)
        weight = sample_weight / sample_weight[train].mean()
        data = TrainValidData(
            train=TensorData.from_arrays(
                X_std[train], targets[train], weight[train], self.device_
            ),
            valid=None
            if valid is None
            else TensorData.from_arrays(
                X_std[valid], targets[valid], weight[valid], self.device_
            ),
        )
        config = TrainingConfig(
            criterion=self._criterion,
            validation_score=self._validation_score,
            batch_size=self._effective_batch_size(len(train)),
            learning_rate_init=self.learning_rate_init,
            alpha=self.alpha,
            max_iter=1 if incremental else self.max_iter,
            warn_at_max_iter=not incremental,
            n_iter_no_change=self.n_iter_no_change,
            min_steps_no_change=_defaults.MIN_STEPS_NO_CHANGE,
            tol=self.tol,
            verbose=int(self.verbose),
            precision=self.precision,
            compile_step=self.compile_step,
            weight_constraint=self.weight_constraint,
            **self._feature_sparsity_config(validated=valid is not None),
        )
        spec = NetworkSpec(
            n_features=X.shape[1],
            hidden_layer_sizes=hidden_layer_sizes,
            n_outputs=n_outputs,
            dropout=self.dropout,
            n_estimators=self.n_estimators,
            combine=self._combine,
            output_init=self._output_init,
        )
        if warm:
            self._check_warm_start(spec)
        generators = FitGenerators(int(rng.randint(np.iinfo(np.int32).max)))
        module = None if warm else SELUNetwork(spec, generators.on("cpu"))
        self.net_ = fit_network(
            module,
            data,
            config,
            self.device_,
            generators,
            net=self.net_ if warm else None,
        )
        self.loss_curve_, self.validation_scores_, self.best_validation_score_ = (
            training_history(self.net_)
        )
        self.n_iter_ = len(self.loss_curve_)
        return self

    def _incremental_random_state(self, reset):
        """Return the random state of ``partial_fit``'s passes, kept between them.

        Each pass draws from where the last one left off, so that passes over
        the same chunk do not repeat one shuffled order and one set of masks.
        """
        if reset or not hasattr(self, "_incremental_random_state_"):
            self._incremental_random_state_ = check_random_state(self.random_state)
        return self._incremental_random_state_

    def _feature_sparsity_config(self, validated):
        if self.feature_sparsity != "auto":
            return {"feature_sparsity": self.feature_sparsity}
        if self.n_estimators < 2 or not validated:
            # Without two halves to compare, or a validation split to compare
            # them on, there is nothing to choose: no penalty.
            return {"feature_sparsity": 0.0}
        return {
            "feature_sparsity": _defaults.AUTO_FEATURE_SPARSITY,
            "sparse_members": "alternate",
            "select_members": True,
        }

    def _check_hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not sizes or not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must be a positive int or a non-empty sequence "
                f"of positive ints, got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _check_warm_start(self, spec):
        previous = self.net_.module_.spec
        if previous != spec:
            changes = ", ".join(
                f"{name} from {getattr(previous, name)!r} to {getattr(spec, name)!r}"
                for name in ("n_features", "hidden_layer_sizes", "n_outputs")
                + ("dropout", "n_estimators")
                if getattr(previous, name) != getattr(spec, name)
            )
            raise ValueError(
                "warm_start=True continues training the fitted network, but its "
                f"architecture changed: {changes}. Set warm_start=False to fit a "
                "new network."
            )

    def _effective_batch_size(self, n_train):
        if self.batch_size == "auto":
            return min(_defaults.AUTO_BATCH_SIZE, n_train)
        return min(self.batch_size, n_train)

    def _split(self, n_samples, targets, rng):
        """Return the training row indices and the validation ones (or None)."""
        indices = np.arange(n_samples)
        if not self.early_stopping:
            return indices, None
        if n_samples < 2:
            raise ValueError(
                "early_stopping=True needs at least 2 samples to hold out a "
                f"validation set, got n_samples={n_samples}. Set "
                "early_stopping=False."
            )
        n_valid = min(
            max(1, round(self.validation_fraction * n_samples)), n_samples - 1
        )
        split_seed = rng.randint(np.iinfo(np.int32).max)
        stratify = self._stratify_on(targets)
        if stratify is not None:
            try:
                return train_test_split(
                    indices,
                    test_size=n_valid,
                    stratify=stratify,
                    random_state=split_seed,
                )
            except ValueError:
                # Too few samples of some class to stratify: fall through to a
                # random split; the validation set only decides when to stop.
                pass
        return train_test_split(indices, test_size=n_valid, random_state=split_seed)

    def _validate_X_predict(self, X):
        """Check that the estimator is fitted and validate ``X`` against fit's.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        ndarray of shape (n_samples, n_features), dtype float64 or float32
            The validated inputs, unscaled.
        """
        check_is_fitted(self)
        return validate_data(
            self, prepare_X(X), reset=False, dtype=[np.float64, np.float32]
        )

    def _predict_outputs(self, X, activation=None, decode=None):
        """Validate ``X`` and return its network outputs, decoded per batch.

        ``activation`` and ``decode`` are passed to :func:`predict_outputs`.
        """
        X = self._validate_X_predict(X)
        return predict_outputs(
            self.net_.module_,
            self.device_,
            X,
            lambda rows, device: standardize_tensor(self.scaler_, rows, device),
            activation=activation,
            decode=decode,
        )


def _check_sample_weight(sample_weight, n_samples):
    """Check ``sample_weight`` (finite, >= 0, not all zero) and scale it to max 1."""
    if sample_weight is None:
        return np.ones(n_samples)
    sample_weight = check_array(
        sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
    )
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {sample_weight.shape}; expected ({n_samples},), "
            "one weight per sample."
        )
    if (sample_weight < 0).any():
        raise ValueError("sample_weight has negative values; weights must be >= 0.")
    if not sample_weight.any():
        raise ValueError(
            "sample_weight is zero for every sample, so there is nothing to learn "
            "from. Give at least one sample a positive weight."
        )
    # Only relative weights matter; scaling to a maximum of 1 keeps huge weights
    # from overflowing the weighted statistics.
    return sample_weight / sample_weight.max()
