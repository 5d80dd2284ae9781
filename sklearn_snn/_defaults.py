"""Default hyperparameters of SNNClassifier and SNNRegressor.

They live in this one module so that tuning them touches one place; the
estimators' signatures use these values, and their docstrings take the
documented defaults from the signatures, so ``get_params`` and the
documentation show the real defaults. Each comment says why a value was
chosen; ``benchmarks/README.md`` holds the measurements behind it.
"""

HIDDEN_LAYER_SIZES = (256, 256, 256, 256)
#: No AlphaDropout: with the moving average of the weights below, keeping the
#: classifier's former 0.05 lost accuracy on the small classification
#: datasets, and an epoch without the masks costs about a third less.
DROPOUT = 0.0
#: A zero output layer makes the untrained regressor predict the mean target
#: instead of a random function of every input, which helped on datasets with
#: many noise features; it did not help the classifier.
CLASSIFIER_OUTPUT_INIT = "lecun"
REGRESSOR_OUTPUT_INIT = "zero"
#: Four members raised accuracy and R² against one network.
N_ESTIMATORS = 4
WEIGHT_CONSTRAINT = None
#: ``'auto'`` (half the ensemble penalized, the validation split chooses)
#: raised the regressor's mean R²; for the classifier it won and lost about
#: equally and cost fit time, so the classifier goes without.
CLASSIFIER_FEATURE_SPARSITY = 0.0
REGRESSOR_FEATURE_SPARSITY = "auto"
#: Penalty of the penalized half with ``feature_sparsity='auto'``: 8 did
#: better than 4 on the regression datasets, and 16 only on the smallest.
AUTO_FEATURE_SPARSITY = 8.0
LEARNING_RATE_INIT = 1e-3
ALPHA = 1e-4
BETA_1 = 0.9
BETA_2 = 0.999
LABEL_SMOOTHING = 0.0
BATCH_SIZE = "auto"
#: Rows per batch when ``batch_size='auto'`` (fewer when there are fewer rows).
AUTO_BATCH_SIZE = 256
MAX_ITER = 200
EARLY_STOPPING = True
VALIDATION_FRACTION = 0.1
#: Pairs of members trained on each other's validation rows raised the
#: classifier's small datasets, where one shared split of a few rows picks
#: the epoch for all; the regressor kept its one split.
CLASSIFIER_MEMBER_VALIDATION = "pairs"
REGRESSOR_MEMBER_VALIDATION = "shared"
#: 20 rather than 10 raised R² on the large regression datasets and left
#: accuracy unchanged.
N_ITER_NO_CHANGE = 20
#: Training also needs this many optimizer steps without improvement before it
#: stops, so that on small datasets (an epoch of one or two batches) patience
#: is not a handful of steps.
MIN_STEPS_NO_CHANGE = 200
#: The classifier waives that floor when its validation loss has risen more
#: than 5% above a best below the first epoch's: the cross-entropy has
#: turned up, which is overfitting. Small fits then trained about 80 epochs
#: instead of 200, and both classification groups rose. The regressor's
#: squared error rose as far and fell again at the same learning rate, so it
#: keeps the floor.
CLASSIFIER_OVERFIT_RISE = 0.05
REGRESSOR_OVERFIT_RISE = None
#: One drop of the learning rate, by 10, at the first stall: it raised the
#: mean score in three of the four study groups and left the fourth level.
N_LEARNING_RATE_DROPS = 1
#: An average of the weights over about 10 steps, without dropout, raised the
#: mean score in three of the four study groups and shortened the fits; over
#: about 100 steps (0.99) it lowered all four.
WEIGHT_AVERAGING = 0.9
TOL = 1e-4
DEVICE = "auto"
#: ``'auto'``: bf16 autocast of the training step on a CPU with bf16 matrix
#: instructions. On the study's AMD EPYC it cut the median fit time by a
#: quarter and moved no group's mean score by more than 0.0005.
PRECISION = "auto"
COMPILE_STEP = False
CATEGORICAL_FEATURES = "auto"
INPUT_SCALING = "standard"
#: Bound of the smooth clip with ``input_scaling='robust'``: RealMLP's 3.
SMOOTH_CLIP = 3.0
SCORING = "loss"
#: A categorical level seen in fewer training rows than this is merged into
#: one "rare" level: too few rows to learn its own effect from, and, one-hot,
#: a spike of a column.
MIN_LEVEL_COUNT = 10
#: Categorical columns of at most this many codes (levels, plus the rare and
#: unknown one) are one-hot encoded; wider ones are embedded.
MAX_ONE_HOT_LEVELS = 16
#: Width of each embedded column's learned embedding.
EMBEDDING_DIM = 8
#: ``'periodic'`` (with the frequencies below) raised the mean score in all
#: four study groups, most on small regression and small classification.
NUMERICAL_EMBEDDING = "periodic"
#: The periodic embedding of numeric columns follows RealMLP's PBLD: 16 waves
#: an input, mixed into 3 features.
PERIODIC_FREQUENCIES = 16
PERIODIC_DIM = 3
#: The standard deviation of the initial frequencies. RealMLP's 0.1 lost
#: large classification datasets of many correlated raw columns
#: (Hill_Valley_with_noise); the classifier's 0.05 starts each feature as a
#: gentler function of its column, and 0.1 did better for the regressor.
CLASSIFIER_PERIODIC_SIGMA = 0.05
REGRESSOR_PERIODIC_SIGMA = 0.1
#: Standardized one-hot columns stay within this many standard units (see
#: ``_encoding.scale_binary_inputs``).
MAX_INDICATOR_STANDARDIZED = 3.0
#: A missing indicator is kept when a test of its association with the
#: target in the training rows of positive weight gives a p-value below
#: this (ANOVA F for the classifier, the correlation's F for the
#: regressor): with numbers removed at random from the benchmark tables,
#: indicators of noise cost accuracy.
MISSING_INDICATOR_P_VALUE = 0.05
#: A missing numeric value is imputed from the other inputs of its row
#: (``_imputation``): a ridge regression per column on at most this many of
#: the inputs most correlated with it, with its penalty chosen among
#: ``IMPUTATION_ALPHAS`` by leave-one-out error.
MAX_IMPUTATION_PREDICTORS = 32
IMPUTATION_ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)
#: The regressions learn from at most this many evenly spaced rows, and a
#: column present in fewer than ``MIN_IMPUTATION_ROWS`` is imputed with its
#: mean; past ``MAX_IMPUTED_COLUMNS`` columns with missing values, the rest
#: (the least often missing) are too. These bound the cost of fit and the
#: size of a model file.
MAX_IMPUTATION_ROWS = 20_000
MIN_IMPUTATION_ROWS = 20
MAX_IMPUTED_COLUMNS = 1000
