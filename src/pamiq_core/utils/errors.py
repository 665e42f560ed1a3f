"""Several failures raised as one error, catchable as the first of them."""

from collections.abc import Callable, Iterable
from typing import cast


def combine_errors(errors: list[BaseException], what: str) -> BaseException:
    """One error to raise for all of ``errors``, catchable as the first one's type.

    With several errors, an :class:`ExceptionGroup` holding them all, of a class
    that also derives from the first error's type (so ``except`` clauses written
    for a single failure keep working); where Python cannot combine the two types
    (``OSError`` and a few others), the first error with the others named in its
    notes.

    Args:
        errors: At least one error, the first being the one to catch as.
        what: Says what failed, for the group's message (``"threads"``...).
    """
    first = errors[0]
    if len(errors) == 1:
        return first
    message = f"{len(errors)} {what} failed; the first: {first!r}"
    if all(isinstance(e, Exception) for e in errors):
        try:
            group_type = type(
                f"SeveralFailures[{type(first).__name__}]",
                (ExceptionGroup, type(first)),
                {"__init__": _init_group, "__module__": __name__},
            )
        except TypeError:
            pass  # instance layouts that cannot be combined
        else:
            group = group_type(message, cast(list[Exception], errors))
            group.__cause__ = first
            return group
    for other in errors[1:]:
        first.add_note(f"Also failed: {other!r}")
    return first


def _init_group(self: BaseException, *args: object) -> None:
    """``ExceptionGroup`` does its work in ``__new__``; skip the other base's init."""


def call_each(calls: Iterable[Callable[[], object]], what: str) -> None:
    """Call every callable, even when some raise; then raise what they raised.

    Like leaving a stack of context managers: one failing part does not keep
    the others from being reached.

    Raises:
        BaseException: The one error, or :func:`combine_errors` of several.
    """
    errors: list[BaseException] = []
    for call in calls:
        try:
            call()
        except Exception as error:
            errors.append(error)
    if errors:
        raise combine_errors(errors, what)
