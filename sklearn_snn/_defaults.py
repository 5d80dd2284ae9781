"""Default hyperparameters of SNNClassifier and SNNRegressor.

They live in this one module so that tuning them touches one place; the
estimators' signatures use these values, so ``get_params`` and the
documentation show the real defaults. The PMLB benchmark that chose them is
described in ``benchmarks/README.md``.
"""

HIDDEN_LAYER_SIZES = (256, 256, 256, 256)
#: AlphaDropout at 0.05 costs regression a lot on PMLB (mean R² on eight
#: regression datasets: 0.66 with 0.05, 0.72 with 0, 0.79 with 0.02), so the
#: two estimators differ.
CLASSIFIER_DROPOUT = 0.05
REGRESSOR_DROPOUT = 0.02
#: Initialization of the output layer (see ``SELUNetwork``). Starting the
#: regressor's output layer at zero makes the untrained network predict the
#: mean target instead of a random function of every input: on PMLB's Friedman
#: datasets with 25 and 50 features, most of them noise, R² rose from 0.80 to
#: 0.84 and from 0.21 to 0.54. It did not help the classifier.
CLASSIFIER_OUTPUT_INIT = "lecun"
REGRESSOR_OUTPUT_INIT = "zero"
N_ESTIMATORS = 4
WEIGHT_CONSTRAINT = None
FEATURE_SPARSITY = 0.0
#: Penalty of the penalized half of the ensemble with ``feature_sparsity='auto'``:
#: the value that did best on PMLB's Friedman datasets with noise features
#: (benchmark round 4).
AUTO_FEATURE_SPARSITY = 4.0
LEARNING_RATE_INIT = 1e-3
ALPHA = 1e-4
BATCH_SIZE = "auto"
#: Rows per batch when ``batch_size='auto'`` (fewer when there are fewer rows).
AUTO_BATCH_SIZE = 256
MAX_ITER = 200
EARLY_STOPPING = True
VALIDATION_FRACTION = 0.1
N_ITER_NO_CHANGE = 20
#: Training also needs this many optimizer steps without improvement before it
#: stops, so that on small datasets (an epoch of one or two batches) patience
#: is not a handful of steps.
MIN_STEPS_NO_CHANGE = 200
TOL = 1e-4
DEVICE = "auto"
PRECISION = "float32"
COMPILE_STEP = False
