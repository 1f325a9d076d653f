"""Shared machinery of the robustness tests (issue 6, input validation).

The contract every public entry point must meet, checked by :meth:`Robust.call`:

- it returns (and the test then checks that the result is *correct*), or
- it raises ``ValueError``/``TypeError`` (or a documented subclass) whose message is not empty and
  names the offending argument;
- it never raises anything else, never lets a NumPy warning escape (every call runs under
  ``warnings.simplefilter("error")`` with ``np.errstate`` at its defaults), and never hangs (a
  call is interrupted after ``timeout`` seconds).

Known bugs
----------
:data:`OPEN_BUGS` is the register of open library bugs these tests find, and it is empty: every
bug they found is fixed, and its ``test_bug_*`` case is now a regression test that asserts the
fixed behaviour (a rejection through :meth:`Robust.rejects`, or a checked result). The machinery
is kept for the next bug: add its entry here, hold the minimal reproducing call in a case marked
``pytest.mark.xfail(strict=True, reason="BUG Bnn: ...")``, and let the property tests tolerate it
(``known=[("Bnn", condition)]``) so that they stay green while it is open. To close a bug: fix
it, delete its entry here and remove the xfail marks and tolerances
(``test_robust_registry.py`` checks that all three agree).

The ``robust`` fixture gives the tests :class:`Robust`: the contract check and the hypothesis
strategies (tests cannot import this file, so strategies are drawn with ``st.data()``).
"""

from __future__ import annotations

import contextlib
import decimal
import fractions
import math
import numbers
import os
import re
import signal
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest

#: Open library bugs, by id: a one-line summary (details in each xfail case). Empty: every bug
#: found so far is fixed (see the module docstring).
OPEN_BUGS: dict[str, str] = {}

#: Exceptions that report bad input.
BAD_INPUT = (ValueError, TypeError)


class Hang(BaseException):
    """Raised in a call that ran past its time limit (a BaseException: nothing swallows it)."""


@dataclass
class Outcome:
    """What a call did: ``value`` when it returned, ``error`` when it raised."""

    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# ------------------------------------------------------------------------------- values

FLOAT_SPECIALS = (
    math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 0.5,
    1e300, -1e300, 1e38, 3e38, -3e38, 1e-300, 5e-324, 1e-45, 65504.0, 1e200,
)
INT_SPECIALS = (0, 1, -1, 2, 127, -128, 255, 2**31 - 1, 2**53 + 1, 2**62, 2**63 - 1, -(2**63))
MODERATE = 1e3

#: Every dtype an array argument is tried with.
DTYPES = tuple(
    np.dtype(d)
    for d in (
        "bool", "int8", "int16", "int32", "int64", "uint8", "uint32", "uint64",
        "float16", "float32", "float64", "complex64", "complex128", "U3", "O",
    )
)
NUMERIC_DTYPES = tuple(d for d in DTYPES if d.kind in "biuf")


def _representable(values: Iterable[Any], dtype: np.dtype) -> list[Any]:
    """The values that ``dtype`` holds exactly (hypothesis refuses lossy elements)."""
    kept = []
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for v in values:
            try:
                cast = np.array(v).astype(dtype)
            except (OverflowError, ValueError, TypeError):
                continue
            same = cast.item() == v or (isinstance(v, float) and math.isnan(v) and np.isnan(cast))
            if same:
                kept.append(v)
    return kept


def elements(dtype: np.dtype) -> st.SearchStrategy[Any]:
    """Elements of ``dtype``, weighted towards the troublesome ones."""
    if dtype.kind == "O":
        return st.one_of(
            st.none(), st.text(max_size=3), st.floats(), st.integers(-5, 5),
            st.sampled_from([math.nan, 10**400, b"x", (1, 2)]),
        )
    if dtype.kind == "U":
        return st.text(max_size=3).map(lambda s: s.replace("\x00", ""))
    if dtype.kind == "b":
        return st.booleans()
    base = hnp.from_dtype(dtype)
    specials = FLOAT_SPECIALS if dtype.kind in "fc" else INT_SPECIALS
    kept = _representable(specials, dtype)
    return st.one_of(st.sampled_from(kept), base) if kept else base


def shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy:
    """Shapes with 0 to 3 axes, empty and size-1 axes included."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=max_side)


@st.composite
def hostile_arrays(
    draw: Any,
    shape: Any = None,
    dtypes: tuple[np.dtype, ...] = DTYPES,
) -> np.ndarray:
    """An array of any dtype (strings and objects included), shape and values."""
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(shapes()) if shape is None else shape
    if not isinstance(shape, tuple):
        shape = draw(shape)
    return draw(hnp.arrays(dtype, shape, elements=elements(dtype)))


def hostile_inputs(shape: Any = None) -> st.SearchStrategy[Any]:
    """What an array argument may be given as: arrays of any kind, their nested lists, ragged
    lists, scalars, strings, None."""
    return st.one_of(
        hostile_arrays(shape),
        hostile_arrays(shape, dtypes=NUMERIC_DTYPES).map(lambda a: a.tolist()),
        st.sampled_from([[[1.0, 2.0], [3.0]], [[1.0], "a"], [[None]], [], [[]]]),
        hostile_scalars(),
    )


def moderate_arrays(shape: Any, dtype: Any = np.float64, low: float = -MODERATE,
                    high: float = MODERATE) -> st.SearchStrategy[np.ndarray]:
    """Finite float arrays in ``[low, high]``: inputs that must give a correct result."""
    width = np.dtype(dtype).itemsize * 8
    return hnp.arrays(
        dtype, shape, elements=st.floats(low, high, allow_nan=False, width=width)
    )


def hostile_scalars() -> st.SearchStrategy[Any]:
    """What a hyperparameter may be given as by mistake (and a few valid values)."""
    return st.one_of(
        st.none(),
        st.text(max_size=3),
        st.booleans(),
        st.integers(-3, 5),
        st.sampled_from([2**62, 2**63, 10**30, 10**400, -(10**400)]),
        st.floats(),
        st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e300, 5e-324, 0.5, 0.999]),
        st.lists(st.integers(0, 3), max_size=2),
        st.complex_numbers(max_magnitude=2),
        st.sampled_from([
            np.float64(math.nan), np.int64(-3), np.int64(2), np.float32(0.5), np.uint64(2**64 - 1),
            fractions.Fraction(1, 3), decimal.Decimal("0.1"), np.array([0.5]), object(),
        ]),
    )


def is_real(value: Any, *, integer: bool = False) -> bool:
    """Whether ``value`` is a real (integer) scalar the library's ``check_number`` accepts."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    if integer:
        return isinstance(value, numbers.Integral) or float(value).is_integer()
    return True


def in_range(value: Any, low: float | None = None, high: float | None = None, *,
             low_open: bool = False, high_open: bool = False, integer: bool = False) -> bool:
    """Whether ``value`` is a valid real (or integer) in the interval (the documented domain)."""
    if not is_real(value, integer=integer):
        return False
    if integer:
        v = int(value)
    else:
        try:
            v = float(value)
        except OverflowError:
            return False
        if not math.isfinite(v):
            return False
    if low is not None and (v < low or (low_open and v == low)):
        return False
    return not (high is not None and (v > high or (high_open and v == high)))


def max_abs(array: Any) -> float:
    """The largest finite magnitude in a numeric array (0 for anything else)."""
    a = as_array(array)
    if a is None or a.dtype.kind not in "biufc" or a.size == 0:
        return 0.0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = np.abs(a.astype(np.complex128)).ravel() if a.dtype.kind == "c" else np.abs(
            a.astype(np.float64)).ravel()
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else 0.0


def as_array(value: Any) -> np.ndarray | None:
    """``np.asarray(value)``, or None where NumPy cannot make an array of it (ragged lists)."""
    if isinstance(value, np.ndarray):
        return value
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(value)
    except (ValueError, TypeError, OverflowError):
        return None


def is_clean_real(array: Any, ndim: tuple[int, ...] | None = None,
                  dtype_max: float = np.inf) -> bool:
    """A non-empty array of real numbers, all finite and within ``dtype_max``: valid data."""
    a = as_array(array)
    if a is None or a.dtype.kind not in "biuf" or a.size == 0:
        return False
    if ndim is not None and a.ndim not in ndim:
        return False
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        return False
    return max_abs(a) <= float(dtype_max)


# ------------------------------------------------------------------------------- the contract


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in the main thread after ``seconds`` (no-op where unsupported)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"the call ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def names_argument(message: str, names: Iterable[str]) -> bool:
    """Whether ``message`` contains one of ``names`` as a whole identifier."""
    return any(
        re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message)
        for name in names
    )


def violation(error: BaseException | None, names: Iterable[str] = (),
              allow: tuple[type[BaseException], ...] = ()) -> str | None:
    """What is wrong with how a call failed, or None if it met the contract."""
    if error is None:
        return None
    described = f"{type(error).__module__}.{type(error).__name__}: {error}"
    if isinstance(error, Hang):
        return f"the call hung ({error})"
    if isinstance(error, Warning):
        return f"a warning escaped: {described}"
    if not isinstance(error, BAD_INPUT + allow):
        return f"raised {described}; expected ValueError or TypeError"
    message = str(error)
    if not message.strip():
        return f"raised {type(error).__name__} with an empty message"
    names = tuple(names)
    if names and not names_argument(message, names):
        return f"the message does not name any of {names}: {described}"
    return None


#: The documented spellings of the two float dtypes (chainrule._validation.check_float_dtype).
DTYPE_NAMES = frozenset({"float32", "f4", "single", "float64", "f8", "double", "float"})


