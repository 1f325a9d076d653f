"""Writing TOML (``chainrule.config.dumps``, by ``chainrule._toml``): non-finite floats and
unsupported values."""

from __future__ import annotations

import math
import re
import tomllib

import pytest

from chainrule.config import dumps  # TOML through chainrule._toml


def test_toml_writes_non_finite_floats_that_read_back():
    document = {"training": {"lr": 0.1, "clip": math.inf, "floor": -math.inf, "missing": math.nan}}
    text = dumps(document)
    assert "clip = inf\n" in text and "floor = -inf\n" in text and "missing = nan\n" in text
    read = tomllib.loads(text)["training"]
    assert read["lr"] == 0.1 and read["clip"] == math.inf and read["floor"] == -math.inf
    assert math.isnan(read["missing"])


@pytest.mark.parametrize("value, shown", [(None, "NoneType value None"), ({1, 2}, "set value {1, 2}"),
                                          (b"x", "bytes value b'x'")])
def test_toml_refuses_values_it_cannot_write(value, shown):
    with pytest.raises(TypeError, match=f"^cannot write {re.escape(shown)} to TOML$"):
        dumps({"model": {"option": value}})
    with pytest.raises(TypeError, match="cannot write"):
        dumps({"model": {"options": [1, value]}})  # inside a list too
