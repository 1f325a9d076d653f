"""plot_history refuses curves that are not numbers, naming the key and the value."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from chainrule.plots.curves import plot_history


@pytest.mark.parametrize(("history", "message"), [
    ({"loss": ["a", "b"]}, "history['loss'] must hold one number per epoch, got 'a'"),
    ({"loss": [0.5, 0.4], "accuracy": [0.5, "high"]},
     "history['accuracy'] must hold one number per epoch, got 'high'"),
    ({"loss": [0.5, {"x": 1}]}, "history['loss'] must hold one number per epoch, got {'x': 1}"),
    ({"loss": np.array(["1", "2"])}, "history['loss'] must hold one number per epoch, got '1'"),
    ({"loss": [1 + 2j, 3]}, "history['loss'] must hold one number per epoch, got (1+2j)"),
])
def test_values_that_are_not_numbers_are_refused(history, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        plot_history(history)


def test_none_is_a_missing_value_drawn_as_a_gap():
    figure = plot_history({"loss": [0.5, None, 0.3], "val_loss": [np.float32(0.6), 0.5, 0.4]})
    line = figure.axes[0].get_lines()[0]
    np.testing.assert_array_equal(line.get_ydata(), [0.5, np.nan, 0.3])
