"""The two halves of a model: one that infers, one that trains.

An agent calls an :class:`InferenceModel` from the inference thread while a trainer
updates the paired :class:`TrainingModel` in the training thread. ``sync()`` is the one
doorway between the two: it pushes the trained parameters into the inference model.
"""

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar, cast

from pamiq_core import time
from pamiq_core.metrics import SyncStats
from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.utils.init_check import InitChecked


class InferenceModel(ABC):
    """A model the agent calls to make decisions.

    Calling the model calls :meth:`infer` with the same arguments.
    """

    @abstractmethod
    def infer(self, *args: Any, **kwds: Any) -> Any:
        """Compute the model's output for the given input."""

    def __call__(self, *args: Any, **kwds: Any) -> Any:
        """Run :meth:`infer` with the same arguments."""
        return self.infer(*args, **kwds)


T = TypeVar("T", bound=InferenceModel)


class TrainingModel(ABC, PersistentStateMixin, InitChecked, Generic[T]):
    """A model trained in the training thread, paired with an inference model.

    Subclasses create the inference model in :meth:`_create_inference_model` and copy
    trained parameters into it in :meth:`sync_impl`. Calling the model calls
    :meth:`forward`.

    Thread ownership: the training thread owns this object. The inference model is
    created once, by whichever thread asks for it first (a lock makes that creation
    happen exactly once); afterwards only :meth:`sync` hands data across threads, and
    the safety of that hand-over is the job of :meth:`sync_impl`.
    """

    _init_marker: ClassVar[str | None] = "_inference_model_creation_lock"

    def __init__(
        self, has_inference_model: bool = True, inference_thread_only: bool = False
    ) -> None:
        """Configure how the model is used by the two threads.

        Args:
            has_inference_model: Whether this model creates and keeps an inference
                model. Without one, the model can only be used for training.
            inference_thread_only: Whether the model is used only by the inference
                thread (e.g. a frozen pretrained network). Such a model is hidden from
                trainers and never synced.

        Raises:
            ValueError: If ``has_inference_model`` is False while
                ``inference_thread_only`` is True.
        """
        if not has_inference_model and inference_thread_only:
            raise ValueError(
                "has_inference_model=False cannot be combined with "
                "inference_thread_only=True: a model without an inference model "
                "could then be used by neither the inference thread nor the "
                "training thread."
            )
        self.has_inference_model = has_inference_model
        self.inference_thread_only = inference_thread_only
        self._inference_model: T | None = None
        self._inference_model_creation_lock = threading.Lock()
        self._sync_stats = SyncStats(
            syncs_inference_model=has_inference_model and not inference_thread_only
        )
        self._sync_route: Callable[[TrainingModel[Any]], None] | None = None

    @property
    def sync_stats(self) -> SyncStats:
        """Measurements of this model's syncs (written by the training thread).

        Trainers bump ``training_version`` (:meth:`mark_trained`) after each run
        that trained the model; :meth:`sync` records the duration and catches
        ``inference_version`` up.
        """
        return self._sync_stats

    def mark_trained(self) -> None:
        """Count one training update of this model (trainers call it after a run)."""
        self._sync_stats.training_version += 1

    @property
    def inference_model(self) -> T:
        """The paired inference model, created on first access and cached.

        Raises:
            RuntimeError: If the model was configured with
                ``has_inference_model=False``.
        """
        if not self.has_inference_model:
            raise RuntimeError(
                f"{type(self).__name__} was configured without an inference model "
                "(has_inference_model=False), so it has no inference_model; it can "
                "only be used for training."
            )
        model = self._inference_model
        if model is None:
            with self._inference_model_creation_lock:
                model = self._inference_model
                if model is None:
                    model = self._create_inference_model()
                    if cast(object, model) is None:
                        raise TypeError(
                            f"{type(self).__name__}._create_inference_model() "
                            "returned None; it must return the inference model "
                            "(an InferenceModel). Is a return statement missing?"
                        )
                    self._inference_model = model
        return model

    @abstractmethod
    def _create_inference_model(self) -> T:
        """Create the inference model paired with this training model."""

    @abstractmethod
    def forward(self, *args: Any, **kwds: Any) -> Any:
        """Compute the model's output during training."""

    def __call__(self, *args: Any, **kwds: Any) -> Any:
        """Run :meth:`forward` with the same arguments."""
        return self.forward(*args, **kwds)

    @property
    def _need_sync(self) -> bool:
        """Whether :meth:`sync` has anything to do for this model."""
        return self.has_inference_model and not self.inference_thread_only

    def sync(self) -> None:
        """Push the current training parameters to the inference model.

        Does nothing for models without an inference model or used only by the
        inference thread.
        """
        if self._need_sync:
            start = time.fixed_perf_counter()
            route = self._sync_route
            if route is None:
                self.sync_impl(self.inference_model)
            else:  # the inference model is in another process
                route(self)
            self._sync_stats.record_sync(time.fixed_perf_counter() - start)

    def __getstate__(self) -> dict[str, Any]:
        """The model without its inference model and lock, to send it to a process.

        The inference model belongs to the agent's side; the receiving side makes
        or is given its own.
        """
        state = self.__dict__.copy()
        state["_inference_model"] = None
        state["_sync_route"] = None
        del state["_inference_model_creation_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a model sent by :meth:`__getstate__`."""
        vars(self).update(state)
        self._inference_model_creation_lock = threading.Lock()

    @abstractmethod
    def sync_impl(self, inference_model: T) -> None:
        """Make ``inference_model`` reflect the current training parameters.

        Called from the training thread while the inference thread may be calling
        ``inference_model``; implementations make that hand-over safe.
        """
