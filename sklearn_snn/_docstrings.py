"""Docstring sections shared by SNNClassifier and SNNRegressor.

The estimators write ``$shared_parameters`` and ``$shared_attributes`` in
their docstrings; :func:`fill_shared_sections` substitutes the text below, so
the two classes document their common parameters from one source, and every
documented default (``$name`` in either text) is the signature's, which takes
it from ``_defaults``.
"""

import inspect
import string
import textwrap

from . import _defaults

_SHARED_PARAMETERS = """\
hidden_layer_sizes : array-like of int, default=$hidden_layer_sizes
    Width of each hidden layer. Each hidden layer is
    ``Linear -> SELU -> AlphaDropout``; depth is what self-normalization
    makes trainable.

dropout : float, default=$dropout
    AlphaDropout rate after each hidden layer, in [0, 1). AlphaDropout keeps
    the mean and variance of SELU activations; the SNN paper used rates of
    0.05 to 0.1. Plain dropout is never used: it breaks self-normalization.
    The default is 0 because, with ``weight_averaging``, dropout lowered
    accuracy on the small datasets of the PMLB benchmark, and an epoch
    without it costs about a third less (see :ref:`benchmarks`).

n_estimators : int, default=$n_estimators
    Number of networks trained together as an ensemble. The members have
    the same shape and see the same batches, but start from different
    weights and draw different dropout masks; they are held as one network
    whose layers are batched matrix products, so on a GPU an ensemble costs
    little more than one network (on the CPU, about ``n_estimators`` times
    as much). Each member minimizes its own loss; predictions average the
    members' probabilities (classifier) or outputs (regressor), and early
    stopping watches the ensemble's validation loss. An ensemble of 4
    raised both mean accuracy and mean R² on the PMLB benchmark against a
    single network (see :ref:`benchmarks`).

weight_constraint : {None, 'center'}, default=$weight_constraint
    ``'center'`` applies weight centering after every optimizer step: each
    unit's incoming weights have their mean subtracted, so that they sum to
    zero as the SNN fixed point assumes, and the activations' mean cannot
    drift away from zero during training. It applies to the hidden layers
    fed by SELU activations (all but the first); the first takes
    standardized inputs and the output layer is not followed by a SELU.

feature_sparsity : float or 'auto', default=$feature_sparsity
    Strength of a group-lasso penalty that lets uninformative input features
    drop out. After every optimizer step, the first-layer weights of each
    input feature (its column, or its embedding, with its periodic
    features: ``k`` columns of the first layer) lose ``learning_rate_init *
    feature_sparsity * sqrt(k)`` of their norm, and those whose norm falls
    below that become zero; 0 disables it.
    ``'auto'`` trains every second ensemble member with
    ``feature_sparsity=$auto_feature_sparsity`` and the others without. After
    every epoch it keeps all members, or the half with or without the penalty, whichever
    has the lowest validation loss; early stopping follows that loss, and
    the best epoch's choice is kept with its weights
    (``net_.module_.kept_members``). With one member, or
    without early stopping (no validation split), there is nothing to
    choose on and ``'auto'`` trains without the penalty. ``'auto'`` is the
    regressor's default because it raised mean R² on the PMLB regression
    datasets, most on those with many noise features; on classification it
    won and lost about as often, so the classifier goes without (see
    :ref:`benchmarks`). A fixed value penalizes every member, with no
    validation to fall back on. See :ref:`estimators`.

learning_rate_init : float, default=$learning_rate_init
    Initial learning rate of the AdamW optimizer.

alpha : float, default=$alpha
    Weight decay (decoupled L2 penalty) of AdamW.

beta_1 : float, default=$beta_1
    AdamW's decay rate of its running mean of the gradients, in [0, 1).

beta_2 : float, default=$beta_2
    AdamW's decay rate of its running mean of the squared gradients, in
    [0, 1). Lower values adapt the step sizes faster.

batch_size : int or 'auto', default=$batch_size
    Rows per mini-batch. ``'auto'`` uses ``min($auto_batch_size, n_samples)``.
    Larger values are clipped to the number of training rows.

max_iter : int, default=$max_iter
    Maximum number of epochs (passes over the training data).

early_stopping : bool, default=$early_stopping
    Hold out ``validation_fraction`` of the training data (stratified for
    classification), or use the ``X_val`` and ``y_val`` given to ``fit``,
    stop when the validation loss (or ``scoring``) has not improved by
    ``tol`` for ``n_iter_no_change`` epochs, and restore the weights of the
    best epoch. When False, training stops on the training loss by the same
    rule and keeps the last weights.

validation_fraction : float, default=$validation_fraction
    Fraction of the training data held out for early stopping, in (0, 1).
    At least one row is held out. Only used if ``early_stopping=True`` and
    ``fit`` is given no ``X_val``.

member_validation : {'shared', 'pairs'}, default=$member_validation
    How the ensemble's members are validated with an internal split.
    ``'shared'``: one ``validation_fraction`` of the rows is held out from
    all members. ``'pairs'``: members ``2k`` and ``2k + 1`` hold out their
    own disjoint fold of ``validation_fraction`` of the rows (stratified for
    classification) and train on all other rows, so the ensemble as a whole
    trains on every row; each fold row scores the combined prediction of the
    members that never saw it. Training stops at one epoch for all members,
    the best by that out-of-fold score. With fewer than 4 members, or with
    ``X_val``, it is the same as ``'shared'``.

n_iter_no_change : int, default=$n_iter_no_change
    Epochs without improvement of the monitored loss before training stops.
    Training also waits for at least $min_steps_no_change optimizer steps
    without improvement, so that on small datasets, where an epoch is one or two
    batches, patience is not a handful of steps.$overfit_rule

n_learning_rate_drops : int, default=$n_learning_rate_drops
    Times that a stall of the monitored loss, by the rule of
    ``n_iter_no_change``, divides the learning rate by 10 instead of ending
    training: the weights of the best epoch so far are restored, and
    training goes on from them at the lower rate with new patience, until a
    stall with no drop left ends it (or ``max_iter``). A lower rate settles
    into the minimum that the higher one kept stepping over, at the cost of
    the epochs of another wait. One drop raised the mean scores of the PMLB
    study, where 0 is the former behaviour (see :ref:`benchmarks`).

weight_averaging : float, default=$weight_averaging
    Decay of an exponential moving average of the weights over optimizer
    steps (in the first steps the decay is lower, ``(1 + t) / (10 + t)``).
    With a value above 0, that average, not the weights of the last step, is
    what each epoch validates, what early stopping keeps and what the fitted
    model predicts with; training goes on from the trained weights. An
    average over about ``1 / (1 - weight_averaging)`` steps is less noisy
    than any one of them, which matters when a small validation split picks
    the epoch. Averaging keeps the weights' mean near 0, so the network
    stays self-normalizing. Each call of ``fit`` or ``partial_fit`` (or a
    warm start) begins a new average from the weights it starts with, which
    are the previous call's average. 0 keeps the weights themselves.

tol : float, default=$tol
    Minimum decrease of the monitored loss (or increase of the ``scoring``
    score) that counts as an improvement.

scoring : str or callable, default=$scoring
    What early stopping watches on the validation data, as in
    :class:`~sklearn.ensemble.HistGradientBoostingClassifier`. ``'loss'``
    is the training loss on the validation rows, and ``validation_scores_``
    then report ``score``'s metric. Any other value is a scikit-learn
    scorer, by name (``'roc_auc'``, ``'neg_log_loss'``, ``'r2'``, ...) or as a
    callable ``scorer(estimator, X, y, sample_weight=None)``: training stops
    when it has not risen by ``tol`` for ``n_iter_no_change`` epochs, and
    ``validation_scores_`` report it. The scorer is called every epoch with a
    stand-in for the estimator, whose ``predict`` (and the classifier's
    ``predict_proba``) answer for the validation rows whatever ``X`` it is
    given, and ``X=None``.

categorical_features : 'auto', None or array-like, default=$categorical_features
    Which columns of ``X`` are categorical, as in
    :class:`~sklearn.ensemble.HistGradientBoostingClassifier`. ``'auto'``
    takes the pandas ``category``, ``object``, ``string`` and ``bool``
    columns and the polars ``Categorical``, ``Enum``, ``String`` and
    ``Boolean`` ones (an array has none); None takes none; otherwise column
    indices, column names (with a DataFrame) or a boolean mask. Levels seen
    in fewer than $min_level_count training rows are merged into one rare
    level, which also takes every level first seen at predict time; a
    missing value is a level of its own. A column of at most
    $max_one_hot_levels levels becomes standardized one-hot inputs, a wider
    one a learned embedding of $embedding_dim values, so that no one-hot
    matrix of its levels is built, unless its levels are numbers: it is then
    a numeric column, as a measurement's values are, and so is a column of
    two numbered levels, the same 0/1 column either way. A column whose
    levels are all rare, such as an identifier, is dropped with a warning. See
    :ref:`categorical-missing`.

input_scaling : {'standard', 'robust'}, default=$input_scaling
    How the numeric columns of ``X`` are brought to mean 0 and variance 1,
    which the SELU fixed point needs. ``'standard'`` subtracts the mean and
    divides by the standard deviation. ``'robust'`` first centers each
    column on its median, divides it by its interquartile range (relative to
    a standard normal's), and bends the result smoothly into
    (-$smooth_clip, $smooth_clip) with ``z / sqrt(1 + (z / $smooth_clip)**2)``,
    as RealMLP does, then standardizes: a heavy tail or an outlier then
    neither shrinks the rest of its column nor reaches the network far
    from zero. One-hot columns and missing indicators are 0/1 and are only
    standardized. See :ref:`benchmarks`.

numerical_embedding : {'periodic'} or None, default=$numerical_embedding
    How the numeric columns, once scaled, reach the first hidden layer.
    None passes each as one input. ``'periodic'`` passes it together with
    $periodic_dim learned features of it, each a mix of $periodic_frequencies
    waves ``cos(2 pi f x + b)`` of learned frequency and phase (RealMLP's
    PBLD embedding), centered so that the first layer's inputs stay near
    mean 0 (their variance starts below 1; see the user guide): the network
    can then fit a sharp or periodic effect of one column without spending
    its hidden units on it.
    One-hot columns, missing indicators and embedded columns are not
    embedded this way. See :ref:`benchmarks`.

device : str, default=$device
    Where to train: ``'auto'`` picks CUDA when available, else the CPU; any
    torch device string (``'cpu'``, ``'cuda'``, ``'cuda:1'``) is accepted.
    Predictions are returned as numpy arrays on the CPU whatever the device.
    Training data is copied to the device once when it takes at most half of
    the GPU's free memory; larger data stays in pinned host memory and is
    copied over batch by batch.

precision : {'auto', 'float32', 'bf16'}, default=$precision
    Arithmetic of the training forward pass. ``'bf16'`` runs it under
    bfloat16 autocast; weights, the optimizer, validation and predictions
    stay in float32 (float64 for predictions on the CPU). ``'auto'`` chooses
    ``'bf16'`` on a CPU with bfloat16 matrix instructions (AVX512-BF16 or
    AMX), where it trains faster at the same accuracy, and ``'float32'``
    elsewhere: other CPUs emulate bf16 arithmetic, and on CUDA the
    eager step is bound by kernel launches, not arithmetic (with
    ``compile_step=True`` bf16 is faster there: ask for it). The fitted
    ``net_.precision`` holds the choice. Fits with the same
    ``random_state`` agree only between machines that make the same choice.

compile_step : bool, default=$compile_step
    Compile the training step (forward pass, loss, backward pass) with
    ``torch.compile`` and update the weights with a fused AdamW. On CUDA the
    whole step, update included, is captured once as a CUDA graph and
    replayed for every batch, which removes the kernel-launch overhead that
    dominates small batches (12 times the throughput of a plain PyTorch loop
    for a 4x256 network at batch 256 on an H100). On the CPU, each hidden
    layer's SELU and AlphaDropout then run as one compiled loop, with masks
    from a hash, and the forward and backward passes are one compiled call
    (2.35 to 2.8 times the throughput of skorch's default loop for that
    network on two shared cores, 2.6 in the median run).
    See :ref:`gpu`. The first epoch pays the compile time (seconds on a GPU,
    about 15 seconds on two CPU cores), so it pays off for long runs. Every training
    batch then has the same size: a last, smaller batch of an epoch is
    skipped.

random_state : int, RandomState instance or None, default=$random_state
    Seeds the weight initialization, the validation split, shuffling and
    dropout. An int gives identical models from identical fits on the CPU,
    also when several fits run at once in threads: each fit draws from torch
    generators of its own. Fitting never changes torch's or numpy's global
    random state when an int is given; None draws the seed from numpy's
    global generator, as in scikit-learn.

verbose : int, default=$verbose
    0 is silent; 1 prints one line per epoch (train loss, validation loss,
    validation score, seconds); 2 also shows a progress bar within each epoch.

warm_start : bool, default=$warm_start
    When True, ``fit`` continues training the fitted network for up to
    ``max_iter`` more epochs, with the input scaling learned in the first fit.
    The network's shape must not change."""

