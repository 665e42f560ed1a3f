"""The model contract under concurrency.

A training thread mutates a user-style model in place and syncs it, over and over,
while an inference thread keeps calling the inference model. Inference must only ever
see a complete parameter set that was synced, never one half-way through a mutation.
"""

import random
import sys
import threading
from collections.abc import Iterator

import pytest

from pamiq_core import InferenceModel, TrainingModel

WIDTH = 8
VERSIONS = 5_000


class Lookup(InferenceModel):
    def __init__(self, weights: list[int]) -> None:
        self.weights = weights

    def infer(self) -> tuple[int, ...]:
        weights = self.weights
        return tuple(weights)  # walks the list element by element


class Learner(TrainingModel[Lookup]):
    def __init__(self) -> None:
        super().__init__()
        self.weights = [0] * WIDTH

    def _create_inference_model(self) -> Lookup:
        return Lookup(self.weights.copy())

    def forward(self) -> tuple[int, ...]:
        return tuple(self.weights)

    def sync_impl(self, inference_model: Lookup) -> None:
        inference_model.weights = self.weights.copy()


@pytest.fixture
def fast_thread_switching() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


@pytest.mark.usefixtures("fast_thread_switching")
def test_inference_sees_only_synced_parameter_sets() -> None:
    learner = Learner()
    model = learner.inference_model
    learner.sync()
    synced = {0}
    done = threading.Event()
    seen: list[tuple[int, ...]] = []
    errors: list[BaseException] = []

    def train() -> None:
        rng = random.Random(0)
        try:
            for version in range(1, VERSIONS + 1):
                for i in range(WIDTH):  # in place, one element at a time
                    learner.weights[i] = version
                    if rng.random() < 0.05:
                        threading.Event().wait(rng.random() * 1e-4)
                synced.add(version)
                learner.sync()
        except BaseException as e:
            errors.append(e)
        finally:
            done.set()

    def infer() -> None:
        try:
            while not done.is_set():
                seen.append(model())
            seen.append(model())  # after the last sync
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=train), threading.Thread(target=infer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []

    assert len(seen) >= 1_000
    torn = [weights for weights in seen if len(set(weights)) != 1]
    assert torn == []
    versions = [weights[0] for weights in seen]
    assert set(versions) <= synced
    assert versions == sorted(versions)  # never goes back to an older version
    assert versions[-1] == VERSIONS
    assert len(set(versions)) > 1  # training really raced with inference
