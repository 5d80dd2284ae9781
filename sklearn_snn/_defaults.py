"""Default hyperparameters shared by SNNClassifier and SNNRegressor.

They live in this one module so that tuning them touches one place; the
estimators' signatures use these values, so ``get_params`` and the
documentation show the real defaults.
"""

HIDDEN_LAYER_SIZES = (256, 256, 256, 256)
DROPOUT = 0.05
N_ESTIMATORS = 1
WEIGHT_CONSTRAINT = None
LEARNING_RATE_INIT = 1e-3
ALPHA = 1e-4
BATCH_SIZE = "auto"
#: Rows per batch when ``batch_size='auto'`` (fewer when there are fewer rows).
AUTO_BATCH_SIZE = 256
MAX_ITER = 200
EARLY_STOPPING = True
VALIDATION_FRACTION = 0.1
N_ITER_NO_CHANGE = 10
#: Training also needs this many optimizer steps without improvement before it
#: stops, so that on small datasets (an epoch of one or two batches) patience
#: is not a handful of steps.
MIN_STEPS_NO_CHANGE = 200
TOL = 1e-4
DEVICE = "auto"
PRECISION = "float32"
COMPILE_STEP = False
