"""scikit-learn estimators built on chainrule: ``MLPClassifier``, ``MLPRegressor``, ``Perceptron``.

They follow scikit-learn's API (``fit``, ``partial_fit``, ``predict``, ``predict_proba``,
``score``, ``get_params``/``set_params``, ``clone``, pipelines, grid search, pickling) and
its parameter names where the meaning matches, and add chainrule's options: per-layer
activations, more activations, ``dropout``, ``l1``, regression losses, optimizer objects,
``dtype``, ``callbacks`` and the validation loss curve (``validation_loss_curve_``).

This module imports scikit-learn (install the ``sklearn`` extra); ``import chainrule`` does
not import it.

>>> from chainrule.sklearn import MLPClassifier  # doctest: +SKIP
"""

from .classifier import MLPClassifier
from .perceptron import Perceptron
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "Perceptron"]
