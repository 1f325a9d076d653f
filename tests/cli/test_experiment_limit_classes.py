"""A ``data.limit`` that keeps only rows of one class is named as the cause of the single
class, as the split errors name it; without such a cut the message points at the data."""

from __future__ import annotations

import re

import numpy as np
import pytest

from chainrule.config import ConfigError, load_config
from chainrule.experiment import load_data


def _csv(tmp_path, labels) -> str:
    """A table of one feature and the label column, rows in the order of ``labels``."""
    path = tmp_path / "sorted.csv"
    rows = "\n".join(f"{0.1 * i:.1f},{label}" for i, label in enumerate(labels))
    path.write_text(f"x,label\n{rows}\n")
    return str(path)


def refused(*overrides: str) -> str:
    config = load_config(overrides=["data.dataset=files", "training.epochs=1", *overrides])
    with pytest.raises(ConfigError) as info:
        load_data(config["data"])
    return str(info.value)


def test_a_limit_that_keeps_one_class_names_data_limit(tmp_path):
    path = _csv(tmp_path, [0] * 30 + [1] * 30)  # sorted by class
    message = refused(f"data.train='{path}'", "data.limit=20")
    assert message == (
        "data.limit = 20 keeps the first 20 rows of the files data, and they hold a single "
        "class ([0]) where all its rows hold 2 classes: classification needs at least 2; raise "
        "data.limit (the rows are kept in the order of data.train)"
    )


def test_a_limit_past_the_rows_keeps_the_message_on_the_data(tmp_path):
    path = _csv(tmp_path, [3] * 10)
    for overrides in ([], ["data.limit=10"], ["data.limit=50"]):
        message = refused(f"data.train='{path}'", *overrides)
        assert message == (
            "the files data has a single class ([3]), and classification needs at least 2: "
            'check data.train and data.target (the label column); or set data.task = '
            '"regression"'
        )


def test_a_limit_is_not_blamed_when_all_the_data_has_one_class(tmp_path):
    path = _csv(tmp_path, [3] * 10)
    message = refused(f"data.train='{path}'", "data.limit=4")
    assert message.startswith("the files data has a single class ([3])")
    assert "data.limit" not in message


def test_a_catalog_dataset_cut_to_one_class(monkeypatch):
    # a generator whose rows come sorted by class: the limit is named with the dataset's words
    from chainrule import datasets

    def sorted_blobs(seed=0, **options):
        X = np.arange(40, dtype=np.float64).reshape(20, 2)
        return X, np.repeat([0, 1], 10)

    monkeypatch.setattr(datasets, "make_blobs", sorted_blobs)
    config = load_config(overrides=["data.dataset=blobs", "data.limit=5", "training.epochs=1"])
    with pytest.raises(ConfigError, match=re.escape(
            "data.limit = 5 keeps the first 5 rows of the blobs data, and they hold a single "
            "class ([0]) where all its rows hold 2 classes: classification needs at least 2; raise "
            "data.limit") + "$"):
        load_data(config["data"])
