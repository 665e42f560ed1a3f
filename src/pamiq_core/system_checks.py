"""Check the parts of a system before it is wired, and name what is wrong.

:func:`check_components` looks at what ``launch`` is given, before anything is
attached: the right kind of object in each place, names that can name state
directories, no object registered twice, agents whose ``__init__`` ran, and trainer
conditions that can ever hold. :func:`claim_components` also refuses parts that
another system, still running in this process, already uses.
"""

import threading
from collections.abc import Callable, Generator, Iterable, Mapping
from contextlib import contextmanager
from typing import Any, cast

from pamiq_core.data import DataBuffer
from pamiq_core.interaction import Agent, Environment, Interaction
from pamiq_core.interaction.agent import agent_tree
from pamiq_core.model import InferenceModel, TrainingModel
from pamiq_core.trainer import Trainer
from pamiq_core.utils.checks import describe, is_torch_module, require_instance
from pamiq_core.utils.init_check import check_initialised
from pamiq_core.utils.naming import UnknownNameError, name_choices

_INTERACTION_HINT = (
    "Connect an agent to its environment first: Interaction(agent, environment), "
    "or FixedIntervalInteraction.with_sleep_adjustor(agent, environment, interval)."
)


def check_components(
    interaction: object, models: object, buffers: object, trainers: object
) -> None:
    """Raise a clear error for the first mistake in what ``launch`` was given.

    Args:
        interaction: What ``launch(interaction=...)`` got.
        models: What ``launch(models=...)`` got.
        buffers: What ``launch(buffers=...)`` got.
        trainers: What ``launch(trainers=...)`` got.

    Raises:
        TypeError: A part of the wrong kind, or a name that is not a string.
        ValueError: A name that cannot name a state directory, an object given
            twice, an agent that is its own descendant, or a trainer condition
            that can never hold.
        KeyError: A trainer's ``training_condition_data_user`` that names no
            buffer.
        pamiq_core.utils.init_check.MissingSuperInitError: A part whose base
            class ``__init__`` never ran.
    """
    require_instance(
        interaction,
        Interaction,
        "launch(interaction=...)",
        _hint_for(interaction, Interaction),
    )
    for part in _parts_of(interaction):
        check_initialised(part)
    _named_parts(models, "models", TrainingModel)
    checked_buffers = _named_parts(buffers, "buffers", DataBuffer)
    checked_trainers = _named_parts(trainers, "trainers", Trainer)
    _check_trainer_conditions(checked_trainers, checked_buffers)


_claims_lock = threading.Lock()
_claims: dict[int, tuple[object, str]] = {}
"""The parts of running systems, by ``id``: the part (kept alive) and what it is."""


@contextmanager
def claim_components(
    interaction: object, models: object, buffers: object, trainers: object
) -> Generator[None]:
    """Check the parts (:func:`check_components`), then hold them while the block runs.

    Raises:
        ValueError: If a part is already held by another system that is still
            running (a component cannot serve two systems at once).
        TypeError, KeyError: See :func:`check_components`.
    """
    check_components(interaction, models, buffers, trainers)
    parts = dict(_claimable_parts(interaction, models, buffers, trainers))
    with _claims_lock:
        for key, (part, role) in parts.items():
            if key in _claims:
                raise ValueError(
                    f"{role} ({describe(part)}) is already part of a system that is "
                    f"still running (as {_claims[key][1]}). A component can serve "
                    "one system at a time: create a new one for this system, or "
                    "wait for the other launch() to return."
                )
        _claims.update(parts)
    try:
        yield
    finally:
        with _claims_lock:
            for key in parts:
                _claims.pop(key, None)


_HINTS: list[tuple[type, Callable[[object], bool], str]] = [
    (Interaction, lambda v: isinstance(v, Agent | Environment), _INTERACTION_HINT),
    (
        TrainingModel,
        lambda v: isinstance(v, InferenceModel),
        "launch takes training models; each creates its inference model for the "
        "agent (TrainingModel._create_inference_model).",
    ),
    (
        TrainingModel,
        lambda v: isinstance(v, DataBuffer),
        "Buffers go to launch(buffers=...).",
    ),
    (
        TrainingModel,
        is_torch_module,
        "Wrap it: TorchTrainingModel(module) (from pamiq_core.torch).",
    ),
    (
        DataBuffer,
        lambda v: isinstance(v, TrainingModel),
        "Models go to launch(models=...).",
    ),
    (
        Trainer,
        lambda v: isinstance(v, Mapping),
        "launch(trainers=...) maps names to Trainer objects; models go to "
        "launch(models=...).",
    ),
]
"""What to do when a value that passes the test was given where a kind goes."""