_SHARED_ATTRIBUTES = """\
n_features_in_ : int
    Number of features seen during fit.

feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during fit. Defined only when `X` has feature
    names that are all strings, or all not strings (integers, MultiIndex
    tuples), which are recorded as the ``str`` of each; ``predict`` then
    refuses columns that are missing, renamed or reordered.

is_categorical_ : ndarray of shape (`n_features_in_`,), dtype bool
    Which columns of ``X`` were treated as categorical.

categorical_levels_ : dict
    The kept levels of each categorical column, by column name
    (``feature_names_in_``, or ``'x0'``, ``'x1'``, ... for an array), in the
    order of their codes; None stands for the missing level. Other levels,
    rare or unknown, share one code.

scaler_ : sklearn.preprocessing.StandardScaler
    The standardization learned in fit, of the network's numeric inputs:
    the numeric columns, the missing-value indicators and the one-hot
    columns, in that order. Missing values are 0 after standardization,
    the mean, until ``imputer_`` imputes them.

imputer_ : object or None
    How a missing value of each numeric column that had missing values in
    fit is imputed: from a ridge regression, learned in fit, on the
    standardized inputs most correlated with the column. Its ``columns``,
    ``predictors`` (positions among the standardized inputs), ``coef`` and
    ``intercept`` describe it. None when no column had missing values; a
    column missing at predict time only gets its mean.

net_ : skorch.NeuralNet
    The skorch net that trained the network; ``net_.module_`` is the
    torch module.

device_ : str
    The device the network was trained on.

n_iter_ : int
    Number of epochs run, over all fits of a warm start.

loss_curve_ : list of float
    Training loss at the end of each epoch.

validation_scores_ : list of float or None
    Validation score at the end of each epoch: ``score``'s metric with
    ``scoring='loss'``, else the ``scoring`` score; None when
    ``early_stopping=False``.

best_validation_score_ : float or None
    Validation score of the epoch whose weights were kept, or None when
    ``early_stopping=False``."""


