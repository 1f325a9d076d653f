"""``get_config``/``from_config`` shared by the optimizers, the schedules and the losses, and
the constructor-style ``repr`` (:func:`constructor_repr`) they share with the callbacks and the
perceptron.

Each of those kinds has a registry of names; a config is ``{"name": <registered name>,
**constructor arguments}``, JSON data that ``from_config`` (on the base class, through the
registry, or on the class itself) turns back into an equal object. Every kind refuses a config
the same way: a missing name lists the valid names, an unknown key the valid keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .registry import Registry, constructor_arguments


class Configurable:
    """``get_config``/``from_config`` for classes whose constructor arguments are attributes.

    Subclasses set ``_registry`` (and ``_registry_path``, where users find it); every
    constructor argument must be stored under its own name (``self.momentum = momentum``), so
    the config is read back from the signature and never written twice. A subclass defined
    outside chainrule must be registered under a name of its own before its ``get_config``
    and ``from_config`` work (and so before a checkpoint or a config file can record it); its
    ``repr`` works either way.
    """

    _registry: ClassVar[Registry[Any]]
    #: The registry as users reach it, for the message asking them to register a subclass.
    _registry_path: ClassVar[str]

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (JSON-serialisable) plus ``"name"``, the registered name.

        Raises
        ------
        ValueError
            The class is not registered (a subclass is not registered by its parent's name:
            register it with ``@<registry>.register("a_name")``, as the message says).
        TypeError
            A constructor argument is not stored under its own name.
        """
        return {"name": self._registered_name(), **self._settings()}

    def _registered_name(self) -> str:
        try:
            return self._registry.name_of(self)
        except ValueError:
            raise type(self)._not_registered() from None

    @classmethod
    def _not_registered(cls) -> ValueError:
        """The error for a class that no config can name, saying how to register it."""
        name = cls.__name__
        return ValueError(
            f"{name} is not a registered {cls._registry.kind}, so a config or checkpoint "
            f"cannot name it: register it under a name of its own, e.g. "
            f"@{cls._registry_path}.register({name.lower()!r}) above its class statement"
        )

    def _settings(self, *, strict: bool = True) -> dict[str, Any]:
        """The constructor arguments by name, read back from the attributes of those names.

        An argument without such an attribute is a ``TypeError`` (``strict``) or left out.
        """
        settings = stored_arguments(self)
        if strict:
            for key in constructor_arguments(type(self)):
                if key not in settings:
                    raise TypeError(
                        f"{type(self).__name__}.get_config() reads each constructor argument "
                        f"back from the attribute of that name, but it has no {key!r}: store "
                        f"it in __init__ (self.{key} = {key})"
                    )
        return settings

    @classmethod
    def resolve(cls, spec: Any, what: str, **options: Any) -> Any:
        """An instance of ``cls`` from ``spec``: an instance (returned as it is), a registered
        name, or a mapping ``{"name": ..., **options}`` (through :meth:`from_config`);
        ``options`` are added to a name's or a mapping's. ``what`` names the argument in errors.

        Raises
        ------
        TypeError
            ``spec`` is none of those (a class is named as one: build an instance), or
            ``options`` come with an instance (they would be ignored), or :meth:`from_config`'s.
        ValueError
            :meth:`from_config`'s: an unknown or missing name, a bad option value.
        """
        if isinstance(spec, cls):
            if options:
                raise TypeError(
                    f"options {sorted(options)} cannot be given with {a(what)} "
                    f"instance ({spec!r}): set them when building it, or pass its name")
            return spec
        if isinstance(spec, str):
            return cls.from_config({"name": spec, **options})
        if isinstance(spec, Mapping):
            return cls.from_config({**spec, **options})
        expected = f"{what} must be {a(cls.__name__)}"
        if isinstance(spec, type) and issubclass(spec, cls):
            raise TypeError(f"{expected}, got the class {spec.__name__} itself: build one, "
                            f"{spec.__name__}(...)")
        raise TypeError(f"{expected}, a name or a dict, got {type(spec).__name__}")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Any:
        """Build an instance from :meth:`get_config`'s output.

        On the base class, ``config["name"]`` picks the class from the registry
        (``Optimizer.from_config({"name": "adam", "lr": 0.01})``); on a subclass, a ``"name"``
        entry, if present, must name that class (or a subclass of it), and without one the
        subclass itself is built, once it is registered (as for :meth:`get_config`, a
        ``ValueError`` says how to register it otherwise).
        """
        kind = cls._registry.kind
        if not isinstance(config, Mapping):
            raise TypeError(f"{kind} config must be a dict, got {type(config).__name__}")
        kwargs = dict(config)
        name = kwargs.pop("name", None)
        target = cls
        if name is not None:
            target = cls._registry.get(name)
            if not (isinstance(target, type) and issubclass(target, cls)):
                raise ValueError(
                    f"{kind} config names {name!r} ({getattr(target, '__name__', target)}), "
                    f"which is not a {cls.__name__}"
                )
        elif cls not in _registered(cls._registry):
            if "_registry" in vars(cls):  # the base class (Loss, ...): nothing to build
                raise ValueError(
                    f"{kind} config needs a 'name'; valid names: {cls._registry.names()}")
            raise cls._not_registered()  # a subclass of a user's, which get_config refuses too
        valid = constructor_arguments(target)
        unknown = sorted(set(kwargs) - set(valid))
        if unknown:
            raise TypeError(
                f"{target.__name__} config has unknown key(s) {unknown}; valid keys: "
                f"{['name', *valid]}"
            )
        required = constructor_arguments(target, required_only=True)
        missing = [key for key in required if key not in kwargs]
        if missing:
            keys = ", ".join(f"{key!r}: ..." for key in missing)
            raise TypeError(
                f"{target.__name__} config needs the key(s) {missing}, e.g. "
                f"{{'name': {cls._registry.name_of(target)!r}, {keys}}}"
            )
        return target(**kwargs)

    def __repr__(self) -> str:
        # Never raises: an unregistered subclass has no name (which get_config needs), and one
        # that does not store every constructor argument shows those it stores.
        return constructor_repr(self, self._settings(strict=False))


