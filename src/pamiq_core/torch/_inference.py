"""The inference half of the torch model pair, and locked access to its module."""

import threading
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from threading import RLock
from typing import Any, Generic, TypeVar, cast

import torch
from torch import nn
from typing_extensions import override

from pamiq_core.model import InferenceModel

from ._procedure import InferenceProcedureCallable
from ._shared import SharedSlots

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
        """The module the block gets; called right after the lock is acquired."""
        return self._model

    def _before_release(self) -> None:
        """Called right before the lock is released."""

    def __enter__(self) -> _ModuleT:
        mode = torch.inference_mode(self._inference_mode)
        mode.__enter__()
        try:
            self._lock.acquire()
            try:
                model = self._model_to_hand_out()
            except BaseException:
                self._lock.release()
                raise
        except BaseException:
            mode.__exit__(None, None, None)
            raise
        self._modes.append(mode)
        return model

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        try:
            self._before_release()
        finally:
            self._lock.release()
            self._modes.pop().__exit__(exc_type, exc_value, traceback)


class _FrontModuleContextManager(UnwrappedContextManager[_ModuleT]):
    """Hands out the inference model's front module as of entering the block."""

    def __init__(
        self, owner: "TorchInferenceModel[_ModuleT]", inference_mode: bool
    ) -> None:
        super().__init__(owner._front, owner._lock, inference_mode)  # pyright: ignore[reportPrivateUsage]
        self._owner = owner

    @override
    def _model_to_hand_out(self) -> _ModuleT:
        return self._owner._enter_block(gradients=not self._inference_mode)  # pyright: ignore[reportPrivateUsage]

    @override
    def _before_release(self) -> None:
        self._owner._leave_block(gradients=not self._inference_mode)  # pyright: ignore[reportPrivateUsage]


