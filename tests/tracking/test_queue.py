import threading

import pytest

from pamiq_core.tracking._queue import DroppingQueue


def test_items_come_out_oldest_first_in_batches() -> None:
    queue: DroppingQueue[int] = DroppingQueue(10)
    for i in range(5):
        assert queue.put(i)
    assert queue.take(3) == [0, 1, 2]
    assert queue.take(10) == [3, 4]
    assert queue.take(10) == []


def test_a_full_queue_drops_new_items_and_counts_them() -> None:
    queue: DroppingQueue[int] = DroppingQueue(3)
    assert [queue.put(i) for i in range(5)] == [True, True, True, False, False]
    assert queue.dropped == 2
    assert len(queue) == 3
    assert queue.take(10) == [0, 1, 2]
    assert queue.put(9)  # room again


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity must be positive, got 0"):
        DroppingQueue(0)


def test_many_producers_lose_nothing_but_what_they_are_told_was_dropped() -> None:
    queue: DroppingQueue[tuple[int, int]] = DroppingQueue(5_000)
    producers, per_producer = 8, 2_000
    queued = [0] * producers
    taken: list[tuple[int, int]] = []
    start = threading.Barrier(producers + 1)
    done = threading.Event()

    def produce(index: int) -> None:
        start.wait()
        for i in range(per_producer):
            queued[index] += queue.put((index, i))

    def consume() -> None:
        start.wait()
        while not done.is_set() or len(queue):
            taken.extend(queue.take(100))

    threads = [threading.Thread(target=produce, args=(i,)) for i in range(producers)]
    consumer = threading.Thread(target=consume)
    for thread in [*threads, consumer]:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    consumer.join()

    assert len(taken) == sum(queued)
    assert sum(queued) + queue.dropped == producers * per_producer
    for index in range(producers):  # each producer's items stay in its order
        mine = [i for p, i in taken if p == index]
        assert mine == sorted(mine)
