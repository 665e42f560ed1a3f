"""Find models a trainer holds without having fetched them (so they are never synced).

A trainer syncs only the models it fetched with ``get_training_model``. One that was
handed a model directly (through its constructor, say) trains it without syncs: the
agent keeps the untrained parameters and nothing fails. This module looks through the
trainer's attributes for the system's models, and for the objects they train (their
``model`` attribute, e.g. a torch module), that the trainer never fetched.
"""

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple, cast

from pamiq_core.model import TrainingModel

_MAX_ITEMS = 1000
"""Containers larger than this are not searched (keeps the search cheap)."""

_SCALARS = (type(None), bool, int, float, complex, str, bytes)


class HeldModel(NamedTuple):
    """A model the trainer holds without having fetched it."""

    name: str | None
    """Its name in the system, or None if it is not one of the system's models."""
    model_class: str
    """The class of the model (its training model, when it holds the trained object)."""
    attribute: str
    """Where the trainer holds it, e.g. ``self.model`` or ``self.nets[0]``."""
    inner: bool
    """Whether the trainer holds the model's ``model`` (a torch module, say)."""


def find_held_models(
    trainer: object, models: Mapping[str, TrainingModel[Any]], fetched: set[str]
) -> list[HeldModel]:
    """Models reachable from ``trainer``'s attributes that it never fetched.

    Looks at each attribute of the trainer and one level into lists, tuples, sets
    and dicts among them. A model counts if it is a :class:`TrainingModel` that
    needs syncing (not training-only or inference-thread-only) and not in
    ``fetched``, or the object held in such a model's ``model`` attribute. A
    :class:`TrainingModel` that is not among ``models`` counts too (it is never
    synced or saved).

    Args:
        trainer: The trainer to search.
        models: The system's models by name.
        fetched: Names the trainer fetched through ``get_training_model``.
    """
    owners: dict[int, tuple[str, TrainingModel[Any], bool]] = {}
    registered: set[int] = set()
    for name, model in models.items():
        registered.add(id(model))
        if not _needs_sync(model) or name in fetched:
            continue
        owners[id(model)] = (name, model, False)
        inner = model.__dict__.get("model")
        if inner is not None and not isinstance(inner, _SCALARS):
            owners[id(inner)] = (name, model, True)

    found: list[HeldModel] = []
    seen: set[int] = set()
    for where, value in _reachable(trainer):
        if id(value) in seen:
            continue
        owner = owners.get(id(value))
        if owner is not None:
            seen.add(id(value))
            name, model, inner = owner
            found.append(HeldModel(name, type(model).__name__, where, inner))
        elif isinstance(value, TrainingModel):
            model = cast(TrainingModel[Any], value)
            if id(model) in registered:
                continue
            seen.add(id(model))
            if _needs_sync(model):
                found.append(HeldModel(None, type(model).__name__, where, False))
    return found


def _needs_sync(model: TrainingModel[Any]) -> bool:
    return bool(
        getattr(model, "has_inference_model", False)
        and not getattr(model, "inference_thread_only", True)
    )


def _reachable(trainer: object) -> Iterator[tuple[str, object]]:
    """``(where, value)`` for each attribute and each item of a container attribute."""
    attributes: dict[str, object] = getattr(trainer, "__dict__", {})
    for attribute, value in list(attributes.items()):
        where = f"self.{attribute}"
        yield where, value
        if isinstance(value, dict):
            items = cast(dict[object, object], value)
            if len(items) <= _MAX_ITEMS:
                for key, item in list(items.items()):
                    yield f"{where}[{key!r}]", item
        elif isinstance(value, list | tuple | set | frozenset):
            elements = cast("list[object] | tuple[object, ...] | set[object]", value)
            if len(elements) <= _MAX_ITEMS:
                for index, item in enumerate(list(elements)):
                    yield f"{where}[{index}]", item
