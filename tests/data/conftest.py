from collections.abc import Iterator
from unittest.mock import patch

import pytest


class FakeClock:
    """Stands in for ``pamiq_core.time.time``; tests set ``now``."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    fake = FakeClock()
    with patch("pamiq_core.time.time", fake):
        yield fake
