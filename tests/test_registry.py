"""Registry: one name table per kind."""

from __future__ import annotations

import numpy as np
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


def _fresh(monkeypatch, registry):
    """``registry`` with a table of its own for this test: leave the shared one as it was."""
    for table in ("_entries", "_canonical"):
        monkeypatch.setattr(registry, table, dict(getattr(registry, table)))


def test_a_layer_class_defined_again_registers_again(monkeypatch):
    """Re-running a notebook cell that defines and registers a custom layer."""
    from chainrule.layers import LAYERS, Layer

    _fresh(monkeypatch, LAYERS)

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


def test_an_earlier_definition_of_a_redefined_class_has_the_new_ones_name(colours):
    """An object made before its class's cell was re-run keeps the name it was made under."""
    old = Red()
    NewRed = _redefine("Red")
    colours.register("red")(NewRed)
    assert colours.name_of(old) == "red" and colours.name_of(NewRed()) == "red"
    with pytest.raises(ValueError, match="is not a registered colour"):
        colours.name_of(_redefine("Green")())  # another class: no name
    with pytest.raises(ValueError, match="is not a registered colour"):
        colours.name_of(type("Red", (), {"__module__": "elsewhere", "__qualname__": "Red"})())


def test_a_later_definition_that_was_never_registered_has_no_name(colours):
    """Only a definition that register replaced is named after its successor: a class of the
    same module and qualified name that nobody registered (a different layer, say) is refused,
    or a file would record it under the registered class's name and load as that class."""
    NewRed = _redefine("Red")  # defined, never registered
    with pytest.raises(ValueError, match="is not a registered colour"):
        colours.name_of(NewRed())
    assert colours.name_of(Red()) == "red"
    Newer = _redefine("Red")
    colours.register("red")(Newer)  # replaces Red: Red's objects are named, NewRed's are not
    assert colours.name_of(Red()) == "red" == colours.name_of(Newer())
    with pytest.raises(ValueError, match="is not a registered colour"):
        colours.name_of(NewRed())


def test_a_network_made_before_its_layer_class_was_defined_again_saves(monkeypatch, tmp_path, rng):
    """Re-running a custom layer's cell after training: the trained network still saves, and
    loads with the current class."""
    import chainrule as cr
    from chainrule.layers import LAYERS, Layer

    _fresh(monkeypatch, LAYERS)

    def define():
        class Square(Layer):
            def forward(self, X, training=False):
                X = self._check_input(X)
                self._remember(training, X=X)
                return X * X

            def backward(self, dY):
                return 2 * self._recall("X") * dY

        return LAYERS.register("TestRegistrySquare")(Square)

    first = define()
    net = cr.Sequential([cr.Dense(2, 3), first(), cr.Dense(3, 1)], seed=0)
    second = define()
    assert net.get_config()["layers"][1]["type"] == "TestRegistrySquare"
    cr.save(net, tmp_path / "net.safetensors")
    loaded = cr.load(tmp_path / "net.safetensors")
    assert type(loaded.layers[1]) is second
    X = rng.normal(size=(4, 2))
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))


def test_a_schedule_or_optimizer_made_before_its_class_was_defined_again_has_a_config(monkeypatch):
    """And so a checkpoint of a run using it can be written, and names the current class."""
    from chainrule.optim import OPTIMIZERS, SCHEDULES, SGD, Optimizer, Schedule

    _fresh(monkeypatch, SCHEDULES)
    _fresh(monkeypatch, OPTIMIZERS)

    def define():
        class Halving(Schedule):
            def __init__(self, *, unit="epoch"):
                super().__init__(unit=unit)

            def __call__(self, t, base_lr):
                return base_lr * 0.5**t

        class Plain(SGD):
            pass

        return (SCHEDULES.register("test_registry_halving")(Halving),
                OPTIMIZERS.register("test_registry_plain")(Plain))

    schedule_class, optimizer_class = define()
    schedule, optimizer = schedule_class(unit="step"), optimizer_class(lr=0.5)
    new_schedule_class, new_optimizer_class = define()
    config = schedule.get_config()
    assert config == {"name": "test_registry_halving", "unit": "step"}
    assert type(Schedule.from_config(config)) is new_schedule_class
    config = optimizer.get_config()
    assert config["name"] == "test_registry_plain" and config["lr"] == 0.5
    assert type(Optimizer.from_config(config)) is new_optimizer_class
