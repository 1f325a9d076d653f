"""scikit-learn estimators built on chainrule: ``MLPClassifier``, ``MLPRegressor``, ``Perceptron``.

They follow scikit-learn's API (``fit``, ``partial_fit``, ``predict``, ``predict_proba``,
``score``, ``get_params``/``set_params``, ``clone``, pipelines, grid search, pickling) and
its parameter names where the meaning matches, and add chainrule's options: per-layer
activations, more activations, ``dropout``, ``l1``, regression losses, optimizer objects,
``dtype``, ``callbacks`` and the validation loss curve (``validation_loss_curve_``).

This module imports scikit-learn (install the ``sklearn`` extra); ``import chainrule`` does
not import it. Without scikit-learn, importing it raises an ``ImportError`` that says how to
install it (:data:`MISSING_SKLEARN`).

>>> from chainrule.sklearn import MLPClassifier  # doctest: +SKIP
"""

#: The message of the ``ImportError`` raised when scikit-learn is not installed.
MISSING_SKLEARN = "chainrule.sklearn needs scikit-learn: pip install 'chainrule[sklearn]'"

try:
    import sklearn  # noqa: F401 - the estimators' modules import from it
except ImportError as exc:
    raise ImportError(MISSING_SKLEARN, name="sklearn") from exc

from .classifier import MLPClassifier
from .perceptron import Perceptron
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "Perceptron"]
