"""Fixtures shared by the torch tests."""

import functools
import sys
from collections.abc import Iterator

import pytest
import torch


@pytest.fixture
def eager_compile_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make torch.compile trace with Dynamo but skip code generation.

    The compiled modules really run through torch.compile; only Inductor's C++ code
    generation, which takes tens of seconds on a small machine, is left out.
    """
    compile = torch.compile
    monkeypatch.setattr(torch, "compile", functools.partial(compile, backend="eager"))


@pytest.fixture
def fast_thread_switching() -> Iterator[None]:
    """Switch threads every 10 us, so that races show up within few iterations."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(previous)
