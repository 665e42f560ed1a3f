"""A trainer that trains a model it never fetched is marked in the metrics.

Its runs never sync that model, so the agent keeps the untrained one; the trainer
warns once, and ``GET /api/metrics`` names the models under the trainer, in every
mode where trainers run, for the console and the dashboard to show.
"""

import sys
import warnings
from pathlib import Path

import pytest

from pamiq_core.trainer.base import UnsyncedModelWarning

sys.path.insert(0, str(Path(__file__).parents[1]))
from process_system import Consumer, HandedConsumer, System
from runtime.running import metrics, run_until


def trained_and_seen(port: int, seen: list[object]) -> bool:
    found = metrics(port)
    if found is None or not found["trainers"]["consumer"]["runs"]:
        return False
    seen.append(found["trainers"]["consumer"])
    return True


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_a_trainer_holding_an_unfetched_model_is_marked(
    tmp_path: Path, mode: str
) -> None:
    system = System()
    system.trainer = HandedConsumer(system.model)
    seen: list[object] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsyncedModelWarning)  # warned in a process too
        run_until(
            system.launch,
            lambda port: trained_and_seen(port, seen),
            "a training run",
            states_dir=tmp_path,
            training=mode,
        )
    assert seen[-1]["unsynced_models"] == ["scale"]  # type: ignore[index]


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_a_trainer_that_fetches_its_models_is_not_marked(
    tmp_path: Path, mode: str
) -> None:
    system = System()
    assert type(system.trainer) is Consumer
    seen: list[object] = []
    run_until(
        system.launch,
        lambda port: trained_and_seen(port, seen),
        "a training run",
        states_dir=tmp_path,
        training=mode,
    )
    assert seen[-1]["unsynced_models"] == []  # type: ignore[index]
