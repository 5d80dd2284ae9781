"""Demo: ``python -m sklearn_snn`` trains SNNClassifier beside MLPClassifier.

Both models fit the digits dataset that ships with scikit-learn, with their
default parameters (MLPClassifier behind a StandardScaler, as scikit-learn
recommends), and the demo prints the test accuracy and fit time of each.
"""

import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_snn import SNNClassifier


def main():
    """Fit both models on digits and print their accuracy and fit time."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    models = {
        "SNNClassifier": SNNClassifier(random_state=0),
        "MLPClassifier": make_pipeline(StandardScaler(), MLPClassifier(random_state=0)),
    }
    print(
        f"digits: {X_train.shape[0]} training and {X_test.shape[0]} test rows, "
        f"{X.shape[1]} features, {len(set(y))} classes"
    )
    print(f"{'model':<15} {'accuracy':>9} {'fit time (s)':>13}")
    for name, model in models.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        print(f"{name:<15} {model.score(X_test, y_test):>9.4f} {seconds:>13.2f}")


if __name__ == "__main__":
    main()