def _indented(text):
    return textwrap.indent(text, "    ").lstrip()


def _overfit_rule(rise):
    """Return the sentence of ``n_iter_no_change`` on ``overfit_rise``, or nothing."""
    if rise is None:
        return ""
    sentence = (
        "The wait in steps is waived when the validation loss (with "
        f"``scoring='loss'``) is more than {rise:.0%} above its best after "
        "those epochs, and that best improved on the first epoch's: a "
        "loss that has turned up after falling is overfitting, not a "
        "plateau."
    )
    return "\n" + textwrap.indent(textwrap.fill(sentence, width=76), "    ")


def fill_shared_sections(cls):
    """Substitute the shared parameter and attribute docs into a class docstring.

    Parameters
    ----------
    cls : type
        A class whose docstring holds ``$shared_parameters`` and
        ``$shared_attributes``.

    Returns
    -------
    type
        The same class.
    """
    defaults = {
        name: repr(parameter.default)
        for name, parameter in inspect.signature(cls).parameters.items()
    }
    parameters = string.Template(_SHARED_PARAMETERS).substitute(
        defaults,
        auto_feature_sparsity=repr(_defaults.AUTO_FEATURE_SPARSITY),
        auto_batch_size=_defaults.AUTO_BATCH_SIZE,
        min_steps_no_change=_defaults.MIN_STEPS_NO_CHANGE,
        overfit_rule=_overfit_rule(cls._overfit_rise),
        min_level_count=_defaults.MIN_LEVEL_COUNT,
        max_one_hot_levels=_defaults.MAX_ONE_HOT_LEVELS,
        embedding_dim=_defaults.EMBEDDING_DIM,
        periodic_frequencies=_defaults.PERIODIC_FREQUENCIES,
        periodic_dim=_defaults.PERIODIC_DIM,
        smooth_clip=_defaults.SMOOTH_CLIP,
    )
    cls.__doc__ = string.Template(cls.__doc__).substitute(
        defaults,
        shared_parameters=_indented(parameters),
        shared_attributes=_indented(_SHARED_ATTRIBUTES),
    )
    return cls
