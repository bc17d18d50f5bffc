"""scikit-learn's estimator checks, over every public estimator and the
configurations users reach for. Zero expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skann import MLPClassifier, MLPRegressor

CONFIGURATIONS = [
    {},
    {"solver": "sgd"},
    {"solver": "lbfgs"},
    {"early_stopping": True},
]

ESTIMATORS = [
    estimator(**params)
    for estimator in (MLPClassifier, MLPRegressor)
    for params in CONFIGURATIONS
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
