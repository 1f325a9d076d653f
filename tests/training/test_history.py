"""History: per-epoch records, lookups, and the round trip through plain data."""

from __future__ import annotations

import json
import math
import tracemalloc

import pytest

from chainrule.training.history import History


def two_epochs():
    history = History()
    history.record(1, {"loss": 0.9, "lr": 0.1})
    history.record(2, {"loss": 0.7, "val_loss": 0.8, "lr": 0.1})  # val_loss first seen now
    return history


def test_a_key_first_seen_later_is_padded_with_nan():
    history = two_epochs()
    assert history.epochs == [1, 2] and len(history) == 2
    assert history["loss"] == [0.9, 0.7]
    assert math.isnan(history["val_loss"][0]) and history["val_loss"][1] == 0.8
    history.record(3, {"loss": 0.6})  # a key missing from an epoch's logs is NaN there
    assert math.isnan(history["lr"][2])


def test_lookups_membership_and_iteration():
    history = two_epochs()
    assert "loss" in history and "accuracy" not in history
    assert list(history) == ["loss", "lr", "val_loss"]
    recorded = r"recorded: \['loss', 'lr', 'val_loss'\]"
    with pytest.raises(KeyError, match=rf"no 'accuracy' in history; {recorded}"):
        history["accuracy"]
    assert repr(history) == "History(epochs=2, keys=[loss, lr, val_loss])"


def test_last_is_the_final_epochs_values_or_empty():
    assert History().last() == {}
    assert two_epochs().last() == {"loss": 0.7, "lr": 0.1, "val_loss": 0.8}


def test_as_dict_and_from_dict_round_trip_through_json():
    history = two_epochs()
    history.stopped_early, history.note = True, "stopped early after epoch 2"
    data = json.loads(json.dumps(history.as_dict()))
    assert data["epoch"] == [1, 2] and data["stopped_early"] and not data["interrupted"]
    restored = History.from_dict(data)
    assert restored.epochs == [1, 2]
    assert restored["loss"] == [0.9, 0.7] and math.isnan(restored["val_loss"][0])
    assert (restored.interrupted, restored.stopped_early, restored.note) == (
        False, True, "stopped early after epoch 2")


@pytest.mark.parametrize("values", [[0.5], "0.5, 0.4", [0.5, 0.4, 0.3]])
def test_from_dict_refuses_an_entry_that_is_not_one_value_per_epoch(values):
    with pytest.raises(ValueError, match=r"history entry 'loss' must be a list of 2 values"):
        History.from_dict({"epoch": [1, 2], "loss": values})


def test_recording_a_known_key_allocates_no_padding():
    """Only a key first seen builds its NaN padding (one value per earlier epoch): recording
    keys already there costs no list as long as the history, however long the run."""
    n = 100_000
    history = History.from_dict({"epoch": list(range(1, n + 1)), "loss": [0.5] * n,
                                 "lr": [0.1] * n})
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        history.record(n + 1, {"loss": 0.4, "lr": 0.1})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A padding list is n * 8 bytes; the lists growing by one value stay far below half of it.
    assert peak - start < n * 8 // 2
    assert len(history) == n + 1 and history["loss"][-1] == 0.4
