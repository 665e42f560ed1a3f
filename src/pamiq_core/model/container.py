"""Named collections of models, as agents and trainers see them."""

from collections import UserDict
from collections.abc import ItemsView, ValuesView
from pathlib import Path
from typing import Any, TypeVar, overload

from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.utils.naming import UnknownNameError, unknown_name_message

from .interface import InferenceModel, TrainingModel

_D = TypeVar("_D")


class InferenceModelsDict(UserDict[str, InferenceModel]):
    """The inference models agents look up by name.

    A missing name raises :class:`KeyError` listing the names there are; a model
    that exists only for training (``has_inference_model=False``) is named as such.
    """

    def __init__(self, *args: Any, **kwds: Any) -> None:
        """Accept the same arguments as :class:`dict`."""
        self._training_only: set[str] = set()
        super().__init__(*args, **kwds)

    def __getitem__(self, key: str) -> InferenceModel:
        """Return the inference model named ``key``.

        Raises:
            KeyError: If there is none, saying which names there are.
        """
        try:
            return self.data[key]
        except KeyError:
            raise UnknownNameError(self._missing_message(key)) from None

    def _missing_message(self, key: object, context: str = "") -> str:
        if key in self._training_only:
            start = f"{context}: model" if context else "Model"
            return (
                f"{start} {key!r} has no inference model: it was created with "
                "has_inference_model=False, so only trainers can use it. Create it "
                "with has_inference_model=True if the agent needs it."
            )
        return unknown_name_message(
            key, self.data, "inference model", context, "launch(models=...)"
        )


class TrainingModelsDict(UserDict[str, TrainingModel[Any]], PersistentStateMixin):
    """The training models trainers look up by name.

    Keeps a companion :class:`InferenceModelsDict` in step with its own entries: every
    model that has an inference model publishes it there under the same name.

    Models with ``inference_thread_only=True`` stay in the container (they count in
    ``len()``, iteration, ``in``, ``keys()``, ``values()`` and ``items()``, and their
    state is saved) but indexing refuses them with :class:`KeyError`, which hides them
    from trainers.
    """

    def __init__(self, *args: Any, **kwds: Any) -> None:
        """Accept the same arguments as :class:`dict`."""
        self._inference_models_dict = InferenceModelsDict()
        super().__init__(*args, **kwds)

    @property
    def inference_models_dict(self) -> InferenceModelsDict:
        """The companion dict of inference models (always the same object)."""
        return self._inference_models_dict

    def __getitem__(self, key: str) -> TrainingModel[Any]:
        """Return the model named ``key`` for training.

        Raises:
            KeyError: If there is no such model, or if it is used only by the
                inference thread.
        """
        try:
            model = self.data[key]
        except KeyError:
            raise UnknownNameError(
                unknown_name_message(
                    key, self.data, "training model", origin="launch(models=...)"
                )
            ) from None
        if model.inference_thread_only:
            raise KeyError(
                f"model '{key}' is inference thread only. It was created with "
                "inference_thread_only=True, so trainers cannot use it (only "
                "agents can, through get_inference_model). Create it with "
                "inference_thread_only=False to train it."
            )
        return model

    def __setitem__(self, key: str, model: TrainingModel[Any]) -> None:
        """Store ``model`` and publish its inference model, if it has one."""
        self.data[key] = model
        published = self._inference_models_dict
        if model.has_inference_model:
            published[key] = model.inference_model
            published._training_only.discard(key)  # pyright: ignore[reportPrivateUsage]
        else:
            published.pop(key, None)
            published._training_only.add(key)  # pyright: ignore[reportPrivateUsage]

    def __delitem__(self, key: str) -> None:
        """Remove the model and its published inference model."""
        del self.data[key]
        self._inference_models_dict.pop(key, None)
        self._inference_models_dict._training_only.discard(key)  # pyright: ignore[reportPrivateUsage]

    @overload
    def get(self, key: str, default: None = None) -> TrainingModel[Any] | None: ...
    @overload
    def get(
        self, key: str, default: TrainingModel[Any] | _D
    ) -> TrainingModel[Any] | _D: ...
    def get(self, key: str, default: object = None) -> object:
        """Return the model for training, or ``default`` if it is absent or hidden."""
        try:
            return self[key]
        except KeyError:
            return default

    def values(self) -> ValuesView[TrainingModel[Any]]:
        """All stored models, including inference-thread-only ones."""
        return self.data.values()

    def items(self) -> ItemsView[str, TrainingModel[Any]]:
        """All stored ``(name, model)`` pairs, including inference-thread-only ones."""
        return self.data.items()

    def __getstate__(self) -> dict[str, Any]:
        """The models without the companion dict of inference models.

        Sent to a training process, the inference models stay with the agent.
        """
        return {"data": self.data}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a dict sent by :meth:`__getstate__`; its companion dict is empty."""
        self._inference_models_dict = InferenceModelsDict()
        self.data = state["data"]

    def copy(self) -> "TrainingModelsDict":
        """A new container holding the same models."""
        return type(self)(self.data)

    def save_state(self, path: Path) -> None:
        """Save every model, hidden ones included, to ``path / name``."""
        path.mkdir()
        for name, model in self.data.items():
            model.save_state(path / name)

    def load_state(self, path: Path) -> None:
        """Load every model from ``path / name``, then sync it."""
        for name, model in self.data.items():
            model.load_state(path / name)
            model.sync()
