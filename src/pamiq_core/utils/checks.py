"""Refuse a component of the wrong kind where it is handed over, and say what it is.

The checks refuse only what is certainly wrong: a class instead of an instance,
``None``, a mapping where one component goes, a pamiq-core component of another
kind (an environment where an agent goes), a bare torch module or gymnasium
environment that needs wrapping, or an object without the methods that will be
called on it. Anything else is accepted, so duck-typed components and plain mocks
keep working.
"""

from collections.abc import Mapping


def _is_from(cls: type, package: str) -> bool:
    module = cls.__module__
    return module == package or module.startswith(package + ".")


def _pamiq_kind(obj: object) -> type | None:
    """The most derived pamiq-core class of ``obj``, if it has one."""
    for cls in type(obj).__mro__:
        if _is_from(cls, "pamiq_core"):
            return cls
    return None


def is_torch_module(obj: object) -> bool:
    """Whether ``obj`` is a ``torch.nn.Module`` (without importing torch)."""
    return any(
        cls.__name__ == "Module" and _is_from(cls, "torch") for cls in type(obj).__mro__
    )


def is_gymnasium_env(obj: object) -> bool:
    """Whether ``obj`` is a ``gymnasium.Env`` (without importing gymnasium)."""
    return any(
        cls.__name__ == "Env" and _is_from(cls, "gymnasium")
        for cls in type(obj).__mro__
    )


def article(noun: str) -> str:
    """``noun`` with "a" or "an" in front (by its first letter)."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def describe(obj: object) -> str:
    """Say what ``obj`` is, for an error message: ``a RewardTrainer (a Trainer)``."""
    if obj is None:
        return "None"
    if isinstance(obj, type):
        return f"the class {obj.__name__} (a class, not an object of it)"
    name = type(obj).__name__
    if is_torch_module(obj):
        return f"a torch module ({name})"
    if is_gymnasium_env(obj):
        return f"a gymnasium environment ({name})"
    kind = _pamiq_kind(obj)
    if kind is not None and kind is not type(obj):
        # The public base the user subclassed, not an internal mixin.
        for cls in type(obj).__mro__:
            if _is_from(cls, "pamiq_core") and not cls.__name__.endswith("Mixin"):
                return f"{article(name)} ({article(cls.__name__)})"
    return article(name)


def wrong_kind(value: object, kind: type, needs: tuple[str, ...] = ()) -> bool:
    """Whether ``value`` is certainly not usable where a ``kind`` goes.

    Args:
        value: What was given.
        kind: What is expected.
        needs: Methods that will be called on it.
    """
    if isinstance(value, kind):
        return False
    return (
        value is None
        or isinstance(value, type | Mapping)
        or _pamiq_kind(value) is not None
        or is_torch_module(value)
        or is_gymnasium_env(value)
        or not all(hasattr(value, method) for method in needs)
    )


def require_instance(
    value: object,
    kind: type,
    where: str,
    hint: str = "",
    needs: tuple[str, ...] = (),
) -> None:
    """Raise :class:`TypeError` if ``value`` is certainly not a ``kind``.

    Args:
        value: What was given.
        kind: What is expected.
        where: Where it was given, e.g. ``"Interaction(agent=...)"``.
        hint: What to do instead, added to the message.
        needs: Methods that will be called on it; lacking one is certainly wrong.
    """
    if not wrong_kind(value, kind, needs):
        return
    if isinstance(value, type) and issubclass(value, kind):
        hint = f"Create one: {value.__name__}(...)."
    elif is_gymnasium_env(value) and not hint:
        hint = "Wrap it: GymEnvironment(env) (from pamiq_core.gym)."
    elif is_torch_module(value) and not hint:
        hint = "Wrap it: TorchTrainingModel(module) (from pamiq_core.torch)."
    elif not hint and value is not None and not isinstance(value, type):
        lacking = [m for m in needs if not hasattr(value, m)]
        if lacking:
            hint = f"It has no {', '.join(f'{m}()' for m in lacking)}."
    message = f"{where} must be {article(kind.__name__)}; got {describe(value)}."
    raise TypeError(f"{message} {hint}" if hint else message)
