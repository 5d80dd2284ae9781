"""scikit-learn's estimator checks, on small CPU configurations."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_snn import SNNClassifier, SNNRegressor

SMALL = {"hidden_layer_sizes": (32, 32), "max_iter": 100, "random_state": 0}


def expected_failed_checks(estimator):
    # Weighting a row by 2 and repeating it twice give different mini-batches,
    # so two stochastic fits cannot agree to the check's tolerance.
    # scikit-learn exempts MLPClassifier and MLPRegressor for the same reason.
    return {
        "check_sample_weight_equivalence_on_dense_data": (
            "mini-batch training: a weighted row and a repeated row give different "
            "batches, so the fits differ"
        ),
    }


@parametrize_with_checks(
    [SNNClassifier(**SMALL), SNNRegressor(**SMALL)],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