def stored_arguments(obj: Any) -> dict[str, Any]:
    """``obj``'s constructor arguments by name, read back from the attributes of those names;
    an argument stored under no such attribute is left out."""
    settings: dict[str, Any] = {}
    for key in constructor_arguments(type(obj)):
        value = getattr(obj, key, _UNSTORED)
        if value is not _UNSTORED:
            settings[key] = value
    return settings


def constructor_repr(obj: Any, arguments: Mapping[str, Any] | None = None) -> str:
    """``Name(key=value, ...)``, the call that builds ``obj`` again: the ``repr`` of the
    optimizers, schedules, losses, callbacks, scalers, the perceptron and the Trainer.

    ``arguments`` defaults to :func:`stored_arguments`. A dtype is shown by its name
    (``dtype='float32'``, which every constructor taking a dtype accepts), and an array of
    more than a few entries by its dtype and shape, not its values: the repr stays one short
    line (scikit-learn's repr of an estimator shows its callbacks' this way).
    """
    if arguments is None:
        arguments = stored_arguments(obj)
    shown = ", ".join(f"{key}={_argument_repr(value)}" for key, value in arguments.items())
    return f"{type(obj).__name__}({shown})"


class Verbatim(str):
    """A text that :func:`constructor_repr` shows as it is (not quoted, whatever its length):
    an argument's own short form, e.g. ``Sequential.brief()``."""


def _argument_repr(value: Any, shown: frozenset[int] = frozenset()) -> str:
    """One argument as :func:`constructor_repr` shows it: a short form of a long array, list
    or tuple (at any depth; ``shown``: the ids of the lists and tuples it is inside, so that
    one holding itself is ``[...]``), and of any other value whose repr is very long or fails
    (a repr must never raise)."""
    if isinstance(value, Verbatim):
        return str(value)
    if isinstance(value, np.dtype):
        return repr(value.name)
    if isinstance(value, np.ndarray) and value.size > _SHOWN_ENTRIES:
        return f"<{value.dtype} array of shape {value.shape}>"
    if type(value) in (list, tuple):
        brackets = "[]" if type(value) is list else "()"
        if id(value) in shown:
            return f"{brackets[0]}...{brackets[1]}"
        summary = f"<{type(value).__name__} of {len(value)} item{'s' * (len(value) != 1)}>"
        if len(value) > _SHOWN_ENTRIES or len(shown) >= _SHOWN_LEVELS:
            return summary
        inner = shown | {id(value)}
        items = ", ".join(_argument_repr(item, inner) for item in value)
        if len(items) > _LONGEST_ARGUMENT:
            return summary
        return f"{brackets[0]}{items}{',' * (len(value) == 1 and brackets == '()')}{brackets[1]}"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a repr must not raise, whatever a user object does
        return f"<{type(value).__name__}>"
    if len(text) <= _LONGEST_ARGUMENT:
        return text
    return f"<{type(value).__name__} whose repr has {len(text):,} characters>"


#: What :func:`stored_arguments` finds for an argument stored under no attribute.
_UNSTORED = object()

#: The most entries of an array, list or tuple argument that a repr shows (more are
#: summarised).
_SHOWN_ENTRIES = 8

#: The most levels of lists (or tuples) within lists that a repr shows: with at most
#: :data:`_SHOWN_ENTRIES` items each, at most 512 values are formatted for one argument.
_SHOWN_LEVELS = 3

#: The longest repr of an argument that a repr shows in full (a longer one, such as a probe's
#: data given as nested lists, is summarised by its type and length).
_LONGEST_ARGUMENT = 1000


def a(noun: str) -> str:
    """``noun`` with its indefinite article: ``an Optimizer``, ``a Loss``."""
    return f"{'an' if noun[:1].upper() in 'AEIOU' else 'a'} {noun}"


def _registered(registry: Registry[Any]) -> set[Any]:
    return {registry.get(name) for name in registry.names()}
