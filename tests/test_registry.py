"""Registry: one name table per kind."""

from __future__ import annotations

import pytest

from chainrule.registry import Registry


class Red:
    pass


class Blue:
    pass


@pytest.fixture
def colours() -> Registry:
    registry = Registry("colour")
    registry.register("red", "crimson")(Red)
    registry.register("blue")(Blue)
    return registry


def test_a_name_taken_by_another_entry_is_refused(colours):
    with pytest.raises(ValueError, match="^colour name 'Crimson' is already registered$"):
        colours.register("scarlet", "Crimson")(Blue)  # names compare case-insensitively
    with pytest.raises(ValueError, match="^colour name 'red' is already registered$"):
        colours.register("red")(Blue)
    assert colours.get("red") is Red and colours.get("crimson") is Red


def test_registering_the_same_entry_again_is_harmless(colours):
    assert colours.register("red", "cherry")(Red) is Red
    assert colours.get("cherry") is Red and colours.names() == ["blue", "red"]


def test_repr_lists_the_canonical_names(colours):
    assert repr(colours) == "Registry('colour', ['blue', 'red'])"


def test_a_refused_name_is_no_entry_and_its_error_gives_the_advice(colours):
    colours.refuse("rose", "it names no single colour; did you mean 'red' or 'blue'?")
    assert "rose" not in colours and "Rose" not in colours and colours.names() == ["blue", "red"]
    with pytest.raises(ValueError, match=r"^unknown colour 'ROSE': it names no single colour; "
                                         r"did you mean 'red' or 'blue'\?; valid names: blue, red$"):
        colours.get("ROSE")  # normalised as every name
    with pytest.raises(ValueError, match="^colour name 'rose' is refused"):
        colours.register("rose")(Red)
