"""Machinery shared by SNNClassifier and SNNRegressor.

``fit`` validates the parameters and data, standardizes the inputs, builds the
SELU network and trains it through the skorch seam in ``_training``. The
subclasses declare what differs (the loss, how the members combine, the output
layer's initialization, the validation score, the stratified split), encode
targets and decode outputs.
"""

from abc import abstractmethod
from dataclasses import fields
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.metrics import check_scoring
from sklearn.utils import check_random_state

from . import _defaults
from ._device import FitGenerators, resolve_device, resolve_precision
from ._inputs import TableInputs
from ._network import NetworkSpec, SELUNetwork
from ._predict import predict_outputs
from ._scoring import ScorerOnOutputs
from ._sklearn_compat import Interval, StrOptions, _fit_context
from ._splits import holdout_split, member_folds
from ._training import (
    TensorData,
    TrainingConfig,
    TrainValidData,
    fit_network,
    training_history,
)
from ._validation import (
    check_missing_targets,
    check_sample_weight,
    check_validation_data,
    warn_if_index_differs,
)


class BaseSNN(TableInputs, BaseEstimator):
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
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "member_validation": [StrOptions({"shared", "pairs"})],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "n_learning_rate_drops": [Interval(Integral, 0, None, closed="left")],
        "weight_averaging": [Interval(Real, 0, 1, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "scoring": [str, callable],
        "categorical_features": ["array-like", StrOptions({"auto"}), None],
        "input_scaling": [StrOptions({"standard", "robust"})],
        "numerical_embedding": [StrOptions({"periodic"}), None],
        "device": [str],
        "precision": [StrOptions({"auto", "float32", "bf16"})],
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
    #: the initial frequencies' spread (see ``NetworkSpec.periodic_sigma``);
    _periodic_sigma: float
    #: the rise of the validation loss that ends patience early, or None
    #: (see ``EarlyStopping.overfit_rise``);
    _overfit_rise: float | None
    #: ``score(y_pred, data) -> float``, the validation score per epoch with
    #: ``scoring='loss'``;
    _validation_score: staticmethod
    #: whether ``y`` must be numeric;
    _numeric_targets: bool
    #: the fitted attributes of the targets, each with its kind for
    #: ``persistence``: ``'labels'``, ``'int'`` or ``'scaler'``.
    _fitted_target_attributes: dict

    def _criterion_params(self):
        """Return the keyword arguments of ``_criterion`` besides its reduction."""
        return {}

    @abstractmethod
    def _encode_targets(self, y, sample_weight, reset):
        """Return (targets for the network, sample weights, number of outputs)."""

    @abstractmethod
    def _indicator_p_values(self, indicators, targets):
        """Return the p-value of each indicator column's tie to the targets."""

    @abstractmethod
    def _stratify_on(self, targets):
        """Return the labels that the validation split is stratified on, or None."""

    @abstractmethod
    def _fitted_n_outputs(self):
        """Return the number of network outputs that the fitted targets need."""

    @abstractmethod
    def _validation_stand_in(self, outputs, targets):
        """Return a stand-in for a scorer, and the decoded targets.

        ``outputs`` are the ensemble's combined outputs for validation rows,
        ``targets`` their network targets (see :class:`ScorerOnOutputs`).
        """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Fit the network to data.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training inputs: an array, or a pandas or polars DataFrame, whose
            categorical columns (see ``categorical_features``) may hold
            strings, numbers or booleans. Missing values (NaN, None,
            ``pd.NA``) are allowed; infinity is not. A DataFrame records its
            column names (non-string names as ``str`` of each), and
            ``predict`` then checks them. Datetime and timedelta columns are
            refused: convert them to numbers first.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets: class labels for the classifier, real values for the
            regressor. Missing values are refused. Rows pair with those of
            ``X`` by position, not by pandas index.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples in the loss. None weighs all
            samples equally.
        X_val : array-like or DataFrame of shape (n_val, n_features), default=None
            Validation inputs for early stopping, in place of the
            ``validation_fraction`` split, as in
            :class:`~sklearn.ensemble.HistGradientBoostingClassifier`. They
            are encoded and standardized as ``X`` was. Needs ``y_val`` and
            ``early_stopping=True``.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Validation targets.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        validation = check_validation_data(
            X_val, y_val, sample_weight_val, self.early_stopping
        )
        return self._fit(X, y, sample_weight, validation=validation)

    def _fit(
        self, X, y, sample_weight, *, validation=None, incremental=False, classes=None
    ):
        """Fit, or with ``incremental`` train one more pass (``partial_fit``).

        ``validation`` is ``(X_val, y_val, sample_weight_val)`` from ``fit``,
        or None. An incremental pass continues a fitted model (or starts one,
        with the encoding and scaling of its first chunk, which stay), trains
        one epoch over all its rows without a validation split, and draws its
        shuffling and dropout from a random state that persists across the
        passes.
        """
        hidden_layer_sizes = self._check_hidden_layer_sizes()
        warm = hasattr(self, "net_") and (incremental or self.warm_start)
        validation_score, stop_on_score = self._validation_scoring()
        warn_if_index_differs(X, y, "y")
        warn_if_index_differs(X, sample_weight, "sample_weight")
        check_missing_targets(y, "target" if self._numeric_targets else "label")
        X_encoded = self._encode_X(X) if warm else self._fit_encoding(X)
        X_encoded, y = self._check_X_y(X_encoded, y)
        sample_weight = check_sample_weight(sample_weight, X_encoded.shape[0])
        targets, sample_weight, n_outputs = self._encode_targets(
            y, sample_weight, reset=not warm, classes=classes
        )
        if not warm:
            X_encoded = self._drop_uninformative_indicators(
                X_encoded, targets, sample_weight
            )
            self._fit_scaler(X_encoded, sample_weight)
            self.device_ = resolve_device(self.device)
        X_std = self._standardize(X_encoded)

        train_members = valid_members = None
        if incremental:
            rng = self._incremental_random_state(reset=not warm)
            train, valid = np.arange(X_std.shape[0]), None
        else:
            self.__dict__.pop("_incremental_random_state_", None)
            rng = check_random_state(self.random_state)
            if validation is None:
                train, valid, train_members, valid_members = self._split(
                    X_std.shape[0], targets, rng
                )
            else:
                train, valid = np.arange(X_std.shape[0]), None
        weight = sample_weight / sample_weight[train].mean()
        if validation is not None:
            valid_data = self._validation_data(*validation, sample_weight[train].mean())
        elif valid is not None:
            valid_data = TensorData.from_arrays(
                X_std[valid],
                targets[valid],
                weight[valid],
                self.device_,
                members=valid_members,
            )
        else:
            valid_data = None
        data = TrainValidData(
            train=TensorData.from_arrays(
                X_std[train],
                targets[train],
                weight[train],
                self.device_,
                members=train_members,
            ),
            valid=valid_data,
        )
        config = TrainingConfig(
            criterion=self._criterion,
            validation_score=validation_score,
            stop_on_score=stop_on_score,
            batch_size=self._effective_batch_size(len(train)),
            learning_rate_init=self.learning_rate_init,
            alpha=self.alpha,
            betas=(self.beta_1, self.beta_2),
            criterion_params=self._criterion_params(),
            max_iter=1 if incremental else self.max_iter,
            warn_at_max_iter=not incremental,
            n_iter_no_change=self.n_iter_no_change,
            min_steps_no_change=_defaults.MIN_STEPS_NO_CHANGE,
            n_lr_drops=self.n_learning_rate_drops,
            overfit_rise=self._overfit_rise,
            weight_averaging=self.weight_averaging,
            tol=self.tol,
            verbose=int(self.verbose),
            precision=resolve_precision(self.precision, self.device_),
            compile_step=self.compile_step,
            weight_constraint=self.weight_constraint,
            **self._feature_sparsity_config(validated=valid_data is not None),
        )
        spec = NetworkSpec(
            n_features=X_std.shape[1],
            hidden_layer_sizes=hidden_layer_sizes,
            n_outputs=n_outputs,
            dropout=self.dropout,
            n_estimators=self.n_estimators,
            combine=self._combine,
            output_init=self._output_init,
            embeddings=self._table_encoding.embeddings,
            embedding_dim=_defaults.EMBEDDING_DIM,
            periodic_features=self._n_periodic_features(),
            periodic_sigma=self._periodic_sigma,
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

    def _validation_scoring(self):
        """Return the per-epoch validation score, and whether to stop on it."""
        if isinstance(self.scoring, str) and self.scoring == "loss":
            return self._validation_score, False
        scorer = check_scoring(self, scoring=self.scoring)
        return ScorerOnOutputs(scorer, self._validation_stand_in), True

    def _validation_data(self, X_val, y_val, sample_weight_val, weight_scale):
        """Encode, standardize and check ``fit``'s ``X_val`` and ``y_val``.

        The weights are divided by ``weight_scale``, as the training rows' are.
        """
        check_missing_targets(y_val, "target" if self._numeric_targets else "label")
        X_val, y_val = self._check_X_y(self._encode_X(X_val), y_val)
        weight = check_sample_weight(sample_weight_val, X_val.shape[0])
        targets, weight, _ = self._encode_targets(y_val, weight, reset=False)
        return TensorData.from_arrays(
            self._standardize(X_val), targets, weight / weight_scale, self.device_
        )

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

    def _n_periodic_features(self):
        """Return how many inputs (the numeric columns) are embedded periodically."""
        if self.numerical_embedding == "periodic":
            return len(self._table_encoding.numeric)
        return 0

    def _check_warm_start(self, spec):
        previous = self.net_.module_.spec
        if previous != spec:
            changes = ", ".join(
                f"{name} from {getattr(previous, name)!r} to {getattr(spec, name)!r}"
                for name in (field.name for field in fields(spec) if field.compare)
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
        """Return the training rows, the validation rows, and their member masks.

        Without early stopping there are no validation rows (None). The masks
        (see :attr:`TensorData.members`) are None when every member trains on
        every training row and every validation row scores all of them.
        """
        indices = np.arange(n_samples)
        if not self.early_stopping:
            return indices, None, None, None
        if n_samples < 2:
            raise ValueError(
                "early_stopping=True needs at least 2 samples to hold out a "
                f"validation set, got n_samples={n_samples}. Set "
                "early_stopping=False."
            )
        n_valid = min(
            max(1, round(self.validation_fraction * n_samples)), n_samples - 1
        )
        stratify = self._stratify_on(targets)
        if self.member_validation == "pairs" and self.n_estimators >= 4:
            valid, train_members, valid_members = member_folds(
                n_samples, n_valid, self.n_estimators, stratify, rng
            )
            return indices, valid, train_members, valid_members
        train, valid = holdout_split(indices, n_valid, stratify, rng)
        return train, valid, None, None

    def _predict_outputs(self, X, activation=None, decode=None):
        """Validate ``X`` and return its network outputs, decoded per batch.

        ``activation`` and ``decode`` are passed to :func:`predict_outputs`.
        """
        X = self._validate_X_predict(X)
        return predict_outputs(
            self.net_.module_,
            self.device_,
            X,
            self._standardize_tensor,
            activation=activation,
            decode=decode,
        )
