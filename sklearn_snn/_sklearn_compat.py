"""scikit-learn's private names that the estimators use, imported in one place.

``_fit_context`` validates the parameters declared in
``_parameter_constraints`` before ``fit`` runs, and ``Interval`` and
``StrOptions`` declare them, as scikit-learn's own estimators do. They are
private, so a scikit-learn release may move them; then this module is the only
one to change.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

__all__ = ["Interval", "StrOptions", "_fit_context"]