class TorchInferenceModel(InferenceModel, Generic[_ModuleT]):
    """Runs a torch module for the agent, safely while the module is being synced.

    One lock per instance is held for the whole of every :meth:`infer` call and
    :meth:`unwrap` block; ``torch.inference_mode`` is on during :meth:`infer`.

    A sync from a :class:`TorchTrainingModel` normally double-buffers: the model keeps
    a second, *back* module of the same structure; the sync writes the new parameters
    into it without the lock and then swaps front and back, an O(1) hand-over. If
    inference holds the lock at that moment, the sync does not wait: it leaves the
    swap to the next :meth:`infer` call or :meth:`unwrap` block, which makes it when
    it takes the lock. So inference never waits for a copy, and training waits for
    inference only when a second sync comes before inference took up the first.
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
        self._ready: int | None = None  # sync version waiting in the back module
        self._depth = 0  # nested infer/unwrap entries of the thread holding the lock
        self._inference_procedure = inference_procedure
        # Gradient blocks (unwrap(inference_mode=False)): see _enter_block. None:
        # the modules are the caller's, whose flags and gradients are left alone.
        self._trainable: Callable[[], AbstractSet[str]] | None = None
        self._gradient_depth = 0  # open gradient blocks of the thread holding the lock
        self._gradient_parameters: list[nn.Parameter] = []  # of the module they use
        self._lock = threading.RLock()
        self._writer_lock = threading.Lock()
        self._sync_version = 0
        # Process mode (see _shared.py): the agent's side takes syncs from these
        # shared slots; the training process's side publishes syncs to them.
        self._take_from: SharedSlots | None = None
        self._publish_to: SharedSlots | None = None

    @property
    def _raw_model(self) -> _ModuleT:
        """The module inference last started with, read without the lock.

        For sync code and type checks only: a sync can make it the back module and
        write into it at any time after it was read. Agents use :meth:`unwrap`.
        Assigning a module waits for running inference to finish, installs the new
        module and discards the back module (a later sync creates a fresh one); do
        not assign while a sync runs.
        """
        return self._front

    @_raw_model.setter
    def _raw_model(self, model: _ModuleT) -> None:
        with self._lock:
            self._front = model
            self._back = None
            self._ready = None

    @property
    def sync_version(self) -> int:
        """The number of the sync whose parameters inference uses (0: none yet).

        It changes together with the module, under the lock, so inside an
        :meth:`unwrap` block it matches the module handed out.
        """
        return self._sync_version

    def _enter(self) -> _ModuleT:
        """Start using the front module; call right after acquiring the lock."""
        if self._depth == 0 and self._take_from is not None:
            taken = self._take_from.take()
            if taken is not None:
                self._front = cast(_ModuleT, taken[0])
                self._sync_version = taken[1]
        ready, back = self._ready, self._back
        if self._depth == 0 and ready is not None and back is not None:
            # A sync finished while inference held the lock: make its swap now,
            # before anything on this thread uses the module (depth 0).
            self._front, self._back = back, self._front
            self._sync_version = ready
            self._ready = None
        self._depth += 1
        return self._front

    def _leave(self) -> None:
        """Stop using the module; call right before releasing the lock."""
        self._depth -= 1

    def _hold_copies(self, trainable: Callable[[], AbstractSet[str]]) -> None:
        """Declare the modules no-gradient copies (the training side's doorway).

        Args:
            trainable: Names of the parameters that take gradients in a gradient
                block (the training module's parameters that require grad); called
                on the thread that opens the block, under the lock.
        """
        self._trainable = trainable

    def _enter_block(self, gradients: bool) -> _ModuleT:
        """:meth:`_enter` for an unwrap block; call right after acquiring the lock.

        With ``gradients`` and no-gradient copies, the outermost such block turns
        ``requires_grad`` on for the copy's parameters named by ``trainable``. It
        holds the lock until :meth:`_leave_block` turned it off again, so no sync
        writes the module meanwhile, and none ever finds a parameter requiring grad
        outside a block. :meth:`infer` never pays for this.
        """
        module = self._enter()
        if gradients and self._trainable is not None:
            if self._gradient_depth == 0:
                try:
                    self._open_gradients(module, self._trainable())
                except BaseException:
                    self._close_gradients()
                    self._leave()
                    raise
            self._gradient_depth += 1
        return module

    def _open_gradients(self, module: _ModuleT, trainable: AbstractSet[str]) -> None:
        named = list(module.named_parameters())
        self._gradient_parameters = [parameter for _, parameter in named]
        for name, parameter in named:
            if name in trainable:
                parameter.requires_grad_(True)

    def _leave_block(self, gradients: bool) -> None:
        """:meth:`_leave` for an unwrap block; call right before releasing the lock.

        The outermost gradient block restores the no-gradient state of the module
        it opened on: ``requires_grad=False`` and no ``.grad`` on every parameter.
        """
        try:
            if gradients and self._trainable is not None:
                self._gradient_depth -= 1
                if self._gradient_depth == 0:
                    self._close_gradients()
        finally:
            self._leave()

    def _close_gradients(self) -> None:
        parameters, self._gradient_parameters = self._gradient_parameters, []
        for parameter in parameters:
            parameter.requires_grad_(False)
            parameter.grad = None

    @override
    def infer(self, *args: Any, **kwds: Any) -> Any:
        """Run the inference procedure on the current module, in inference mode.

        Thread-safe: holds this model's lock for the whole call.
        """
        with torch.inference_mode(), self._lock:
            module = self._enter()
            try:
                return self._inference_procedure(module, *args, **kwds)
            finally:
                self._depth -= 1

    def unwrap(self, inference_mode: bool = True) -> UnwrappedContextManager[_ModuleT]:
        """Give locked, direct access to the module, e.g. for custom calls.

        The module is the one current when the block is *entered*, and no sync
        changes it while the block runs. Do not keep it beyond the block, and do not
        sync this model from inside the block.

        With ``inference_mode=False`` gradients work inside the block, also with
        respect to the module's parameters: on the copy made by a
        :class:`TorchTrainingModel`, the parameters that require grad in the
        training module require grad for the block, and the block's end turns that
        off and drops their ``.grad``. A module given by the caller (such as the
        training module itself, with ``inference_thread_only``) keeps its
        ``requires_grad`` flags and gradients as they are.

        Args:
            inference_mode: Whether torch's inference mode is on inside the block.

        Returns:
            A context manager whose ``__enter__`` returns the module.
        """
        return _FrontModuleContextManager(self, inference_mode)

    def _update_parameters(
        self,
        write: Callable[[_ModuleT], None],
        version: int,
        new_back: Callable[[], _ModuleT] | None = None,
    ) -> None:
        """Replace the parameters inference uses (the training side's one doorway).

        Args:
            write: Writes the new parameters into the module it is given.
            version: The sync number to report as :attr:`sync_version` once
                inference uses the new parameters.
            new_back: Creates a back module if there is none, making this model
                double-buffered. With neither a back module nor this, ``write``
                runs on the front module under the lock, so inference waits for
                the whole write.
        """
        if self._publish_to is not None:  # the agent is in another process
            with self._writer_lock:
                self._publish_to.publish(
                    cast(Callable[[nn.Module], None], write), version
                )
            return
        with self._writer_lock:  # one sync at a time
            if self._back is None and new_back is not None:
                self._back = new_back()
            if self._back is None:
                with self._lock:
                    write(self._front)
                    self._sync_version = version
                return
            if self._ready is not None:
                # The previous sync's swap is still waiting for inference to take
                # the lock. Withdraw it under the lock (inference could be making
                # it right now); the back module then stays the back module.
                with self._lock:
                    self._ready = None
            back = self._back
            # Writing into the back module without the lock is safe. Inference only
            # reaches a module through self._front, read while it holds the lock,
            # and uses it only until it releases the lock (infer and unwrap hold it
            # for the whole call or block). Every swap happens under the lock with
            # no use in progress (depth 0), so the module now in the back was left
            # by every user before it became the back, and none can reach it until
            # the swap below, which is published only after the write.
            write(back)
            if self._lock.acquire(blocking=False):
                try:
                    if self._depth == 0:
                        self._front, self._back = back, self._front
                        self._sync_version = version
                    else:  # this thread is inside an infer or unwrap of its own
                        self._ready = version
                finally:
                    self._lock.release()
            else:
                # Inference holds the lock: do not wait for it. The next infer or
                # unwrap entry swaps (an attribute store is atomic, and the back
                # module is complete before it is marked ready).
                self._ready = version