class Robust:
    """The contract check and the strategies, handed to tests by the ``robust`` fixture."""

    @staticmethod
    def valid_float_dtype(value: Any) -> bool:
        """Whether a ``dtype=`` argument is one chainrule documents (float32 or float64)."""
        if isinstance(value, str):
            return value in DTYPE_NAMES
        if isinstance(value, np.dtype):
            return value in (np.float32, np.float64)
        return any(value is kind for kind in (np.float32, np.float64, float))

    open_bugs = OPEN_BUGS
    DTYPES = DTYPES
    NUMERIC_DTYPES = NUMERIC_DTYPES
    MODERATE = MODERATE
    hostile_arrays = staticmethod(hostile_arrays)
    hostile_inputs = staticmethod(hostile_inputs)
    moderate_arrays = staticmethod(moderate_arrays)
    hostile_scalars = staticmethod(hostile_scalars)
    is_real = staticmethod(is_real)
    in_range = staticmethod(in_range)
    max_abs = staticmethod(max_abs)
    is_clean_real = staticmethod(is_clean_real)
    as_array = staticmethod(as_array)
    violation = staticmethod(violation)

    @staticmethod
    def run(fn: Callable[..., Any], *args: Any, timeout: float = 20.0,
            ignore: tuple[type[Warning], ...] = (), **kwargs: Any) -> Outcome:
        """Call ``fn`` with every warning an error (except ``ignore``) and a time limit."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for category in ignore:
                warnings.filterwarnings("ignore", category=category)
            try:
                with _time_limit(timeout):
                    return Outcome(value=fn(*args, **kwargs))
            except (Exception, Hang) as exc:  # noqa: BLE001 - every outcome is judged by the caller
                return Outcome(error=exc)

    def call(self, fn: Callable[..., Any], *args: Any, names: Iterable[str] = (),
             known: Iterable[tuple[str, Any]] = (), allow: tuple[type[BaseException], ...] = (),
             timeout: float = 20.0, ignore: tuple[type[Warning], ...] = (),
             **kwargs: Any) -> Outcome:
        """Run ``fn`` and check the contract; return the :class:`Outcome`.

        ``names``: the argument names the error message may mention (one must appear).
        ``known``: ``(bug_id, condition)`` pairs: a violation while an open bug's condition
        holds rejects the hypothesis example instead of failing (see the module docstring).
        ``allow``: further documented exception types.
        """
        outcome = self.run(fn, *args, timeout=timeout, ignore=ignore, **kwargs)
        with contextlib.suppress(hypothesis.errors.InvalidArgument):  # outside a property test
            hypothesis.event("returned" if outcome.ok else f"raised {type(outcome.error).__name__}")
        problem = violation(outcome.error, names, allow)
        if problem is not None:
            self.fail(problem, known, outcome.error)
        return outcome

    def rejects(self, fn: Callable[..., Any], *args: Any, names: Iterable[str] = (),
                error: type[BaseException] | tuple[type[BaseException], ...] = ValueError,
                **kwargs: Any) -> BaseException:
        """Check that ``fn(*args, **kwargs)`` raises ``error`` under the contract; return it.

        :meth:`call` alone also passes when the call returns, so a fix whose behaviour is a
        rejection is pinned with this: the call must raise an instance of ``error`` (a type or a
        tuple of types; subclasses count, ``ShapeError`` is a ``ValueError``) whose message
        names one of ``names``. ``kwargs`` go through :meth:`call` (``ignore=``, ``allow=``,
        ``timeout=``, ``known=``) to ``fn``.
        """
        outcome = self.call(fn, *args, names=names, **kwargs)
        expected = error if isinstance(error, tuple) else (error,)
        assert isinstance(outcome.error, expected), (
            f"expected {' or '.join(e.__name__ for e in expected)}, got {outcome!r}")
        return outcome.error

    def fail(self, problem: str, known: Iterable[tuple[str, Any]] = (),
             error: BaseException | None = None) -> None:
        """Fail with ``problem`` unless an open bug in ``known`` explains it."""
        for bug, condition in known:
            if bug not in OPEN_BUGS:
                raise KeyError(f"{bug} is not in OPEN_BUGS (closed? remove it from known=)")
            if condition:
                hypothesis.reject()
        raise AssertionError(problem) from error

    def expect(self, condition: bool, problem: str,
               known: Iterable[tuple[str, Any]] = ()) -> None:
        """A result check: fail with ``problem`` unless ``condition`` (or a known bug)."""
        if not condition:
            self.fail(problem, known)


#: The hypothesis settings of the property tests, as a profile (test modules cannot import this
#: file): ``settings(settings.get_profile("chainrule-robustness"), max_examples=...)``. Small
#: examples, no per-example deadline (the time limit of each call catches hangs), moderate
#: example counts so that the directory runs in well under a minute. The examples are the same on
#: every run (``derandomize``), so the suite passes or fails reproducibly; set
#: ``CHAINRULE_EXPLORE=1`` to draw fresh random examples instead and hunt for new bugs.
hypothesis.settings.register_profile(
    "chainrule-robustness",
    max_examples=60,
    derandomize=not os.environ.get("CHAINRULE_EXPLORE"),
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow,
                           hypothesis.HealthCheck.filter_too_much],
)


@pytest.fixture(scope="session")
def robust() -> Robust:
    """The contract check and strategies (see the module docstring)."""
    return Robust()
