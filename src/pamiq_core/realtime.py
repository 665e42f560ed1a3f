"""What a running system changes in the interpreter so that training cannot stall the agent.

In thread mode the agent and the trainers share one interpreter, so anything that holds
the GIL for long on the training side delays the agent's next step. Measured causes
and what :func:`runtime_settings` does about each (``benchmarks/realtime.py``):

- A Python-heavy trainer holds the GIL for the whole switch interval (5 ms by
  default) before the agent may take it: the interval is lowered.
- Torch's intra-op threads take every core: they leave one to the agent.
- A full run of the cyclic garbage collector walks every tracked object in the
  process, torch's few hundred thousand included, with the GIL held: 250-600 ms on
  a 2-core VM. The objects that exist at launch are moved out of its view
  (:func:`gc.freeze`); it still runs for everything created afterwards.
- Torch imports about 800 modules (``torch._dynamo`` and what it needs, about 3 s
  of CPU there) the first time an optimizer is created, which a trainer does in the
  training thread, and the import's allocations set off full collections: they are
  imported at launch instead.

:func:`runtime_settings` applies the settings for as long as the system runs and puts
the previous ones back afterwards. ``launch`` uses it with the values of its
``LaunchConfig``.
"""

import gc
import importlib
import logging
import os
import sys
from collections.abc import Generator
from contextlib import ExitStack, contextmanager
from typing import Literal

from pamiq_core import time

logger = logging.getLogger(__name__)

DEFAULT_SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the GIL before another may take it (Python: 0.005)."""

LAZY_TORCH_MODULES = ("torch._dynamo", "torch.profiler._cupti_monitor")
"""Modules torch imports on first use in a training run, in the thread that uses it.

Found by running a first training run of a typical ``TorchTrainer`` (optimizer and LR
scheduler creation, forward, loss, backward, gradient clipping, optimizer and
scheduler steps) under an import audit hook, torch 2.13: ``torch._dynamo`` (with
sympy, torch._inductor and about 800 modules in all) when the first optimizer is
created, because ``Optimizer.add_param_group`` is wrapped to disable dynamo, and the
profiler's CUPTI monitor at the first backward. ``tests/test_realtime_torch.py``
repeats the experiment, so a torch upgrade that adds one fails there.
"""


@contextmanager
def runtime_settings(
    switch_interval: float | None,
    torch_num_threads: int | Literal["auto"] | None,
    *,
    gc_freeze: bool = False,
    preimport_torch: bool = False,
) -> Generator[None]:
    """Apply the interpreter and torch settings while the block runs, then restore them.

    Enter it after the system is set up and before its threads start: the lazy
    imports happen first, then the heap that exists is frozen. Everything is restored
    when the block ends, also by an exception, except the imports, which stay as the
    first training run would have left them.

    Args:
        switch_interval: The interpreter's thread switch interval; None leaves it.
        torch_num_threads: Torch's intra-op threads, applied only if torch is
            imported; ``"auto"`` leaves one core to the agent; None leaves it.
        gc_freeze: Collect garbage once, then hide the surviving objects from the
            cyclic garbage collector (see :func:`frozen_heap`).
        preimport_torch: If torch is imported, import :data:`LAZY_TORCH_MODULES`
            now rather than in the thread that first needs them.
    """
    with ExitStack() as restore:
        if preimport_torch:
            import_lazy_torch_modules()
        if gc_freeze:
            restore.enter_context(frozen_heap())
        restore.enter_context(_switch_interval(switch_interval))
        restore.enter_context(_torch_threads(torch_num_threads))
        yield


def import_lazy_torch_modules() -> list[str]:
    """Import :data:`LAZY_TORCH_MODULES` if torch is imported; return the new ones.

    A module that fails to import is logged and skipped: the thread that needs it
    will then import it (and fail) as it would have without this.
    """
    if sys.modules.get("torch") is None:  # not imported, or blocked (None)
        return []
    start = time.fixed_perf_counter()
    imported: list[str] = []
    modules_before = len(sys.modules)
    for name in LAZY_TORCH_MODULES:
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except Exception as e:
            logger.warning(f"Could not import {name} ahead of the threads: {e!r}")
            continue
        imported.append(name)
    if imported:
        seconds = time.fixed_perf_counter() - start
        logger.info(
            f"Imported {', '.join(imported)} ({len(sys.modules) - modules_before} "
            f"modules) before starting, in {seconds:.2f} s, so that the training "
            "thread does not import them while the agent runs."
        )
    return imported


@contextmanager
def frozen_heap() -> Generator[None]:
    """Collect garbage, then freeze the surviving objects until the block ends.

    Frozen objects are never walked by the cyclic garbage collector, so a full
    collection during the block only visits objects created after it began. Objects
    are still freed when their reference count drops to zero; only a frozen object
    that becomes unreachable through a reference cycle waits for the unfreeze at the
    end of the block, when the collector sees it again.

    :func:`gc.unfreeze` cannot tell objects apart, so objects that were frozen
    before the block are unfrozen with the others at its end (Python 3.12 itself
    freezes a few hundred tuples at startup; an application may freeze its own
    before forking).
    """
    frozen_before = gc.get_freeze_count()
    if frozen_before:
        logger.info(
            f"{frozen_before} objects were frozen before launch; they will be "
            "unfrozen with the others when the system stops."
        )
    start = time.fixed_perf_counter()
    gc.collect()
    gc.freeze()
    seconds = time.fixed_perf_counter() - start
    logger.info(
        f"Collected garbage and froze the {gc.get_freeze_count()} objects left in "
        f"{seconds:.2f} s: the garbage collector skips them while the system runs."
    )
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def _switch_interval(switch_interval: float | None) -> Generator[None]:
    previous = sys.getswitchinterval()
    if switch_interval is not None:
        sys.setswitchinterval(switch_interval)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@contextmanager
def _torch_threads(torch_num_threads: int | Literal["auto"] | None) -> Generator[None]:
    torch = sys.modules.get("torch")
    if torch is None or torch_num_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    threads = torch_num_threads
    if threads == "auto":
        threads = max(1, (os.cpu_count() or 1) - 1)
    torch.set_num_threads(threads)
    logger.info(f"Torch uses {threads} intra-op thread(s) while running.")
    try:
        yield
    finally:
        torch.set_num_threads(previous)
