"""What a running system changes in the interpreter so that training cannot stall the agent.

:func:`runtime_settings` applies the settings for as long as the system runs and puts
the previous ones back afterwards. ``launch`` uses it with the values of its
``LaunchConfig``.
"""

import logging
import os
import sys
from collections.abc import Generator
from contextlib import contextmanager
from typing import Literal

logger = logging.getLogger(__name__)

DEFAULT_SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the GIL before another may take it (Python: 0.005)."""


@contextmanager
def runtime_settings(
    switch_interval: float | None, torch_num_threads: int | Literal["auto"] | None
) -> Generator[None]:
    """Apply the interpreter and torch settings while the block runs, then restore them.

    Args:
        switch_interval: The interpreter's thread switch interval; None leaves it.
        torch_num_threads: Torch's intra-op threads, applied only if torch is
            imported; ``"auto"`` leaves one core to the agent; None leaves it.
    """
    previous_switch_interval = sys.getswitchinterval()
    if switch_interval is not None:
        sys.setswitchinterval(switch_interval)
    torch = sys.modules.get("torch")
    previous_torch_threads: int | None = None
    if torch is not None and torch_num_threads is not None:
        previous_torch_threads = torch.get_num_threads()
        threads = torch_num_threads
        if threads == "auto":
            threads = max(1, (os.cpu_count() or 1) - 1)
        torch.set_num_threads(threads)
        logger.info(f"Torch uses {threads} intra-op thread(s) while running.")
    try:
        yield
    finally:
        sys.setswitchinterval(previous_switch_interval)
        if torch is not None and previous_torch_threads is not None:
            torch.set_num_threads(previous_torch_threads)
