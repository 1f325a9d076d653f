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
    assert "scarlet" not in colours  # a refused registration records none of its names


def test_registering_the_same_entry_again_is_harmless(colours):
    assert colours.register("red", "cherry")(Red) is Red
    assert colours.get("cherry") is Red and colours.names() == ["blue", "red"]


def _redefine(name: str) -> type:
    """A new class of the same module and qualified name, as re-running a notebook cell (or
    reloading a module) that defines it makes."""
    return type(name, (), {"__module__": __name__, "__qualname__": name})


def test_a_redefined_class_replaces_the_old_under_every_name(colours):
    NewRed = _redefine("Red")
    assert NewRed is not Red
    assert colours.register("red")(NewRed) is NewRed
    assert colours.get("red") is NewRed and colours.get("crimson") is NewRed
    assert colours.name_of(NewRed()) == "red" and colours.names() == ["blue", "red"]
    NewerRed = _redefine("Red")
    assert colours.register("red", "cherry")(NewerRed) is NewerRed  # again, with a new alias
    assert all(colours.get(name) is NewerRed for name in ("red", "crimson", "cherry"))
    assert colours.register("ruby", "red")(_redefine("Red")).__name__ == "Red"  # renamed
    assert colours.names() == ["blue", "ruby"] and colours.get("crimson").__name__ == "Red"


def test_a_redefined_class_under_a_name_taken_by_another_class_is_refused(colours):
    with pytest.raises(ValueError, match="^colour name 'blue' is already registered$"):
        colours.register("red", "blue")(_redefine("Red"))
    assert colours.get("red") is Red and colours.get("blue") is Blue
    with pytest.raises(ValueError, match="^colour name 'red' is already registered$"):
        colours.register("red")(_redefine("Green"))  # another class under a taken name


def test_a_redefined_class_still_cannot_take_a_refused_name(colours):
    colours.refuse("rose", "it names no single colour")
    with pytest.raises(ValueError, match="^colour name 'rose' is refused"):
        colours.register("red", "rose")(_redefine("Red"))
    assert colours.get("red") is Red


def test_a_layer_class_defined_again_registers_again(monkeypatch):
    """Re-running a notebook cell that defines and registers a custom layer."""
    from chainrule.layers import LAYERS, Layer

    for table in ("_entries", "_canonical"):  # leave the shared table as it was
        monkeypatch.setattr(LAYERS, table, dict(getattr(LAYERS, table)))

    def define():
        class Doubler(Layer):
            def forward(self, X, training=False):
                return 2 * X

        return LAYERS.register("TestRegistryDoubler")(Doubler)

    first, second = define(), define()
    assert first is not second and LAYERS.get("TestRegistryDoubler") is second


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
