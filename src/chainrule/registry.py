"""Name registries: one per kind of thing a user may name with a string.

``mlp(..., activation="relu")``, a config file's ``loss = "cross_entropy"`` and a model file's
layer list all resolve names here, so every kind has exactly one table and an unknown name always
gets the same helpful error listing the valid ones.

Example
-------
>>> from chainrule.registry import Registry
>>> colours = Registry("colour")
>>> @colours.register("red")
... class Red:
...     pass
>>> colours.get("red") is Red
True
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def constructor_arguments(cls: type, *, required_only: bool = False) -> list[str]:
    """The names of ``cls.__init__``'s arguments (``self`` excluded), in order; with
    ``required_only``, those without a default."""
    parameters = inspect.signature(cls.__init__).parameters
    return [name for name, parameter in parameters.items() if name != "self"
            and not (required_only and parameter.default is not parameter.empty)]


def _normalise(name: str) -> str:
    """Names are case-insensitive and ignore ``-``/``_``: ``"LeakyReLU" == "leaky_relu"``."""
    return name.lower().replace("_", "").replace("-", "")


def _same_definition(old: Any, new: Any) -> bool:
    """Whether ``new`` is ``old`` defined again (same module and qualified name)."""
    identity = ("__module__", "__qualname__")
    return all(getattr(old, attribute, None) is not None
               and getattr(old, attribute) == getattr(new, attribute, None)
               for attribute in identity)


class Registry(Generic[T]):
    """A table from names to classes (or functions) of one kind.

    Parameters
    ----------
    kind : str
        What the entries are ("activation", "loss", ...); used in error messages.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._canonical: dict[str, str] = {}
        self._refused: dict[str, str] = {}
        # Each definition register replaced -> the one that replaced it (see name_of); weak,
        # so that an old class lives only as long as objects made from it.
        self._successors: weakref.WeakKeyDictionary[Any, T] = weakref.WeakKeyDictionary()

    def register(self, name: str, *aliases: str) -> Callable[[T], T]:
        """Decorator that records ``obj`` under ``name`` (its canonical name) and ``aliases``.

        A name already taken by another entry is refused (a ``ValueError``, and none of the
        names is recorded), unless that entry is an earlier definition of ``obj``: a class or
        function of the same module and qualified name, as re-running a notebook cell or
        reloading a module makes. ``obj`` then replaces it under every name it had.
        """

        def decorator(obj: T) -> T:
            keys = [(key, _normalise(key)) for key in (name, *aliases)]
            replaced = []
            for key, normalised in keys:
                if normalised in self._refused:
                    raise ValueError(f"{self.kind} name {key!r} is refused: "
                                     f"{self._refused[normalised]}")
                taken = self._entries.get(normalised, obj)
                if taken is not obj:
                    if not _same_definition(taken, obj):
                        raise ValueError(f"{self.kind} name {key!r} is already registered")
                    replaced.append(taken)
            for old in replaced:
                self._successors[old] = obj
            for normalised, entry in self._entries.items():
                if any(entry is old for old in replaced):
                    self._entries[normalised], self._canonical[normalised] = obj, name
            for _, normalised in keys:
                self._entries[normalised] = obj
                self._canonical[normalised] = name
            return obj

        return decorator

    def refuse(self, name: str, advice: str) -> None:
        """Record ``name`` as one that names no entry on purpose (a name that would read two
        ways): :meth:`get` refuses it with ``advice`` (say which names to use instead), and
        :meth:`register` will not take it."""
        normalised = _normalise(name)
        if normalised in self._entries:
            raise ValueError(f"{self.kind} name {name!r} is registered; it cannot be refused")
        self._refused[normalised] = advice

    def get(self, name: str) -> T:
        """The entry registered as ``name``; a ``ValueError`` listing the valid names otherwise
        (after the advice given to :meth:`refuse` for a refused name)."""
        if not isinstance(name, str):
            raise TypeError(f"{self.kind} name must be a str, got {type(name).__name__}")
        normalised = _normalise(name)
        try:
            return self._entries[normalised]
        except KeyError:
            advice = f": {self._refused[normalised]}" if normalised in self._refused else ""
            raise ValueError(
                f"unknown {self.kind} {name!r}{advice}; valid names: {', '.join(self.names())}"
            ) from None

    def name_of(self, obj: Any) -> str:
        """The canonical name under which ``obj`` (or its class) is registered.

        An earlier definition of a registered entry (one that :meth:`register` replaced: a
        network built before its layer's notebook cell was run again) has the name of the
        entry that replaced it, so what was made from it can still be saved (and is loaded
        as the current definition). Only a definition ``register`` replaced: another class
        of the same name that was never registered has none.
        """
        target = obj if obj in self._entries.values() else type(obj)
        while True:
            for normalised, entry in self._entries.items():
                if entry is target:
                    return self._canonical[normalised]
            try:
                target = self._successors[target]  # replaced since: the current definition
            except (KeyError, TypeError):  # TypeError: not weakly referable, so never replaced
                raise ValueError(f"{target!r} is not a registered {self.kind}") from None

    def names(self) -> list[str]:
        """The canonical names, sorted."""
        return sorted(set(self._canonical.values()))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _normalise(name) in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"

