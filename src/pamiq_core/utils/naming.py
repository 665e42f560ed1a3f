"""Errors for names that are not there: what there is, and the closest match.

Components find each other by name (models, buffers, collectors, trainers), so a typo
is the most common slip. Every lookup that fails says which names exist and suggests
the closest one, with :func:`difflib.get_close_matches`.
"""

import difflib
import warnings
from collections.abc import Iterable


class UnknownNameError(KeyError):
    """A name that is not among the ones available.

    A :class:`KeyError`, as a failed lookup always was; unlike a plain one, it prints
    its message as a sentence instead of quoting it.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def close_matches(name: object, candidates: Iterable[str]) -> list[str]:
    """The candidates that look like ``name``, closest first (at most three)."""
    if not isinstance(name, str):
        return []
    return difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)


def quoted(names: Iterable[str]) -> str:
    """``'a', 'b', 'c'`` in sorted order, or ``none`` when there are no names."""
    listed = sorted(names)
    return ", ".join(repr(n) for n in listed) if listed else "none"


def unknown_name_message(
    name: object,
    candidates: Iterable[str],
    kind: str,
    context: str = "",
    origin: str = "",
) -> str:
    """Say that there is no ``kind`` called ``name``, list the candidates, suggest one.

    Args:
        name: The name that was asked for (anything; a non-string is explained).
        candidates: The names that exist.
        kind: What is named, e.g. ``"training model"``.
        context: Who asked, e.g. ``"RewardTrainer.get_training_model"``; it starts
            the message when given.
        origin: Where the names come from, e.g. ``"launch(models=...)"``.
    """
    start = f"{context}: no" if context else "No"
    if not isinstance(name, str):
        start = f"{start} {kind} named {name!r}: names are strings, but a"
        return f"{start} {type(name).__name__} was given. " + name_choices(
            name, candidates, kind, origin
        )
    return f"{start} {kind} named {name!r}. " + name_choices(
        name, candidates, kind, origin
    )


def name_choices(
    name: object, candidates: Iterable[str], kind: str, origin: str = ""
) -> str:
    """``The <kind> names are: 'a', 'b' (the keys of <origin>). Did you mean 'a'?``."""
    names = sorted(candidates)
    listed = f"The {kind} names are: {quoted(names)}"
    listed += f" (the keys of {origin})." if origin else "."
    matches = close_matches(name, names)
    if matches:
        listed += f" Did you mean {matches[0]!r}?"
    return listed


class HookNameWarning(UserWarning):
    """A method's name is close to a framework hook's, so the hook may be misspelt.

    A misspelt hook is never called (``on_training_model_attached`` instead of
    ``on_training_models_attached``), and the mistake shows only later, as a missing
    attribute.
    """


def warn_misspelt_hooks(cls: type) -> None:
    """Warn about methods of ``cls`` whose names look like misspelt ``on_*`` hooks.

    The hooks are the ``on_*`` methods the pamiq-core base classes of ``cls`` define.
    A method of ``cls`` named ``on_*`` that no base class defines and that is close
    to one of them gets a :class:`HookNameWarning`, pointing at the method.
    """
    bases = cls.__mro__[1:]
    hooks = {
        name
        for base in bases
        if base.__module__.startswith("pamiq_core.")
        for name in base.__dict__
        if name.startswith("on_")
    }
    if not hooks:
        return
    inherited = {name for base in bases for name in base.__dict__}
    for name, value in cls.__dict__.items():
        if not name.startswith("on_") or name in inherited:
            continue
        matches = difflib.get_close_matches(name, sorted(hooks), n=1, cutoff=0.8)
        code = getattr(value, "__code__", None)
        if not matches or code is None:
            continue
        warnings.warn_explicit(
            f"{cls.__name__}.{name} is not a pamiq-core hook, so nothing calls it. "
            f"Did you mean {matches[0]!r}?",
            HookNameWarning,
            filename=code.co_filename,
            lineno=code.co_firstlineno,
            module=cls.__module__,
        )
