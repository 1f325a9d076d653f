"""Whether dropping an object frees it by reference counting alone.

A reference cycle through a network keeps its parameter and gradient buffers (and whatever its
layers cache) alive until the cyclic garbage collector happens to run a full collection: in a
search loop that is hundreds of megabytes of dead networks.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from typing import Any


def freed_by_refcount(make: Callable[[], Any], *parts: Callable[[Any], Any]) -> bool:
    """Build an object with ``make()`` while the cyclic collector is off, drop it, and say
    whether it, and each ``part(obj)`` (its network, its parameter buffer), is gone."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        obj = make()
        refs = [weakref.ref(obj), *(weakref.ref(part(obj)) for part in parts)]
        del obj
        return all(ref() is None for ref in refs)
    finally:
        if enabled:
            gc.enable()
