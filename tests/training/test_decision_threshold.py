"""The decision rule of binary and multilabel predictions: class 1 (label 1) only where the
probability is above 0.5, so a probability that rounds to 0.5 is the first class, as the argmax
of the probabilities with ties to the first class (scikit-learn's ``p > 0.5``)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.training.targets import TargetEncoder

X4 = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])


@pytest.mark.parametrize("task", ["binary", "multilabel"])
def test_trainer_predicts_class_one_only_above_one_half(task):
    y = np.array([0, 1, 1, 0]) if task == "binary" else np.array([[0, 1], [1, 0], [1, 1], [0, 0]])
    net = cr.Sequential([cr.Dense(2, 1 if task == "binary" else 2), cr.Sigmoid()],
                        dtype=np.float32, seed=0)
    trainer = cr.Trainer(net, "binary_cross_entropy", verbose=0, seed=0)
    trainer.fit(X4, y, epochs=1)
    net.layers[0].params["W"][...] = 0
    net.layers[0].params["b"][...] = np.float32(1e-9)  # σ rounds to 0.5 in float32
    assert np.all(trainer.predict_proba(X4) == 0.5)
    assert np.all(trainer.predict(X4) == 0)


def test_target_encoder_decodes_one_half_as_the_first_class():
    encoder = TargetEncoder(cr.BinaryCrossEntropy(), 1).fit(np.array(["no", "yes"]))
    P = np.array([[0.5], [np.nextafter(0.5, 1)], [np.nextafter(0.5, 0)]])
    assert encoder.decode(P).tolist() == ["no", "yes", "no"]


def test_accuracy_metrics_decide_a_probability_of_one_half_as_predict_does():
    """accuracy and multilabel_accuracy count p = 0.5 as class 0, the class predict gives."""
    from chainrule.training.metrics import accuracy, multilabel_accuracy

    assert accuracy([0, 1], [0.5, 0.5]) == 0.5
    assert accuracy([0], [[0.5]]) == 1.0
    assert multilabel_accuracy([[0, 1]], [[0.5, 0.75]]) == 1.0
    assert multilabel_accuracy([[1, 1]], [[0.5, 0.75]]) == 0.0
