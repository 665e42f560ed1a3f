"""The inference half of the torch model pair, and locked access to its module."""

import threading
from collections.abc import Callable
from threading import RLock
from typing import Any, Generic, TypeVar

import torch
from torch import nn
from typing_extensions import override

from pamiq_core.model import InferenceModel

from ._procedure import InferenceProcedureCallable

_ModuleT = TypeVar("_ModuleT", bound=nn.Module)


class UnwrappedContextManager(Generic[_ModuleT]):
    """Gives direct access to a module while holding its inference model's lock.

    Entering turns inference mode on (or, with ``inference_mode=False``, off) and then
    acquires the lock; leaving releases the lock and then restores the previous
    inference mode. Exceptions raised in the block propagate.
    """

    def __init__(self, model: _ModuleT, lock: RLock, inference_mode: bool) -> None:
        """Prepare access to ``model`` guarded by ``lock``.

        Args:
            model: The module handed out when the block is entered.
            lock: The lock held for the duration of the block.
            inference_mode: Whether torch's inference mode is on inside the block
                (False turns it off even if the surrounding code turned it on).
        """
        self._model = model
        self._lock = lock
        self._inference_mode = inference_mode
        self._modes: list[torch.inference_mode] = []  # one per nested entry

    def _model_to_hand_out(self) -> _ModuleT:
        """The module the block gets; called with the lock held."""
        return self._model

    def __enter__(self) -> _ModuleT:
        mode = torch.inference_mode(self._inference_mode)
        mode.__enter__()
        try:
            self._lock.acquire()
        except BaseException:
            mode.__exit__(None, None, None)
            raise
        self._modes.append(mode)
        return self._model_to_hand_out()

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self._lock.release()
        self._modes.pop().__exit__(exc_type, exc_value, traceback)


class _FrontModuleContextManager(UnwrappedContextManager[_ModuleT]):
    """Hands out the module that is current when the block is entered."""

    def __init__(
        self, front: Callable[[], _ModuleT], lock: RLock, inference_mode: bool
    ) -> None:
        super().__init__(front(), lock, inference_mode)
        self._front = front

    @override
    def _model_to_hand_out(self) -> _ModuleT:
        return self._front()


class TorchInferenceModel(InferenceModel, Generic[_ModuleT]):
    """Runs a torch module for the agent, safely while the module is being synced.

    One lock per instance is held for the whole of every :meth:`infer` call and
    :meth:`unwrap` block, and, during a sync, only while the new parameters are handed
    over. ``torch.inference_mode`` is on during :meth:`infer`.

    A sync from a :class:`TorchTrainingModel` normally double-buffers: the model keeps
    a second, *back* module of the same structure, the sync writes the new parameters
    into it without the lock, and then swaps front and back under the lock. Inference
    waits at most for that swap, whatever the model's size.
    """

    def __init__(
        self, model: _ModuleT, inference_procedure: InferenceProcedureCallable[_ModuleT]
    ) -> None:
        """Wrap ``model``.

        Args:
            model: The module to run.
            inference_procedure: Called as ``inference_procedure(module, *args,
                **kwds)`` by :meth:`infer`.
        """
        self._front = model
        self._back: _ModuleT | None = None
        self._inference_procedure = inference_procedure
        self._lock = threading.RLock()
        self._writer_lock = threading.Lock()
        self._sync_version = 0

    @property
    def _raw_model(self) -> _ModuleT:
        """The module :meth:`infer` currently uses, read without the lock.

        For sync code and type checks only: a sync can make it the back module and
        write into it at any time after it was read. Agents use :meth:`unwrap`.
        Assigning a module waits for running inference to finish, installs the new
        module and discards the back module (a later sync creates a fresh one).
        """
        return self._front

    @_raw_model.setter
    def _raw_model(self, model: _ModuleT) -> None:
        with self._lock:
            self._front = model
            self._back = None

    @property
    def sync_version(self) -> int:
        """The number of the sync whose parameters :meth:`infer` uses (0: none yet).

        It is updated together with the parameters, under the lock, so inside an
        :meth:`unwrap` block it matches the module handed out.
        """
        return self._sync_version

    @override
    def infer(self, *args: Any, **kwds: Any) -> Any:
        """Run the inference procedure on the current module, in inference mode.

        Thread-safe: holds this model's lock for the whole call.
        """
        with torch.inference_mode(), self._lock:
            return self._inference_procedure(self._front, *args, **kwds)

    def unwrap(self, inference_mode: bool = True) -> UnwrappedContextManager[_ModuleT]:
        """Give locked, direct access to the module, e.g. for custom calls.

        The module is the one current when the block is *entered*, and a sync cannot
        change it while the block runs. Do not keep it beyond the block.

        Args:
            inference_mode: Whether torch's inference mode is on inside the block.

        Returns:
            A context manager whose ``__enter__`` returns the module.
        """
        return _FrontModuleContextManager(
            lambda: self._front, self._lock, inference_mode
        )

    def _update_parameters(
        self,
        write: Callable[[_ModuleT], None],
        version: int,
        new_back: Callable[[], _ModuleT] | None = None,
    ) -> None:
        """Replace the parameters inference uses (the training side's one doorway).

        Args:
            write: Writes the new parameters into the module it is given.
            version: The sync number to report as :attr:`sync_version` afterwards.
            new_back: Creates a back module if there is none, making this model
                double-buffered. With neither a back module nor this, ``write``
                runs on the front module under the lock, stalling inference for
                the whole write.
        """
        with self._writer_lock:  # one sync at a time
            back = self._back
            if back is None and new_back is not None:
                back = self._back = new_back()
            if back is None:
                with self._lock:
                    write(self._front)
                    self._sync_version = version
                return
            # Writing into the back module without the lock is safe: a reader only
            # reaches a module through self._front, read while it holds the lock, and
            # uses it only until it releases the lock (infer and unwrap hold it for
            # the whole call or block). The previous swap made this module the back
            # under that same lock, so every reader that could have got it had
            # released the lock before the swap finished, and no reader can get it
            # until the next swap, which waits for this write.
            write(back)
            with self._lock:
                self._front, self._back = back, self._front
                self._sync_version = version
