"""Name a skipped ``super().__init__()`` instead of a missing private attribute.

A subclass whose ``__init__`` forgets ``super().__init__()`` leaves the base class's
attributes unset, and the first use of one used to fail with ``AttributeError: 'X'
object has no attribute '_agents'``. Base classes that users subclass mix in
:class:`InitChecked` and name, in ``_init_marker``, an attribute their ``__init__``
always sets. When an attribute is missing while a marker is missing too, the error
says which ``__init__`` never ran and what to do.

Only failed lookups pay: ``__getattr__`` runs after normal lookup fails, and it is
hidden from type checkers so that they still flag misspelt attributes.
"""

import inspect
from typing import TYPE_CHECKING, Any, ClassVar


class MissingSuperInitError(AttributeError):
    """An object is used although the ``__init__`` of one of its base classes never ran.

    An :class:`AttributeError`, as the failure always was, so ``hasattr`` and
    ``getattr`` with a default keep working.
    """


class InitChecked:
    """Explains attributes missing because a base class's ``__init__`` never ran.

    A class sets ``_init_marker`` (in its own body) to the name of an attribute its
    ``__init__`` always sets. Subclasses inherit the check.
    """

    _init_marker: ClassVar[str | None] = None

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            raise missing_attribute_error(self, name)


def skipped_init(obj: object) -> type | None:
    """The most derived class whose ``__init__`` never ran on ``obj``, if any."""
    attributes = getattr(obj, "__dict__", {})
    for cls in type(obj).__mro__:
        marker = cls.__dict__.get("_init_marker")
        if isinstance(marker, str) and marker not in attributes:
            return cls
    return None


def missing_init_message(obj: object, base: type, attribute: str | None = None) -> str:
    """Explain that ``base.__init__`` never ran on ``obj``, and what to do."""
    own = type(obj)
    below = own.__mro__[: own.__mro__.index(base)]
    defining = [cls for cls in below if "__init__" in cls.__dict__]
    # An __init__ whose code never mentions super() or any __init__ is surely one
    # that skips it; name only those when there are any.
    inits = [cls.__name__ for cls in defining if not _may_call_init(cls)] or [
        cls.__name__ for cls in defining
    ]
    # A private attribute's name would only distract from the cause.
    missing = (
        f" (it has no attribute {attribute!r})"
        if attribute is not None and not attribute.startswith("_")
        else ""
    )
    running = _running_init(obj)
    if running is not None:
        return (
            f"{running}.__init__ uses this {own.__name__} object before "
            f"{base.__name__}.__init__ has run{missing}. Call super().__init__(...) "
            f"first in {running}.__init__."
        )
    if not inits:
        return (
            f"This {own.__name__} object was created without running "
            f"{base.__name__}.__init__ (for example with __new__ or copy){missing}. "
            f"Create it by calling {own.__name__}(...)."
        )
    culprits = " or ".join(f"{name}.__init__" for name in inits)
    return (
        f"{culprits} does not call super().__init__(), so "
        f"{base.__name__}.__init__ never ran and this "
        f"{own.__name__} object is not set up{missing}. Add "
        f"super().__init__(...) at the start of {inits[0]}.__init__."
    )


def _running_init(obj: object) -> str | None:
    """The class whose ``__init__`` is running on ``obj`` now, if any (innermost)."""
    frame = inspect.currentframe()
    while frame is not None:
        code = frame.f_code
        if code.co_name == "__init__" and frame.f_locals.get("self") is obj:
            qualified = code.co_qualname.rsplit(".", 1)[0]
            return qualified.rsplit(".", 1)[-1]
        frame = frame.f_back
    return None


def _may_call_init(cls: type) -> bool:
    code = getattr(cls.__dict__["__init__"], "__code__", None)
    return code is None or "super" in code.co_names or "__init__" in code.co_names


def missing_attribute_error(obj: object, name: str) -> AttributeError:
    """The error for a failed lookup of ``name`` on ``obj`` (see :class:`InitChecked`).

    A base ``__init__`` that never ran is named as such; otherwise a property whose
    getter raised gets its own error back, and anything else the usual message.
    """
    plain = AttributeError(
        f"{type(obj).__name__!r} object has no attribute {name!r}", name=name, obj=obj
    )
    if name.startswith("__") and name.endswith("__"):
        return plain  # protocol probes (copy, pickle, numpy, IPython)
    base = skipped_init(obj)
    if base is not None:
        return MissingSuperInitError(
            missing_init_message(obj, base, name), name=name, obj=obj
        )
    if any(name in cls.__dict__ for cls in type(obj).__mro__):
        # A descriptor (a property) raised AttributeError; Python then asks
        # __getattr__, dropping that error. Get it again rather than hide it.
        try:
            object.__getattribute__(obj, name)
        except AttributeError as error:
            return error
    return plain


def check_initialised(obj: object) -> None:
    """Raise :class:`MissingSuperInitError` if a base ``__init__`` never ran on ``obj``."""
    base = skipped_init(obj)
    if base is not None:
        raise MissingSuperInitError(missing_init_message(obj, base), obj=obj)
