"""Torch parameters from a training process to the agent, through shared memory.

In process mode, a :class:`TorchTrainingModel` trains in another process than the
agent. Its inference model then uses two copies of the module whose tensors live in
shared memory (CPU) or are shared through CUDA's inter-process handles (GPU). The
training process copies each sync into the copy the agent does not use, then marks it
ready; the agent's next ``infer`` or ``unwrap`` takes it up with an O(1) swap. No
parameter is pickled per sync, and the agent never waits for a copy.

The hand-over state (which copy the agent uses, which version is ready) is three
integers in shared memory, changed only under one inter-process lock, which each
side holds for a few integer stores. The agent only tries the lock: if the training
process holds it, the swap waits for the next call.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.multiprocessing  # registers torch's sharing with multiprocessing
from torch import nn

_FRONT, _READY, _TAKEN = 0, 1, 2
_NONE = -1

assert torch.multiprocessing  # imported for its side effect above


class SharedSlots:
    """The two shared copies of one model and the state of their hand-over.

    Made by the launching process before the training process starts, and sent to
    it as an argument of the process (its lock can only travel that way).
    """

    def __init__(
        self, modules: tuple[nn.Module, nn.Module], lock: Any, state: torch.Tensor
    ) -> None:
        """Use ``modules`` with the hand-over ``state`` guarded by ``lock``."""
        self.modules = modules
        self._lock = lock
        self._state_tensor = state
        self._state: np.ndarray[Any, np.dtype[np.int64]] = state.numpy()

    @classmethod
    def create(cls, front: nn.Module, back: nn.Module, lock: Any) -> "SharedSlots":
        """Share ``front`` (the agent's copy) and ``back`` in place, as two slots.

        Args:
            front: The module the agent uses now; it becomes the first slot.
            back: A copy of the same structure; the second slot.
            lock: An inter-process lock from the process's multiprocessing
                context.
        """
        for module in (front, back):
            module.share_memory()
        state = torch.tensor([0, _NONE, 0], dtype=torch.int64)
        state.share_memory_()
        return cls((front, back), lock, state)

    def __reduce__(self) -> tuple[Any, ...]:
        return (SharedSlots, (self.modules, self._lock, self._state_tensor))

    def take(self) -> tuple[nn.Module, int] | None:
        """The agent's side: the ready copy and its version, if one is ready.

        Call with the inference model's lock held and no use in progress; the
        returned module is the agent's from now on, until the next take.
        """
        state = self._state
        if state[_READY] == _NONE:
            return None  # (an unlocked read of one integer: cheap, and re-checked)
        if not self._lock.acquire(False):
            return None  # the training process is marking a copy: take it next time
        try:
            version = int(state[_READY])
            if version == _NONE:
                return None
            front = 1 - int(state[_FRONT])
            state[_FRONT] = front
            state[_TAKEN] = version
            state[_READY] = _NONE
        finally:
            self._lock.release()
        return self.modules[front], version

    def publish(self, write: Callable[[nn.Module], None], version: int) -> None:
        """The training side: write a sync into the free copy and mark it ready.

        The copy the agent uses is never written: a ready copy not yet taken is
        withdrawn under the lock first, so the agent cannot swap while this writes.
        """
        with self._lock:
            self._state[_READY] = _NONE
            back = self.modules[1 - int(self._state[_FRONT])]
        write(back)
        if any(t.is_cuda for t in back.parameters()):
            torch.cuda.current_stream().synchronize()  # complete before it is ready
        with self._lock:
            self._state[_READY] = version
