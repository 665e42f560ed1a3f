"""The collector/user hand-over under concurrency.

Several agent threads collect while a trainer thread updates in a loop with random
pauses. Every item must reach the buffer exactly once (or, with a small bound, at most
once), and the items of each collecting thread must keep their order.
"""

import random
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pamiq_core.data import DataBuffer, DataUser
from pamiq_core.data.impls import SequentialBuffer

THREADS = 4
ITEMS_PER_THREAD = 3_000

Item = tuple[int, int]  # (thread id, sequence number)


@pytest.fixture(autouse=True)
def fast_thread_switching() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def run_collectors_and_updater(user: DataUser[Any]) -> list[BaseException]:
    """Collect from THREADS threads while another thread keeps updating."""
    errors: list[BaseException] = []
    collecting_done = threading.Event()
    start = threading.Barrier(THREADS + 1)
    rng = random.Random(0)

    def collect(thread_id: int) -> None:
        start.wait()
        for seq in range(ITEMS_PER_THREAD):
            user._collector.collect((thread_id, seq))

    def update() -> None:
        start.wait()
        while not collecting_done.is_set():
            try:
                user.update()
            except RuntimeError as error:
                errors.append(error)
            threading.Event().wait(rng.random() * 1e-4)
        # Drain what is left (errors included) once collection has finished.
        while True:
            try:
                user.update()
                break
            except RuntimeError as error:
                errors.append(error)

    collectors = [threading.Thread(target=collect, args=(i,)) for i in range(THREADS)]
    updater = threading.Thread(target=update)
    for thread in [*collectors, updater]:
        thread.start()
    for thread in collectors:
        thread.join()
    collecting_done.set()
    updater.join()
    return errors


def per_thread(items: list[Item]) -> dict[int, list[int]]:
    sequences: dict[int, list[int]] = {i: [] for i in range(THREADS)}
    for thread_id, seq in items:
        sequences[thread_id].append(seq)
    return sequences


def test_every_item_arrives_once_in_order_per_thread() -> None:
    total = THREADS * ITEMS_PER_THREAD
    buffer = SequentialBuffer[Item](total)
    user = DataUser(buffer)
    assert run_collectors_and_updater(user) == []
    items = buffer.get_data()
    assert len(items) == total
    for sequence in per_thread(items).values():
        assert sequence == list(range(ITEMS_PER_THREAD))
    assert user.count_data_added_since(float("-inf")) == total


def test_with_a_small_bound_items_may_drop_but_never_repeat_or_reorder() -> None:
    total = THREADS * ITEMS_PER_THREAD
    buffer = SequentialBuffer[Item](total)
    # The queue bound is the buffer's max_queue_size; shrink it for this test.
    buffer._max_queue_size = 50
    user = DataUser(buffer)
    assert run_collectors_and_updater(user) == []
    items = buffer.get_data()
    assert len(set(items)) == len(items)
    for sequence in per_thread(items).values():
        assert sequence == sorted(sequence)
    assert 0 < len(items) < total  # the bound did drop items


class FlakyBuffer(DataBuffer[Item, list[Item]]):
    """Rejects every item whose sequence number is a multiple of 97."""

    def __init__(self, max_queue_size: int) -> None:
        super().__init__(max_queue_size)
        self.items: list[Item] = []

    def add(self, data: Item) -> None:
        if data[1] % 97 == 0:
            raise RuntimeError(f"rejected {data}")
        self.items.append(data)

    def get_data(self) -> list[Item]:
        return list(self.items)

    def __len__(self) -> int:
        return len(self.items)


def test_failing_adds_lose_only_the_rejected_items_and_keep_order() -> None:
    buffer = FlakyBuffer(THREADS * ITEMS_PER_THREAD)
    user = DataUser(buffer)
    errors = run_collectors_and_updater(user)
    rejected = [seq for seq in range(ITEMS_PER_THREAD) if seq % 97 == 0]
    assert len(errors) == THREADS * len(rejected)
    expected = [seq for seq in range(ITEMS_PER_THREAD) if seq % 97 != 0]
    for sequence in per_thread(buffer.items).values():
        assert sequence == expected
