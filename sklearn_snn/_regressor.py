"""SNNRegressor: a self-normalizing neural network for regression."""

import numpy as np
import torch
from sklearn.base import RegressorMixin
from sklearn.feature_selection import f_regression

from . import _defaults
from ._base import BaseSNN
from ._docstrings import fill_shared_sections
from ._preprocessing import fit_scaler, standardize
from ._scoring import RegressorStandIn
from ._sklearn_compat import _fit_context
from ._training import weighted_r2


@fill_shared_sections
class SNNRegressor(RegressorMixin, BaseSNN):
    """Self-normalizing neural network regressor.

    A deep SELU multilayer perceptron with AlphaDropout and LeCun-normal
    initialization (Klambauer et al., 2017), trained with squared error on
    standardized inputs and standardized targets through skorch, on the GPU
    when there is one. Several targets (2-D ``y``) are fitted jointly. The
    output layer starts at zero, so that training starts from predicting the
    mean target rather than a random function of the inputs.

    By default an ensemble of 4 such networks is trained at once. The
    defaults were chosen on 56 PMLB datasets against scikit-learn's MLP and
    gradient boosting; the benchmarks page of the documentation gives the
    measurements behind each one.

    Parameters
    ----------
    $shared_parameters

    Attributes
    ----------
    target_scaler_ : sklearn.preprocessing.StandardScaler
        The target standardization learned in fit; predictions are mapped
        back through it.

    n_outputs_ : int
        Number of targets.

    $shared_attributes

    See Also
    --------
    SNNClassifier : The classifier counterpart.
    sklearn.neural_network.MLPRegressor : The multilayer perceptron of scikit-learn.

    References
    ----------
    .. [1] G. Klambauer, T. Unterthiner, A. Mayr and S. Hochreiter,
       "Self-Normalizing Neural Networks", Advances in Neural Information
       Processing Systems 30, 2017.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn_snn import SNNRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = SNNRegressor(hidden_layer_sizes=(32, 32), random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    _criterion = torch.nn.MSELoss
    _combine = "outputs"
    _output_init = _defaults.REGRESSOR_OUTPUT_INIT
    _periodic_sigma = _defaults.REGRESSOR_PERIODIC_SIGMA
    _overfit_rise = _defaults.REGRESSOR_OVERFIT_RISE
    _validation_score = staticmethod(weighted_r2)
    _numeric_targets = True
    #: Fitted attributes of the targets, and what kind of data each one is
    #: (for ``save`` and ``load``).
    _fitted_target_attributes = {"n_outputs_": "int", "target_scaler_": "scaler"}

    def __init__(
        self,
        *,
        hidden_layer_sizes=_defaults.HIDDEN_LAYER_SIZES,
        dropout=_defaults.DROPOUT,
        n_estimators=_defaults.N_ESTIMATORS,
        weight_constraint=_defaults.WEIGHT_CONSTRAINT,
        feature_sparsity=_defaults.REGRESSOR_FEATURE_SPARSITY,
        learning_rate_init=_defaults.LEARNING_RATE_INIT,
        alpha=_defaults.ALPHA,
        beta_1=_defaults.BETA_1,
        beta_2=_defaults.BETA_2,
        batch_size=_defaults.BATCH_SIZE,
        max_iter=_defaults.MAX_ITER,
        early_stopping=_defaults.EARLY_STOPPING,
        validation_fraction=_defaults.VALIDATION_FRACTION,
        member_validation=_defaults.REGRESSOR_MEMBER_VALIDATION,
        n_iter_no_change=_defaults.N_ITER_NO_CHANGE,
        n_learning_rate_drops=_defaults.N_LEARNING_RATE_DROPS,
        weight_averaging=_defaults.WEIGHT_AVERAGING,
        tol=_defaults.TOL,
        scoring=_defaults.SCORING,
        categorical_features=_defaults.CATEGORICAL_FEATURES,
        input_scaling=_defaults.INPUT_SCALING,
        numerical_embedding=_defaults.NUMERICAL_EMBEDDING,
        device=_defaults.DEVICE,
        precision=_defaults.PRECISION,
        compile_step=_defaults.COMPILE_STEP,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.n_estimators = n_estimators
        self.weight_constraint = weight_constraint
        self.feature_sparsity = feature_sparsity
        self.learning_rate_init = learning_rate_init
        self.alpha = alpha
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.member_validation = member_validation
        self.n_iter_no_change = n_iter_no_change
        self.n_learning_rate_drops = n_learning_rate_drops
        self.weight_averaging = weight_averaging
        self.tol = tol
        self.scoring = scoring
        self.categorical_features = categorical_features
        self.input_scaling = input_scaling
        self.numerical_embedding = numerical_embedding
        self.device = device
        self.precision = precision
        self.compile_step = compile_step
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def _encode_targets(self, y, sample_weight, reset, classes=None):
        y = np.asarray(y, dtype=np.float64)
        y_2d = y.reshape(-1, 1) if y.ndim == 1 else y
        if reset:
            self.n_outputs_ = y_2d.shape[1]
            self.target_scaler_ = fit_scaler(y_2d, sample_weight, what="y")
        elif y_2d.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y_2d.shape[1]} targets but the warm-started model was "
                f"fitted on {self.n_outputs_}. Set warm_start=False to fit a new "
                "model."
            )
        targets = standardize(self.target_scaler_, y_2d, what="y")
        return targets, sample_weight, self.n_outputs_

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train one pass over a chunk of data, as ``MLPRegressor.partial_fit``.

        The first call builds the network and learns the input and target
        scaling from its chunk; that scaling then stays, so that the
        network's inputs and targets do not drift while it trains. Each call
        trains one epoch over the chunk, without a validation split or early
        stopping, and keeps the optimizer's state for the next. A fitted
        model continues from where ``fit`` left it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the chunk's samples in the loss.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _indicator_p_values(self, indicators, targets):
        # An indicator related to any one of the outputs is kept.
        targets = targets.reshape(len(targets), -1)
        return np.min(
            [f_regression(indicators, output)[1] for output in targets.T], axis=0
        )

    def _stratify_on(self, targets):
        return None

    def _fitted_n_outputs(self):
        return self.n_outputs_

    def _validation_stand_in(self, outputs, targets):
        predictions = self.target_scaler_.inverse_transform(outputs)
        y_true = self.target_scaler_.inverse_transform(targets.astype(np.float64))
        if self.n_outputs_ == 1:
            predictions, y_true = predictions.ravel(), y_true.ravel()
        return RegressorStandIn(predictions), y_true

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions; 1-D when the model has a single target.
        """
        predictions = self._predict_outputs(
            X, decode=lambda out: self.target_scaler_.inverse_transform(out, copy=False)
        )
        return predictions.ravel() if self.n_outputs_ == 1 else predictions

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