def _hint_for(value: object, kind: type) -> str:
    """What to do when ``value`` was given where a ``kind`` goes."""
    for expected, given, hint in _HINTS:
        if expected is kind and given(value):
            return hint
    return ""


def _named_parts(parts: object, argument: str, kind: type) -> dict[str, object]:
    """Check that ``parts`` maps valid names to distinct ``kind`` objects."""
    where = f"launch({argument}=...)"
    if not isinstance(parts, Mapping):
        got = describe(parts)
        if isinstance(parts, kind):
            hint = (
                f" Give it a name: {argument}={{'name': {type(parts).__name__}(...)}}."
            )
        elif isinstance(parts, list | tuple):
            hint = f" Name each one: {argument}={{'name': ..., ...}}."
        else:
            hint = ""
        raise TypeError(
            f"{where} takes a mapping of names to {kind.__name__} objects; got "
            f"{got}.{hint}"
        )
    named = dict(cast(Mapping[object, object], parts))
    seen: dict[int, str] = {}
    for name, part in named.items():
        _check_name(name, where)
        require_instance(part, kind, f"{where}[{name!r}]", _hint_for(part, kind))
        check_initialised(part)
        key = cast(str, name)
        if id(part) in seen:
            raise ValueError(
                f"{where} gives the same {type(part).__name__} object as "
                f"{seen[id(part)]!r} and {key!r}. Each name needs its own object; "
                "create one per name."
            )
        seen[id(part)] = key
    return cast(dict[str, object], named)


def _check_name(name: object, where: str) -> None:
    """Names become directory names in saved states."""
    if not isinstance(name, str):
        raise TypeError(f"{where}: names must be strings; got {name!r}.")
    if name in ("", ".", "..") or any(c in name for c in "/\\\0"):
        raise ValueError(
            f"{where}: {name!r} cannot be a name. Names become directory names "
            "in saved states: use a non-empty name without '/', '\\' or NUL, "
            "other than '.' and '..'."
        )


def _parts_of(interaction: object) -> list[object]:
    """The interaction, its environment and every agent of its tree."""
    parts: list[object] = [interaction]
    agent = getattr(interaction, "agent", None)
    if isinstance(agent, Agent):
        parts.extend(a for _, a in agent_tree(cast(Agent[Any, Any], agent)))
    environment = getattr(interaction, "environment", None)
    if environment is not None:
        parts.append(environment)
    return parts


def _claimable_parts(
    interaction: object, models: object, buffers: object, trainers: object
) -> Iterable[tuple[int, tuple[object, str]]]:
    yield id(interaction), (interaction, "launch(interaction=...)")
    agent = getattr(interaction, "agent", None)
    if isinstance(agent, Agent):
        for path, part in agent_tree(cast(Agent[Any, Any], agent)):
            yield id(part), (part, path)
    environment = getattr(interaction, "environment", None)
    if environment is not None:
        yield id(environment), (environment, "the environment")
    named = {"models": models, "buffers": buffers, "trainers": trainers}
    for argument, parts in named.items():
        for name, part in cast(Mapping[str, object], parts).items():
            yield id(part), (part, f"launch({argument}=...)[{name!r}]")


def _check_trainer_conditions(
    trainers: Mapping[str, object], buffers: Mapping[str, object]
) -> None:
    """Refuse trainer conditions that name no buffer or can never hold."""
    for trainer_name, trainer in trainers.items():
        if not isinstance(trainer, Trainer):
            continue  # a duck-typed trainer states no condition we know of
        condition = trainer.training_condition_data_user
        if condition is None:
            continue
        who = f"Trainer {trainer_name!r} ({type(trainer).__name__})"
        if condition not in buffers:
            raise UnknownNameError(
                f"{who} has training_condition_data_user={condition!r}, but there "
                f"is no buffer named {condition!r}. "
                + name_choices(condition, buffers, "buffer", "launch(buffers=...)")
            )
        buffer = buffers[condition]
        window = getattr(buffer, "max_queue_size", None)
        if isinstance(window, int) and trainer.min_new_data_count > window:
            raise ValueError(
                f"{who} can never train: it waits for min_new_data_count="
                f"{trainer.min_new_data_count} new items, but buffer {condition!r} "
                f"remembers the collection times of only its newest "
                f"max_queue_size={window}. Lower min_new_data_count, or give the "
                "buffer a larger max_queue_size."
            )
        capacity = getattr(buffer, "max_size", None)
        if isinstance(capacity, int) and trainer.min_buffer_size > capacity:
            raise ValueError(
                f"{who} can never train: it waits for min_buffer_size="
                f"{trainer.min_buffer_size} items, but buffer {condition!r} holds at "
                f"most max_size={capacity}. Lower min_buffer_size, or give the buffer "
                "a larger max_size."
            )
